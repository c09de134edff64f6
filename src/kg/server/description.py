"""What the endpoint says about itself: a SPARQL service description and a VoID description.

Both are small graphs, built with rdflib and serialized in the format the client negotiated.
"""

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, XSD

from kg import __version__
from kg.server.negotiation import OFFERS, Kind
from kg.server.negotiation import RDF as RDF_FORMATS
from kg.vocab import DCTERMS_NS, KG_NS, ONTOLOGY_IRI, PROV_NS, SKOS_NS

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
PROV = Namespace(PROV_NS)
IANA = "https://www.iana.org/assignments/media-types/"
VOID = Namespace("http://rdfs.org/ns/void#")
ENTAILMENT = Namespace("http://www.w3.org/ns/entailment/")

#: Dump downloads: path suffix -> format name (see `negotiation.RDF`).
DUMPS = {"nq": "nquads", "trig": "trig", "ttl": "turtle", "nt": "ntriples", "jsonld": "jsonld"}
#: rdflib's plugin name for each RDF format the descriptions may be asked in. A description is
#: one graph, which rdflib writes as N-Quads or TriG only from a dataset; but N-Triples is valid
#: N-Quads and Turtle valid TriG (everything in the default graph).
RDFLIB_FORMATS = {
    RDF_FORMATS["turtle"]: "turtle",
    RDF_FORMATS["ntriples"]: "nt",
    RDF_FORMATS["nquads"]: "nt",
    RDF_FORMATS["trig"]: "turtle",
    RDF_FORMATS["jsonld"]: "json-ld",
    RDF_FORMATS["rdfxml"]: "xml",
}


def dataset_iri(base_iri: str) -> URIRef:
    return URIRef(f"{base_iri}dataset")


def service_description(
    endpoint: str, base_iri: str, updates: bool, federated: bool, statistics: dict
) -> Graph:
    graph = _graph()
    service = URIRef(endpoint)
    graph.add((service, RDF.type, SD.Service))
    graph.add((service, SD.endpoint, service))
    graph.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    if updates:
        graph.add((service, SD.supportedLanguage, SD.SPARQL11Update))
    # The default graph is the union of the named graphs (materialized, each fact once).
    graph.add((service, SD.feature, SD.UnionDefaultGraph))
    if federated:
        graph.add((service, SD.feature, SD.BasicFederatedQuery))
    graph.add((service, SD.defaultEntailmentRegime, ENTAILMENT.Simple))
    formats = {offer for kind in Kind for offer in OFFERS[kind]}
    for offered in sorted(formats, key=lambda f: f.iri):
        graph.add((service, SD.resultFormat, URIRef(offered.iri)))
    dataset = dataset_iri(base_iri)
    graph.add((service, SD.defaultDataset, dataset))
    graph.add((dataset, RDF.type, SD.Dataset))
    default = BNode()
    graph.add((dataset, SD.defaultGraph, default))
    graph.add((default, RDF.type, SD.Graph))
    graph.add((default, VOID.triples, Literal(statistics["triples"])))
    graph.add((dataset, VOID.triples, Literal(statistics["triples"])))
    return graph


def void_description(root: str, endpoint: str, base_iri: str, statistics: dict) -> Graph:
    """The dataset as VoID and DCAT describe it: its dumps (each a DCAT distribution with its
    media type), endpoint, vocabularies, counts, and what its sources say of themselves: their
    licences (a dcterms:license only when every source states one; otherwise dcterms:rights
    says where to look), what they come from, and when the data last changed."""
    graph = _graph()
    dataset = dataset_iri(base_iri)
    graph.add((dataset, RDF.type, VOID.Dataset))
    graph.add((dataset, RDF.type, DCAT.Dataset))
    graph.add((dataset, DCTERMS.title, Literal("AI risk mitigations knowledge graph", lang="en")))
    graph.add((dataset, DCTERMS.description, Literal(DESCRIPTION, lang="en")))
    graph.add((dataset, DCTERMS.hasVersion, Literal(__version__)))
    graph.add((dataset, DCAT.version, Literal(__version__)))
    graph.add((dataset, DCTERMS.conformsTo, URIRef(ONTOLOGY_IRI)))
    graph.add((dataset, VOID.sparqlEndpoint, URIRef(endpoint)))
    _sources(graph, dataset, statistics)
    for suffix, format_name in DUMPS.items():
        download = URIRef(f"{root}dump.{suffix}")
        graph.add((dataset, VOID.dataDump, download))
        distribution = BNode()
        media = RDF_FORMATS[format_name].media_type
        graph.add((dataset, DCAT.distribution, distribution))
        graph.add((distribution, RDF.type, DCAT.Distribution))
        graph.add((distribution, DCAT.downloadURL, download))
        graph.add((distribution, DCAT.mediaType, URIRef(IANA + media)))
        graph.add((distribution, DCTERMS.title, Literal(f"Dump as {media}", lang="en")))
    graph.add((dataset, VOID.uriSpace, Literal(base_iri)))
    for vocabulary in (ONTOLOGY_IRI, SKOS_NS, DCTERMS_NS, PROV_NS):
        graph.add((dataset, VOID.vocabulary, URIRef(vocabulary)))
    graph.add((dataset, VOID.triples, Literal(statistics["triples"])))
    graph.add((dataset, VOID.distinctSubjects, Literal(statistics["subjects"])))
    graph.add((dataset, VOID.properties, Literal(statistics["properties"])))
    graph.add((dataset, VOID.classes, Literal(len(statistics["classes"]))))
    for iri, count in statistics["classes"].items():
        partition = BNode()
        graph.add((dataset, VOID.classPartition, partition))
        graph.add((partition, VOID["class"], URIRef(iri)))
        graph.add((partition, VOID.entities, Literal(count)))
    return graph


DESCRIPTION = (
    "AI risk mitigations catalogued by the AI Risk Initiative and imported from IBM's AI Atlas "
    "Nexus, with their taxonomies, source documents, risks and NIST AI RMF actions; each named "
    "graph states the file it was loaded from, with its hash, and its licence when known."
)
RIGHTS = (
    "Not every source states a licence: each named graph says what its file does (see its page "
    "or the graph's provenance statements). kg's ontology and shapes are Apache-2.0."
)


def _sources(graph: Graph, dataset: URIRef, statistics: dict) -> None:
    licences = statistics.get("licences", [])
    if licences and not statistics.get("unlicensed_sources"):
        for licence in licences:
            graph.add((dataset, DCTERMS.license, URIRef(licence)))
    else:
        graph.add((dataset, DCTERMS.rights, Literal(RIGHTS, lang="en")))
    for source in statistics.get("derived_from", []):
        graph.add((dataset, PROV.wasDerivedFrom, URIRef(source)))
    if statistics.get("modified"):
        graph.add(
            (dataset, DCTERMS.modified, Literal(statistics["modified"], datatype=XSD.dateTime))
        )


def _graph() -> Graph:
    graph = Graph()
    graph.bind("sd", SD)
    graph.bind("void", VOID)
    graph.bind("dcterms", DCTERMS)
    graph.bind("kg", KG_NS)
    graph.bind("dcat", DCAT)
    graph.bind("prov", PROV)
    return graph
