"""The FastAPI application: `create_app(settings)` assembles routes, middleware and error statuses.

Every error a client can cause maps to a status with a one-line text message; anything else is a
bug and stays a 500.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware

from kg import __version__
from kg.errors import StoreError
from kg.server import data_routes, sparql_routes
from kg.server.access_log import AccessLog
from kg.server.body_deadline import BodyDeadline
from kg.server.executor import Executor
from kg.server.protocol import ProtocolError
from kg.server.service import Service
from kg.server.statuses import STATUSES, status_of
from kg.server.worker import Confinement
from kg.settings import Settings
from kg.site import router as site_router
from kg.site.web import NotFound, Site, not_found

#: Exports, statistics and updates read or write whole graphs (an update derives the default
#: graph again): they get this many times the query time limit.
WHOLE_GRAPH_TIME_FACTOR = 30


def create_app(settings: Settings, executor: Executor | None = None) -> FastAPI:
    """The service over `settings.store`; tests may pass their own executor."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        running = executor or Executor(
            settings.query_workers,
            settings.query_timeout,
            settings.query_timeout * WHOLE_GRAPH_TIME_FACTOR,
            Confinement(
                network=bool(settings.service_allowlist) or settings.is_remote,
                memory_bytes=settings.worker_memory,
            ),
        )
        if executor is None:
            await running.start()
        app.state.service = Service(settings, running)
        app.state.site = Site(settings)
        try:
            yield
        finally:
            app.state.service.close()
            if executor is None:
                running.close()

    app = FastAPI(
        title="kg SPARQL endpoint",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.include_router(site_router.pages())
    app.include_router(sparql_routes.router)
    app.include_router(data_routes.router)
    app.include_router(site_router.site())
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Accept", "Authorization", "Content-Type", "If-None-Match"],
        expose_headers=["ETag", "X-Cache", "X-SPARQL-MaxRows"],
        max_age=600,
    )
    app.add_middleware(BodyDeadline, seconds=settings.body_timeout)
    app.add_middleware(AccessLog)
    app.add_exception_handler(ProtocolError, _protocol_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(NotFound, not_found)
    for error_class in STATUSES:
        app.add_exception_handler(error_class, _kg_error)
    return app


async def _protocol_error(request: Request, error: ProtocolError) -> PlainTextResponse:
    return PlainTextResponse(f"{error.message}\n", error.status, headers=error.headers)


async def _http_error(request: Request, error: StarletteHTTPException) -> PlainTextResponse:
    """Routing errors (404, 405) in the same plain text as every other error."""
    return PlainTextResponse(f"{error.detail}\n", error.status_code, headers=error.headers)


async def _kg_error(request: Request, error: Exception) -> PlainTextResponse:
    status = status_of(error)
    headers = {"Retry-After": "1"} if isinstance(error, StoreError) else {}
    return PlainTextResponse(f"{error}\n", status, headers=headers)
