"""What a request may make the store do: the endpoint's safety rules, checked before a query runs.

pyoxigraph follows `SERVICE` and `LOAD` IRIs over HTTP (and answers `file:` ones), so a query could
reach the network or the local machine. Here `SERVICE` is allowed only towards an allow-list and
`LOAD` never; `FROM` / `FROM NAMED` need no rule, as pyoxigraph only names graphs of the store with
them. Updates may not write the default graph, which the store keeps as the union of the named
graphs (see `OxigraphStore.update`).

The checks read the text with Pygments' SPARQL lexer (strings, comments and IRIs are told apart
from keywords) and updates with rdflib's SPARQL parser; both run in the query worker, never on the
server's event loop.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin

from pygments.lexers import SparqlLexer
from pygments.token import Comment, Keyword, Name, Punctuation, Text, Token

from kg.errors import QueryError


class Forbidden(QueryError):
    """The request asks for something this endpoint never does (network, files)."""


@dataclass(frozen=True)
class Lexeme:
    position: int
    token: object
    text: str

    def is_keyword(self, *words: str) -> bool:
        return self.token in Keyword and self.text.upper() in words


_LEXER = SparqlLexer()
_SKIPPED = (Text, Comment, Token.Text.Whitespace)


def lex(text: str) -> list[Lexeme]:
    """The significant tokens of a SPARQL text (no whitespace, no comments)."""
    return [
        Lexeme(position, token, value)
        for position, token, value in _LEXER.get_tokens_unprocessed(text)
        if value.strip() and not any(token in skipped for skipped in _SKIPPED)
    ]


def check_services(
    text: str, allowed: Sequence[str], base_iri: str | None, prefixes: dict[str, str]
) -> None:
    """Forbidden unless every SERVICE of the text names an allowed endpoint."""
    # SPARQL keywords cannot be escaped, so a text without the word has no SERVICE clause.
    if "service" not in text.lower():
        return
    for target in _service_targets(lex(text), base_iri, prefixes):
        if target is None:
            raise Forbidden("SERVICE with a variable endpoint is not allowed on this endpoint")
        if target not in allowed:
            listed = ", ".join(allowed) if allowed else "none"
            raise Forbidden(
                f"SERVICE <{target}> is not allowed on this endpoint (allowed endpoints: {listed})"
            )


def _service_targets(
    lexemes: list[Lexeme], base_iri: str | None, prefixes: dict[str, str]
) -> Iterator[str | None]:
    declared = dict(prefixes)
    base = base_iri or ""
    for index, lexeme in enumerate(lexemes):
        following = lexemes[index + 1 : index + 5]
        if lexeme.is_keyword("PREFIX"):
            declared.update(_prefix_declaration(following, base))
        elif lexeme.is_keyword("BASE") and following and following[0].token in Name.Label:
            base = urljoin(base, following[0].text[1:-1])
        elif lexeme.is_keyword("SERVICE"):
            if following and following[0].is_keyword("SILENT"):
                following = following[1:]
            yield _resolve(following, base, declared)


def _declared_prefixes(lexemes: list[Lexeme], base_iri: str | None) -> dict[str, str]:
    declared: dict[str, str] = {}
    for index, lexeme in enumerate(lexemes):
        if lexeme.is_keyword("PREFIX"):
            declared.update(_prefix_declaration(lexemes[index + 1 : index + 4], base_iri or ""))
    return declared


def _prefix_declaration(following: list[Lexeme], base: str) -> dict[str, str]:
    """{name: namespace} of the `name: <iri>` after a PREFIX keyword, or {} if it is not one."""
    name, rest = _prefix_name(following)
    if name is None or not rest or rest[0].token not in Name.Label:
        return {}
    return {name: urljoin(base, rest[0].text[1:-1])}


def _resolve(lexemes: list[Lexeme], base: str, declared: dict[str, str]) -> str | None:
    """The IRI the first lexemes spell (<iri>, prefix:local or :local); None for a variable."""
    if not lexemes or lexemes[0].token in Name.Variable:
        return None
    first = lexemes[0]
    if first.token in Name.Label:
        return urljoin(base, first.text[1:-1])
    prefix, rest = _prefix_name(lexemes)
    if prefix is not None and rest and rest[0].token in Name.Tag:
        namespace = declared.get(prefix)
        if namespace is not None:
            return namespace + rest[0].text
    raise Forbidden("SERVICE endpoint could not be read as an IRI; write it as <http://...>")


def _prefix_name(lexemes: list[Lexeme]) -> tuple[str | None, list[Lexeme]]:
    """The prefix of a prefixed name the lexemes start with, and the lexemes after its colon.
    The lexer may call the prefix a keyword (`a:` is read as rdf:type), so a word counts as a
    prefix when a colon follows it directly."""
    if lexemes and _is_colon(lexemes[0]):
        return "", lexemes[1:]
    if len(lexemes) >= 2 and _is_colon(lexemes[1]):
        first = lexemes[0]
        if lexemes[1].position == first.position + len(first.text):
            return first.text, lexemes[2:]
    return None, lexemes


def _is_colon(lexeme: Lexeme) -> bool:
    return lexeme.token in Punctuation and lexeme.text == ":"


# --- updates ---------------------------------------------------------------------------------


def prepare_update(
    text: str,
    using: Sequence[str],
    using_named: Sequence[str],
    allowed_services: Sequence[str],
    base_iri: str | None,
    prefixes: dict[str, str],
) -> str:
    """The update to run: checked against the rules, with the protocol's `using-graph-uri` and
    `using-named-graph-uri` written into each DELETE/INSERT operation as USING clauses (pyoxigraph
    takes no dataset for updates)."""
    # rdflib's parser takes a second to import: query workers, which never need it, skip that.
    from pyparsing import ParseException
    from rdflib.plugins.sparql.algebra import translateUpdate
    from rdflib.plugins.sparql.parser import parseUpdate

    # rdflib forgets a PREFIX after the first operation of a request: give it all of them.
    declared = {**prefixes, **_declared_prefixes(lex(text), base_iri)}
    try:
        operations = translateUpdate(parseUpdate(text), base_iri, declared).algebra
    except ParseException as error:
        raise QueryError(f"invalid SPARQL update: {error}") from None
    except Exception as error:  # rdflib reports unknown prefixes and bad IRIs with bare Exceptions
        raise QueryError(f"invalid SPARQL update: {error}") from None
    for operation in operations:
        _check_operation(operation)
    check_services(text, allowed_services, base_iri, prefixes)
    if not using and not using_named:
        return text
    if any(
        op.name == "Modify" and (_field(op, "using") or _field(op, "withClause"))
        for op in operations
    ):
        raise QueryError(
            "the update has USING, USING NAMED or WITH and the request gives using-graph-uri or "
            "using-named-graph-uri: give the dataset in one place only"
        )
    clauses = " ".join(
        [f"USING <{iri}>" for iri in using] + [f"USING NAMED <{iri}>" for iri in using_named]
    )
    return _insert_before_where(text, clauses)


def _check_operation(operation) -> None:
    name = operation.name
    if name == "Load":
        raise Forbidden("LOAD is not allowed on this endpoint: send the data in the update")
    default_write = False
    if name in ("InsertData", "DeleteData", "DeleteWhere"):
        default_write = bool(_field(operation, "triples"))
    elif name == "Modify" and _field(operation, "withClause") is None:
        default_write = any(
            clause is not None and _field(clause, "triples")
            for clause in (_field(operation, "insert"), _field(operation, "delete"))
        )
    elif name in ("Add", "Move", "Copy"):
        default_write = operation.graph[1] == "DEFAULT" or (
            name == "Move" and operation.graph[0] == "DEFAULT"
        )
    elif name in ("Clear", "Drop"):
        default_write = operation.graphiri == "DEFAULT"
    if default_write:
        raise QueryError(
            f"{_OPERATION_WORDS.get(name, name)} writes the default graph, which this store "
            "derives from the named graphs: write into a named graph (GRAPH <iri> { ... } or "
            "WITH <iri>) instead"
        )


def _field(value, name: str):
    """A part of an rdflib algebra node, or None (its own `get` answers a missing key with the
    key's name)."""
    return dict.get(value, name)


_OPERATION_WORDS = {
    "InsertData": "INSERT DATA",
    "DeleteData": "DELETE DATA",
    "DeleteWhere": "DELETE WHERE",
    "Modify": "DELETE/INSERT",
}


def _insert_before_where(text: str, clauses: str) -> str:
    """Puts `clauses` before the WHERE of every DELETE/INSERT ... WHERE operation: the WHERE
    keywords outside braces that do not directly follow DELETE (the DELETE WHERE short form)."""
    depth, cuts, previous = 0, [], None
    for lexeme in lex(text):
        if lexeme.token in Punctuation and lexeme.text == "{":
            depth += 1
        elif lexeme.token in Punctuation and lexeme.text == "}":
            depth -= 1
        elif (
            depth == 0
            and lexeme.is_keyword("WHERE")
            and (previous is None or not previous.is_keyword("DELETE"))
        ):
            cuts.append(lexeme.position)
        previous = lexeme
    for position in reversed(cuts):
        text = f"{text[:position]}{clauses} {text[position:]}"
    return text
