"""Derived at every commit from everything loaded: which navigator entries and documents are
Nexus records and documents (`owl:sameAs`), and the v1 ↔ v2 category crosswalk those links make.

Both sides can change independently (`kg load` a page, `kg import-nexus` a release), so the
graphs are recomputed from the whole store in every commit, like `kg.identity`'s: the result does
not depend on the order things were loaded in. The join itself is `kg.nexus.links`.
"""

from collections import Counter
from collections.abc import Callable

from pyoxigraph import Literal, NamedNode, Quad

from kg.nexus.links import Quote, Quoted, key, navigator_links
from kg.vocab import KG, OWL, RDF, SKOS, XSD, Iris

Select = Callable[[str], list[tuple]]

LINKS_GRAPH = "nexus-links"
CROSSWALK = "mitigation-v1-v2"
#: The least support, and all of both categories' linked entries, for skos:closeMatch.
CLOSE_SUPPORT = 3

NAVIGATOR_ENTRIES = """
SELECT ?entry ?id ?body ?title ?cut WHERE {
  GRAPH ?page { ?entry kg:navigatorId ?id }
  OPTIONAL { ?entry kg:quotation ?body }
  OPTIONAL { ?entry kg:sourceDocument/dcterms:title ?title }
  # A page cut inside its body holds nothing after it: no later field, no listed entry.
  BIND (NOT EXISTS {
    { ?entry kg:rationale|kg:sourceDocument|kg:lifecycleStage|kg:parentLabel ?later }
    UNION { ?entry kg:parentMitigation ?parent }
    UNION { GRAPH ?page { ?listed a kg:Mitigation FILTER (?listed != ?entry) } }
  } AS ?cut)
}
"""

NEXUS_RECORDS = """
SELECT ?record ?id ?text ?documentId ?name WHERE {
  ?record a kg:Mitigation ; dcterms:identifier ?id ; kg:sourceDocument ?document .
  ?document dcterms:identifier ?documentId ; dcterms:title ?name .
  OPTIONAL { ?record kg:quotation ?text }
}
"""

DOCUMENTS = """
SELECT ?document ?title (BOUND(?id) AS ?nexus) WHERE {
  ?document a kg:SourceDocument ; dcterms:title ?title .
  OPTIONAL { ?document dcterms:identifier ?id }
}
"""

CATEGORIES = """
SELECT ?entry ?category WHERE { ?entry kg:category|kg:categoryV1 ?category }
"""


def nexus_link_graphs(select: Select, iris: Iris) -> dict[NamedNode, list[Quad]]:
    """The links graph and the crosswalk graph (both empty when no Nexus data is loaded)."""
    links_graph = iris.derived_graph(LINKS_GRAPH)
    crosswalk_graph = iris.derived_graph("crosswalk/" + CROSSWALK)
    records = {
        record.value: Quoted(id_.value, text.value if text else None, doc.value, name.value)
        for record, id_, text, doc, name in select(NEXUS_RECORDS)
    }
    if not records:
        return {links_graph: [], crosswalk_graph: []}
    entries, quotes = {}, []
    for entry, id_, body, title, cut in select(NAVIGATOR_ENTRIES):
        entries[id_.value] = entry
        body_text, title_text = (body.value if body else None), (title.value if title else None)
        quotes.append(Quote(id_.value, body_text, title_text, cut.value == "true"))
    report = navigator_links(quotes, records.values())
    record_node = {quoted.record: NamedNode(iri) for iri, quoted in records.items()}
    pairs = [(entries[link.entry], record_node[link.record]) for link in report.links]
    same = [Quad(entry, OWL.sameAs, record) for entry, record in pairs]
    return {
        links_graph: same + _same_documents(select),
        crosswalk_graph: crosswalk_quads(select, pairs, iris),
    }


def _same_documents(select: Select) -> list[Quad]:
    """A navigator document is the Nexus document whose title has the same `key`, when only one
    Nexus document has it."""
    navigator, nexus = [], {}
    for document, title, is_nexus in select(DOCUMENTS):
        if is_nexus.value == "true":
            nexus.setdefault(key(title.value), []).append(document)
        else:
            navigator.append((document, key(title.value)))
    return [
        Quad(document, OWL.sameAs, nexus[title][0])
        for document, title in navigator
        if len(nexus.get(title, ())) == 1
    ]


def crosswalk_quads(
    select: Select, pairs: list[tuple[NamedNode, NamedNode]], iris: Iris
) -> list[Quad]:
    """SKOS mappings from v1 categories to current ones, each with its evidence: an owl:Axiom
    naming the mapping, how many linked entries have both categories (kg:supportCount) and how
    many linked entries the v1 category has (kg:sourceCount).

    skos:closeMatch when the two categories have only each other (every linked entry of either
    has the other) on at least CLOSE_SUPPORT entries; skos:relatedMatch otherwise. The counts,
    not the predicate, are the evidence.
    """
    category: dict[NamedNode, list[NamedNode]] = {}
    for entry, value in select(CATEGORIES):
        category.setdefault(entry, []).append(value)
    both = Counter()
    for entry, record in pairs:
        current = [c for c in category.get(entry, []) if "/taxonomy/mitigation/" in c.value]
        v1 = [c for c in category.get(record, []) if "/taxonomy/mitigation-v1/" in c.value]
        if len(current) == 1 and len(v1) == 1:
            both[v1[0], current[0]] += 1
    sources, targets = Counter(), Counter()
    for (v1, current), count in both.items():
        sources[v1] += count
        targets[current] += count
    quads = []
    for (v1, current), count in sorted(both.items(), key=lambda item: str(item[0])):
        close = count >= CLOSE_SUPPORT and count == sources[v1] == targets[current]
        predicate = SKOS.closeMatch if close else SKOS.relatedMatch
        code_of = lambda node: node.value.rsplit("/", 1)[1]  # noqa: E731
        axiom = iris.crosswalk_mapping(CROSSWALK, code_of(v1), code_of(current))
        quads += [
            Quad(v1, predicate, current),
            Quad(axiom, RDF.type, OWL.Axiom),
            Quad(axiom, OWL.annotatedSource, v1),
            Quad(axiom, OWL.annotatedProperty, predicate),
            Quad(axiom, OWL.annotatedTarget, current),
            Quad(axiom, KG.supportCount, Literal(str(count), datatype=XSD.integer)),
            Quad(axiom, KG.sourceCount, Literal(str(sources[v1]), datatype=XSD.integer)),
        ]
    return quads
