"""Where a remote engine's services are and how kg authenticates to them."""

import base64
from dataclasses import dataclass
from typing import Literal

from kg.remote.version import UNION_GRAPH
from kg.settings import REMOTE_SCHEMES, Settings

TSV = "text/tab-separated-values"
JSON = "application/sparql-results+json"


@dataclass(frozen=True)
class Engine:
    """What kg must know of a kind of engine, named by KG_STORE's scheme."""

    query_path: str
    update_path: str
    graph_path: str
    #: How the graph store (Graph Store Protocol) takes a change too large for one update
    #: request, rather than as update text, which the engines parse slower (and which Virtuoso
    #: 7.2.5 crashed on, GPF page.c:119, a million triples in): "dataset", N-Quads POSTed to the
    #: store itself, a request added as one transaction (Oxigraph's `POST /store`); "graph",
    #: N-Triples POSTed to each graph (`?graph=`).
    graph_store: Literal["dataset", "graph"]
    #: The results format kg asks SELECT and ASK answers in (TSV is read fastest).
    results: str
    #: The default graph is the union of every graph the engine holds.
    union_default_graph: bool
    #: One update request runs as one transaction: if an operation fails, none stays applied.
    atomic_requests: bool
    #: Bytes of the largest request body the engine takes (Oxigraph: 128 MiB; Virtuoso: its
    #: string sessions stop at 10 MB).
    max_request_bytes: int = 128 * 2**20
    #: Operations of one update request, at most (Virtuoso: "query too large" past ~300).
    max_operations: int | None = None
    #: The dataset is named by `define input:...` pragmas in the query text rather than by the
    #: protocol's parameters (Virtuoso answers each of those with a header: more than 100 of
    #: them, and no HTTP client reads the answer).
    dataset_pragmas: bool = False
    #: Put before each update that moves or drops a staged change, which is then sent alone:
    #: Virtuoso aborts one statement over millions of quads ("SR325: log after image size went
    #: above the limit") unless it commits it row by row (still logged: `sql:log-enable 3`).
    move_pragma: str = ""
    #: The graph store's query parameter that loads an upload with the engine's bulk loader,
    #: outside any transaction (Oxigraph's `no_transaction`: a transaction holds all it adds in
    #: memory, 5.5 GB for 3.6M quads). Used for first loads, which readers do not see until the
    #: version lands.
    bulk_parameter: str = ""


ENGINES = {  # sparql: Oxigraph server
    "sparql": Engine(
        "/query",
        "/update",
        "/store",
        "dataset",
        results=TSV,
        union_default_graph=False,
        atomic_requests=True,
        bulk_parameter="no_transaction",
    ),
    # Virtuoso writes IRIs as strings in TSV; keeps the operations of a request that ran before
    # one that failed (measured with 7.2.5).
    "virtuoso": Engine(
        "/sparql",
        "/sparql",
        "/sparql-graph-crud",
        "graph",
        results=JSON,
        union_default_graph=True,
        atomic_requests=False,
        max_request_bytes=10 * 10**6,
        max_operations=200,
        dataset_pragmas=True,
        move_pragma="DEFINE sql:log-enable 3 ",
    ),
}


@dataclass(frozen=True)
class Endpoints:
    """A remote engine, as a reader in any process needs it (this pickles)."""

    query: str
    update: str
    graph: str
    base_iri: str  #: kg's base: the version graph and skolem IRIs are under it
    timeout: float  #: seconds to wait for the answer to a read
    write_timeout: float  #: ... to a write
    engine: Engine = ENGINES["sparql"]
    #: kg's default graph, as a graph of its own, where the engine's is the union of all graphs.
    union_graph: str | None = None
    authorization: str | None = None  #: the Authorization header's value

    def __repr__(self) -> str:  # never the credentials, which tracebacks and logs would show
        return f"Endpoints(query={self.query!r}, update={self.update!r})"

    @classmethod
    def from_settings(cls, settings: Settings) -> "Endpoints":
        if not settings.store.startswith(REMOTE_SCHEMES):
            raise ValueError(f"KG_STORE is not a remote engine: {settings.store}")
        kind, root = settings.store.split("+", 1)  # sparql+http://h:p -> http://h:p
        engine = ENGINES[kind]
        root = root.rstrip("/")
        union = settings.store_union_default_graph
        if union is None:
            union = engine.union_default_graph
        authorization = None
        if settings.store_token is not None:
            authorization = "Bearer " + settings.store_token.get_secret_value()
        elif settings.store_user is not None:
            password = settings.store_password.get_secret_value() if settings.store_password else ""
            pair = f"{settings.store_user}:{password}".encode()
            authorization = "Basic " + base64.b64encode(pair).decode("ascii")
        return cls(
            query=settings.store_query_url or root + engine.query_path,
            update=settings.store_update_url or root + engine.update_path,
            graph=settings.store_graph_url or root + engine.graph_path,
            base_iri=settings.base_iri,
            timeout=settings.store_timeout,
            write_timeout=settings.store_write_timeout,
            engine=engine,
            union_graph=settings.base_iri + UNION_GRAPH if union else None,
            authorization=authorization,
        )
