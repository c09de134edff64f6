"""The linked-data site over HTTP: kg's HTML pages, kg's Turtle view, and `oxigraph serve`.

For each size (default 100k triples), one synthetic graph (bench/synth.py) feeds a kg store and an
oxigraph store, as in bench/serve_bench.py. `kg serve` and `oxigraph serve-read-only` run side by
side on 127.0.0.1 on free ports. The IRIs are picked from the data through kg's own SPARQL
endpoint: a seeded sample of each kind of page (mitigations, documents, categories, stages,
actors, RMF functions, headings, heading schemes, authors, file graphs, the taxonomies' schemes),
plus the pages that are not IRIs of the data (home, coverage, ontology, search when it answers).
Every IRI is requested three ways at its own path on kg (`Accept: text/html`; `Accept:
text/turtle`) and as `DESCRIBE <iri>` (Turtle) on oxigraph, one after the other, kind after kind.

kg caches answers per data version (`X-Cache: hit|miss`), so each page is measured:

- cold: the first request for each distinct IRI, a cache miss (what a crawler sees; the target's
  number). The HTTP client checks that the answer says `X-Cache: miss`;
- warm: the same IRIs again, answered from the cache (`X-Cache: hit`).

Latency (median, p99) is measured at concurrency 1, over `--rounds` rounds, each on a freshly
started kg (an empty cache) whose query workers and templates were first warmed up by requests
for IRIs that are not measured. A kind's sample is split between the rounds; kinds with few IRIs
(stages, actors, schemes, the singleton pages) are requested whole in every round, so that their
cold numbers come from several fresh servers. Throughput (pages/s) is measured at concurrency 8
(threads of http.client on kept-alive connections, as serve_bench's Python client) on one more
fresh kg: cold (each IRI of the sample once; only for kinds with at least 16 IRIs), then warm.
oxigraph has no answer cache: its DESCRIBEs of the same IRIs are measured alongside. Every answer
is checked (status 200, media type, X-Cache); errors are counted and the first is kept with its
URL, status and body.

    .venv/bin/python bench/site_bench.py             # 100k triples: 1.5 to 6 minutes
    .venv/bin/python bench/site_bench.py --quick     # 100k, smaller samples: 1 to 3 minutes
    .venv/bin/python bench/site_bench.py --quick --nexus ../shared/data/ai-atlas-nexus

`--nexus PATH` imports the AI Atlas Nexus data into kg's store (`kg import-nexus`) and measures
its kinds of page too (records, documents, v1 categories, risks, RMF actions and subcategories,
actor tasks, its coverage maps): their HTML only, since oxigraph's store does not have the data.

Target (the project's issue): median <= 10 ms for a mitigation page at 100k triples (cold).
oxigraph's server comes from the peers' venv (bench/work/peers-venv, see serve_bench.py).
Writes bench/results/site.json.
"""

import argparse
import contextlib
import hashlib
import http.client
import itertools
import json
import math
import os
import random
import shutil
import signal
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlencode

import synth
from serve_bench import (
    BASE,
    HOST,
    KG,
    PREFIXES,
    ROOT,
    SELECT_JSON,
    PeakMemory,
    Server,
    build_kg_store,
    build_oxigraph_store,
    free_port,
    machine_busy,
    machine_facts,
    own_cpu,
    peers_python,
    stop_all,
    tree_cpu,
    wait_for_quiet,
)

BENCH = ROOT / "bench"
WORK = BENCH / "work" / "site"
RESULTS = BENCH / "results"
HTML = "text/html"
TURTLE = "text/turtle"

#: The issue's target: the median of a cold mitigation page at 100k triples.
TARGET = {"kind": "mitigation", "series": "kg_html_cold", "size": 100_000, "median_ms_at_most": 10}
#: Kinds with fewer measured IRIs than this are requested whole in every round.
SMALL = 24
#: A cold phase at concurrency 8 needs at least this many distinct IRIs to mean anything.
MIN_COLD_C8 = 16
#: Warm requests per kind and round at concurrency 1, at least (the slice is repeated).
MIN_WARM = 20

#: The measured series: kg's HTML page and Turtle view, cold and warm, and oxigraph's DESCRIBE.
SERIES = ("kg_html_cold", "kg_html_warm", "kg_turtle_cold", "kg_turtle_warm", "oxigraph_describe")


@dataclass(frozen=True)
class Kind:
    """A kind of page: its IRIs come from `where` (a graph pattern binding ?iri), or are `paths`
    of pages that no IRI of the data names (home, coverage, ontology, search)."""

    name: str
    sample: int = 0  # distinct IRIs measured in a full run (0: all of them)
    where: str = ""
    paths: tuple[str, ...] = ()
    rdf: bool = True  # has a Turtle view, and oxigraph can DESCRIBE it

    def target(self, item: str) -> str:
        """Where an IRI (or a path) of the kind is asked for on kg."""
        return kg_path(item) if item.startswith(BASE) else item


