"""Where a remote engine's services are and how kg authenticates to them."""

import base64
from dataclasses import dataclass

from kg.settings import REMOTE_SCHEMES, Settings

#: Oxigraph server's layout, kg's default: services under the URL KG_STORE names.
QUERY_PATH, UPDATE_PATH, GRAPH_PATH = "/query", "/update", "/store"


@dataclass(frozen=True)
class Endpoints:
    """A remote engine, as a reader in any process needs it (this pickles)."""

    query: str
    update: str
    graph: str
    base_iri: str  #: kg's base: the version graph and skolem IRIs are under it
    timeout: float
    authorization: str | None = None  #: the Authorization header's value

    def __repr__(self) -> str:  # never the credentials, which tracebacks and logs would show
        return f"Endpoints(query={self.query!r}, update={self.update!r})"

    @classmethod
    def from_settings(cls, settings: Settings) -> "Endpoints":
        if not settings.store.startswith(REMOTE_SCHEMES):
            raise ValueError(f"KG_STORE is not a remote engine: {settings.store}")
        root = settings.store.split("+", 1)[1].rstrip("/")  # sparql+http://h:p -> http://h:p
        authorization = None
        if settings.store_token is not None:
            authorization = "Bearer " + settings.store_token.get_secret_value()
        elif settings.store_user is not None:
            password = settings.store_password.get_secret_value() if settings.store_password else ""
            pair = f"{settings.store_user}:{password}".encode()
            authorization = "Basic " + base64.b64encode(pair).decode("ascii")
        return cls(
            query=settings.store_query_url or root + QUERY_PATH,
            update=settings.store_update_url or root + UPDATE_PATH,
            graph=settings.store_graph_url or root + GRAPH_PATH,
            base_iri=settings.base_iri,
            timeout=settings.store_timeout,
            authorization=authorization,
        )
