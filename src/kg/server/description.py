"""What the endpoint says about itself: a SPARQL service description and a VoID description.

Both are small graphs, built with rdflib and serialized in the format the client negotiated.
"""

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF

from kg import __version__
from kg.server.negotiation import OFFERS, Kind
from kg.server.negotiation import RDF as RDF_FORMATS
from kg.vocab import DCTERMS_NS, KG_NS, ONTOLOGY_IRI, PROV_NS, SKOS_NS

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
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
    graph = _graph()
    dataset = dataset_iri(base_iri)
    graph.add((dataset, RDF.type, VOID.Dataset))
    graph.add((dataset, DCTERMS.title, Literal("AI risk mitigations knowledge graph", lang="en")))
    graph.add((dataset, DCTERMS.hasVersion, Literal(__version__)))
    graph.add((dataset, VOID.sparqlEndpoint, URIRef(endpoint)))
    for suffix in DUMPS:
        graph.add((dataset, VOID.dataDump, URIRef(f"{root}dump.{suffix}")))
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


def _graph() -> Graph:
    graph = Graph()
    graph.bind("sd", SD)
    graph.bind("void", VOID)
    graph.bind("dcterms", DCTERMS)
    graph.bind("kg", KG_NS)
    return graph
