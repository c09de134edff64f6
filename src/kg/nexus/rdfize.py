"""The AI Atlas Nexus records as triples: one named graph per file they were read from.

Identity (see ontology/README.md): records keep their Nexus ids under `mitigation/nexus/` and
`document/nexus/`, apart from navigator entries and documents, which they are linked to by
`owl:sameAs` where the text join finds them (`kg.nexus.links`, at commit time). Each scheme gets
its own IRIs: the v1 mitigation taxonomy is `taxonomy/mitigation-v1/<code>`, never the current
taxonomy's `taxonomy/mitigation/<code>`. The NIST AI RMF categories, subcategories and actions hang
under kg's own RMF function concepts, in their scheme.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pyoxigraph import Literal, NamedNode, Quad

from kg.nexus.links import ProfileReport
from kg.nexus.package import SCHEMA_FOLDER, NexusSource, Release
from kg.nexus.read import ACTIONS, CONTROLS, GENAI, MAPPINGS, NIST, V1
from kg.nexus.records import Concept, Document, NexusData, NexusError, RmfAction, RmfGroup
from kg.nexus.schema import ACTION, DOCUMENTATION, RISK, SCHEMA_GRAPH, NexusSchema
from kg.provenance import graph_provenance
from kg.vocab import DC, DCTERMS, KG, OWL, PROV, RDF, RDFS, SKOS, XSD, Iris, slug

#: The Nexus taxonomies whose concepts kg imports, with kg's scheme name and the concepts' class.
SCHEMES = {
    V1: ("mitigation-v1", KG.MitigationCategoryV1),
    "mit-ai-risk-repository": ("risk-domain", KG.RiskCategory),
    "mit-ai-risk-repository-causal": ("risk-cause", KG.RiskCategory),
}
GENAI_SCHEME = "genai-risk"
ACTOR_TASK_SCHEME = "actor-task"
RMF_SCHEME = "rmf-function"
#: Titles of the schemes kg makes of lists the files do not hold as taxonomies.
LISTS = {
    GENAI_SCHEME: "NIST AI 600-1 risks of generative AI",
    ACTOR_TASK_SCHEME: "NIST AI RMF AI actor tasks",
}
#: The NIST AI RMF's names of its functions, as its categories are called ("GOVERN 1").
FUNCTION_NAMES = {"GV": "GOVERN", "MP": "MAP", "MS": "MEASURE", "MG": "MANAGE"}


def text(value: str) -> Literal:
    return Literal(value, language="en")


@dataclass
class _Graphs:
    """Quads by the file graph they go in."""

    iris: Iris
    quads: dict[str, list[Quad]] = field(default_factory=dict)

    def adder(self, file: str) -> Callable[[NamedNode, NamedNode, NamedNode | Literal], None]:
        graph = self.iris.nexus_graph(file)
        quads = self.quads.setdefault(file, [])
        return lambda s, p, o: quads.append(Quad(s, p, o, graph))


@dataclass(frozen=True)
class Minted:
    """The IRIs of the Nexus records, by Nexus id."""

    iris: Iris
    data: NexusData

    def document(self, document_id: str) -> NamedNode:
        return self.iris.nexus_document(document_id)

    def mitigation(self, record_id: str) -> NamedNode:
        return self.iris.nexus_mitigation(record_id)

    def concept(self, concept: Concept) -> NamedNode:
        return self.iris.coded_concept(SCHEMES[concept.scheme][0], concept.code)

    def concept_by_id(self, concept_id: str) -> NamedNode:
        return self.concept(self.data.concepts[concept_id])

    def risk(self, risk_id: str) -> NamedNode:
        return self.iris.concept(GENAI_SCHEME, risk_id.removeprefix("nist-"))

    def actor_task(self, task: str) -> NamedNode:
        return self.iris.concept(ACTOR_TASK_SCHEME, task)

    def rmf(self, group: RmfGroup) -> NamedNode:
        if group.level == "function":  # kg's own function concepts (ontology/taxonomies)
            return self.iris.concept(RMF_SCHEME, group.name or group.code)
        return self.iris.coded_concept(RMF_SCHEME, group.code.lower())

    def action(self, action_id: str) -> NamedNode:
        return self.iris.coded_concept(RMF_SCHEME, action_id.lower())


def nexus_quads(
    data: NexusData, source: NexusSource, iris: Iris, profile: ProfileReport, schema: NexusSchema
) -> dict[NamedNode, list[Quad]]:
    """Every file's graph, with its provenance (package, version, path, hash, licence), and the
    schema's graph (emptied when the source has no schema)."""
    graphs = _Graphs(iris)
    minted = Minted(iris, data)
    _check_distinct(data, minted)
    for document in data.documents.values():
        _document(graphs.adder(data.read_from[document.id]), minted, document)
    for taxonomy in data.taxonomies.values():
        if taxonomy.id in SCHEMES:
            _scheme(graphs.adder(data.read_from[taxonomy.id]), minted, taxonomy.id)
    for concept in data.concepts.values():
        add = graphs.adder(data.read_from[concept.scheme])
        _concept(add, minted, concept)
    _genai_risks(graphs.adder(NIST), minted)
    _actions(graphs.adder(ACTIONS), minted)
    _mitigations(graphs.adder(CONTROLS), minted, profile)
    add = graphs.adder(MAPPINGS)
    for row in data.categorisations:
        add(minted.mitigation(row.mitigation), KG.categoryV1, minted.concept_by_id(row.concept))
    result = {}
    for file in source:
        graph = iris.nexus_graph(file.name)
        quads = list(dict.fromkeys(graphs.quads.get(file.name, [])))
        result[graph] = quads + _provenance(graph, file.path, file.sha256, file.release)
    result[iris.nexus_graph(SCHEMA_GRAPH)] = _schema_graph(minted, source, schema)
    return result


