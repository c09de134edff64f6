"""Data-quality checks: the `*-violation.rq` queries of `queries/checks/`, run against a dataset.

Each check is a SELECT that returns no rows on good data (rules SHACL cannot say well: duplicate
quotations, heading cycles, codes that disagree across pages). Its first column is `?focus`, the
offending resource; the others explain the violation. Every row is traced to the loaded files
that state its focus, the way `locate.py` traces validation results: the `kg:sourceFile` of the
named graphs with the focus as subject, or else as object.

Relative IRIs in a check resolve against the base IRI (`KG_BASE_IRI`), so `<taxonomy/mitigation>`
names the mitigation scheme wherever the data is published.
"""

import json
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import IO

from pyoxigraph import DefaultGraph, Literal, NamedNode, QuerySolutions, Store

from kg.errors import InputError, QueryError
from kg.load import Loader
from kg.named_queries import NamedQuery, QueryFileError, read_query
from kg.settings import DEFAULT_BASE_IRI, Settings
from kg.store import GraphStore, OxigraphStore
from kg.validation import Term
from kg.validation_report import compact
from kg.vocab import KG, PREFIXES, XSD

#: Where the checks live, below the named queries' directory (`KG_QUERIES_DIR`).
CHECKS_FOLDER = "checks"
SUFFIX = "-violation"
FOCUS = "focus"


@dataclass(frozen=True)
class Violation:
    """One row of a check: its values by column (the focus first) and the files stating it."""

    values: dict[str, Term | None]
    files: tuple[str, ...]

    @property
    def focus(self) -> Term | None:
        return self.values[FOCUS]


@dataclass(frozen=True)
class CheckResult:
    slug: str
    title: str
    question: str
    columns: tuple[str, ...]
    rows: tuple[Violation, ...]

    @property
    def passed(self) -> bool:
        return not self.rows


@dataclass(frozen=True)
class CheckReport:
    results: tuple[CheckResult, ...]

    @property
    def passed(self) -> bool:
        """No check returned a row (`kg check` exits 0)."""
        return all(result.passed for result in self.results)

    @property
    def row_count(self) -> int:
        return sum(len(result.rows) for result in self.results)

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        return tuple(result for result in self.results if not result.passed)


def checks_dir(settings: Settings) -> Path:
    return settings.queries_dir / CHECKS_FOLDER


def load_checks(directory: Path) -> list[NamedQuery]:
    """Every `*.rq` of `directory`, in name order; each must be named `*-violation.rq` and have
    the named queries' header (`# title:`, `# question:`) and no parameters."""
    paths = sorted(directory.glob("*.rq"))
    if not paths:  # a mistyped directory must not pass as "no rows"
        raise QueryFileError(f"{directory}: no checks (*-violation.rq) there")
    checks = []
    for path in paths:
        check = read_query(path)
        if not check.slug.endswith(SUFFIX):
            raise QueryFileError(f"{path}: a check's file name ends with '{SUFFIX}.rq'")
        if check.params:
            raise QueryFileError(f"{path}: a check has no parameters")
        checks.append(check)
    return checks


def run_checks(dataset: Store, directory: Path, base_iri: str = DEFAULT_BASE_IRI) -> CheckReport:
    """Runs every check of `directory` against the dataset (its default graph the union of the
    named graphs, as kg stores it), each row traced to the files stating its focus."""
    files = _FileNames(dataset)
    results = []
    for check in load_checks(directory):
        columns, rows = _select(dataset, check, base_iri)
        violations = tuple(Violation(row, files.stating(row[FOCUS])) for row in rows)
        results.append(CheckResult(check.slug, check.title, check.question, columns, violations))
    return CheckReport(tuple(results))


def check_store(store: GraphStore, settings: Settings | None = None) -> CheckReport:
    """Runs the checks of `settings` (`queries_dir/checks`, base IRI) against the live store."""
    settings = settings or Settings()
    return run_checks(store.reader(), checks_dir(settings), settings.base_iri)


def check_files(settings: Settings, paths: Iterable[Path]) -> tuple[CheckReport, list[InputError]]:
    """Checks files as `kg load` would load them, with the ontology and taxonomies, in a
    throwaway store; files that cannot be read as entries or RDF are returned as errors (the
    others are checked). The shapes are not applied: that is `kg validate`."""
    with tempfile.TemporaryDirectory(prefix="kg-check-") as directory:
        store = OxigraphStore(Path(directory))
        loader = Loader(settings, store)
        load = loader.load(
            loader.vocabulary_sources() + loader.entry_sources(paths), skip_invalid=True
        )
        live = store.live_directory
        # A handle of its own, closed before the directory goes (not the process-wide reader).
        dataset = Store.read_only(str(live)) if live is not None else Store()
        report = run_checks(dataset, checks_dir(settings), settings.base_iri)
        del dataset
    return report, load.errors


