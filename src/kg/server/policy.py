"""What a request may make the store do: the endpoint's safety rules, checked before a query runs.

pyoxigraph follows `SERVICE` and `LOAD` IRIs over HTTP, so a query could make the server call any
address it can reach (internal services included) and read the answer. `SERVICE` is allowed only
towards an allow-list (`service_policy`) and `LOAD` never; `FROM` / `FROM NAMED` need no rule, as
pyoxigraph only names graphs of the store with them. Updates may not write the default graph,
which the store keeps as the union of the named graphs (see `OxigraphStore.update`).

Updates are read with rdflib's SPARQL parser (the SERVICE rule reads them as text too); the
checks run in the worker processes, never on the server's event loop.
"""

import re
from array import array
from collections.abc import Sequence
from itertools import accumulate
from urllib.parse import urljoin

from pyoxigraph import NamedNode

from kg.errors import QueryError
from kg.server.service_policy import Forbidden, check_no_load, check_services
from kg.sparql_lexer import Kind, Lexeme, lex

__all__ = ["Forbidden", "check_nesting", "check_services", "prepare_update"]

#: Brackets ({, (, [) a request may nest. Real queries nest a few levels; the engine parses
#: recursively, and thousands of levels overflow its stack (killing the worker).
MAX_NESTING = 256
_OPENING = "{(["
_OTHER_THAN_BRACKETS = re.compile(r"[^{}()\[\]]+")
#: Brackets as signed bytes, +1 opening and -1 closing: the running sum is the depth. re, translate
#: and accumulate run at C speed: a megabyte of brackets holds the event loop for milliseconds.
_DEPTH_STEPS = {ord(c): "\x01" for c in _OPENING} | {ord(c): "\xff" for c in "})]"}


def check_nesting(text: str, limit: int = MAX_NESTING) -> None:
    """QueryError when brackets nest deeper than `limit`. Brackets in strings and comments count
    too (so no reading of the text can be deeper than this one), which costs real queries
    nothing: they never come near the limit."""
    # The total number of opening brackets bounds the depth: most texts stop here.
    if sum(text.count(bracket) for bracket in _OPENING) <= limit:
        return
    brackets = _OTHER_THAN_BRACKETS.sub("", text).translate(_DEPTH_STEPS)
    deepest = max(accumulate(array("b", brackets.encode("latin-1"))), default=0)
    if deepest > limit:
        raise QueryError(
            f"brackets nest more than {limit} levels deep: the engine cannot parse that; "
            "flatten the query"
        )


def _declared_prefixes(lexemes: list[Lexeme], base_iri: str | None) -> dict[str, str]:
    declared: dict[str, str] = {}
    for index, lexeme in enumerate(lexemes):
        if lexeme.is_keyword("PREFIX"):
            declared.update(_prefix_declaration(lexemes[index + 1 : index + 4], base_iri or ""))
    return declared


def _prefix_declaration(following: list[Lexeme], base: str) -> dict[str, str]:
    """{name: namespace} of the `name: <iri>` after a PREFIX keyword, or {} if it is not one."""
    if len(following) < 2 or following[0].kind is not Kind.PNAME or following[0].local:
        return {}
    if following[1].kind is not Kind.IRI:
        return {}
    return {following[0].prefix: urljoin(base, following[1].text[1:-1])}


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

    if not lex(text):
        raise QueryError("the update is empty")
    # First, on the text as the engine will read it: rdflib's reading differs in places.
    check_services(text, allowed_services, base_iri, prefixes)
    check_no_load(text)
    # rdflib forgets a PREFIX after the first operation of a request: give it all of them.
    declared = {**prefixes, **_declared_prefixes(lex(text), base_iri)}
    # rdflib runs a comment past a carriage return, where the engine ends it: end it there too.
    readable = text.replace("\r", "\n")
    try:
        operations = translateUpdate(parseUpdate(readable), base_iri, declared).algebra
    except ParseException as error:
        raise QueryError(f"invalid SPARQL update: {error}") from None
    except Exception as error:  # rdflib reports unknown prefixes and bad IRIs with bare Exceptions
        raise QueryError(f"invalid SPARQL update: {error}") from None
    for operation in operations:
        _check_operation(operation)
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
        [f"USING <{_iri(iri)}>" for iri in using]
        + [f"USING NAMED <{_iri(iri)}>" for iri in using_named]
    )
    prepared = _insert_before_where(text, clauses)
    check_services(prepared, allowed_services, base_iri, prefixes)
    return prepared


def _iri(value: str) -> str:
    """A graph IRI from the request, checked before it goes into the update's text."""
    try:
        return NamedNode(value).value
    except ValueError:
        message = f"not an IRI: {value!r} (using-graph-uri, using-named-graph-uri)"
        raise QueryError(message) from None


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
        if lexeme.is_punct("{"):
            depth += 1
        elif lexeme.is_punct("}"):
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