def _schema_graph(minted: Minted, source: NexusSource, schema: NexusSchema) -> list[Quad]:
    """What the records are in the aligned vocabularies, as the schema says of their classes:
    a graph of its own, derived from the schema's files and replaced when they change."""
    if source.schema_sha256 is None:
        return []
    graph = minted.iris.nexus_graph(SCHEMA_GRAPH)
    data = minted.data
    records: list[tuple[NamedNode, str]] = [
        *((minted.document(d), DOCUMENTATION) for d in data.documents),
        *((minted.concept(c), c.nexus_class) for c in data.concepts.values()),
        *((minted.risk(r), RISK) for r in data.genai_risks),
        *((minted.action(a), ACTION) for a in data.actions),
        *((minted.mitigation(m), ACTION) for m in data.mitigations),
    ]
    quads = [
        Quad(node, RDF.type, NamedNode(term), graph)
        for node, nexus_class in records
        for term in schema.terms(nexus_class)
    ]
    return quads + _provenance(graph, SCHEMA_FOLDER, source.schema_sha256, source.release)


def _provenance(graph: NamedNode, path: str, sha256: str, release: Release) -> list[Quad]:
    """The provenance of every loaded graph, and the release its file comes from: the graph
    `prov:wasDerivedFrom` it (its PyPI page or upstream commit), which has its version and
    licence; the licence is also the graph's."""
    quads = graph_provenance(graph, path, sha256)
    licence = (
        NamedNode(SPDX + release.licence) if SPDX_ID.fullmatch(release.licence) else None
    )  # an SPDX identifier; free text ("Apache License 2.0") is left out rather than guessed
    if licence is not None:
        quads.append(Quad(graph, DCTERMS.license, licence, graph))
    if release.iri is None:
        return quads
    node = NamedNode(release.iri)
    quads += [
        Quad(graph, PROV.wasDerivedFrom, node, graph),
        Quad(node, RDFS.label, Literal(f"{release.package} {release.version}"), graph),
        Quad(node, OWL.versionInfo, Literal(release.version), graph),
    ]
    if licence is not None:
        quads.append(Quad(node, DCTERMS.license, licence, graph))
    return quads


SPDX = "http://spdx.org/licenses/"
SPDX_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+-]*")

Add = Callable[[NamedNode, NamedNode, NamedNode | Literal], None]


def _check_distinct(data: NexusData, minted: Minted) -> None:
    """IRIs made of slugs can merge two records (`doc-EU AI Office2025`, `doc-EU-AI-Office2025`):
    refused, naming both, rather than silently made one resource."""
    minting = [
        (data.documents, minted.document),
        (data.genai_risks, minted.risk),
        (data.actions, minted.action),
    ]
    for records, mint in minting:
        seen: dict[NamedNode, str] = {}
        for record_id in records:
            if (other := seen.setdefault(mint(record_id), record_id)) != record_id:
                file = data.read_from.get(record_id, "the Nexus files")
                message = f"same IRI {mint(record_id).value} as {other!r}: expected distinct ids"
                raise NexusError(file, record_id, "id", message)


def _document(add: Add, minted: Minted, document: Document) -> None:
    node = minted.document(document.id)
    add(node, RDF.type, KG.SourceDocument)
    add(node, DCTERMS.identifier, Literal(document.id))
    add(node, DCTERMS.title, text(document.name))
    if document.description:
        add(node, DCTERMS.description, text(document.description))
    if document.author:
        add(node, DC.creator, Literal(document.author))
    if document.created:
        add(node, DCTERMS.issued, Literal(str(document.created.year), datatype=XSD.gYear))
    if document.url:
        add(node, RDFS.seeAlso, NamedNode(document.url))


def _scheme(add: Add, minted: Minted, taxonomy_id: str) -> None:
    taxonomy = minted.data.taxonomies[taxonomy_id]
    scheme = minted.iris.scheme(SCHEMES[taxonomy_id][0])
    add(scheme, RDF.type, SKOS.ConceptScheme)
    add(scheme, SKOS.prefLabel, text(taxonomy.name))
    add(scheme, DCTERMS.identifier, Literal(taxonomy.id))
    if taxonomy.description:
        add(scheme, SKOS.definition, text(taxonomy.description))
    if taxonomy.version:
        add(scheme, OWL.versionInfo, Literal(taxonomy.version))
    if taxonomy.url:
        add(scheme, RDFS.seeAlso, NamedNode(taxonomy.url))
    for document in taxonomy.documents:
        add(scheme, DCTERMS.source, minted.document(document))


