"""Which listed entry a page's own entry is, derived from everything loaded.

A page never prints its own entry's name, and lists never print navigator IDs, so `mitigation/A2206`
and `mitigation/<document>/model-development/data-related` start as two resources. Across the
loaded pages they can be matched: same document, same category, same parent in the source's
hierarchy, the list's description starting the page's body (or both empty), and never among the
page's own list (a page does not list itself). A match unique in both directions is stated as
`owl:sameAs` in a derived graph per document, recomputed in every commit that changes a page of
the document, from all its loaded pages, so it does not depend on the order files were loaded in.
The children two linked entries list (each under its own IRI) are linked too, where a name and
category single out one child on each side.
"""

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from pyoxigraph import Literal, NamedNode, Quad

from kg.sparql_values import values_block
from kg.vocab import OWL_NS

SAME_AS = NamedNode(OWL_NS + "sameAs")

OWN_ENTRIES = """
SELECT ?own ?page ?document ?category ?parent ?parentLabel ?body WHERE {
  $values
  GRAPH ?page { ?own kg:navigatorId ?id }
  ?own kg:sourceDocument ?document ; kg:category ?category .
  OPTIONAL { ?own kg:parentMitigation ?parent }
  OPTIONAL { ?own kg:parentLabel ?parentLabel }
  OPTIONAL { ?own kg:quotation ?body }
}
"""

LISTED_ENTRIES = """
SELECT ?listed ?document ?category ?parent ?parentName ?description WHERE {
  $values
  # Only listed entries have a label: a page does not print its own entry's name.
  ?listed kg:sourceDocument ?document ; rdfs:label ?name ; kg:category ?category .
  OPTIONAL { ?listed kg:parentMitigation ?parent OPTIONAL { ?parent rdfs:label ?parentName } }
  OPTIONAL { ?listed kg:quotation ?description }
}
"""

CHILDREN = """
SELECT ?parent ?child ?name ?category WHERE {
  $values
  ?child kg:sourceDocument ?document ; kg:parentMitigation ?parent ;
         rdfs:label ?name ; kg:category ?category .
}
"""

LISTED_ON_PAGE = """
SELECT ?page ?listed WHERE {
  $values
  GRAPH ?page { ?listed kg:sourceDocument ?document ; rdfs:label ?name }
}
"""


@dataclass(frozen=True)
class _Listed:
    node: NamedNode
    parent: NamedNode | None
    parent_name: str | None
    description: str | None


def same_entry_graphs(
    select: Callable[[str], list[tuple]],
    documents: set[NamedNode],
    graph_of: Callable[[NamedNode], NamedNode],
) -> dict[NamedNode, list[Quad]]:
    """The derived graph of each document (empty when nothing matches any more)."""
    graphs: dict[NamedNode, list[Quad]] = {graph_of(d): [] for d in documents}
    if not documents:
        return graphs
    values = values_block(["document"], [[d] for d in sorted(documents, key=str)])
    for document, quad in same_entry_links(lambda query: select(query.replace("$values", values))):
        graphs[graph_of(document)].append(quad)
    return graphs


def same_entry_links(select: Callable[[str], list[tuple]]) -> list[tuple[NamedNode, Quad]]:
    """(document, `own owl:sameAs listed`) for each match that is the only one on both sides."""
    listed_by_key: dict[tuple, list[_Listed]] = defaultdict(list)
    for node, document, category, parent, parent_name, description in select(LISTED_ENTRIES):
        listed_by_key[document, category].append(
            _Listed(node, parent, _text(parent_name), _text(description))
        )
    on_page: dict[NamedNode, set[NamedNode]] = defaultdict(set)
    for page, node in select(LISTED_ON_PAGE):
        on_page[page].add(node)
    pairs = set()
    for own, page, document, category, parent, parent_label, body in select(OWN_ENTRIES):
        for listed in listed_by_key.get((document, category), ()):
            if (
                listed.node not in on_page[page]  # a page never lists its own entry
                and _same_parent(parent, _text(parent_label), listed)
                and _same_text(_text(body), listed.description)
            ):
                pairs.add((document, own, listed.node))
    per_own = Counter(own for _, own, _ in pairs)
    per_listed = Counter(listed for _, _, listed in pairs)
    linked = [
        (document, own, listed)
        for document, own, listed in pairs
        if per_own[own] == 1 and per_listed[listed] == 1
    ]
    links = linked + _children_of(linked, select(CHILDREN))
    return sorted(((d, Quad(own, SAME_AS, listed)) for d, own, listed in links), key=str)


def _children_of(linked: list[tuple], rows: list[tuple]) -> list[tuple]:
    """The same entries among the children of linked entries: a page's own entry and the same
    entry listed on another page each get their listed children, under their own IRIs; a child
    of one with the same name and category as exactly one child of the other is the same."""
    children: dict[NamedNode, dict[tuple, list[NamedNode]]] = defaultdict(lambda: defaultdict(list))
    for parent, child, name, category in rows:
        children[parent][name.value, category].append(child)
    found = []
    for document, own, listed in linked:
        mine, theirs = children.get(own, {}), children.get(listed, {})
        for key in sorted(set(mine) & set(theirs), key=str):
            if len(mine[key]) == 1 and len(theirs[key]) == 1 and mine[key] != theirs[key]:
                found.append((document, mine[key][0], theirs[key][0]))
    return found


def _same_parent(parent: NamedNode | None, parent_label: str | None, listed: _Listed) -> bool:
    if parent is not None:
        return listed.parent == parent
    if parent_label is not None:
        return listed.parent_name == parent_label
    return listed.parent is None


def _same_text(body: str | None, description: str | None) -> bool:
    if body is None or description is None:
        return body is None and description is None
    return body.startswith(description)


def _text(term: Literal | None) -> str | None:
    return None if term is None else term.value
