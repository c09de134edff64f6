"""SHACL validation of a dataset's merged graph against kg's shapes.

Two engines give the same reports (tests/test_shapes.py proves it on every fixture,
tests/test_validation.py on the corpus): pySHACL, the reference, and pyshacl-turbo, a Rust engine
with pySHACL's interface that is the default because it is 19-25x faster on kg's data
(bench/results/validate.json).
"""

import logging
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

import pyshacl
import pyshacl_turbo
from pyoxigraph import (
    BlankNode,
    DefaultGraph,
    Literal,
    NamedNode,
    RdfFormat,
    Store,
    Triple,
    parse,
    serialize,
)
from rdflib import XSD, Graph
from rdflib.term import bind

from kg.errors import KgError
from kg.settings import DEFAULT_BASE_IRI, Settings
from kg.shapes import load_shapes
from kg.vocab import KG_NS, SH, SH_NS, Iris

Term = NamedNode | BlankNode | Literal


# rdflib keeps xsd:gYear literals without checking their lexical form, so pySHACL would accept
# "199x"^^xsd:gYear. Giving rdflib the lexical space marks such literals ill-typed, which
# pySHACL's sh:datatype reports, as pyshacl-turbo does.
_GYEAR = re.compile(r"-?([1-9][0-9]{3,}|0[0-9]{3})(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))?")


def _gyear(text: str) -> str:
    if not _GYEAR.fullmatch(text):
        raise ValueError(f"not an xsd:gYear: {text!r}")
    return text


bind(XSD.gYear, str, constructor=_gyear, datatype_specific=True)


class Engine(StrEnum):
    TURBO = "turbo"
    PYSHACL = "pyshacl"


class Severity(StrEnum):
    VIOLATION = "Violation"
    WARNING = "Warning"
    INFO = "Info"


