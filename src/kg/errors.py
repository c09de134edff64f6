"""The errors kg reports to people: each names the input and what was expected there."""

from dataclasses import dataclass


class KgError(Exception):
    """Base of every error kg reports without a traceback."""


@dataclass
class InputError(KgError):
    """A file that cannot be used, with where and why."""

    source: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.reason}"


class NotAnEntryError(InputError):
    """The file is readable but is not a mitigation entry page."""


class StoreError(KgError):
    """The store cannot be opened or written (locked, missing, corrupt)."""


class QueryError(KgError):
    """A SPARQL query that does not parse or cannot be evaluated."""
