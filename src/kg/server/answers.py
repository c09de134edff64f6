"""Query answers, serialized by pyoxigraph within the row and byte caps, spooled to disk when large.

The row cap is applied on the line-based formats (TSV results, N-Triples), where a row is a line:
the result is written to them by a sink that stops at the cap, then converted to the negotiated
format when that is another one. Both stages count bytes: an answer over the byte cap is refused
(`AnswerTooLarge`) as soon as it passes the cap, so nothing larger is ever held. Small answers
stay in memory and travel back through the worker's pipe; larger ones are written to a file the
server streams to the client, so neither process holds them whole.
"""

from contextlib import suppress
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

from pyoxigraph import (
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    parse,
    parse_query_results,
    serialize,
)

from kg.errors import QueryError, StoreError
from kg.server.negotiation import Kind, NotAcceptable, choose
from kg.vocab import PREFIXES

#: The longest line pyoxigraph's TSV and N-Triples parsers read (their buffer limit).
CONVERTIBLE_LINE = 16 * 1024 * 1024


class AnswerTooLarge(QueryError):
    """The answer is over the byte cap, or a row is larger than a format can convert."""


@dataclass(frozen=True)
class Answer:
    """An answer: its bytes (`body`) or the file holding them (`file`, the server's to remove)."""

    media_type: str
    body: bytes = b""
    file: str | None = None
    size: int = 0
    truncated: bool = False
    headers: tuple[tuple[str, str], ...] = ()  # what the response says besides the body


@dataclass(frozen=True)
class Caps:
    max_rows: int
    max_bytes: int
    #: Answers up to this size come back in memory; larger ones in a file at `spool`.
    inline_bytes: int
    #: A path without suffix for the files of this answer (the server removes them).
    spool: str


def serialize_result(result, accept: str | None, format_name: str | None, caps: Caps) -> Answer:
    """The answer to send for a query result, negotiated from `accept` / `format_name`."""
    if isinstance(result, QueryBoolean):
        choice = choose(Kind.BOOLEAN, accept, format_name)
        return Answer(choice.media_type, result.serialize(format=choice.format))
    if isinstance(result, QuerySolutions):
        choice = choose(Kind.SOLUTIONS, accept, format_name)
        rows = _Sink(caps, ".rows", max_lines=caps.max_rows + 1)  # TSV starts with a header
        rows.fill(lambda sink: result.serialize(sink, QueryResultsFormat.TSV))
        if choice.format == QueryResultsFormat.TSV:
            return rows.answer(choice.media_type)

        def convert(sink):
            with rows.reader() as source:
                parse_query_results(source, QueryResultsFormat.TSV).serialize(sink, choice.format)

    else:
        choice = choose(Kind.GRAPH, accept, format_name)
        rows = _Sink(caps, ".rows", max_lines=caps.max_rows)
        rows.fill(lambda sink: result.serialize(sink, RdfFormat.N_TRIPLES))
        if choice.format == RdfFormat.N_TRIPLES:
            return rows.answer(choice.media_type)

        def convert(sink):
            with rows.reader() as source:
                triples = parse(source, RdfFormat.N_TRIPLES)
                serialize(triples, sink, choice.format, prefixes=PREFIXES)

    final = _Sink(caps, ".answer")
    try:
        if rows.longest_line > CONVERTIBLE_LINE:
            raise MemoryError(f"a line of {rows.longest_line} bytes")
        final.fill(convert)
    except OSError as error:  # a value the format cannot hold (JSON-LD and RDF 1.2 terms)
        message = f"this answer cannot be written as {choice.media_type}: {error}"
        raise NotAcceptable(message) from None
    except MemoryError as error:  # pyoxigraph's parsers hold one row in a buffer of 16 MiB
        raise AnswerTooLarge(
            f"a row of this answer is too large to convert to {choice.media_type} ({error}, "
            f"at most {CONVERTIBLE_LINE}): ask for format=tsv (results) or format=ntriples "
            "(graphs), or select shorter values"
        ) from None
    finally:
        rows.discard()
    return final.answer(choice.media_type, truncated=rows.full)


class _CapReached(Exception):
    """Raised into pyoxigraph's serializer to stop evaluating rows nobody will receive."""


class _Sink:
    """A binary sink that keeps the first `max_lines` lines, refuses more than the byte cap, and
    moves to a file once past `inline_bytes`."""

    def __init__(self, caps: Caps, suffix: str, max_lines: int | None = None) -> None:
        self.caps = caps
        self.path = caps.spool + suffix
        self.max_lines = max_lines
        self.lines = 0
        self.size = 0
        self.full = False
        self._line_start = 0  # where the line being written began, in bytes written
        self._longest = 0
        self._parts: list[bytes] = []
        self._file: BinaryIO | None = None

    def fill(self, write) -> None:
        try:
            with suppress(_CapReached):
                write(self)
        finally:
            if self._file is not None:
                self._file.close()

    def write(self, data) -> int:
        if self.full:
            raise _CapReached
        data = bytes(data)
        if self.max_lines is not None:
            count = data.count(b"\n")
            if self.lines + count > self.max_lines:
                end = -1
                for _ in range(self.max_lines - self.lines):
                    end = data.index(b"\n", end + 1)
                self._keep(data[: end + 1])
                self.lines, self.full = self.max_lines, True
                raise _CapReached
            self.lines += count
        self._keep(data)
        return len(data)

    def flush(self) -> None:
        pass

    @property
    def longest_line(self) -> int:
        return max(self._longest, self.size - self._line_start)

    def _measure_lines(self, data: bytes) -> None:
        first = data.find(b"\n")
        if first < 0:
            return
        last = data.rfind(b"\n")
        self._longest = max(self._longest, self.size + first - self._line_start)
        if last - first > CONVERTIBLE_LINE:  # otherwise every line in between is shorter
            self._longest = max(self._longest, *(len(line) for line in data.split(b"\n")))
        self._line_start = self.size + last + 1

    def _keep(self, data: bytes) -> None:
        self._measure_lines(data)
        self.size += len(data)
        if self.size > self.caps.max_bytes:
            self.discard()
            raise AnswerTooLarge(
                f"the answer is over the limit of {self.caps.max_bytes} bytes "
                "(KG_MAX_ANSWER_BYTES): add a LIMIT, select fewer or shorter values, or "
                "download the dumps"
            )
        try:
            if self._file is None and self.size > self.caps.inline_bytes:
                self._file = open(self.path, "wb")  # noqa: SIM115 (closed by fill or discard)
                self._file.writelines(self._parts)
                self._parts = []
            if self._file is not None:
                self._file.write(data)
            else:
                self._parts.append(data)
        except OSError as error:  # not the serializer's: a StoreError is not taken for one
            raise StoreError(f"the answer could not be written to disk: {error}") from None

    def reader(self) -> BinaryIO:
        """The bytes written, as a binary file object."""
        if self._file is None:
            return BytesIO(b"".join(self._parts))
        try:
            return open(self.path, "rb")  # noqa: SIM115 (the caller closes it)
        except OSError as error:  # not the serializer's: a StoreError is not taken for one
            raise StoreError(f"the answer could not be read back from disk: {error}") from None

    def answer(self, media_type: str, truncated: bool | None = None) -> Answer:
        full = self.full if truncated is None else truncated
        if self._file is not None:
            return Answer(media_type, file=self.path, size=self.size, truncated=full)
        return Answer(media_type, b"".join(self._parts), size=self.size, truncated=full)

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
        Path(self.path).unlink(missing_ok=True)
