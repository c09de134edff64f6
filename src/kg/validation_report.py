"""Validation reports written for people (text) and for tools (JSON, SHACL Turtle, JUnit XML)."""

import json
from collections import defaultdict
from collections.abc import Callable
from typing import IO

from junitparser import Failure, JUnitXml, TestCase, TestSuite
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, RdfFormat, serialize

from kg.validation import Severity, ValidationReport, ValidationResult
from kg.vocab import PREFIXES, RDF, RDFS, SH, SH_NS, XSD, prefixed_name


def compact(term: object) -> str:
    """A term as a person reads it: prefixed name where kg knows the prefix, else N-Triples."""
    if isinstance(term, NamedNode):
        name = prefixed_name(term.value, {**PREFIXES, "sh": SH_NS})
        if name is not None:
            return name
    return str(term)


def summary(report: ValidationReport) -> str:
    text = (
        f"{report.count(Severity.VIOLATION)} violations, {report.count(Severity.WARNING)} warnings"
    )
    left_out = sum(report.omitted.values())
    if left_out:
        text += f" ({left_out} more results not shown; raise --max-results to see them)"
    return text


def write_text(report: ValidationReport, out: IO[str]) -> None:
    for result in report.results:
        where = f"  {compact(result.path)}" if result.path else ""
        out.write(f"{result.severity.value:<9} {compact(result.focus)}{where}\n")
        out.write(f"  {result.message}\n")
        if result.value is not None:
            out.write(f"  value: {_excerpt(compact(result.value))}\n")
        out.write(f"  shape: {compact(result.shape)} ({compact(result.component)})\n")
        if result.sources:
            out.write(f"  in: {_sources(result)}\n")
    conforms = "conforms" if report.conforms else "does not conform"
    out.write(f"{conforms}: {summary(report)} [engine {report.engine.value}]\n")


def write_json(report: ValidationReport, out: IO[str]) -> None:
    document = {
        "conforms": report.conforms,
        "engine": report.engine.value,
        "violations": report.count(Severity.VIOLATION),
        "warnings": report.count(Severity.WARNING),
        "omitted": sum(report.omitted.values()),
        "results": [_result_json(r) for r in report.results],
    }
    json.dump(document, out, ensure_ascii=False, indent=2)
    out.write("\n")


def _result_json(result: ValidationResult) -> dict:
    return {
        "severity": result.severity.value,
        "focusNode": _term_json(result.focus),
        "resultPath": _term_json(result.path),
        "value": _term_json(result.value),
        "message": result.message,
        "sourceShape": _term_json(result.shape),
        "sourceConstraintComponent": _term_json(result.component),
        "sources": [{"file": s.file, "line": s.line} for s in result.sources],
    }


def _term_json(term: object) -> str | None:
    """IRIs as they are, literals and blank nodes in N-Triples form."""
    if term is None:
        return None
    return term.value if isinstance(term, NamedNode) else str(term)


def write_turtle(report: ValidationReport, out: IO[bytes]) -> None:
    """The SHACL validation report graph (results left out by the cap are counted in a comment)."""
    node = BlankNode()
    triples = [
        Quad(node, RDF.type, SH.ValidationReport),
        Quad(node, SH.conforms, Literal(str(report.conforms).lower(), datatype=XSD.boolean)),
    ]
    left_out = sum(report.omitted.values())
    if left_out:
        comment = f"{left_out} more results not shown (--max-results)"
        triples.append(Quad(node, RDFS.comment, Literal(comment)))
    for result in report.results:
        entry = BlankNode()
        triples.append(Quad(node, SH.result, entry))
        triples.append(Quad(entry, RDF.type, SH.ValidationResult))
        for name, value in (
            ("focusNode", result.focus),
            ("resultPath", result.path),
            ("value", result.value),
            ("resultMessage", Literal(result.message)),
            ("resultSeverity", NamedNode(SH_NS + result.severity.value)),
            ("sourceConstraintComponent", result.component),
            ("sourceShape", result.shape),
        ):
            if value is not None:
                triples.append(Quad(entry, getattr(SH, name), value))
    prefixes = PREFIXES | {"sh": SH_NS}
    serialize(triples, out, RdfFormat.TURTLE, prefixes=prefixes)


def write_junit(report: ValidationReport, out: IO[bytes]) -> None:
    """One test case per source file (or focus node without one): failed when it has violations,
    its warnings in the case's output, so CI dashboards show which file to fix."""
    by_case: dict[str, list[ValidationResult]] = defaultdict(list)
    for result in report.results:
        name = result.sources[0].file if result.sources else compact(result.focus)
        by_case[name].append(result)
    suite = TestSuite("kg validate")
    for name, results in sorted(by_case.items()):
        case = TestCase(name, classname="kg.shapes")
        case.result = [
            Failure(_one_line(r), type_="sh:Violation")
            for r in results
            if r.severity == Severity.VIOLATION
        ]
        warnings = [_one_line(r) for r in results if r.severity != Severity.VIOLATION]
        if warnings:
            case.system_out = "\n".join(warnings)
        suite.add_testcase(case)
    document = JUnitXml("kg")
    document.add_testsuite(suite)
    document.update_statistics()
    out.write(document.tostring())


def _one_line(result: ValidationResult) -> str:
    sources = f" in {_sources(result)}" if result.sources else ""
    path = f" {compact(result.path)}" if result.path else ""
    return f"{result.severity.value}: {compact(result.focus)}{path}: {result.message}{sources}"


def _sources(result: ValidationResult, limit: int = 10) -> str:
    """The files stating a result; a fact stated by hundreds of pages names the first ten."""
    named = ", ".join(str(s) for s in result.sources[:limit])
    more = len(result.sources) - limit
    return f"{named} and {more} more files" if more > 0 else named


def _excerpt(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: Report formats of `kg validate --format`, and whether each writes text or bytes.
WRITERS: dict[str, tuple[Callable[[ValidationReport, IO], None], bool]] = {
    "text": (write_text, False),
    "json": (write_json, False),
    "turtle": (write_turtle, True),
    "junit": (write_junit, True),
}
