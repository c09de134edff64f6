"""The service behind the routes: run tasks on the live data, guard writes, keep caches.

Nothing here reads the data itself: every read is a task (`task`) run by the executor's worker
processes on the store snapshot it names. The server process only asks the store for its live
snapshot, whose data version is part of every ETag and cache key.
"""

import hashlib
import hmac
import shutil
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cachetools import LRUCache

from kg.server.answers import Answer, Caps
from kg.server.cache import AnswerCache, etag
from kg.server.executor import Executor, QueryCrashed
from kg.server.negotiation import Choice, format_name
from kg.server.policy import check_nesting
from kg.server.protocol import Operation, ProtocolError
from kg.server.sparql_tasks import ExportTask, QueryTask, Scope, StatisticsTask, UpdateTask
from kg.server.task import Task
from kg.settings import Settings
from kg.store import RETENTION, Snapshot
from kg.stores import open_store

#: Where exports of the graph store and dumps are written, inside the store directory.
EXPORTS = "exports"
#: Answers up to this size come back from workers in memory even when the cache is small.
MIN_INLINE_BYTES = 256 * 1024
#: Queries that crashed a worker, remembered so that a repeat is refused without running it.
CRASHED_KEPT = 1024


@dataclass(frozen=True)
class Served:
    answer: Answer
    etag: str
    cached: bool

    def discard(self) -> None:
        """Removes the answer's file, for an answer that will not be sent."""
        if self.answer.file is not None:
            Path(self.answer.file).unlink(missing_ok=True)


