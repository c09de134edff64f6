"""Which HTTP status each error a client can cause gets; anything else is a bug (500)."""

from kg.errors import QueryError, StoreError
from kg.server.answers import AnswerTooLarge
from kg.server.executor import QueryTimeout, WorkerLost
from kg.server.negotiation import NotAcceptable
from kg.server.policy import Forbidden
from kg.server.sparql_tasks import GraphNotFound

#: Client-caused failures and their statuses (the most specific class wins).
STATUSES: dict[type[Exception], int] = {
    QueryError: 400,
    Forbidden: 403,
    GraphNotFound: 404,
    NotAcceptable: 406,
    AnswerTooLarge: 413,
    QueryTimeout: 503,
    WorkerLost: 503,
    StoreError: 503,  # another process holds the write lock
}


def status_of(error: Exception) -> int:
    """The status of the error's own class, else of its nearest listed ancestor."""
    for cls in type(error).__mro__:
        if cls in STATUSES:
            return STATUSES[cls]
    return 500