@dataclass(frozen=True)
class Source:
    """Where a result's data came from: a loaded file, and the line when known."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class ValidationResult:
    severity: Severity
    focus: Term
    path: NamedNode | None
    value: Term | None
    message: str
    component: NamedNode
    shape: NamedNode | BlankNode
    sources: tuple[Source, ...] = ()

    @property
    def key(self) -> tuple:
        """What two engines must agree on (sources are kg's own addition)."""
        return (
            self.severity,
            self.focus,
            self.path,
            self.value,
            self.message,
            self.component,
            self.shape,
        )


@dataclass
class ValidationReport:
    results: list[ValidationResult]
    engine: Engine
    #: Results left out of `results` by `capped`, by severity.
    omitted: dict[Severity, int] = field(default_factory=dict)

    def count(self, severity: Severity) -> int:
        return sum(r.severity == severity for r in self.results) + self.omitted.get(severity, 0)

    @property
    def conforms(self) -> bool:
        return self.count(Severity.VIOLATION) == 0

    def capped(self, max_results: int | None) -> "ValidationReport":
        """The first `max_results` results, violations first; the rest only counted."""
        ordered = sorted(self.results, key=_display_order)
        shown = ordered if max_results is None else ordered[:max_results]
        omitted = dict(self.omitted)
        for result in ordered[len(shown) :]:
            omitted[result.severity] = omitted.get(result.severity, 0) + 1
        return ValidationReport(shown, self.engine, omitted)


def _display_order(result: ValidationResult) -> tuple:
    rank = list(Severity).index(result.severity)
    return (
        rank,
        str(result.focus),
        str(result.path or ""),
        str(result.value or ""),
        result.message,
    )


class ValidationError(KgError):
    """The shapes or the engine failed (not the data: that is a report)."""


class Validator:
    """Validates the merged graph of pyoxigraph datasets against one shapes graph."""

    def __init__(
        self, shapes: Graph, engine: Engine | str = Engine.TURBO, base_iri: str = DEFAULT_BASE_IRI
    ) -> None:
        self.shapes = shapes
        self.engine = Engine(engine)
        self.base_iri = base_iri
        # Compiled once, reused by every load and every `kg validate` of the process.
        self._compiled = (
            pyshacl_turbo.compile_shapes(shapes) if self.engine is Engine.TURBO else None
        )

    @classmethod
    def for_settings(cls, settings: Settings, engine: Engine | str | None = None) -> "Validator":
        """A validator of the configured shapes (under the configured base) and engine."""
        shapes = load_shapes(settings.shapes_dir, settings.base_iri)
        return cls(shapes, engine or settings.shacl_engine, settings.base_iri)

    def validate_store(self, store: Store) -> ValidationReport:
        return self.validate_ntriples(shaped_data(store, self.base_iri))

    def validate_ntriples(self, data: bytes) -> ValidationReport:
        if self._compiled is not None:
            report = _turbo_report(self._compiled, data.decode())
        else:
            report = _pyshacl_report(self.shapes, data)
        return ValidationReport(list(results_of(report)), self.engine)


def shaped_data(store: Store, base_iri: str = DEFAULT_BASE_IRI) -> bytes:
    """What kg's shapes apply to, as N-Triples: the merged graph, without what is inferred
    (`<base>graph/derived/inference`, see kg.reasoning) and without the content of imported
    ontologies (kg:ImportedGraph graphs, which only `kg import-ontology` names outside the base:
    external vocabularies, taken as they are, whose skos:Concepts and labels follow their own
    rules), but with the provenance each of those states about itself. Which graphs are left out
    is decided by their IRIs, which the loader controls, never by what a file says of itself."""
    iris = Iris(base_iri)
    inferred = iris.inference_graph()
    imported = {
        quad.subject
        for quad in store.quads_for_pattern(None, RDF_TYPE, IMPORTED_GRAPH, None)
        if quad.subject == quad.graph_name and not iris.is_own(quad.subject.value)
    }
    has_inferred = any(True for _ in store.quads_for_pattern(None, None, None, inferred))
    if not imported and not has_inferred:
        return store.dump(format=RdfFormat.N_TRIPLES, from_graph=DefaultGraph())
    triples = {
        Triple(quad.subject, quad.predicate, quad.object)
        for quad in store.quads_for_pattern(None, None, None, None)
        if quad.graph_name != DefaultGraph()
        and quad.graph_name != inferred
        and (
            quad.graph_name not in imported
            or (quad.subject == quad.graph_name and quad.predicate.value in PROVENANCE)
        )
    }
    return serialize(triples, format=RdfFormat.N_TRIPLES)


RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
PROVENANCE = {
    RDF_TYPE.value,
    KG_NS + "sourceFile",
    KG_NS + "contentHash",
    KG_NS + "loaderVersion",
    "http://www.w3.org/ns/prov#generatedAtTime",
}
IMPORTED_GRAPH = NamedNode(KG_NS + "ImportedGraph")


def _turbo_report(compiled: pyshacl_turbo.CompiledShapes, ntriples: str) -> bytes:
    """The report graph as N-Triples, from pyshacl-turbo's native validator.

    Its public `validate` reads N-Triples input and builds the report through rdflib, which costs
    9x the validation itself at 100k triples (bench/README.md). The native call takes and returns
    N-Triples text; the package is pinned, and the tests compare every report with pySHACL's, so
    a change of this call fails the suite.
    """
    no_names: list[str] = []
    try:
        _conforms, report, _text, _expanded, _warnings = compiled._native.validate(
            ntriples, "nt", None,
            False, 100, 15,  # no rules: iterate, max iterations, max validation depth
            False, False, False, False,  # inplace, allow infos, allow warnings, abort on first
            no_names, no_names, no_names,  # focus nodes, shapes to use, prefixes
        )  # fmt: skip
    except (RuntimeError, pyshacl_turbo.ValidationFailure) as error:
        raise ValidationError(f"SHACL validation failed: {error}") from None
    return report.encode()


def _pyshacl_report(shapes: Graph, ntriples: bytes) -> bytes:
    data = Graph()
    rdflib_terms = logging.getLogger("rdflib.term")
    level = rdflib_terms.level
    rdflib_terms.setLevel(logging.ERROR)  # an ill-typed literal is reported, not logged
    try:
        data.parse(data=ntriples, format="nt")
    finally:
        rdflib_terms.setLevel(level)
    conforms, report, text = pyshacl.validate(data, shacl_graph=shapes)
    if not isinstance(report, Graph):
        raise ValidationError(f"SHACL validation failed: {text}")
    return report.serialize(format="nt", encoding="utf-8")


def results_of(report: bytes) -> Iterator[ValidationResult]:
    """The results of a SHACL report given as N-Triples."""
    fields: dict[BlankNode | NamedNode, dict[str, list[Term]]] = defaultdict(
        lambda: defaultdict(list)
    )
    results = []  # the report's own results; nested ones (sh:detail) explain those
    for triple in parse(report, format=RdfFormat.N_TRIPLES):
        fields[triple.subject][triple.predicate.value].append(triple.object)
        if triple.predicate == SH.result:
            results.append(triple.object)
    for node in results:
        values = fields[node]

        def one(name: str, values=values) -> Term | None:
            found = values.get(SH_NS + name)
            return found[0] if found else None

        path = one("resultPath")
        yield ValidationResult(
            severity=Severity(one("resultSeverity").value.removeprefix(SH_NS)),
            focus=one("focusNode"),
            # kg's shapes only use predicate paths; a complex path (a blank node) is left out.
            path=path if isinstance(path, NamedNode) else None,
            value=one("value"),
            message=" ".join(m.value for m in values.get(SH_NS + "resultMessage", [])),
            component=one("sourceConstraintComponent"),
            shape=one("sourceShape"),
        )
