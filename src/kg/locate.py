"""Where a validation result's data came from: the loaded files (and lines) that state it.

Every loaded file has its own named graph naming the file (`kg:sourceFile`), so the graphs that
state a result's focus node lead back to the files a person must fix.
"""

from collections.abc import Mapping
from dataclasses import replace

from pyoxigraph import DefaultGraph, NamedNode, Quad, Store

from kg.rdfize import FIELD_OF_PREDICATE
from kg.validation import Source, ValidationResult
from kg.vocab import KG, RDF

#: Per loaded file name, the line of each entry field (`Entry.lines`), when the pages are at hand.
FieldLines = Mapping[str, Mapping[str, int]]


def locate(
    results: list[ValidationResult], store: Store, lines: FieldLines | None = None
) -> list[ValidationResult]:
    """The results with their sources filled in."""
    files: dict[NamedNode, str | None] = {}

    def file_of(graph: NamedNode) -> str | None:
        if graph not in files:
            named = next(store.quads_for_pattern(graph, KG.sourceFile, None, graph), None)
            files[graph] = named.object.value if named else None
        return files[graph]

    located = []
    for result in results:
        sources = []
        for quad in _stating(result, store):
            name = file_of(quad.graph_name)
            if name is not None:
                line = _line(result, quad, store, (lines or {}).get(name, {}))
                sources.append(Source(name, line))
        located.append(replace(result, sources=tuple(sorted(set(sources), key=str))))
    return located


def _stating(result: ValidationResult, store: Store) -> list[Quad]:
    """Quads in named graphs that state the result's data, most specific match first."""
    focus = result.focus
    patterns = []
    if result.path is not None:
        if result.value is not None:
            patterns.append((focus, result.path, result.value))
        patterns.append((focus, result.path, None))
    patterns.append((focus, None, None))
    patterns.append((None, None, focus))  # a dangling reference is only stated as an object
    for subject, predicate, obj in patterns:
        if subject is not None and not isinstance(subject, NamedNode):
            continue
        quads = [
            q
            for q in store.quads_for_pattern(subject, predicate, obj, None)
            if q.graph_name != DefaultGraph()
        ]
        if quads:
            return quads
    return []


def _line(
    result: ValidationResult, quad: Quad, store: Store, lines: Mapping[str, int]
) -> int | None:
    """The page line of the field behind the result, for a page's own entry or document only:
    lines of items in a page's list are not recorded."""
    field = FIELD_OF_PREDICATE.get(result.path.value) if result.path else None
    if field is None or not isinstance(result.focus, NamedNode):
        return None
    own_entry = next(
        store.quads_for_pattern(result.focus, KG.navigatorId, None, quad.graph_name), None
    )
    document = next(
        store.quads_for_pattern(result.focus, RDF.type, KG.SourceDocument, quad.graph_name), None
    )
    return lines.get(field) if own_entry or document else None
