"""Answers kept for repeated requests, and the ETags that let clients revalidate them.

The graph is read-mostly and every write makes a new store snapshot, whose data version is part of
every ETag and every cache key; the cache empties itself when the live version changes (a SPARQL
update of this server or a `kg load` of another process).
"""

import hashlib
from collections.abc import Hashable

from cachetools import LRUCache

from kg.server.answers import Answer

#: Bytes of bookkeeping counted per entry besides its body.
ENTRY_OVERHEAD = 512


class AnswerCache:
    """An LRU cache of answers bounded by their total size in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_entry = max_bytes // 8  # one huge result must not flush everything else
        self._version: str | None = None
        self._answers: LRUCache = LRUCache(
            maxsize=max_bytes, getsizeof=lambda answer: len(answer.body) + ENTRY_OVERHEAD
        )

    def get(self, version: str | None, key: Hashable) -> Answer | None:
        self._follow(version)
        return self._answers.get(key)

    def put(self, version: str | None, key: Hashable, answer: Answer) -> None:
        """Keeps an answer computed on data `version`, unless the data changed meanwhile."""
        if version != self._version or answer.file is not None:
            return  # the data changed meanwhile, or the answer is a file streamed once
        if len(answer.body) + ENTRY_OVERHEAD <= self.max_entry:
            self._answers[key] = answer

    def _follow(self, version: str | None) -> None:
        if version != self._version:
            self._answers.clear()
            self._version = version


def etag(version: str | None, key: Hashable) -> str:
    """A weak validator: the same request on the same data gets the same one (blank node labels
    may differ between two runs, hence weak)."""
    digest = hashlib.blake2b(repr(key).encode(), digest_size=12).hexdigest()
    return f'W/"{version or "empty"}-{digest}"'


def matches(if_none_match: str | None, tag: str) -> bool:
    """Whether an If-None-Match header names `tag` (weak comparison, as for GET)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = tag.removeprefix("W/")
    return any(t.strip().removeprefix("W/") == wanted for t in if_none_match.split(","))
