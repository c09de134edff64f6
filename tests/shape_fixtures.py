"""Reading SHACL fixtures: the data of a TriG file and the results it states it must give."""

from pathlib import Path

from pyoxigraph import DefaultGraph, NamedNode, RdfFormat, parse, serialize

from kg.vocab import SH

EXPECTED_GRAPH = NamedNode("urn:kg:expected")


def split_fixture(path: Path, target: Path) -> tuple[Path, set[tuple]]:
    """Writes the fixture's default graph to `target`/<name>.ttl; returns that file and the
    expected results as (focus node, shape, constraint component, severity) tuples."""
    quads = list(parse(path=str(path), format=RdfFormat.TRIG))
    data = [q.triple for q in quads if q.graph_name == DefaultGraph()]
    data_file = target / f"{path.stem}.ttl"
    serialize(data, str(data_file), RdfFormat.TURTLE)
    stated: dict = {}
    for quad in quads:
        if quad.graph_name == EXPECTED_GRAPH:
            stated.setdefault(quad.subject, {})[quad.predicate] = quad.object
    expected = {
        (f[SH.focusNode], f[SH.sourceShape], f[SH.sourceConstraintComponent], f[SH.resultSeverity])
        for f in stated.values()
    }
    return data_file, expected


def result_keys(results) -> set[tuple]:
    return {(r.focus, r.shape, r.component, NamedNode(SH.result.value[:-6] + r.severity.value))
            for r in results}  # fmt: skip