def search_paths(count: int, seed: int) -> tuple[str, ...]:
    """Distinct searches: one word or two of the words synth writes."""
    rng = random.Random(seed)
    words = sorted(set(synth.WORDS))
    found: list[str] = []
    for word in rng.sample(words, len(words)):
        found.append(word)
        found.append(f"{word} {rng.choice(words)}")
    found = list(dict.fromkeys(found))[: count + 1]
    return tuple("/search?" + urlencode({"q": text}) for text in found)


#: The kinds of page the AI Atlas Nexus data brings (`--nexus`).
NEXUS_KINDS = [
    Kind("nexus_record", 100, "?iri dcterms:identifier ?id ; a kg:Mitigation", rdf=False),
    Kind("nexus_nist_record", 50, "?iri prov:wasQuotedFrom ?action", rdf=False),
    Kind("nexus_document", 0, "?iri dcterms:identifier ?id ; a kg:SourceDocument", rdf=False),
    Kind("v1_category", 0, "?iri a kg:MitigationCategoryV1", rdf=False),
    Kind("risk_category", 0, "?iri a kg:RiskCategory", rdf=False),
    Kind("rmf_action", 100, "?iri a kg:RmfAction", rdf=False),
    Kind("rmf_subcategory", 0, "?iri a kg:RmfSubcategory", rdf=False),
    Kind("actor_task", 0, "?iri a kg:ActorTask", rdf=False),
    Kind("nexus_coverage", paths=("/coverage?by=document", "/coverage?by=risk"), rdf=False),
]


def kinds(seed: int, nexus: bool = False) -> list[Kind]:
    return [
        Kind("mitigation", 200, "?iri a kg:Mitigation ; kg:navigatorId ?id"),
        Kind("document", 50, "?iri a kg:SourceDocument"),
        Kind("category", 0, "?iri a kg:MitigationCategory"),
        Kind("stage", 0, "?iri a kg:LifecycleStage"),
        Kind("actor", 0, "?iri a kg:Actor"),
        Kind("rmf_function", 0, "?iri a kg:RmfFunction"),
        Kind("heading", 100, "?iri a kg:Heading"),
        Kind("heading_scheme", 50, "?iri a kg:HeadingScheme"),
        Kind("author", 100, "?iri a kg:Author"),
        Kind("file_graph", 100, "?iri kg:sourceFile ?file"),
        Kind("scheme", 0, "?iri a skos:ConceptScheme"),
        Kind("home", paths=("/",), rdf=False),
        Kind(
            "coverage",
            paths=("/coverage?by=stage", "/coverage?by=actor", "/coverage?by=function"),
            rdf=False,
        ),
        Kind("ontology", paths=("/ontology",), rdf=False),
        Kind("search", 50, paths=search_paths(50, seed), rdf=False),
        *(NEXUS_KINDS if nexus else []),
    ]


# --- HTTP ---------------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    media_type: str
    x_cache: str
    body: bytes
    seconds: float


class Connection:
    """One kept-alive HTTP/1.1 connection (the standard library's client)."""

    def __init__(self, port: int, timeout: float = 120) -> None:
        self.port, self.timeout = port, timeout
        self.connection = http.client.HTTPConnection(HOST, port, timeout=timeout)

    def get(self, target: str, accept: str) -> Reply:
        """The answer and the seconds until its body was read. A kept-alive connection the server
        closed while idle is opened again and the request sent once more (timed from then)."""
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                self.connection.request("GET", target, headers={"Accept": accept})
                response = self.connection.getresponse()
                body = response.read()
                seconds = time.perf_counter() - started
                return Reply(
                    response.status,
                    response.getheader("Content-Type", ""),
                    response.getheader("X-Cache", ""),
                    body,
                    seconds,
                )
            except (OSError, http.client.HTTPException) as error:
                self.connection.close()
                self.connection = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
                stale = isinstance(
                    error, http.client.RemoteDisconnected | ConnectionResetError | BrokenPipeError
                )
                if attempt == 2 or not stale:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.connection.close()


@dataclass(frozen=True)
class Request:
    """One page to ask for: where, how, and what a good answer looks like."""

    target: str
    accept: str
    media_type: str  # the answer's media type starts with this
    x_cache: str | None  # "miss" or "hit" expected from kg; None: oxigraph (no cache)


def kg_path(iri: str) -> str:
    """Where kg serves an IRI minted under the base: at the same path."""
    return "/" + iri.removeprefix(BASE)


def describe_target(iri: str) -> str:
    return "/query?query=" + quote(f"DESCRIBE <{iri}>", safe="")


