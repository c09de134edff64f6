"""Optional inference: what RDFS or OWL 2 RL entail from the store, materialized in a graph of
its own (`graph/derived/inference`) that every commit recomputes, so that a query in the terms of
an aligned vocabulary (`?m a airo:RiskControl`) finds kg's resources.

The regime is the store's: `kg reason rdfs|owl-rl` sets it (stated in the inference graph),
`kg reason none` removes the graph; every later commit reasons again in the same regime. The
reasoner is owlrl (RDFLib's OWL 2 RL and RDFS forward chainer). It reads every named graph but
two: the SKOS mappings (SKOS semantics would make the OWL classes they relate skos:Concepts) and
the inference graph itself. It keeps only what is new about kg's own resources and terms (its
base IRI and ontology namespace): not the closure of the external ontologies, nor RDFS's trivia
(everything an rdfs:Resource, every class its own subclass). The shapes are not applied to what
is inferred: OWL 2 RL merges the descriptions of resources stated the same (owl:sameAs), which
gives an entry two quotations, as its page and its Nexus record each quote it.
"""

from collections.abc import Callable
from enum import StrEnum

import owlrl
import rdflib
from pyoxigraph import BlankNode, Literal, NamedNode, Quad

from kg.vocab import KG_NS, RDF_NS, RDFS_NS, Iris

Select = Callable[[str], list[tuple]]

INFERENCE_GRAPH = "inference"
MAPPINGS_GRAPH = "alignment-mappings"
REGIME = NamedNode(KG_NS + "entailmentRegime")


class Regime(StrEnum):
    NONE = "none"
    RDFS = "rdfs"
    OWL_RL = "owl-rl"


SEMANTICS = {Regime.RDFS: owlrl.RDFS_Semantics, Regime.OWL_RL: owlrl.OWLRL_Semantics}
#: Namespaces whose terms the reasoner's own axioms describe: their inferences are no news.
BUILT_IN = (
    RDF_NS,
    RDFS_NS,
    "http://www.w3.org/2002/07/owl#",
    "http://www.w3.org/2001/XMLSchema#",
)
TRIVIAL_OBJECTS = {
    RDFS_NS + "Resource",
    "http://www.w3.org/2002/07/owl#Thing",
}
REFLEXIVE = {
    RDFS_NS + "subClassOf",
    RDFS_NS + "subPropertyOf",
    "http://www.w3.org/2002/07/owl#equivalentClass",
    "http://www.w3.org/2002/07/owl#equivalentProperty",
    "http://www.w3.org/2002/07/owl#sameAs",
}

STORED_REGIME = (
    "SELECT ?regime WHERE { GRAPH ?g { ?g kg:entailmentRegime ?regime } FILTER(?g = $graph) }"
)
ALL_TRIPLES = """
SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } FILTER(?g NOT IN ($excluded)) }
"""


def stored_regime(select: Select, iris: Iris) -> Regime:
    graph = f"<{iris.derived_graph(INFERENCE_GRAPH).value}>"
    rows = select(STORED_REGIME.replace("$graph", graph))
    return Regime(rows[0][0].value) if rows else Regime.NONE


def inference_graphs(select: Select, iris: Iris, regime: Regime | None = None) -> dict:
    """The inference graph in `regime` (the store's when None): a derivation of a commit."""
    graph = iris.derived_graph(INFERENCE_GRAPH)
    regime = stored_regime(select, iris) if regime is None else regime
    if regime is Regime.NONE:
        return {graph: []}
    excluded = ", ".join(f"<{g.value}>" for g in (graph, iris.vocabulary_graph(MAPPINGS_GRAPH)))
    asserted = rdflib.Graph()
    for row in select(ALL_TRIPLES.replace("$excluded", excluded)):
        asserted.add(tuple(_to_rdflib(term) for term in row))
    closure = rdflib.Graph()
    closure += asserted
    owlrl.DeductiveClosure(SEMANTICS[regime]).expand(closure)
    own = (iris.base, KG_NS)
    inferred = [
        Quad(*(_to_oxigraph(term) for term in triple))
        for triple in closure
        if triple not in asserted and _news(triple, own)
    ]
    inferred.append(Quad(graph, REGIME, Literal(regime.value)))
    return {graph: inferred}


def _news(triple: tuple, own: tuple[str, ...]) -> bool:
    subject, predicate, obj = triple
    if not isinstance(subject, rdflib.URIRef) or not str(subject).startswith(own):
        return False
    if isinstance(obj, rdflib.BNode) or str(obj) in TRIVIAL_OBJECTS:
        return False
    if str(predicate) in REFLEXIVE and subject == obj:
        return False
    return not str(predicate).startswith(BUILT_IN) or str(predicate) in (
        RDF_NS + "type",
        RDFS_NS + "subClassOf",
        RDFS_NS + "subPropertyOf",
    )


def _to_rdflib(term):
    if isinstance(term, NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))


def _to_oxigraph(term):
    if isinstance(term, rdflib.URIRef):
        return NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return BlankNode(str(term))
    if term.language:
        return Literal(str(term), language=term.language)
    datatype = term.datatype or rdflib.XSD.string
    return Literal(str(term), datatype=NamedNode(str(datatype)))
