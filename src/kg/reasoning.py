"""Optional inference: what RDFS or OWL 2 RL entail about kg's resources in the terms of other
vocabularies, materialized in a graph of its own (`graph/derived/inference`) that every commit
recomputes, so that a query in an aligned vocabulary's terms (`?m a airo:RiskControl`,
`?m airo:hasDocumentation ?d`) finds kg's resources.

The regime is the store's: `kg reason rdfs|owl-rl` states it in `graph/derived/inference-regime`,
`kg reason none` removes that; every commit first empties the inference graph (so that nothing
derived in it is read back, by this commit's other derivations or by the reasoner), then, last,
reasons again. The reasoner is owlrl (RDFLib's OWL 2 RL and RDFS forward chainer). It reads every
named graph but the SKOS mappings (SKOS semantics would make the OWL classes they relate
skos:Concepts), and of imported ontologies only their structure (no literals: labels and
definitions in many languages entail nothing useful and cost the most).

Only news about kg's resources in foreign terms is kept: an rdf:type, rdfs:subClassOf or
rdfs:subPropertyOf whose object is foreign, or a statement whose predicate is foreign — foreign
meaning none of kg's and none of the vocabularies kg states its own data with (RDF, RDFS, OWL,
SKOS, DCTERMS, DC, PROV, FOAF, BIBO). So inference never rewrites kg's own description: RDFS
would give entry pages a dcterms:identifier (kg:navigatorId ⊑ dcterms:identifier), and OWL 2 RL
would copy every property across owl:sameAs and, kg:category being functional, make two
categories one. Literals keep the exact terms they were read as (rdflib would normalise them).
"""

from enum import StrEnum

import owlrl
import rdflib
from pyoxigraph import Literal, NamedNode, Quad

from kg.rdflib_terms import to_oxigraph, to_rdflib
from kg.store import Select
from kg.vocab import KG_NS, PREFIXES, Iris

REGIME_GRAPH = "inference-regime"
MAPPINGS_GRAPH = "alignment-mappings"
REGIME = NamedNode(KG_NS + "entailmentRegime")
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
HIERARCHY = {
    RDF_TYPE,
    "http://www.w3.org/2000/01/rdf-schema#subClassOf",
    "http://www.w3.org/2000/01/rdf-schema#subPropertyOf",
}
#: The vocabularies kg describes its own resources with: inferences in their terms are not kept.
OWN_VOCABULARIES = tuple(
    PREFIXES[name]
    for name in ("kg", "rdf", "rdfs", "xsd", "skos", "dcterms", "dc", "bibo", "foaf", "prov", "owl")
)


class Regime(StrEnum):
    NONE = "none"
    RDFS = "rdfs"
    OWL_RL = "owl-rl"


SEMANTICS = {Regime.RDFS: owlrl.RDFS_Semantics, Regime.OWL_RL: owlrl.OWLRL_Semantics}

STORED_REGIME = "SELECT ?regime WHERE { GRAPH $graph { ?inferred kg:entailmentRegime ?regime } }"
IMPORTED = "SELECT ?g WHERE { GRAPH ?g { ?g a kg:ImportedGraph } }"
ALL_QUADS = "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } FILTER(?g NOT IN ($excluded)) }"


def regime_quads(iris: Iris, regime: Regime) -> dict[NamedNode, list[Quad]]:
    """The graph stating the store's regime (empty for none), to commit as a change."""
    graph = iris.derived_graph(REGIME_GRAPH)
    if regime is Regime.NONE:
        return {graph: []}
    return {graph: [Quad(iris.inference_graph(), REGIME, Literal(regime), graph)]}


def stored_regime(select: Select, iris: Iris) -> Regime:
    graph = f"<{iris.derived_graph(REGIME_GRAPH).value}>"
    values = {row[0].value for row in select(STORED_REGIME.replace("$graph", graph))}
    known = [regime for regime in Regime if regime.value in values]
    return known[0] if len(known) == 1 else Regime.NONE


def inference_graphs(select: Select, iris: Iris) -> dict[NamedNode, list[Quad]]:
    """The inference graph in the store's regime: the last derivation of a commit."""
    graph = iris.inference_graph()
    regime = stored_regime(select, iris)
    if regime is Regime.NONE:
        return {graph: []}
    excluded = ", ".join(f"<{g.value}>" for g in (graph, iris.vocabulary_graph(MAPPINGS_GRAPH)))
    imported = {row[0] for row in select(IMPORTED)}
    originals: dict = {}
    asserted = rdflib.Graph()
    for subject, predicate, obj, source in select(ALL_QUADS.replace("$excluded", excluded)):
        if source in imported and isinstance(obj, Literal):
            continue
        asserted.add(tuple(_to_rdflib(term, originals) for term in (subject, predicate, obj)))
    closure = rdflib.Graph()
    closure += asserted
    owlrl.DeductiveClosure(SEMANTICS[regime]).expand(closure)
    own = (iris.base, KG_NS)
    return {
        graph: [
            Quad(*(_to_oxigraph(term, originals) for term in triple))
            for triple in closure
            if triple not in asserted and _news(triple, own)
        ]
    }


def _news(triple: tuple, own: tuple[str, ...]) -> bool:
    """A statement about one of kg's resources in another vocabulary's terms."""
    subject, predicate, obj = triple
    if not isinstance(subject, rdflib.URIRef) or not str(subject).startswith(own):
        return False
    if str(predicate) in HIERARCHY:
        return isinstance(obj, rdflib.URIRef) and _foreign(str(obj), own)
    return _foreign(str(predicate), own) and not isinstance(obj, rdflib.BNode)


def _foreign(iri: str, own: tuple[str, ...]) -> bool:
    return not iri.startswith(own + OWN_VOCABULARIES)


def _to_rdflib(term, originals: dict):
    converted = to_rdflib(term)
    if isinstance(converted, rdflib.Literal):
        originals[converted] = term  # rdflib normalises lexical forms: "01"^^xsd:integer is "1"
    return converted


def _to_oxigraph(term, originals: dict):
    original = originals.get(term)  # the literal as it was read, when it was
    return original if original is not None else to_oxigraph(term)