@dataclass
class Series:
    """One series of one kind (e.g. kg_html_cold for mitigations), over every round."""

    latencies: list[float] = field(default_factory=list)  # concurrency 1, answers that passed
    requests: int = 0
    errors: list[dict] = field(default_factory=list)
    x_cache: dict[str, int] = field(default_factory=dict)
    bytes: int = 0
    triples: list[int] = field(default_factory=list)
    slowest: list[tuple[float, str]] = field(default_factory=list)
    server_cpu: float = 0.0  # seconds of kg's (or oxigraph's) process tree, concurrency 1
    background: list[float] = field(default_factory=list)  # other processes' CPU share
    c8: dict = field(default_factory=dict)
    unexpected_x_cache: list[str] = field(default_factory=list)  # a hit when cold, or the reverse

    def check(self, request: Request, reply: Reply) -> bool:
        """Counts the reply; whether it is a good answer (a bad one is kept as an error)."""
        self.requests += 1
        if reply.x_cache:
            self.x_cache[reply.x_cache] = self.x_cache.get(reply.x_cache, 0) + 1
        problem = None
        if reply.status != 200:
            problem = f"HTTP {reply.status}"
        elif not reply.media_type.startswith(request.media_type):
            problem = f"media type {reply.media_type!r}, not {request.media_type}"
        if problem:
            self.errors.append(
                {
                    "url": request.target,
                    "accept": request.accept,
                    "problem": problem,
                    "body": reply.body[:400].decode("utf-8", "replace"),
                }
            )
            return False
        self.bytes += len(reply.body)
        return True

    def summary(self) -> dict:
        ordered = sorted(self.latencies)
        answered = len(ordered)
        worst = sorted(self.slowest, reverse=True)[:3]
        return {
            "requests": self.requests,
            "errors": len(self.errors),
            "median_ms": ms(statistics.median(ordered)) if ordered else None,
            "p99_ms": ms(ordered[min(answered - 1, int(0.99 * answered))]) if ordered else None,
            "pages_per_s_c8": self.c8.get("pages_per_s"),
            "c8": self.c8,
            "mean_bytes": round(self.bytes / answered) if answered else None,
            "mean_triples": round(statistics.mean(self.triples), 1) if self.triples else None,
            "x_cache": dict(sorted(self.x_cache.items())),
            "unexpected_x_cache": len(self.unexpected_x_cache),
            "server_cpu_ms_per_request": round(self.server_cpu * 1000 / self.requests, 2)
            if self.requests
            else None,
            "background_cpu_share_max": round(max(self.background), 3) if self.background else None,
            "slowest": [{"url": url, "ms": ms(s)} for s, url in worst],
            **({"first_error": self.errors[0]} if self.errors else {}),
        }


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def count_triples(body: bytes) -> int | None:
    from pyoxigraph import RdfFormat, parse

    try:
        return sum(1 for _ in parse(body, format=RdfFormat.TURTLE))
    except (SyntaxError, ValueError):
        return None


class Phase:
    """CPU bookkeeping around a phase: the server tree's CPU and other processes' share."""

    def __init__(self, server: Server) -> None:
        self.server = server

    def __enter__(self) -> "Phase":
        self.started = time.perf_counter()
        self.machine, self.own, self.cpu = machine_busy(), own_cpu(), tree_cpu(self.server.pid)
        return self

    def __exit__(self, *_: object) -> None:
        wall = time.perf_counter() - self.started
        self.server_cpu = tree_cpu(self.server.pid) - self.cpu
        self.client_cpu = own = own_cpu() - self.own
        other = machine_busy() - self.machine - self.server_cpu - own
        self.background = max(0.0, other / (max(wall, 1e-6) * (os.cpu_count() or 1)))


def sequential(
    server: Server,
    series: Series,
    requests: list[Request],
    rdf: bool,
    deadline: float = math.inf,
) -> list[int]:
    """Requests one after another on one connection (concurrency 1), until `deadline` (no new
    request after it). Returns the positions of the good answers."""
    connection = Connection(server.port)
    replies = []
    with Phase(server) as phase:
        for request in requests:
            if time.perf_counter() >= deadline:
                break
            try:
                replies.append((request, connection.get(request.target, request.accept)))
            except (OSError, http.client.HTTPException) as error:
                replies.append((request, Reply(0, "", "", repr(error)[:300].encode(), 0.0)))
    connection.close()
    series.server_cpu += phase.server_cpu
    series.background.append(phase.background)
    good = []
    for position, (request, reply) in enumerate(replies):  # checked after the phase
        if not series.check(request, reply):
            continue
        good.append(position)
        series.latencies.append(reply.seconds)
        series.slowest = sorted([*series.slowest, (reply.seconds, request.target)])[-3:]
        if request.x_cache and reply.x_cache != request.x_cache:
            series.unexpected_x_cache.append(request.target)
        if rdf and reply.media_type.startswith(TURTLE):
            triples = count_triples(reply.body)
            if triples is not None:
                series.triples.append(triples)
    return good


