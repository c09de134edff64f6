"""What concept and scheme pages list beyond a concept's description, for every taxonomy alike:
its place (the broader concepts up to the top), the concepts below it, the mitigations classified
under it, the NIST AI RMF actions linked to it, and its crosswalk mappings.

Which lists a concept has depends on what the graph links to it, not on its taxonomy: a risk has
the actions that relate to it, an actor task the actions it does, a v1 category its matches in
the current taxonomy (and the reverse). Each reader runs in a worker (inside `ResourceTask`)."""

from collections import defaultdict
from dataclasses import dataclass

from pyoxigraph import NamedNode, Store

from kg.site.external import external_terms
from kg.site.graph_reads import (
    BROADER,
    NOTATION,
    ancestry,
    first_value,
    labels_of,
    natural_key,
    notation_key,
    objects,
    subjects,
)
from kg.site.trees import (
    classifies,
    crosswalk_graphs,
    listed_order,
    members,
    narrower_closure,
    scheme_tree,
    shown_depth,
)
from kg.vocab import KG, OWL, PROV, RDF, SKOS

#: Mitigations per page of a concept's list.
PAGE_SIZE = 50
#: Concepts a scheme page's tree shows at most: deeper levels are left to their parents' pages.
TREE_NODES = 150

#: Lists of NIST AI RMF actions a concept's page shows: the property linking an action to it, and
#: what the list is called.
ACTION_LISTS = [
    (KG.relatedRisk, "NIST AI RMF actions related to this risk"),
    (KG.actorTask, "NIST AI RMF actions of this AI actor task"),
]


#: What a concept's list of mitigations is called, by the concept's class (else "Mitigations").
MEMBER_TITLES = {
    KG.RiskCategory.value: "Mitigations addressing this risk",
    KG.RmfAction.value: "Mitigations quoting this action",
    KG.RmfSubcategory.value: "Mitigations quoting its actions",
    KG.RmfCategory.value: "Mitigations quoting its actions",
}


@dataclass(frozen=True)
class Action:
    """A NIST AI RMF action as lists show it: its code, its text, the records quoting it."""

    iri: str
    code: str | None
    text: str | None
    quoted_by: tuple[str, ...]


@dataclass(frozen=True)
class Mapping:
    """A crosswalk mapping seen from one of its two ends: the other end and its evidence."""

    iri: str  # the owl:Axiom
    other: str
    code: str | None
    relation: str  # "close" or "related"
    support: int | None  # linked entries classified under both
    linked: int | None  # linked entries of the v1 category


def concept(store: Store, node: NamedNode, page: int) -> dict:
    found = members(store, node)
    offset = (page - 1) * PAGE_SIZE
    shown = found.page(store, offset, PAGE_SIZE)
    narrower = sorted(
        subjects(store, BROADER, node),
        key=lambda n: (notation_key(first_value(store, n, NOTATION)), n.value),
    )
    labels = labels_of(store, [*(NamedNode(m) for m, _ in shown), *narrower])
    rows = []
    for n in narrower:
        code = first_value(store, n, NOTATION)
        rows.append(
            (
                n.value,
                code,
                found.count_below(set(narrower_closure(store, n))),
                _text_if_coded(store, n, code, labels),
            )
        )
    path = ancestry(store, node)[:-1]
    action_lists = [
        (title, _by_function(store, subjects(store, predicate, node)))
        for predicate, title in ACTION_LISTS
    ]
    action_lists = [(title, groups) for title, groups in action_lists if groups]
    mappings = _mappings(store, node)
    mapped_to = sorted(
        {s.value for m in mappings for s in objects(store, NamedNode(m.other), SKOS.inScheme)}
    )
    named = [*path, *(NamedNode(m.other) for m in mappings), *map(NamedNode, mapped_to)]
    for _, groups in action_lists:
        named += [NamedNode(f) for f, _ in groups]
        named += [NamedNode(q) for _, actions in groups for a in actions for q in a.quoted_by]
    external = external_terms(store, node)
    named += [NamedNode(target) for _, targets in external for target, _ in targets]
    labels.update(labels_of(store, named))
    schemes = [s for s in objects(store, node, SKOS.inScheme) if isinstance(s, NamedNode)]
    types = [t.value for t in objects(store, node, RDF.type)]
    return {
        "members_title": next((MEMBER_TITLES[t] for t in types if t in MEMBER_TITLES), None),
        "members": shown,
        "total": len(found.ordered),
        "page": page,
        "page_size": PAGE_SIZE,
        # Whether mitigations are classified in this concept's taxonomy at all (else the page
        # has no list of them: risk domains, actor tasks).
        "classifies": bool(found.ordered) or any(classifies(store, s) for s in schemes),
        "narrower": rows,  # (iri, code, mitigations, text of a concept whose label is its code)
        "path": [(c.value, first_value(store, c, NOTATION)) for c in path],
        "action_lists": action_lists,  # (title, [(function, [Action])])
        "mappings": mappings,
        "mapped_to": mapped_to,  # the schemes of the concepts mapped to
        # its terms in the aligned vocabularies (kg.site.external): (relation, [(IRI, name)])
        "external": external,
        "labels": labels,
    }


