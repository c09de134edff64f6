"""The SERVICE rule: a query may call only the endpoints of the allow-list, and never by a variable.

pyoxigraph follows `SERVICE` IRIs over HTTP, so a query could make the server call any address it
can reach and read the answer. Deciding what another parser will read is a game a checker keeps
losing (Oxigraph needs no word break around keywords: `SERVICESILENT<...>` and `SERVICE:sparql`
are SERVICE clauses), so this check reads in the safe direction:

- every case-insensitive occurrence of the letters `service` is a SERVICE keyword, except inside a
  comment, a string, a variable name or the local part of a prefixed name, which no parser reads
  as a keyword (not inside an IRI: its `<` may be the less-than operator, as in
  `FILTER(1<2)SERVICE:e#>`). Where those are found by `sparql_lexer`, a token it ends where the
  engine does not would hide what follows; so in a text that is not plain ASCII, or holds a
  backslash or a long string (where the lexer is most likely to misjudge an end), only variable
  names count as inert: they are told by the characters right before the word, whatever the
  reading of the rest;
- the endpoint after it (and an optional `SILENT`, glued or not) must be spelled exactly: an
  absolute `<IRI>` or a prefixed name, followed by a space, a comment or `{`; anything else that
  could start an endpoint is refused;
- a prefixed endpoint is checked against every declaration of its prefix anywhere in the text
  (and kg's own prefixes), so no reading of which declaration applies can reach another address.

A refusal is `Forbidden` (403). When the allow-list is empty the worker processes cannot open
network connections at all (`sandbox`), so a reading this check got wrong still reaches nothing.
The differential fuzz test (tests/test_service_fuzz.py) runs thousands of spellings against a real
server with a canary endpoint.
"""

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kg.errors import QueryError
from kg.sparql_lexer import PNAME, Kind, lex


class Forbidden(QueryError):
    """The request asks for something this endpoint never does (network, files)."""


#: Oxigraph reads `_` (spaces and comments) with these four characters; \s is a superset, so the
#: checker skips at least as much as the engine.
_SKIP = re.compile(r"(?:\s|#[^\r\n]*)*")
_SILENT = re.compile(r"silent", re.IGNORECASE)
_PNAME = re.compile(PNAME)
#: Where a prefixed name may be, unread by `_PNAME`: a colon before the next space or delimiter.
_NAME_LIKE = re.compile(r"[^\s{}()<>\"'#]*:")
_UCHAR = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
#: What may follow an endpoint in a SERVICE clause: a space, a comment or the group's brace.
_END = re.compile(r"[\s#{]")


@dataclass(frozen=True)
class Endpoint:
    """An endpoint as spelled: an IRI, a prefixed name (prefix, local), or a variable."""

    iri: str | None = None
    prefix: str | None = None
    local: str = ""
    variable: bool = False


def check_services(
    text: str, allowed: Sequence[str], base_iri: str | None, prefixes: dict[str, str]
) -> None:
    """Forbidden unless every SERVICE the text could hold names an allowed endpoint."""
    # The keyword cannot be escaped, so a text without these letters has no SERVICE clause.
    if "service" not in text.lower():
        return
    for endpoint in keyword_targets(text, "service"):
        for iri in _candidates(endpoint, text, prefixes):
            if iri not in allowed:
                listed = ", ".join(allowed) if allowed else "none"
                raise Forbidden(
                    f"SERVICE <{iri}> is not allowed on this endpoint (allowed endpoints: {listed})"
                )


def check_no_load(text: str) -> None:
    """Forbidden if the text could hold a LOAD operation (read as SERVICE is, in the safe
    direction: rdflib's reading of an update does not always match the engine's)."""
    if "load" in text.lower() and any(True for _ in keyword_targets(text, "load")):
        raise Forbidden("LOAD is not allowed on this endpoint: send the data in the update")


def keyword_targets(text: str, keyword: str) -> Iterable[Endpoint]:
    """The IRI (or variable) after every place in `text` that a SPARQL parser could read as
    `keyword` (SERVICE, LOAD) followed by one."""
    if _lexer_trusted(text):
        lexemes = lex(text)
        starts = [lexeme.position for lexeme in lexemes]

        def inert(position: int) -> bool:
            return _is_inert(position, lexemes, starts)

    else:

        def inert(position: int) -> bool:
            return _in_variable_name(text, position)

    for match in re.finditer(keyword, text, re.IGNORECASE):
        if not inert(match.start()):
            yield from _endpoints_after(text, match.end())


def _lexer_trusted(text: str) -> bool:
    """Whether `sparql_lexer` may decide what is a string, comment or IRI in `text`."""
    return text.isascii() and "\\" not in text and "'''" not in text and '"""' not in text