def concurrent(
    server: Server,
    series: Series,
    requests: list[Request],
    *,
    cycle: bool,
    budget: float,
    max_requests: int,
    concurrency: int = 8,
) -> list[int]:
    """Requests from `concurrency` threads, each on its kept-alive connection: each request once
    (cold), or the list over and over (warm), until `max_requests` are sent or `budget` seconds
    passed; requests in flight then complete. Pages per second count the good answers over the
    phase's wall time. Returns the positions (in `requests`) of the good answers of a cold
    phase."""
    source = itertools.cycle(requests) if cycle else iter(requests)
    lock = threading.Lock()
    replies: list[tuple[Request, Reply | None, str]] = []
    started = time.perf_counter()
    deadline = started + budget
    finished = [started]

    def worker() -> None:
        connection = Connection(server.port)
        while True:
            with lock:
                if len(replies) >= max_requests or time.perf_counter() >= deadline:
                    break
                request = next(source, None)
                if request is None:
                    break
                replies.append((request, None, ""))
                slot = len(replies) - 1
            try:
                reply, failure = connection.get(request.target, request.accept), ""
            except (OSError, http.client.HTTPException) as error:
                reply, failure = None, repr(error)[:300]
            with lock:
                replies[slot] = (request, reply, failure)
                finished[0] = max(finished[0], time.perf_counter())
        connection.close()

    with Phase(server) as phase:
        threads = [threading.Thread(target=worker) for _ in range(concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    seconds = finished[0] - started
    good, latencies, errors, x_cache = [], [], [], {}
    for position, (request, reply, failure) in enumerate(replies):
        if reply is None:
            errors.append({"url": request.target, "problem": failure})
            continue
        x_cache[reply.x_cache or "-"] = x_cache.get(reply.x_cache or "-", 0) + 1
        if reply.status != 200 or not reply.media_type.startswith(request.media_type):
            body = reply.body[:400].decode("utf-8", "replace")
            errors.append({"url": request.target, "status": reply.status, "body": body})
            continue
        good.append(position)
        latencies.append(reply.seconds)
    latencies.sort()
    series.c8 = {
        "requests": len(replies),
        "distinct": min(len(requests), len(replies)),
        "errors": len(errors),
        "pages_per_s": round(len(good) / seconds, 1) if seconds and good else None,
        "median_ms": ms(statistics.median(latencies)) if latencies else None,
        "p99_ms": ms(latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))])
        if latencies
        else None,
        "seconds": round(seconds, 2),
        "x_cache": dict(sorted(x_cache.items())),
        "server_cpu_ms_per_request": round(phase.server_cpu * 1000 / len(replies), 2)
        if replies
        else None,
        "client_cpu_ms_per_request": round(phase.client_cpu * 1000 / len(replies), 2)
        if replies
        else None,
        "background_cpu_share": round(phase.background, 3),
        **({"first_error": errors[0]} if errors else {}),
    }
    return [] if cycle else good


# --- the data's IRIs ----------------------------------------------------------------------------


def prefixes() -> str:
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


@dataclass
class Picked:
    """A kind's measured IRIs (paths for kinds without IRIs), and one more to warm up with."""

    kind: Kind
    in_data: int
    measured: list[str]  # IRIs, or paths
    warmup: str | None

    def requests(self, items: list[str], series: str) -> list[Request]:
        html = series.startswith("kg_html")
        cache = "miss" if series.endswith("cold") else "hit"
        if series == "oxigraph_describe":
            return [Request(describe_target(i), TURTLE, TURTLE, None) for i in items]
        if not self.kind.rdf:
            return [Request(self.kind.target(i), HTML, HTML, cache) for i in items]
        accept = HTML if html else TURTLE
        return [Request(kg_path(i), accept, accept, cache) for i in items]


def pick(kg: Server, kind: Kind, share: float, seed: int) -> Picked:
    """The kind's IRIs in the data (from kg's SPARQL endpoint), a seeded sample of them, and one
    IRI outside the sample to warm up with."""
    if kind.paths:
        items = list(kind.paths)
        if kind.sample:
            count = max(4, round(kind.sample * share))
            return Picked(kind, len(items), items[1 : count + 1], items[0])
        return Picked(kind, len(items), items, None)
    query = f"{prefixes()}SELECT DISTINCT ?iri WHERE {{ {kind.where} }}"
    reply = Connection(kg.port).get("/sparql?query=" + quote(query, safe=""), SELECT_JSON)
    if reply.status != 200:
        raise RuntimeError(f"picking {kind.name}: HTTP {reply.status}: {reply.body[:300]!r}")
    rows = json.loads(reply.body)["results"]["bindings"]
    found = sorted(row["iri"]["value"] for row in rows if row["iri"]["type"] == "uri")
    found = [iri for iri in found if iri.startswith(BASE)]
    if not found:
        raise RuntimeError(f"no {kind.name} in the data ({kind.where})")
    rng = random.Random(f"{seed}:{kind.name}")
    ordered = rng.sample(found, len(found))
    warmup = ordered.pop() if len(ordered) > SMALL else None  # small kinds: all measured
    count = len(ordered)
    if kind.sample:
        count = min(count, max(4, round(kind.sample * share)))
    return Picked(kind, len(found), sorted(ordered[:count]), warmup)


# --- servers ------------------------------------------------------------------------------------


