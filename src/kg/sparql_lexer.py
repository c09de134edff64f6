"""The terminals of SPARQL 1.1 text, as the grammar defines them (§19.8), for the safety rules.

The rules must see exactly the keywords the query engine sees, so strings, IRIs and comments are
matched by the grammar's own productions. (Pygments' SPARQL lexer was used first: its long-string
rule runs past the closing quotes, which hid a SERVICE clause behind any \"\"\"...\"\"\" literal.)
Names outside ASCII are matched loosely; they only ever form prefixes, locals and variables (the
SERVICE rule does not rely on this lexer for texts outside ASCII: see `service_policy`).
"""

import re
from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    IRI = "iri"  # <...>
    PNAME = "pname"  # prefix:local, :local, prefix:
    STRING = "string"
    VAR = "var"  # ?x, $x
    WORD = "word"  # keywords, 'a', true/false, function names
    PUNCT = "punct"  # braces, dots, operators, anything else


#: Characters the grammar allows inside names besides letters and digits (PN_CHARS).
_NAME_EXTRA = "\u00b7\u0300-\u036f\u203f\u2040"
_ESCAPE = r"\\[_~.\-!$&'()*+,;=/?#@%]"
_LOCAL_CHAR = rf"(?:[\w\-:{_NAME_EXTRA}]|%[0-9A-Fa-f]{{2}}|{_ESCAPE})"
_LOCAL_START = rf"(?:[\w:]|%[0-9A-Fa-f]{{2}}|{_ESCAPE})"
_PREFIX = rf"(?:[^\W\d_](?:[\w.\-{_NAME_EXTRA}]*[\w\-{_NAME_EXTRA}])?)?"
_LOCAL = rf"(?:{_LOCAL_START}(?:(?:{_LOCAL_CHAR}|\.)*{_LOCAL_CHAR})?)?"
_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
#: A prefixed name, its prefix and local part as groups.
PNAME = rf"({_PREFIX}):({_LOCAL})"
_TERMINALS = [
    (None, r"[ \t\r\n]+|#[^\n\r]*"),
    (Kind.IRI, rf"<(?:[^<>\"{{}}|^`\\\x00-\x20]|{_UCHAR})*>"),
    (Kind.STRING, r"'''(?:(?:'|'')?(?:[^'\\]|\\.))*'''"),
    (Kind.STRING, r'"""(?:(?:"|"")?(?:[^"\\]|\\.))*"""'),
    (Kind.STRING, r"'(?:[^'\\\n\r]|\\.)*'"),
    (Kind.STRING, r'"(?:[^"\\\n\r]|\\.)*"'),
    (Kind.VAR, rf"[?$][\w{_NAME_EXTRA}]+"),
    (Kind.PNAME, rf"{_PREFIX}:{_LOCAL}"),
    (Kind.WORD, r"[^\W\d]\w*"),
    (Kind.PUNCT, r"\^\^|&&|\|\||!=|<=|>=|."),
]
_PATTERN = re.compile(
    "|".join(f"(?P<t{i}>{pattern})" for i, (_, pattern) in enumerate(_TERMINALS)), re.DOTALL
)


@dataclass(frozen=True)
class Lexeme:
    position: int
    kind: Kind
    text: str

    def is_keyword(self, *words: str) -> bool:
        return self.kind is Kind.WORD and self.text.upper() in words

    def is_punct(self, text: str) -> bool:
        return self.kind is Kind.PUNCT and self.text == text

    @property
    def prefix(self) -> str:
        """The prefix of a prefixed name (`ex` of `ex:thing`, '' of `:thing`)."""
        return self.text.partition(":")[0]

    @property
    def local(self) -> str:
        return self.text.partition(":")[2]


def lex(text: str) -> list[Lexeme]:
    """The tokens of a SPARQL text, without whitespace and comments."""
    lexemes = []
    for match in _PATTERN.finditer(text):
        kind = _TERMINALS[int(match.lastgroup[1:])][0]
        if kind is not None:
            lexemes.append(Lexeme(match.start(), kind, match.group()))
    return lexemes
