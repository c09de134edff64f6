"""Named queries: the `.rq` files of `queries/`, their header, and their parameters bound as values.

A file starts with comment lines:

    # title: Mitigations in a category
    # question: Which mitigations fall under a category, its descendants included?
    # params: ?code (notation, default 2.2) the category's code

One `# params:` line per parameter: its variable, its type and optionally a default (a parameter
without one is required), then what it means. Types: `iri`, `notation` (a mitigation category's
code, checked against the taxonomy), `string`, `integer`. The file name (without `.rq`) is the
query's slug.

The query binds each parameter itself, where it belongs, with a one-variable VALUES block holding
the default (`VALUES ?code { "2.2" }`, or `UNDEF` for a required one), so the file runs as it is
in any SPARQL tool. Binding a value replaces that block's data with the RDF term pyoxigraph makes
of it (an IRI it has validated, a literal it has escaped): a value is never pasted as text, and
the query's own structure (scopes, FILTERs that read the parameter) is kept.
"""

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import Literal, NamedNode

from kg.errors import KgError, QueryError
from kg.sparql_lexer import Kind as LexKind
from kg.sparql_lexer import lex
from kg.sparql_values import Term
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
    #: Where each parameter's VALUES data lies in the text: (start, end) between its braces.
    blocks: dict[str, tuple[int, int]]

    def bind(self, given: Mapping[str, str], notations: Collection[str]) -> str:
        """The query with its parameters bound to `given` (strings, as typed by a user), or
        their defaults; `notations` are the taxonomy's category codes."""
        unknown = sorted(set(given) - {p.name for p in self.params})
        if unknown:
            names = ", ".join(p.name for p in self.params) or "none"
            raise ParameterError(f"{self.slug}: no parameter {unknown[0]!r} (parameters: {names})")
        text = self.text
        # From the last block to the first, so the positions of the others stay valid.
        for param in sorted(self.params, key=lambda p: -self.blocks[p.name][0]):
            value = given.get(param.name, param.default)
            if value is None:
                raise ParameterError(f"{self.slug}: parameter {param.name!r} is required")
            start, end = self.blocks[param.name]
            text = f"{text[:start]} {term(param, value, notations)} {text[end:]}"
        return text


def term(param: Param, value: str, notations: Collection[str] | None) -> Term:
    """The RDF term a parameter's value stands for, or ParameterError naming the parameter
    (`notations` None: a notation is not checked against the taxonomy)."""
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
        if notations is not None and code not in notations:
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
        params.append(Param(param["name"], param["type"], param["default"], param["about"].strip()))
    for field in ("title", "question"):
        if not header.get(field):
            raise QueryFileError(f"{path}: missing the header line '# {field}: …'")
    blocks = values_blocks(text)
    for param in params:
        if param.name not in blocks:
            raise QueryFileError(
                f"{path}: parameter ?{param.name} needs a block 'VALUES ?{param.name} "
                "{ default }' where the query binds it"
            )
        inline = text[slice(*blocks[param.name])].strip()
        expected = _inline_forms(param)
        if inline not in expected:
            raise QueryFileError(
                f"{path}: VALUES ?{param.name} holds {inline!r}; its default is {expected[0]}"
            )
    return NamedQuery(slug, header["title"], header["question"], tuple(params), text, path, blocks)


def _inline_forms(param: Param) -> list[str]:
    """How a query may write its parameter's default in its VALUES block."""
    if param.default is None:
        return ["UNDEF"]
    written = str(term(param, param.default, None))
    return [written, param.default] if param.type == "integer" else [written]


def values_blocks(text: str) -> dict[str, tuple[int, int]]:
    """The data of each one-variable `VALUES ?x { … }` block of a query, by variable: where it
    starts and ends in the text (between the braces). A variable with two blocks is left out
    (it could not be bound in one place)."""
    lexemes = lex(text)
    found: dict[str, tuple[int, int]] = {}
    twice = set()
    for i, lexeme in enumerate(lexemes[:-2]):
        variable, opening = lexemes[i + 1], lexemes[i + 2]
        if not (
            lexeme.is_keyword("VALUES") and variable.kind is LexKind.VAR and opening.is_punct("{")
        ):
            continue
        closing = next((x for x in lexemes[i + 3 :] if x.is_punct("}") or x.is_punct("{")), None)
        if closing is None or not closing.is_punct("}"):
            continue
        name = variable.text[1:]
        if name in found:
            twice.add(name)
        found[name] = (opening.position + 1, closing.position)
    return {name: block for name, block in found.items() if name not in twice}


def load_queries(directory: Path) -> dict[str, NamedQuery]:
    """Every `*.rq` of `directory` (not its subfolders), by slug."""
    return {path.stem: read_query(path) for path in sorted(directory.glob("*.rq"))}
