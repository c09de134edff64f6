"""Terms as they travel to and from the engine.

A blank node cannot be named in a later request (the engine gives it a new label in every
answer), yet kg's pages follow blank nodes (OWL lists of the vocabulary, the parts of an
imported ontology). So blank nodes are sent as skolem IRIs (RDF 1.1 Concepts, 3.5) under
`<base>.well-known/genid/`, and what kg reads back as quads becomes the same blank node again.
Answers to SPARQL queries show the skolem IRIs, as any client of the engine sees them.
"""

from collections.abc import Iterable, Iterator

from pyoxigraph import BlankNode, DefaultGraph, NamedNode, Quad

GENID = ".well-known/genid/"


class Skolem:
    def __init__(self, base_iri: str) -> None:
        self.prefix = base_iri + GENID

    def term(self, term):
        """The term as the engine keeps it: a blank node as its skolem IRI."""
        return NamedNode(self.prefix + term.value) if isinstance(term, BlankNode) else term

    def unterm(self, term):
        """The term as kg's store would hold it: a skolem IRI as its blank node."""
        if isinstance(term, NamedNode) and term.value.startswith(self.prefix):
            return BlankNode(term.value[len(self.prefix) :])
        return term

    def quad(self, subject, predicate, obj, graph=None) -> Quad:
        return Quad(self.unterm(subject), predicate, self.unterm(obj), graph or DefaultGraph())

    def ntriples(self, triples: Iterable[Quad]) -> Iterator[str]:
        """Each quad's triple in N-Triples syntax, which SPARQL's INSERT DATA and DELETE DATA
        read as it is (pyoxigraph writes terms in it, escapes included)."""
        for quad in triples:
            yield f"{self.term(quad.subject)} {quad.predicate} {self.term(quad.object)} .\n"