class Service:
    def __init__(self, settings: Settings, executor: Executor) -> None:
        self.settings = settings
        self.executor = executor
        self.store = open_store(settings)
        self.cache = AnswerCache(settings.cache_bytes)
        self._statistics: tuple[str, dict] | None = None
        self._crashed: LRUCache = LRUCache(CRASHED_KEPT)
        #: Large answers are written here by the workers and removed once sent.
        self.spool = Path(tempfile.mkdtemp(prefix="kg-answers-"))

    def close(self) -> None:
        shutil.rmtree(self.spool, ignore_errors=True)

    @property
    def updates_enabled(self) -> bool:
        return self.settings.update_token is not None

    def snapshot(self) -> Snapshot:
        return self.store.snapshot()

    async def run(self, task: Task) -> Any:
        return await self.executor.run(task)

    # --- cached answers ---------------------------------------------------------------------

    def lookup(self, key: Hashable) -> tuple[str, "Served | None"]:
        """The ETag of the answer named by `key` on the live data, and the answer if cached."""
        version = self.snapshot().version
        tag = etag(version, key)
        cached = self.cache.get(version, key)
        return tag, None if cached is None else Served(cached, tag, cached=True)

    async def answer(self, key: Hashable, make: Callable[[Snapshot], Awaitable[Answer]]) -> Served:
        """Makes the answer named by `key` from the live data and keeps it for the next time."""
        snapshot = self.snapshot()
        answer = await make(snapshot)
        self.cache.put(snapshot.version, key, answer)
        return Served(answer, etag(snapshot.version, key), cached=False)

    # --- queries ------------------------------------------------------------------------------

    def query_key(self, operation: Operation, accept: str | None) -> bytes:
        """A digest of what makes an answer: kept in the cache instead of the request itself,
        whose text and headers may be a megabyte each."""
        return _digest(
            (
                operation.text,
                operation.default_graphs,
                operation.named_graphs,
                operation.format_name,
                accept,
            )
        )

    async def query(self, operation: Operation, accept: str | None) -> Served:
        """Runs `operation` in a worker and keeps its answer for the next identical request."""
        check_nesting(operation.text)
        crash_key = _digest((operation.text, operation.default_graphs, operation.named_graphs))
        if crash_key in self._crashed:
            raise QueryCrashed(f"{self._crashed[crash_key]} (not run again)")

        async def make(snapshot: Snapshot) -> Answer:
            spool = self.spool / uuid.uuid4().hex
            task = QueryTask(
                snapshot=snapshot,
                query=operation.text,
                default_graphs=operation.default_graphs,
                named_graphs=operation.named_graphs,
                accept=accept,
                format_name=operation.format_name,
                caps=Caps(
                    max_rows=self.settings.max_rows,
                    max_bytes=self.settings.max_answer_bytes,
                    inline_bytes=max(self.cache.max_entry, MIN_INLINE_BYTES),
                    spool=str(spool),
                ),
                base_iri=self.settings.base_iri,
                allowed_services=tuple(self.settings.service_allowlist),
            )
            answer = None
            try:
                answer = await self.executor.run(task)
            except QueryCrashed as crash:
                self._crashed[crash_key] = str(crash)
                raise
            finally:
                self._remove_partial_files(spool, keep=answer.file if answer else None)
            return answer

        return await self.answer(self.query_key(operation, accept), make)

    def _remove_partial_files(self, spool: Path, keep: str | None) -> None:
        """Removes what a stopped or failed worker left of an answer's files."""
        for partial in self.spool.glob(f"{spool.name}.*"):
            if str(partial) != keep:
                partial.unlink(missing_ok=True)

    # --- updates ------------------------------------------------------------------------------

    def authorize(self, authorization: str | None) -> None:
        """Lets a write through only with the configured bearer token (constant-time check)."""
        if self.settings.update_token is None:
            raise ProtocolError(
                403, "this endpoint is read-only: start kg serve with --update-token for updates"
            )
        scheme, _, given = (authorization or "").partition(" ")
        expected = self.settings.update_token.get_secret_value().encode()
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
            raise ProtocolError(
                401,
                "updates need the header 'Authorization: Bearer <token>' with the server's token",
                {"WWW-Authenticate": 'Bearer realm="kg"'},
            )

    async def update(self, operation: Operation) -> None:
        check_nesting(operation.text)
        await self.executor.run(
            UpdateTask(
                settings=self.settings,
                update=operation.text,
                using=operation.default_graphs,
                using_named=operation.named_graphs,
                base_iri=self.settings.base_iri,
                allowed_services=tuple(self.settings.service_allowlist),
            )
        )

    # --- exports and statistics -----------------------------------------------------------------

    def export_tag(self, scope: Scope, choice: Choice) -> str:
        return etag(self.snapshot().version, ("export", scope, format_name(choice)))

    async def export(self, scope: Scope, choice: Choice) -> Path:
        """A file holding a graph (or the dataset) of the live data; made once per data version,
        graph and format, then served from disk."""
        snapshot = self.snapshot()
        key = ("export", scope, format_name(choice))
        digest = hashlib.blake2b(repr(key).encode(), digest_size=12).hexdigest()
        target = self.settings.store_dir / EXPORTS / snapshot.version / f"{digest}.export"
        if not target.exists():
            self._remove_stale_exports(snapshot.version)
            await self.executor.run(ExportTask(snapshot, scope, format_name(choice), str(target)))
        return target

    def _remove_stale_exports(self, version: str) -> None:
        """Drops exports of other data versions once unused for the store's RETENTION, so that
        downloads still streaming from them finish."""
        root = self.settings.store_dir / EXPORTS
        if not root.is_dir():
            return
        expired = time.time() - RETENTION
        for folder in root.iterdir():
            if folder.name != version and folder.stat().st_mtime < expired:
                shutil.rmtree(folder, ignore_errors=True)

    async def statistics(self) -> dict:
        snapshot = self.snapshot()
        if self._statistics is None or self._statistics[0] != snapshot.version:
            numbers = await self.executor.run(StatisticsTask(snapshot))
            self._statistics = (snapshot.version, numbers)
        return self._statistics[1]


def _digest(key: tuple) -> bytes:
    return hashlib.blake2b(repr(key).encode(), digest_size=16).digest()