def _in_variable_name(text: str, position: int) -> bool:
    """Whether `position` continues a variable name (`?name`, `$name`): told by the characters
    before it alone, so no reading of the text can make it the start of a keyword."""
    start = position
    while start > 0 and _is_name_character(text[start - 1]):
        start -= 1
    return start > 0 and text[start - 1] in "?$"


def _is_name_character(character: str) -> bool:
    return character.isalnum() or character in "_\u00b7\u203f\u2040" or (
        "\u0300" <= character <= "\u036f"
    )


def _is_inert(position: int, lexemes, starts: list[int]) -> bool:
    """Whether the text at `position` is inside something no parser reads as a keyword."""
    index = bisect_right(starts, position) - 1
    if index < 0:
        return True  # before the first token: whitespace or a comment
    lexeme = lexemes[index]
    if position >= lexeme.position + len(lexeme.text):
        return True  # between tokens: whitespace or a comment
    if lexeme.kind in (Kind.STRING, Kind.VAR):
        return True
    if lexeme.kind is Kind.PNAME:
        return position > lexeme.position + len(lexeme.prefix)  # in the local part
    return False


def _endpoints_after(text: str, position: int) -> list[Endpoint]:
    """The endpoints a SERVICE keyword ending at `position` may be followed by: none when nothing
    there can start one (no parser reads a SERVICE clause), both readings when `SILENT` may be
    the keyword or the start of a prefixed name; Forbidden when an endpoint cannot be read."""
    position = _SKIP.match(text, position).end()
    readings = []
    silent = _SILENT.match(text, position)
    if silent:
        after = _SKIP.match(text, silent.end()).end()
        if after < len(text) and _starts_endpoint(text[after]):
            readings.append(_read_endpoint(text, after))
    if position < len(text) and _starts_endpoint(text[position]):
        readings.append(_read_endpoint(text, position, strict=not readings))
    return [reading for reading in readings if reading is not None]


def _starts_endpoint(character: str) -> bool:
    return character in "<?$:_" or character.isalpha()


def _read_endpoint(text: str, position: int, strict: bool = True) -> Endpoint | None:
    """The endpoint spelled at `position`; None if no IRI or name starts there. An endpoint not
    followed by a space, a comment or `{` is Forbidden (when `strict`) or None."""
    first = text[position]
    if first in "?$":
        return Endpoint(variable=True)
    if first == "<":
        end = text.find(">", position)
        if end < 0:
            return None
        endpoint, position = Endpoint(iri=_unescape(text[position + 1 : end])), end + 1
    else:
        name = _PNAME.match(text, position)
        if name is None:
            if strict and _NAME_LIKE.match(text, position):
                raise _unreadable(text, position)  # a name this check cannot read: refused
            return None
        prefix, local = name.group(1), name.group(2).replace("\\", "")
        endpoint, position = Endpoint(prefix=prefix, local=local), name.end()
    if position < len(text) and not _END.match(text, position):
        if strict:
            raise _unreadable(text, position)
        return None
    return endpoint


def _unreadable(text: str, position: int) -> Forbidden:
    return Forbidden(
        "a SERVICE endpoint could not be read safely near "
        f"{text[max(0, position - 30) : position + 10]!r}: write it as an absolute <IRI> "
        "followed by a space (prefix names containing 'service' are read as SERVICE)"
    )


def _unescape(iri: str) -> str:
    """The IRI with \\u and \\U escapes decoded, as the engine reads IRIREFs."""
    return _UCHAR.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), iri)


def _candidates(endpoint: Endpoint, text: str, prefixes: dict[str, str]) -> list[str]:
    """Every IRI the endpoint may stand for; Forbidden when that cannot be bounded."""
    if endpoint.variable:
        raise Forbidden("SERVICE with a variable endpoint is not allowed on this endpoint")
    if endpoint.iri is not None:
        namespaces, local = [endpoint.iri], ""
    else:
        namespaces, local = _declarations(endpoint.prefix, text, prefixes), endpoint.local
        if not namespaces:
            raise Forbidden(f"SERVICE endpoint uses the undeclared prefix {endpoint.prefix!r}")
    iris = [namespace + local for namespace in namespaces]
    for iri in iris:
        if not _ABSOLUTE.match(iri):
            raise Forbidden(
                f"SERVICE endpoint <{iri}> is relative: write the endpoint as an absolute IRI"
            )
    return iris


def _declarations(prefix: str, text: str, prefixes: dict[str, str]) -> list[str]:
    """Every namespace `prefix` is declared with anywhere in the text (glued spellings, strings
    and comments included: reading too many is safe), and kg's own."""
    pattern = re.compile(
        rf"(?i:prefix)(?:\s|#[^\r\n]*)*{re.escape(prefix)}:(?:\s|#[^\r\n]*)*<([^>]*)>"
    )
    found = [_unescape(m.group(1)) for m in pattern.finditer(text)]
    if prefix in prefixes:
        found.append(prefixes[prefix])
    return found