def _select(
    dataset: Store, check: NamedQuery, base_iri: str
) -> tuple[tuple[str, ...], list[dict[str, Term | None]]]:
    try:
        solutions = dataset.query(check.text, prefixes=PREFIXES, base_iri=base_iri)
    except SyntaxError as error:
        raise QueryError(f"{check.path}: invalid SPARQL: {error}") from None
    except OSError as error:
        raise QueryError(f"{check.path}: query failed: {error}") from None
    if not isinstance(solutions, QuerySolutions):
        raise QueryFileError(f"{check.path}: a check is a SELECT query")
    columns = tuple(variable.value for variable in solutions.variables)
    if not columns or columns[0] != FOCUS:
        raise QueryFileError(f"{check.path}: a check projects ?{FOCUS} first")
    return columns, [dict(zip(columns, row, strict=True)) for row in solutions]


class _FileNames:
    """The loaded files stating a term, mirroring `locate.py`: the graphs with the term as
    subject, else as object (a dangling reference is only stated as an object)."""

    def __init__(self, dataset: Store) -> None:
        self.dataset = dataset
        self._names: dict[NamedNode, str | None] = {}

    def stating(self, term: Term | None) -> tuple[str, ...]:
        if term is None:
            return ()
        patterns = [(None, None, term)]
        if not isinstance(term, Literal):
            patterns.insert(0, (term, None, None))
        for subject, predicate, obj in patterns:
            graphs = {
                quad.graph_name
                for quad in self.dataset.quads_for_pattern(subject, predicate, obj, None)
                if quad.graph_name != DefaultGraph()
            }
            names = {name for graph in graphs if (name := self._name(graph)) is not None}
            if names:
                return tuple(sorted(names))
        return ()

    def _name(self, graph: NamedNode) -> str | None:
        if graph not in self._names:
            stated = next(self.dataset.quads_for_pattern(graph, KG.sourceFile, None, graph), None)
            self._names[graph] = stated.object.value if stated else None
        return self._names[graph]


# --- the report, for people --------------------------------------------------------------------


def write_text(report: CheckReport, out: IO[str], limit: int = 10) -> None:
    """Each check with its rows (every column, then the files stating the focus), and a summary.
    A passing check is one line."""
    for result in report.results:
        if result.passed:
            out.write(f"ok    {result.slug}: {result.title}\n")
            continue
        count = _rows(len(result.rows))
        out.write(f"FAIL  {result.slug}: {result.title} ({count})\n")
        out.write(f"  {result.question}\n")
        for row in result.rows:
            out.write(f"  {_shown(row.focus)}\n")
            for column in result.columns[1:]:
                if row.values[column] is not None:
                    out.write(f"    {column}: {_shown(row.values[column])}\n")
            out.write(f"    in: {_files(row.files, limit)}\n")
    failed = len(report.failed)
    if report.passed:
        out.write(f"passed: {len(report.results)} checks, no rows\n")
    else:
        out.write(f"failed: {failed} of {len(report.results)} checks, {_rows(report.row_count)}\n")


def write_json(report: CheckReport, out: IO[str]) -> None:
    """The report for tools: every check with its rows, values as their SPARQL JSON terms."""
    data = {
        "passed": report.passed,
        "rows": report.row_count,
        "checks": [
            {
                "name": result.slug,
                "title": result.title,
                "question": result.question,
                "passed": result.passed,
                "rows": [
                    {
                        "values": {
                            column: _json_term(value)
                            for column, value in row.values.items()
                            if value is not None
                        },
                        "files": list(row.files),
                    }
                    for row in result.rows
                ],
            }
            for result in report.results
        ],
    }
    json.dump(data, out, ensure_ascii=False, indent=1)
    out.write("\n")


def _json_term(term: Term) -> dict[str, str]:
    if isinstance(term, Literal):
        found = {"type": "literal", "value": term.value}
        if term.language:
            found["xml:lang"] = term.language
        elif term.datatype != XSD.string:
            found["datatype"] = term.datatype.value
        return found
    return {"type": "uri" if isinstance(term, NamedNode) else "bnode", "value": term.value}


WRITERS = {"text": write_text, "json": write_json}


def render_text(report: CheckReport) -> str:
    out = StringIO()
    write_text(report, out)
    return out.getvalue()


def _shown(term: Term | None, limit: int = 120) -> str:
    """IRIs whole and prefixed where kg knows the prefix; text quoted and cut at `limit`."""
    if not isinstance(term, Literal):
        return compact(term)
    if term.datatype != XSD.string and term.language is None:
        return term.value  # a number, a year
    text = term.value.replace("\n", "\\n")  # one line per value
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return f'"{text}"'


def _files(files: tuple[str, ...], limit: int) -> str:
    if not files:
        return "(no loaded file states it)"
    named = ", ".join(files[:limit])
    more = len(files) - limit
    return f"{named} and {more} more files" if more > 0 else named


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"