def _concept(add: Add, minted: Minted, concept: Concept) -> None:
    node = minted.concept(concept)
    name, kind = SCHEMES[concept.scheme]
    scheme = minted.iris.scheme(name)
    top = concept.broader is None
    _describe_concept(add, node, kind, scheme, concept.code, concept.name, top)
    add(node, DCTERMS.identifier, Literal(concept.id))
    if concept.definition:
        add(node, SKOS.definition, text(concept.definition))
    if concept.broader:
        add(node, SKOS.broader, minted.concept_by_id(concept.broader))


def _describe_concept(
    add: Add, node: NamedNode, kind: NamedNode, scheme: NamedNode, notation: str, label: str,
    top: bool | None = None,
) -> None:  # fmt: skip
    add(node, RDF.type, SKOS.Concept)
    add(node, RDF.type, kind)
    add(node, SKOS.inScheme, scheme)
    add(node, SKOS.notation, Literal(notation))
    add(node, SKOS.prefLabel, text(label))
    if top:
        add(node, SKOS.topConceptOf, scheme)
        add(scheme, SKOS.hasTopConcept, node)


def _list_scheme(add: Add, minted: Minted, name: str) -> NamedNode:
    scheme = minted.iris.scheme(name)
    add(scheme, RDF.type, SKOS.ConceptScheme)
    add(scheme, SKOS.prefLabel, text(LISTS[name]))
    add(scheme, DCTERMS.source, minted.document(minted.data.taxonomies[GENAI].documents[0]))
    return scheme


def _genai_risks(add: Add, minted: Minted) -> None:
    scheme = _list_scheme(add, minted, GENAI_SCHEME)
    for risk in minted.data.genai_risks.values():
        node = minted.risk(risk.id)
        notation = risk.id.removeprefix("nist-")
        _describe_concept(add, node, KG.RiskCategory, scheme, notation, risk.name, top=True)
        add(node, DCTERMS.identifier, Literal(risk.id))
        if risk.definition:
            add(node, SKOS.definition, text(risk.definition))


def _actions(add: Add, minted: Minted) -> None:
    rmf = minted.iris.scheme(RMF_SCHEME)
    groups = minted.data.rmf_groups
    for group in groups.values():
        if group.level == "function":
            continue
        kind = KG.RmfCategory if group.level == "category" else KG.RmfSubcategory
        function, _, number = group.code.partition("-")
        label = f"{FUNCTION_NAMES[function]} {number}"
        node = minted.rmf(group)
        _describe_concept(add, node, kind, rmf, group.code, label)
        if group.broader:
            add(node, SKOS.broader, minted.rmf(groups[group.broader]))
    tasks = _list_scheme(add, minted, ACTOR_TASK_SCHEME)
    for task in sorted({t for action in minted.data.actions.values() for t in action.actor_tasks}):
        _describe_concept(add, minted.actor_task(task), KG.ActorTask, tasks, slug(task), task, True)
    for action in minted.data.actions.values():
        _action(add, minted, action, rmf)


def _action(add: Add, minted: Minted, action: RmfAction, rmf: NamedNode) -> None:
    node = minted.action(action.id)
    _describe_concept(add, node, KG.RmfAction, rmf, action.id, action.id)
    add(node, SKOS.definition, text(action.text))
    add(node, SKOS.broader, minted.rmf(minted.data.rmf_groups[action.subcategory]))
    add(node, DCTERMS.source, minted.document(action.document))
    for risk in action.risks:
        add(node, KG.relatedRisk, minted.risk(risk))
    for task in action.actor_tasks:
        add(node, KG.actorTask, minted.actor_task(task))


def _mitigations(add: Add, minted: Minted, profile: ProfileReport) -> None:
    for record in minted.data.mitigations.values():
        node = minted.mitigation(record.id)
        add(node, RDF.type, KG.Mitigation)
        add(node, DCTERMS.identifier, Literal(record.id))
        add(node, RDFS.label, text(record.name))
        if record.text:
            add(node, KG.quotation, text(record.text))
        add(node, KG.sourceDocument, minted.document(record.document))
    # The profile's records quote its actions (matched by text) and name the risks they address.
    for link in profile.links:
        add(minted.mitigation(link.record), PROV.wasQuotedFrom, minted.action(link.action))
    for record in minted.data.profile_records.values():
        for risk in record.risks:
            add(minted.mitigation(record.id), KG.addressesRisk, minted.risk(risk))


def schemes_of(data: NexusData) -> Iterable[str]:
    """kg's names of the schemes an import fills (for counts and listings)."""
    return [SCHEMES[t][0] for t in data.taxonomies if t in SCHEMES] + [*LISTS]
