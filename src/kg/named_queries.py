"""Named queries: the `.rq` files of `queries/`, their header, and their parameters bound as values.

A file starts with comment lines:

    # title: Mitigations in a category
    # question: Which mitigations fall under a category, its descendants included?
    # params: ?code (notation, default 2.2) the category's code

One `# params:` line per parameter: its variable, its type and optionally a default (a parameter
without one is required), then what it means. Types: `iri`, `notation` (a mitigation category's
code, checked against the taxonomy), `string`, `integer`. The file name (without `.rq`) is the
query's slug. A value is turned into an RDF term by pyoxigraph and bound with a trailing VALUES
clause (`sparql_values`), never pasted into the text.
"""

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import Literal, NamedNode

from kg.errors import KgError, QueryError
from kg.sparql_values import Term, with_values
from kg.vocab import XSD

TYPES = ("iri", "notation", "string", "integer")
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_HEADER = re.compile(r"#\s*(title|question|params)\s*:\s*(.*)")
_PARAM = re.compile(
    r"\?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*"
    r"\((?P<type>[a-z]+)(?:\s*,\s*default\s+(?P<default>[^)]*?))?\s*\)\s*(?P<about>.*)"
)
_NOTATION = re.compile(r"\d+(?:\.(?:\d+|x))*")


class QueryFileError(KgError):
    """A named query's file does not say what it must (header, parameters, name)."""


class ParameterError(QueryError):
    """A parameter value is missing, unknown, or not of the parameter's type."""


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: str | None
    about: str

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass(frozen=True)
class NamedQuery:
    slug: str
    title: str
    question: str
    params: tuple[Param, ...]
    text: str
    path: Path

    def bind(self, given: Mapping[str, str], notations: Collection[str]) -> str:
        """The query with its parameters bound to `given` (strings, as typed by a user), or
        their defaults; `notations` are the taxonomy's category codes."""
        unknown = sorted(set(given) - {p.name for p in self.params})
        if unknown:
            names = ", ".join(p.name for p in self.params) or "none"
            raise ParameterError(f"{self.slug}: no parameter {unknown[0]!r} (parameters: {names})")
        if not self.params:
            return self.text
        terms = []
        for param in self.params:
            value = given.get(param.name, param.default)
            if value is None:
                raise ParameterError(f"{self.slug}: parameter {param.name!r} is required")
            terms.append(term(param, value, notations))
        return with_values(self.text, [p.name for p in self.params], [terms])


def term(param: Param, value: str, notations: Collection[str]) -> Term:
    """The RDF term a parameter's value stands for, or ParameterError naming the parameter."""
    shown = value if len(value) <= 80 else value[:80] + "…"
    if param.type == "iri":
        try:
            return NamedNode(value.strip())
        except ValueError:
            raise ParameterError(f"parameter {param.name!r}: not an IRI: {shown!r}") from None
    if param.type == "notation":
        code = value.strip()
        if not _NOTATION.fullmatch(code):
            raise ParameterError(
                f"parameter {param.name!r}: {shown!r} is not a category code (like 2.2.1)"
            )
        if code not in notations:
            raise ParameterError(f"parameter {param.name!r}: no category {code} in the taxonomy")
        return Literal(code)
    if param.type == "integer":
        if not re.fullmatch(r"[+-]?\d{1,18}", value.strip()):
            raise ParameterError(f"parameter {param.name!r}: not an integer: {shown!r}")
        return Literal(str(int(value)), datatype=XSD.integer)
    return Literal(value)


def read_query(path: Path) -> NamedQuery:
    text = path.read_text(encoding="utf-8")
    slug = path.stem
    if not SLUG.fullmatch(slug):
        raise QueryFileError(f"{path}: the file name must be a slug (lower-case words and -)")
    header: dict[str, str] = {}
    params: list[Param] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.startswith("#"):
            break
        match = _HEADER.match(line)
        if match is None:
            continue
        field, value = match.groups()
        if field != "params":
            header[field] = value.strip()
            continue
        if value.strip() in ("", "none", "-"):
            continue
        param = _PARAM.fullmatch(value.strip())
        if param is None or param["type"] not in TYPES:
            raise QueryFileError(
                f"{path}:{number}: expected '# params: ?name (type[, default VALUE]) meaning' "
                f"with a type among {', '.join(TYPES)}"
            )
        params.append(
            Param(param["name"], param["type"], param["default"], param["about"].strip())
        )
    for field in ("title", "question"):
        if not header.get(field):
            raise QueryFileError(f"{path}: missing the header line '# {field}: …'")
    return NamedQuery(slug, header["title"], header["question"], tuple(params), text, path)


def load_queries(directory: Path) -> dict[str, NamedQuery]:
    """Every `*.rq` of `directory` (not its subfolders), by slug."""
    return {path.stem: read_query(path) for path in sorted(directory.glob("*.rq"))}
