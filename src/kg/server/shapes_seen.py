"""Which kinds of query have been slow: the express lane's memory of what not to admit.

Clients repeat queries with other constants (a dashboard's filter, a paged listing), so a query's
shape (its text without literals, numbers and comments) stands for its cost well enough to route
it: a shape seen running past the express lane's budget goes straight to the general workers the
next times. The shape only steers scheduling, never what a query may do, so a rough one is fine.
"""

import re

from cachetools import LRUCache

#: Texts longer than this are not reduced to a shape (that would cost the event loop): they are
#: taken for heavy at once.
MAX_SHAPED = 4096
#: Shapes remembered.
KEPT = 4096
_CONSTANTS = re.compile(
    r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|#[^\n]*|\b\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b|\s+'
)


def shape_of(text: str) -> str | None:
    """The query without its constants and layout; None for a text too long to reduce."""
    if len(text) > MAX_SHAPED:
        return None
    return _CONSTANTS.sub(" ", text).strip()


class SlowShapes:
    """Shapes of queries that ran past the express budget, most recent kept."""

    def __init__(self) -> None:
        self._slow: LRUCache = LRUCache(KEPT)

    def is_slow(self, shape: str | None) -> bool:
        return shape is None or shape in self._slow

    def ran(self, shape: str | None, slow: bool) -> None:
        """Notes how long a query of this shape took (the data changes, so both ways)."""
        if shape is None:
            return
        if slow:
            self._slow[shape] = True
        else:
            self._slow.pop(shape, None)
