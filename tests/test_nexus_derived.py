"""The v1 → current crosswalk rule on small inline data (the corpus has no closeMatch)."""

from pyoxigraph import NamedNode

from kg.nexus.derived import CLOSE_SUPPORT, crosswalk_quads
from kg.vocab import KG, OWL, SKOS, Iris

IRIS = Iris()
ENTRY, RECORD = "https://w3id.org/airm-kg/mitigation/", "https://w3id.org/airm-kg/mitigation/nexus/"


def current(code: str) -> NamedNode:
    return IRIS.category(code)


def v1(code: str) -> NamedNode:
    return IRIS.coded_concept("mitigation-v1", code)


def crosswalk(classified: list[tuple[list[str], str]]) -> dict:
    """Mappings from pairs (the entry's current codes, the record's v1 code), as
    {(v1, current): (predicate, support, source)}."""
    rows, pairs = [], []
    for number, (codes, code) in enumerate(classified):
        entry, record = NamedNode(f"{ENTRY}A{number}"), NamedNode(f"{RECORD}A{number}_X")
        rows += [(entry, KG.category, current(c)) for c in codes]
        rows.append((record, KG.categoryV1, v1(code)))
        pairs.append((entry, record))
    quads = crosswalk_quads(lambda query: rows, pairs, IRIS)
    axioms = {q.subject for q in quads if q.predicate == OWL.annotatedSource}

    def value(axiom, predicate):
        return next(q.object for q in quads if q.subject == axiom and q.predicate == predicate)

    found = {}
    for axiom in axioms:
        source, target = value(axiom, OWL.annotatedSource), value(axiom, OWL.annotatedTarget)
        predicate = value(axiom, OWL.annotatedProperty)
        assert any((q.subject, q.predicate, q.object) == (source, predicate, target) for q in quads)
        counts = int(value(axiom, KG.supportCount).value), int(value(axiom, KG.sourceCount).value)
        found[source.value.rsplit("/", 1)[1], target.value.rsplit("/", 1)[1]] = (predicate, *counts)
    return found


def test_categories_only_each_other_has_are_close_from_the_least_support():
    only = [(["2.2.2"], "3.1")] * CLOSE_SUPPORT
    assert crosswalk(only) == {("3.1", "2.2.2"): (SKOS.closeMatch, CLOSE_SUPPORT, CLOSE_SUPPORT)}
    fewer = only[:-1]
    assert crosswalk(fewer)[("3.1", "2.2.2")][0] == SKOS.relatedMatch


def test_shared_categories_are_related_with_their_counts():
    found = crosswalk([(["2.2.2"], "3.1")] * 3 + [(["1.1.1"], "3.1"), (["1.1.1"], "1.2")])
    assert found == {
        ("3.1", "2.2.2"): (SKOS.relatedMatch, 3, 4),  # 3.1 also meets 1.1.1
        ("3.1", "1.1.1"): (SKOS.relatedMatch, 1, 4),
        ("1.2", "1.1.1"): (SKOS.relatedMatch, 1, 1),
    }


def test_an_entry_with_two_categories_is_no_evidence():
    assert crosswalk([(["2.2.2", "1.1.1"], "3.1")]) == {}