def kg_source() -> dict:
    """A digest of kg's source (src/kg: code, templates, static files) and its newest change: the
    source may be edited while the benchmark runs, and each round starts kg afresh."""
    digest = hashlib.sha256()
    newest = 0.0
    for path in sorted((ROOT / "src" / "kg").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
            newest = max(newest, path.stat().st_mtime)
    changed = datetime.fromtimestamp(newest, UTC).isoformat(timespec="seconds")
    return {"digest": digest.hexdigest()[:16], "newest_change": changed}


def kg_server(store: Path, size: int, number: int) -> Server:
    port = free_port()
    command = [str(KG), "--store", str(store), "serve", "--host", HOST, "--port", str(port)]
    log = WORK / "logs" / f"{size}-kg-{number}.log"
    return Server("kg", command, "/sparql", "/health", log, port)


def oxigraph_server(oxigraph: Path, store: Path, size: int) -> Server:
    port = free_port()
    command = [
        str(oxigraph),
        "serve-read-only",
        "--location",
        str(store),
        "--bind",
        f"{HOST}:{port}",
    ]
    log = WORK / "logs" / f"{size}-oxigraph.log"
    return Server("oxigraph", command, "/query", "/query?query=ASK%7B%7D", log, port)


def _quietly(port: int, target: str) -> None:
    """A request whose answer does not matter (a failure shows in the measured requests)."""
    connection = Connection(port)
    with contextlib.suppress(OSError, http.client.HTTPException):
        connection.get(target, SELECT_JSON)
    connection.close()


def warm_up(kg: Server, oxigraph: Server, picked: list[Picked], timings: dict) -> None:
    """Readies a fresh kg without filling its cache with measured pages: distinct queries on
    every worker at once, then each kind's warm-up IRI (its template, its queries), HTML and
    Turtle. `timings` gets the warm-up requests' latencies (ms) and statuses."""
    for batch in range(3):
        threads = []
        for number in range(8):
            query = f'ASK {{ ?s ?p ?o FILTER(?o != "warm {batch} {number}") }}'
            target = "/sparql?query=" + quote(query, safe="")
            thread = threading.Thread(target=_quietly, args=(kg.port, target))
            threads.append(thread)
            thread.start()
        for thread in threads:
            thread.join()
    connection, peer = Connection(kg.port), Connection(oxigraph.port)
    for chosen in picked:
        if chosen.warmup is None:
            continue
        kind = chosen.kind
        ways = [("html", kind.target(chosen.warmup), HTML)]
        if kind.rdf:
            ways.append(("turtle", kg_path(chosen.warmup), TURTLE))
            peer.get(describe_target(chosen.warmup), TURTLE)
        for name, target, accept in ways:
            reply = connection.get(target, accept)
            timings.setdefault(f"{kind.name}_{name}", []).append(
                {"url": target, "status": reply.status, "ms": ms(reply.seconds)}
            )
    connection.close()
    peer.close()


def slices(picked: Picked, rounds: int, number: int) -> list[str]:
    """What one round asks for: the whole list of a small kind (each round starting further on,
    so that a time box still reaches every IRI over the rounds), else the round's share."""
    items = picked.measured
    if len(items) < SMALL:
        start = number * len(items) // rounds
        return items[start:] + items[:start]
    return items[number::rounds]


def measure_round_c1(
    kg: Server,
    oxigraph: Server,
    picked: list[Picked],
    found: dict,
    settings: "Settings",
    number: int,
) -> None:
    """Concurrency 1, kind after kind on a fresh kg: cold HTML (time-boxed: `kind_budget` over
    all rounds), then for the pages it reached, cold Turtle, oxigraph's DESCRIBE, and the same
    pages warm (HTML, Turtle), repeated up to MIN_WARM requests."""
    for chosen in picked:
        items = slices(chosen, settings.rounds, number)
        if not items:
            continue
        series = found[chosen.kind.name]
        deadline = time.perf_counter() + settings.kind_budget / settings.rounds
        requests = chosen.requests(items, "kg_html_cold")
        good = sequential(kg, series["kg_html_cold"], requests, chosen.kind.rdf, deadline)
        reached = [items[position] for position in good]
        if not reached:
            continue
        repeats = max(1, math.ceil(MIN_WARM / len(reached)))
        plan = [("kg_html_warm", kg, reached * repeats)]
        if chosen.kind.rdf:
            plan = [
                ("kg_turtle_cold", kg, reached),
                ("oxigraph_describe", oxigraph, reached),
                ("kg_html_warm", kg, reached * repeats),
                ("kg_turtle_warm", kg, reached * repeats),
            ]
        for name, server, chosen_items in plan:
            requests = chosen.requests(chosen_items, name)
            sequential(server, series[name], requests, rdf=chosen.kind.rdf)
        cold = series["kg_html_cold"]
        print(
            f"    {chosen.kind.name:15} {len(reached):4} cold pages, last "
            f"{ms(cold.latencies[-1]) if cold.latencies else '-'} ms",
            flush=True,
        )


def measure_c8(
    kg: Server, oxigraph: Server, picked: list[Picked], found: dict, settings: "Settings"
) -> None:
    """Concurrency 8 on a fresh kg: each kind cold (each IRI once, time-boxed, when there are
    enough IRIs), oxigraph's DESCRIBEs of them, then warm: the pages answered cold over and over
    (or, where no cold phase ran, a few pages requested once beforehand, untimed)."""
    for chosen in picked:
        series = found[chosen.kind.name]
        items = chosen.measured
        cached: dict[str, list[str]] = {}
        cold = ["kg_html_cold"] + (["kg_turtle_cold"] if chosen.kind.rdf else [])
        for name in cold:
            if len(items) < MIN_COLD_C8:
                series[name].c8 = {
                    "pages_per_s": None,
                    "note": f"{len(items)} distinct IRIs: too few for a cold phase at c=8",
                }
                continue
            good = concurrent(
                kg,
                series[name],
                chosen.requests(items, name),
                cycle=False,
                budget=settings.c8_cold_budget,
                max_requests=len(items),
            )
            cached[name] = [items[position] for position in good]
        warm = [("kg_html_warm", "kg_html_cold")]
        if chosen.kind.rdf:
            warm += [("kg_turtle_warm", "kg_turtle_cold")]
            concurrent(
                oxigraph,
                series["oxigraph_describe"],
                chosen.requests(items, "oxigraph_describe"),
                cycle=True,
                budget=settings.c8_budget,
                max_requests=settings.c8_max_requests,
            )
        for name, cold_name in warm:
            pages = cached.get(cold_name)
            if not pages:  # no cold phase: fill the cache first (untimed)
                pages = items[: settings.prime]
                sequential(kg, Series(), chosen.requests(pages, cold_name), rdf=False)
            concurrent(
                kg,
                series[name],
                chosen.requests(pages, name),
                cycle=True,
                budget=settings.c8_budget,
                max_requests=settings.c8_max_requests,
            )
        line = [series[n].c8.get("pages_per_s") for n in ("kg_html_cold", "kg_html_warm")]
        print(
            f"    {chosen.kind.name:15} kg HTML pages/s cold {line[0]}, warm {line[1]}", flush=True
        )


# --- the run ------------------------------------------------------------------------------------


@dataclass
class Settings:
    sizes: list[int]
    share: float  # of each kind's sample size
    rounds: int
    kind_budget: float  # seconds of cold HTML requests per kind at c=1, over all rounds
    c8_cold_budget: float
    c8_budget: float  # warm phases at c=8
    c8_max_requests: int
    prime: int  # pages put in the cache before a warm phase at c=8 that had no cold phase
    wait_quiet: float
    seed: int
    nexus: Path | None = None  # the AI Atlas Nexus data imported into kg's store


def import_nexus(store: Path, data: Path) -> float:
    """`kg import-nexus` of the Nexus data into kg's store (one validated commit); seconds."""
    from kg.load import Loader
    from kg.nexus.package import locate
    from kg.settings import Settings as KgSettings
    from kg.store import OxigraphStore

    start = time.perf_counter()
    report = Loader(KgSettings(store=store), OxigraphStore(store)).import_nexus(locate(data))
    if not report.committed or report.errors:
        raise RuntimeError(f"importing {data}: {report.errors[:3]}")
    return round(time.perf_counter() - start, 2)


def bench_size(size: int, peers: Path, settings: Settings) -> dict:
    data = WORK / f"synth-{size}.nq"
    stats = vars(synth.generate(size, data, settings.seed))
    print(
        f"  data: {stats['default_triples']:,} triples, {stats['quads']:,} quads, "
        f"{stats['seconds']} s",
        flush=True,
    )
    kg_store, ox_store = WORK / f"kg-{size}", WORK / f"oxigraph-{size}"
    oxigraph_binary = peers.parent / "oxigraph"
    report: dict = {
        "data": stats,
        "build_s": {
            "kg_bulk_load": round(build_kg_store(data, kg_store), 2),
            "oxigraph_load": round(build_oxigraph_store(oxigraph_binary, data, ox_store), 2),
        },
        "servers": {"kg": {"startup_s": [], "peak_rss_mb": 0}, "oxigraph": {}},
        "warmup_ms": {},
        "kg_source": [],  # at each start of kg
        "notes": [],
    }
    if settings.nexus is not None:
        report["build_s"]["kg_import_nexus"] = import_nexus(kg_store, settings.nexus)
    oxigraph = oxigraph_server(oxigraph_binary, ox_store, size)
    kg: Server | None = None
    try:
        oxigraph.start(timeout=300)
        report["servers"]["oxigraph"]["startup_s"] = round(oxigraph.startup_seconds, 2)
        picked: list[Picked] = []
        found: dict[str, dict[str, Series]] = {}
        for number in range(settings.rounds + 1):
            c8 = number == settings.rounds
            if settings.wait_quiet:
                share = wait_for_quiet(settings.wait_quiet)
                report.setdefault("background_cpu_share_before_rounds", []).append(round(share, 3))
            report["kg_source"].append(kg_source())
            kg = kg_server(kg_store, size, number)
            kg.start(timeout=300)
            report["servers"]["kg"]["startup_s"].append(round(kg.startup_seconds, 2))
            if not picked:
                picked = choose(kg, settings, report)
                found = {p.kind.name: {name: Series() for name in SERIES} for p in picked}
            timings: dict = {}
            warm_up(kg, oxigraph, picked, timings)
            if number == 0:
                report["warmup_ms"] = timings  # the first requests on the first fresh kg
                picked = drop_failing(picked, timings, report)
            label = "c=8" if c8 else f"c=1 round {number + 1} of {settings.rounds}"
            print(f"  {label}: kg on port {kg.port}", flush=True)
            with PeakMemory(kg.pid) as memory, PeakMemory(oxigraph.pid) as peer_memory:
                if c8:
                    measure_c8(kg, oxigraph, picked, found, settings)
                else:
                    measure_round_c1(kg, oxigraph, picked, found, settings, number)
            kg_report = report["servers"]["kg"]
            kg_report["peak_rss_mb"] = max(kg_report["peak_rss_mb"], round(memory.peak / 2**20))
            report["servers"]["oxigraph"]["peak_rss_mb"] = max(
                report["servers"]["oxigraph"].get("peak_rss_mb", 0), round(peer_memory.peak / 2**20)
            )
            kg.stop()
            for problem in kg.log_problems()[:5]:
                report["notes"].append(f"kg log ({kg.log.name}): {problem}")
    finally:
        if kg is not None:
            kg.stop()
        oxigraph.stop()
    if len({source["digest"] for source in report["kg_source"]}) > 1:
        note = "kg's source changed during the run: rounds ran different code (kg_source)"
        report["notes"].append(note)
        print(f"  !!! {note}", flush=True)
    report["kinds"] = {}
    for chosen in picked:
        names = SERIES if chosen.kind.rdf else ("kg_html_cold", "kg_html_warm")
        example = chosen.measured[0] if chosen.measured else None
        if example and chosen.kind.rdf:
            example = kg_path(example)
        report["kinds"][chosen.kind.name] = {
            "in_data": chosen.in_data,
            "measured": len(chosen.measured),
            "example": example,
            **{name: found[chosen.kind.name][name].summary() for name in names},
        }
    shutil.rmtree(kg_store, ignore_errors=True)
    shutil.rmtree(ox_store, ignore_errors=True)
    return report


def choose(kg: Server, settings: Settings, report: dict) -> list[Picked]:
    picked = []
    for kind in kinds(settings.seed, nexus=settings.nexus is not None):
        chosen = pick(kg, kind, settings.share, settings.seed)
        print(
            f"  {kind.name:15} {chosen.in_data:6,} in the data, {len(chosen.measured):4} measured",
            flush=True,
        )
        picked.append(chosen)
    return picked


def drop_failing(picked: list[Picked], timings: dict, report: dict) -> list[Picked]:
    """The search page is measured only when it answers (it may not exist yet); every other
    kind is measured whatever it answers (its errors are reported)."""
    kept = []
    for chosen in picked:
        first = timings.get(f"{chosen.kind.name}_html", [{}])[0]
        if chosen.kind.name == "search" and first.get("status") != 200:
            note = f"search not measured: {first.get('url')} answered HTTP {first.get('status')}"
            report["notes"].append(note)
            print(f"  {note}", flush=True)
            continue
        kept.append(chosen)
    return kept


def verdict(sizes: dict) -> dict:
    """The target, as measured (never adjusted)."""
    report = sizes.get(str(TARGET["size"]))
    line = report and report["kinds"].get(TARGET["kind"], {}).get(TARGET["series"])
    what = (
        f"median latency of a {TARGET['kind']} page, kg HTML, cold (cache miss), concurrency 1, "
        f"at {TARGET['size']:,} triples"
    )
    if not line or line.get("median_ms") is None:
        return {"what": what, **TARGET, "measured": False}
    return {
        "what": what,
        **TARGET,
        "measured": True,
        "median_ms": line["median_ms"],
        "p99_ms": line["p99_ms"],
        "requests": line["requests"],
        "errors": line["errors"],
        "met": line["median_ms"] <= TARGET["median_ms_at_most"],
    }


def print_tables(results: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(160, shutil.get_terminal_size().columns))

    def cell(kind: dict, series: str, key: str) -> str:
        value = kind.get(series, {}).get(key)
        if value is None:
            return "–"
        return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"

    for size, report in results["sizes"].items():
        table = Table(title=f"{int(size):,} triples: latency at c=1 (ms), pages/s at c=8")
        for column in (
            "kind",
            "IRIs",
            "HTML cold\nmedian",
            "HTML cold\np99",
            "HTML warm\nmedian",
            "TTL cold\nmedian",
            "TTL warm\nmedian",
            "oxigraph\nmedian",
            "HTML cold\npages/s",
            "HTML warm\npages/s",
            "TTL cold\npages/s",
            "TTL warm\npages/s",
            "oxigraph\npages/s",
            "errors",
        ):
            table.add_column(column, justify="left" if column == "kind" else "right")
        for name, kind in report["kinds"].items():
            errors = sum(
                kind[s]["errors"] + kind[s]["c8"].get("errors", 0) for s in SERIES if s in kind
            )
            table.add_row(
                name,
                str(kind["measured"]),
                cell(kind, "kg_html_cold", "median_ms"),
                cell(kind, "kg_html_cold", "p99_ms"),
                cell(kind, "kg_html_warm", "median_ms"),
                cell(kind, "kg_turtle_cold", "median_ms"),
                cell(kind, "kg_turtle_warm", "median_ms"),
                cell(kind, "oxigraph_describe", "median_ms"),
                cell(kind, "kg_html_cold", "pages_per_s_c8"),
                cell(kind, "kg_html_warm", "pages_per_s_c8"),
                cell(kind, "kg_turtle_cold", "pages_per_s_c8"),
                cell(kind, "kg_turtle_warm", "pages_per_s_c8"),
                cell(kind, "oxigraph_describe", "pages_per_s_c8"),
                str(errors),
            )
        console.print(table)
        for name, kind in report["kinds"].items():
            for series in SERIES:
                first = kind.get(series, {}).get("first_error")
                if first:
                    console.print(f"  [red]{name} {series}: {first}[/red]")
        for note in report["notes"]:
            console.print(f"  [yellow]{note}[/yellow]")
    target = results["target"]
    if target["measured"]:
        mark = "[green]met[/green]" if target["met"] else "[red]not met[/red]"
        console.print(
            f"Target: {target['what']} ≤ {target['median_ms_at_most']} ms: {mark} "
            f"({target['median_ms']} ms over {target['requests']} pages)"
        )
    else:
        console.print(f"Target: {target['what']}: not measured")


def main() -> int:
    arguments = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    arguments.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    arguments.add_argument("--quick", action="store_true", help="smaller samples, fewer rounds")
    arguments.add_argument("--seed", type=int, default=1)
    arguments.add_argument(
        "--rounds", type=int, default=None, help="fresh kg servers at c=1 (default 5, quick 2)"
    )
    arguments.add_argument(
        "--kind-budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help="time box of each kind's cold HTML requests at c=1, over all rounds (default 30, "
        "quick 5): slow kinds get fewer pages measured",
    )
    arguments.add_argument(
        "--wait-quiet",
        type=float,
        default=None,
        metavar="SECONDS",
        help="before each round, wait up to this long for other processes to use <10%% of the "
        "CPU (default 10, quick 5; 0: do not wait)",
    )
    arguments.add_argument(
        "--nexus",
        type=Path,
        default=None,
        metavar="PATH",
        help="import the AI Atlas Nexus data (a folder or wheel) into kg's store and measure its "
        "kinds of page too",
    )
    arguments.add_argument("--output", type=Path, default=RESULTS / "site.json")
    options = arguments.parse_args()
    options.output = options.output.resolve()
    quick = options.quick
    settings = Settings(
        sizes=options.sizes,
        share=0.3 if quick else 1.0,
        rounds=options.rounds or (2 if quick else 5),
        kind_budget=options.kind_budget or (5.0 if quick else 30.0),
        c8_cold_budget=2.0 if quick else 10.0,
        c8_budget=1.0 if quick else 2.0,
        c8_max_requests=500 if quick else 4000,
        prime=2 if quick else 4,
        wait_quiet=options.wait_quiet if options.wait_quiet is not None else (5 if quick else 10),
        seed=options.seed,
        nexus=options.nexus.resolve() if options.nexus else None,
    )
    for name in [n for n in os.environ if n.startswith("KG_")]:
        del os.environ[name]  # kg serve with its defaults (the base IRI synth mints under)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.perf_counter()
    peers = peers_python()
    results: dict = {
        "machine": machine_facts(peers),
        "settings": {
            "quick": quick,
            "nexus": str(settings.nexus) if settings.nexus else None,
            "sample_share": settings.share,
            "rounds_c1": settings.rounds,
            "cold_html_budget_per_kind_c1_s": settings.kind_budget,
            "c8_cold_budget_s": settings.c8_cold_budget,
            "c8_warm_budget_s": settings.c8_budget,
            "c8_warm_pages_primed_without_cold_phase": settings.prime,
            "c8_warm_max_requests": settings.c8_max_requests,
            "small_kind_below": SMALL,
            "min_distinct_for_cold_c8": MIN_COLD_C8,
            "min_warm_requests_per_round": MIN_WARM,
            "wait_quiet_s": settings.wait_quiet,
            "seed": settings.seed,
            "load_generator": "Python threads on http.client, one kept-alive connection each",
        },
        "sizes": {},
    }
    WORK.mkdir(parents=True, exist_ok=True)
    try:
        for size in settings.sizes:
            print(f"\n== {size:,} triples", flush=True)
            results["sizes"][str(size)] = bench_size(size, peers, settings)
    finally:
        stop_all()
    results["target"] = verdict(results["sizes"])
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print_tables(results)
    print(f"\nwrote {options.output} in {results['total_seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