def _text_if_coded(store: Store, node: NamedNode, code: str | None, labels: dict) -> str | None:
    """The definition of a concept whose label is only its code (an RMF action "GV-1.1-001"),
    which says what it is better than the code does."""
    if code is None or labels.get(node.value, code) != code:
        return None
    return first_value(store, node, SKOS.definition)


def action(store: Store, node: NamedNode) -> Action:
    return Action(
        node.value,
        first_value(store, node, NOTATION),
        first_value(store, node, SKOS.definition),
        tuple(sorted(m.value for m in subjects(store, PROV.wasQuotedFrom, node))),
    )


def _by_function(store: Store, actions: list[NamedNode]) -> list[tuple[str, list[Action]]]:
    """Actions grouped by the RMF function they are under, in the functions' order."""
    top_of: dict[NamedNode, NamedNode] = {}
    groups: dict[str, list[Action]] = defaultdict(list)
    for node in actions:
        parents = objects(store, node, BROADER)
        parent = parents[0] if parents else node
        if parent not in top_of:
            top_of[parent] = ancestry(store, parent)[0]
        groups[top_of[parent].value].append(action(store, node))
    position = listed_order(store)
    ordered = sorted(groups.items(), key=lambda g: (position.get(g[0], len(position)), g[0]))
    return [(f, sorted(items, key=lambda a: natural_key(a.code or a.iri))) for f, items in ordered]


def _mappings(store: Store, node: NamedNode) -> list[Mapping]:
    """The crosswalk mappings from or to the concept (owl:Axiom annotations of skos matches)."""
    found = []
    for end, other_end in (
        (OWL.annotatedSource, OWL.annotatedTarget),
        (OWL.annotatedTarget, OWL.annotatedSource),
    ):
        for axiom in subjects(store, end, node):
            other = first_value(store, axiom, other_end)
            relation = first_value(store, axiom, OWL.annotatedProperty)
            if other is None:
                continue
            found.append(
                Mapping(
                    axiom.value,
                    other,
                    first_value(store, NamedNode(other), NOTATION),
                    "close" if relation == SKOS.closeMatch.value else "related",
                    _integer(first_value(store, axiom, KG.supportCount)),
                    _integer(first_value(store, axiom, KG.sourceCount)),
                )
            )
    found.sort(key=lambda m: (-(m.support or 0), notation_key(m.code), m.other))
    return found


def _integer(value: str | None) -> int | None:
    return int(value) if value is not None and value.lstrip("-").isdigit() else None


def scheme(store: Store, node: NamedNode, page: int) -> dict:
    tree = scheme_tree(store, node)
    depth = shown_depth(tree, TREE_NODES)
    return {
        "tree": tree,
        "depth": depth,
        "hidden": sum(1 for n in tree if n.depth > depth),
        "counted": any(n.total for n in tree),
        "crosswalks": crosswalk_graphs(store).get(node.value, []),
    }
