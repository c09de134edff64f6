"""Derived at every commit from everything loaded: which navigator entries and documents are
Nexus records and documents (`owl:sameAs`), and the v1 ↔ v2 category crosswalk those links make.

Both sides can change independently (`kg load` a page, `kg import-nexus` a release), so the
graphs are recomputed from the whole store in every commit, like `kg.identity`'s: the result does
not depend on the order things were loaded in. The join itself is `kg.nexus.links`.
"""

from collections import Counter

from pyoxigraph import Literal, NamedNode, Quad

from kg.nexus.links import Quote, Quoted, key, navigator_links
from kg.store import Select
from kg.vocab import KG, OWL, RDF, RDFS, SKOS, XSD, Iris

LINKS_GRAPH = "nexus-links"
CROSSWALK = "mitigation-v1-v2"
CROSSWALK_TITLE = "Crosswalk from the v1 mitigation categories to the current ones"
CROSSWALK_COMMENT = (
    "Derived from the navigator entries linked to AI Atlas Nexus records: each mapping says how "
    "many linked pairs have both categories (kg:supportCount) of how many the v1 category has "
    "(kg:sourceCount). Recomputed at every commit; `kg crosswalk` writes it as SSSOM/TSV."
)
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

# Records and documents are the Nexus's when a Nexus file's graph states their id: an id from
# anywhere else (a DOI in an RDF file) makes nothing a Nexus record.
NEXUS_RECORDS = """
SELECT ?record ?id ?text ?documentId ?name WHERE {
  GRAPH ?file { ?record a kg:Mitigation ; dcterms:identifier ?id ; kg:sourceDocument ?document }
  FILTER STRSTARTS(STR(?file), "$nexus")
  ?document dcterms:identifier ?documentId ; dcterms:title ?name .
  OPTIONAL { ?record kg:quotation ?text }
}
"""

DOCUMENTS = """
SELECT ?document ?title ?nexus WHERE {
  ?document a kg:SourceDocument ; dcterms:title ?title .
  BIND (EXISTS {
    GRAPH ?file { ?document dcterms:identifier ?id } FILTER STRSTARTS(STR(?file), "$nexus")
  } AS ?nexus)
}
"""

CATEGORIES = """
SELECT ?entry ?property ?category WHERE {
  VALUES ?property { kg:category kg:categoryV1 }
  ?entry ?property ?category
}
"""


def nexus_link_graphs(select: Select, iris: Iris) -> dict[NamedNode, list[Quad]]:
    """The links graph and the crosswalk graph (both empty when no Nexus data is loaded)."""
    links_graph = iris.derived_graph(LINKS_GRAPH)
    crosswalk_graph = iris.derived_graph("crosswalk/" + CROSSWALK)
    nexus = iris.nexus_graph("").value
    records = {
        record.value: Quoted(id_.value, text.value if text else None, doc.value, name.value)
        for record, id_, text, doc, name in select(NEXUS_RECORDS.replace("$nexus", nexus))
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
    # The crosswalk graph is the mapping set `kg crosswalk` writes as SSSOM (its mapping_set_id).
    described = [
        Quad(crosswalk_graph, RDFS.label, Literal(CROSSWALK_TITLE, language="en")),
        Quad(crosswalk_graph, RDFS.comment, Literal(CROSSWALK_COMMENT, language="en")),
    ]
    return {
        links_graph: same + _same_documents(select, nexus),
        crosswalk_graph: described + crosswalk_quads(select, pairs, iris),
    }


def _same_documents(select: Select, nexus_graphs: str) -> list[Quad]:
    """A navigator document is the Nexus document whose title has the same `key`, when only one
    Nexus document has it."""
    navigator, nexus = [], {}
    for document, title, is_nexus in select(DOCUMENTS.replace("$nexus", nexus_graphs)):
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
    categories: dict[tuple[NamedNode, NamedNode], list[NamedNode]] = {}
    for entry, taxonomy, value in select(CATEGORIES):
        categories.setdefault((entry, taxonomy), []).append(value)
    both = Counter()
    for entry, record in pairs:
        current = categories.get((entry, KG.category), [])
        v1 = categories.get((record, KG.categoryV1), [])
        if len(current) == 1 and len(v1) == 1:  # the shapes allow one each
            both[v1[0], current[0]] += 1
    sources, targets = Counter(), Counter()
    for (v1, current), count in both.items():
        sources[v1] += count
        targets[current] += count
    quads = []
    for (v1, current), count in sorted(both.items(), key=lambda item: str(item[0])):
        close = count >= CLOSE_SUPPORT and count == sources[v1] == targets[current]
        predicate = SKOS.closeMatch if close else SKOS.relatedMatch
        axiom = iris.crosswalk_mapping(CROSSWALK, _code(v1), _code(current))
        quads += [
            Quad(v1, predicate, current),
            Quad(axiom, RDF.type, OWL.Axiom),
            Quad(axiom, RDF.type, KG.CategoryMapping),
            Quad(axiom, OWL.annotatedSource, v1),
            Quad(axiom, OWL.annotatedProperty, predicate),
            Quad(axiom, OWL.annotatedTarget, current),
            Quad(axiom, KG.supportCount, Literal(str(count), datatype=XSD.integer)),
            Quad(axiom, KG.sourceCount, Literal(str(sources[v1]), datatype=XSD.integer)),
        ]
    return quads


def _code(concept: NamedNode) -> str:
    """A category's code: the last segment of its IRI (`taxonomy/mitigation-v1/1.1`)."""
    return concept.value.rsplit("/", 1)[1]
