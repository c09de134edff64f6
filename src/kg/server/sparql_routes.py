"""`/sparql` (queries, and updates when enabled) and `/update`: the SPARQL 1.1 Protocol."""

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from kg.server.cache import matches
from kg.server.description import RDFLIB_FORMATS, service_description
from kg.server.negotiation import Kind, choose
from kg.server.protocol import UPDATE_TYPE, Operation, ProtocolError, Verb, read_operation
from kg.server.service import Served, Service

#: Seconds between two checks that the client of a running query is still there.
DISCONNECT_POLL = 0.25
#: Bytes read at a time from an answer's file while streaming it.
STREAM_CHUNK = 256 * 1024


def service_of(request: Request) -> Service:
    return request.app.state.service


async def sparql_get(request: Request) -> Response:
    service = service_of(request)
    operation = await read_operation(request, service.settings.max_body)
    if operation is None:
        return await _describe(request, service)
    return await answer_query(request, service, operation)


async def sparql_post(request: Request) -> Response:
    service = service_of(request)
    if request.headers.get("content-type", "").split(";")[0].strip().lower() == UPDATE_TYPE:
        service.authorize(request.headers.get("authorization"))  # before reading the body
    operation = await read_operation(request, service.settings.max_body)
    if operation.verb is Verb.UPDATE:
        return await _update(request, service, operation)
    return await answer_query(request, service, operation)


async def update_post(request: Request) -> Response:
    service = service_of(request)
    service.authorize(request.headers.get("authorization"))
    operation = await read_operation(request, service.settings.max_body)
    if operation.verb is not Verb.UPDATE:
        raise ProtocolError(400, "/update takes SPARQL updates; send queries to /sparql")
    return await _update(request, service, operation)


async def answer_query(request: Request, service: Service, operation: Operation) -> Response:
    """A query's answer as the protocol gives it: validators, cache, negotiated format."""
    accept = request.headers.get("accept")
    tag, served = service.lookup(service.query_key(operation, accept))
    revalidating = request.method in ("GET", "HEAD")
    if revalidating and matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers={"ETag": tag})
    if served is None:
        served = await until_disconnected(request, service.query(operation, accept))
    return answer_response(served, service.settings.max_rows)


async def until_disconnected(request: Request, work: Awaitable[Served]) -> Served:
    """Awaits `work`, cancelling it if the client goes away first: a cancelled query's worker
    process is stopped, so nobody pays for an answer nobody will read."""
    task = asyncio.ensure_future(work)
    while True:
        done, _ = await asyncio.wait({task}, timeout=DISCONNECT_POLL)
        if done:
            return task.result()
        if await request.is_disconnected():
            task.cancel()
            if task.done() and not task.cancelled() and task.exception() is None:
                task.result().discard()  # answered just as the client left: nobody streams it
            raise ProtocolError(499, "the client closed the connection")


def answer_response(served: Served, max_rows: int) -> Response:
    """The answer with its validators; a large answer streams from the file its worker wrote."""
    headers = {
        "ETag": served.etag,
        "Vary": "Accept",
        "Cache-Control": "no-cache",  # stored, but revalidated: the data may change
        "X-Cache": "hit" if served.cached else "miss",
    }
    if served.answer.truncated:
        headers["X-SPARQL-MaxRows"] = str(max_rows)
    if served.answer.file is not None:
        headers["Content-Length"] = str(served.answer.size)
        return StreamingResponse(
            _stream(served.answer.file),
            headers=headers,
            media_type=served.answer.media_type,
            # A HEAD request never reads the body: the file goes once the headers are sent.
            background=BackgroundTask(Path(served.answer.file).unlink, missing_ok=True),
        )
    return Response(served.answer.body, headers=headers, media_type=served.answer.media_type)


async def _stream(path: str) -> AsyncIterator[bytes]:
    """The file's bytes; the file is removed at once (an open file stays readable), so it goes
    away however the sending ends."""
    with open(path, "rb") as answer:
        os.unlink(path)
        while chunk := await asyncio.to_thread(answer.read, STREAM_CHUNK):
            yield chunk


async def _update(request: Request, service: Service, operation: Operation) -> Response:
    service.authorize(request.headers.get("authorization"))
    await service.update(operation)
    return Response(status_code=204)


async def _describe(request: Request, service: Service) -> Response:
    choice = choose(Kind.GRAPH, request.headers.get("accept"), request.query_params.get("format"))
    graph = service_description(
        endpoint=str(request.url_for("sparql")),
        base_iri=service.settings.base_iri,
        updates=service.updates_enabled,
        federated=bool(service.settings.service_allowlist),
        statistics=await service.statistics(),
    )
    body = graph.serialize(format=RDFLIB_FORMATS[choice.format], encoding="utf-8")
    return Response(body, media_type=choice.media_type, headers={"Vary": "Accept"})


# Plain Starlette routes: the handlers read the request themselves, so FastAPI's parameter
# machinery would only add time to every request (a third of a cache hit's).
router = APIRouter()
router.add_route("/sparql", sparql_get, methods=["GET", "HEAD"], name="sparql")
router.add_route("/sparql", sparql_post, methods=["POST"])
router.add_route("/update", update_post, methods=["POST"])
