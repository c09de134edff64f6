"""The SPARQL endpoint over HTTP: `kg serve` against `oxigraph serve` and rdflib-endpoint.

For each size, one synthetic graph (bench/synth.py) feeds the three servers' stores. The servers
run side by side on 127.0.0.1 on free ports and are measured in turn, query after query, so that
the phases compared with each other run close together. A query mix (a filter with joins, a GROUP
BY count, a `skos:broader*` path with a count, a DESCRIBE, and every parameterless
`queries/*.rq`) is sent at concurrency 1 and 8 over kept-alive HTTP connections. Every response
is checked (status 200, the row count each server gave on its first answer), and the servers'
answers are compared with each other. kg's result cache is measured apart: one identical query
repeated at concurrency 8.

Requests are sent by wrk (apt-get install wrk; C, about 0.03 ms of CPU per request, so the
client takes little of the two cores from the server) whenever an answer takes under 1/20 of the
phase and under about 50 ms at that concurrency, with a Lua script that checks every answer's
status and length; slower answers, the first answers (compared across servers) and machines
without wrk use Python threads on the standard library's http.client (about 0.25 ms of CPU per
request), which let the requests in flight at the end of a phase finish.

    .venv/bin/python bench/serve_bench.py                     # 10k, 100k and 1M triples
    .venv/bin/python bench/serve_bench.py --quick             # 10k and 100k, short phases

The peers (oxigraph's server, rdflib-endpoint) live in their own venv, bench/work/peers-venv,
made from bench/requirements-peers.txt on first use. Writes bench/results/serve.json.
"""

import argparse
import contextlib
import hashlib
import http.client
import itertools
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
WORK = BENCH / "work" / "serve"
RESULTS = BENCH / "results"
PEERS_VENV = BENCH / "work" / "peers-venv"
PEERS_REQUIREMENTS = BENCH / "requirements-peers.txt"
KG = ROOT / ".venv" / "bin" / "kg"
HOST = "127.0.0.1"
BASE = "https://w3id.org/airm-kg/"
SELECT_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
SERVERS = ("kg", "oxigraph", "rdflib-endpoint")

PREFIXES = {
    "kg": "https://w3id.org/airm-kg/ontology#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "bibo": "http://purl.org/ontology/bibo/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "prov": "http://www.w3.org/ns/prov#",
    "owl": "http://www.w3.org/2002/07/owl#",
}

TARGETS = {
    "kg_faster_than_rdflib_endpoint": 30.0,
    "kg_vs_oxigraph_heavy_at_most": 1.25,
    "kg_cache_hit_rps_at_least": 2000,
}


# --- queries ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    name: str
    text: str  # SPARQL with every prefix declared (the peers know none)
    accept: str
    heavy: bool  # aggregates and property paths: the kg-vs-oxigraph target applies to these
    origin: str = "mix"

    def varied(self, phase: int, number: int) -> str:
        """The same query, spelled apart so that no result cache can answer it (kg caches):
        every request of every phase of a run has its own spelling."""
        return f"# phase {phase} request {number}\n{self.text}"


#: Numbers the phases of a run, so that no two requests of a run are spelled alike.
PHASES = itertools.count(1)


def _with_prefixes(body: str) -> str:
    declared = {m.lower() for m in re.findall(r"PREFIX\s+(\w*):", body, flags=re.IGNORECASE)}
    lines = [f"PREFIX {p}: <{iri}>" for p, iri in PREFIXES.items() if p not in declared]
    return "\n".join(lines) + "\n" + body.strip() + "\n"


def query_mix(sample: dict) -> list[Query]:
    """The mix, light ones first (a server that times out skips the rest at that size)."""
    mix = [
        Query(
            "describe",
            _with_prefixes(f"DESCRIBE <{sample['sample_mitigation']}>"),
            N_TRIPLES,
            heavy=False,
        ),
        Query(
            "filter_join",
            _with_prefixes(
                f"""
SELECT ?m ?title ?year WHERE {{
  ?d dcterms:creator <{sample["sample_author"]}> ; dcterms:title ?title ; dcterms:issued ?year .
  FILTER(STR(?year) >= "{sample["sample_year"]}")
  ?m kg:sourceDocument ?d ; kg:lifecycleStage <{sample["sample_stage"]}> ; a kg:Mitigation .
}}"""
            ),
            SELECT_JSON,
            heavy=False,
        ),
        Query(
            "group_by_count",
            _with_prefixes(
                """
SELECT ?category ?code (COUNT(?m) AS ?mitigations) WHERE {
  ?m a kg:Mitigation ; kg:category ?category .
  ?category skos:notation ?code .
} GROUP BY ?category ?code"""
            ),
            SELECT_JSON,
            heavy=True,
        ),
        Query(
            "broader_path",
            _with_prefixes(
                f"""
SELECT ?top ?label (COUNT(DISTINCT ?m) AS ?mitigations) WHERE {{
  ?m kg:category/skos:broader* ?top .
  ?top skos:topConceptOf <{BASE}taxonomy/mitigation> .
  OPTIONAL {{ ?top skos:prefLabel ?label }}
}} GROUP BY ?top ?label"""
            ),
            SELECT_JSON,
            heavy=True,
        ),
    ]
    return mix + named_queries()


def named_queries() -> list[Query]:
    """queries/*.rq without parameters (parameters are kg's substitutions; peers have none)."""
    found = []
    for path in sorted((ROOT / "queries").glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        params = re.search(r"^#\s*params:\s*(.*)$", text, flags=re.MULTILINE)
        if params and params.group(1).strip().lower() not in ("", "none", "-"):
            print(f"  {path.name}: has parameters, not in the mix")
            continue
        body = re.sub(r"(?m)^\s*#.*$", "", text)
        form = re.search(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", body, flags=re.IGNORECASE)
        graph_result = form is not None and form.group(1).upper() in ("CONSTRUCT", "DESCRIBE")
        heavy = bool(re.search(r"GROUP\s+BY|COUNT\s*\(|[*+]\s*[?<$]", body, flags=re.IGNORECASE))
        found.append(
            Query(
                path.stem,
                _with_prefixes(body),
                N_TRIPLES if graph_result else SELECT_JSON,
                heavy,
                origin=f"queries/{path.name}",
            )
        )
    return found


def read_answer(accept: str, media_type: str, body: bytes) -> tuple[int, str]:
    """Row count (triples for graph results) and a digest of the answer, order-independent.
    Graph results are parsed in the format the server says it sent (rdflib-endpoint answers a
    DESCRIBE in RDF/XML whatever the Accept header asks)."""
    if accept == N_TRIPLES:
        from pyoxigraph import RdfFormat, parse

        media_type = media_type.split(";")[0].strip()
        if b"<rdf:RDF" in body[:2000]:
            rdf_format = RdfFormat.RDF_XML
        else:
            rdf_format = RdfFormat.from_media_type(media_type) or RdfFormat.N_TRIPLES
        lines = sorted({str(triple) for triple in parse(body, format=rdf_format)})
        return len(lines), hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]
    data = json.loads(body)
    if "boolean" in data:
        return int(data["boolean"]), str(data["boolean"])
    rows = sorted(
        json.dumps(sorted((var, term["value"]) for var, term in row.items()))
        for row in data["results"]["bindings"]
    )
    return len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16]


def count_rows(accept: str, media_type: str, body: bytes) -> int:
    """The row count of read_answer, cheaply (it runs on every answer of a phase)."""
    if accept == N_TRIPLES:
        if media_type.startswith(N_TRIPLES):
            return sum(1 for line in body.splitlines() if line.strip() and line[:1] != b"#")
        return read_answer(accept, media_type, body)[0]
    data = json.loads(body)
    if "boolean" in data:
        return int(data["boolean"])
    return len(data["results"]["bindings"])


# --- processes ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def process_tree(pid: int) -> list[int]:
    """The process and its descendants, from /proc."""
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                pending.extend(int(c) for c in (task / "children").read_text().split())
            except OSError:
                continue
    return tree


def stop_process_tree(process: subprocess.Popen) -> None:
    """Stops a server by its PID (SIGTERM, SIGKILL after 15 s), then any child it left behind."""
    children = [p for p in process_tree(process.pid) if p != process.pid]
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
    for child in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)


PAGE = os.sysconf("SC_PAGE_SIZE")


def tree_rss(pid: int) -> int:
    total = 0
    for member in process_tree(pid):
        try:
            total += int(Path(f"/proc/{member}/statm").read_text().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
    return total


TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu(pid: int) -> float:
    """CPU seconds (user and system) the process tree has used so far."""
    total = 0.0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICKS
        except (OSError, IndexError, ValueError):
            continue
    return total


def own_cpu() -> float:
    """CPU seconds of this harness and of the children it waited for (wrk)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all processes), from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / TICKS


def peak_rss(pid: int) -> int:
    """The kernel's high-water mark of resident memory (VmHWM), summed over the tree."""
    total = 0
    for member in process_tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        found = re.search(r"^VmHWM:\s+(\d+) kB", status, flags=re.MULTILINE)
        total += int(found.group(1)) * 1024 if found else 0
    return total


def reset_peak_rss(pid: int) -> None:
    """Resets VmHWM to the current RSS (Linux: writing 5 to clear_refs), where allowed."""
    for member in process_tree(pid):
        try:
            Path(f"/proc/{member}/clear_refs").write_text("5")
        except OSError:
            continue


class PeakMemory:
    """The largest resident size of a process tree during a phase: the kernel's high-water mark
    of each process (VmHWM), reset when the phase starts, summed over the tree (an upper bound
    when the processes peak at different moments). Nothing samples during the phase, so the
    measurement takes no CPU from the server."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0

    def __enter__(self) -> "PeakMemory":
        reset_peak_rss(self.pid)
        return self

    def __exit__(self, *_: object) -> None:
        self.peak = max(peak_rss(self.pid), tree_rss(self.pid))


RUNNING: dict[int, "Server"] = {}


@dataclass
class Server:
    name: str
    command: list[str]
    query_path: str  # the SPARQL endpoint
    health_path: str
    log: Path
    port: int
    process: subprocess.Popen | None = None
    startup_seconds: float = 0.0

    def start(self, timeout: float) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                self.command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=ROOT,
                start_new_session=True,
            )
        RUNNING[self.process.pid] = self
        start = time.perf_counter()
        deadline = start + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                raise RuntimeError(f"{self.name} exited with {code}: {self.tail()}")
            try:
                connection = http.client.HTTPConnection(HOST, self.port, timeout=5)
                connection.request("GET", self.health_path)
                status = connection.getresponse().status
                connection.close()
                if status == 200:
                    self.startup_seconds = time.perf_counter() - start
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not healthy after {timeout:.0f} s: {self.tail()}")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        """Stops the server by its PID (SIGTERM, then SIGKILL), and any child it left behind."""
        if self.process is None:
            return
        stop_process_tree(self.process)
        RUNNING.pop(self.process.pid, None)
        self.process = None

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def log_problems(self) -> list[str]:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return []
        pattern = re.compile(r"Traceback|\bERROR\b|Exception|panicked|\bCRITICAL\b")
        return [line for line in text.splitlines() if pattern.search(line)]


def stop_all(*_: object) -> None:
    for server in list(RUNNING.values()):
        server.stop()


# --- measuring ----------------------------------------------------------------------------------


class Client:
    """One kept-alive HTTP/1.1 connection (the standard library's client)."""

    def __init__(self, port: int, timeout: float) -> None:
        self.port = port
        self.timeout = timeout
        self.connection = http.client.HTTPConnection(HOST, port, timeout=timeout)

    def get(self, path: str, query: str, accept: str) -> tuple[int, str, bytes]:
        """Status, media type and body. A kept-alive connection the server closed while idle
        (uvicorn closes them after 5 s) is opened again and the request sent once more."""
        target = f"{path}?query={quote(query, safe='')}"
        for attempt in (1, 2):
            try:
                self.connection.request("GET", target, headers={"Accept": accept})
                response = self.connection.getresponse()
                body = response.read()
                return response.status, response.getheader("Content-Type", ""), body
            except (OSError, http.client.HTTPException) as error:
                self.connection.close()
                self.connection = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
                stale = isinstance(
                    error,
                    http.client.RemoteDisconnected | ConnectionResetError | BrokenPipeError,
                )
                if attempt == 2 or not stale:
                    raise
        raise AssertionError("unreachable")

    def fresh(self) -> "Client":
        """Drops the kept-alive connection. oxigraph's server answers its own read timeout on a
        connection idle for about a minute with a 500 ("Resource temporarily unavailable"),
        which the next request would read as its answer."""
        self.connection.close()
        return self

    def close(self) -> None:
        self.connection.close()


@dataclass
class Phase:
    """What one query at one concurrency measured on one server."""

    client: str = "python"
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    answered: int = 0  # answers that passed the checks (wrk: latencies are not kept)
    percentiles: tuple[float, float] | None = None  # median and p99 in seconds, from wrk
    seconds: float = 0.0
    peak_rss: int = 0
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    background_cpu: float = 0.0  # share of the machine's CPU that other processes used
    measured_twice: bool = False  # the first try was noisy (see quiet_phase)

    def summary(self) -> dict:
        ordered = sorted(self.latencies)
        answered = self.answered or len(ordered)
        median = p99 = None
        if self.percentiles:
            median, p99 = self.percentiles
        elif ordered:
            median = statistics.median(ordered)
            p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        return {
            "client": self.client,
            "requests": self.requests,
            "errors": len(self.errors),
            "median_ms": round(median * 1000, 3) if median is not None else None,
            "p99_ms": round(p99 * 1000, 3) if p99 is not None else None,
            "rps": round(answered / self.seconds, 1) if self.seconds and answered else None,
            "peak_rss_mb": round(self.peak_rss / 2**20, 1),
            # CPU time per answered request: the server's process tree, and the client's
            # (which shares the two cores: it bounds what the fastest answers can show).
            "server_cpu_ms_per_request": per_request(self.server_cpu, self.requests),
            "client_cpu_ms_per_request": per_request(self.client_cpu, self.requests),
            "background_cpu_share": round(self.background_cpu, 3),
            "measured_twice": self.measured_twice,
            **({"first_error": self.errors[0][:300]} if self.errors else {}),
        }


def per_request(seconds: float, requests: int) -> float | None:
    return round(seconds * 1000 / requests, 3) if requests else None


def run_phase(
    server: Server,
    query: Query,
    concurrency: int,
    *,
    max_requests: int,
    budget: float,
    timeout: float,
    expected_rows: int,
    expected_bytes: int,
    use_wrk: bool,
    identical: bool = False,
) -> Phase:
    """One phase, with wrk (C, little CPU per request) when asked, else with threads."""
    number = next(PHASES)
    server_cpu, client_cpu, machine_cpu = tree_cpu(server.pid), own_cpu(), machine_busy()
    started = time.perf_counter()
    with PeakMemory(server.pid) as memory:
        if use_wrk:
            phase = _wrk_phase(
                server, query, number, concurrency, budget, timeout, expected_bytes, identical
            )
        else:
            phase = _threads_phase(
                server,
                query,
                number,
                concurrency,
                max_requests,
                budget,
                timeout,
                expected_rows,
                identical,
            )
    wall = time.perf_counter() - started
    phase.server_cpu = tree_cpu(server.pid) - server_cpu
    phase.client_cpu = own_cpu() - client_cpu
    other = machine_busy() - machine_cpu - phase.server_cpu - phase.client_cpu
    phase.background_cpu = max(0.0, other / (wall * (os.cpu_count() or 1)))
    phase.peak_rss = memory.peak
    return phase


def _threads_phase(
    server: Server,
    query: Query,
    phase_number: int,
    concurrency: int,
    max_requests: int,
    budget: float,
    timeout: float,
    expected_rows: int,
    identical: bool,
) -> Phase:
    """Requests from `concurrency` threads until `max_requests` are sent or `budget` seconds
    passed (requests in flight then complete); each thread keeps its connection."""
    phase = Phase(client="python")
    numbers = itertools.count()
    lock = threading.Lock()
    clients = [Client(server.port, timeout) for _ in range(concurrency)]
    start = time.perf_counter()
    deadline = start + budget
    finished = [start]

    def worker(client: Client) -> None:
        while True:
            number = next(numbers)
            if number >= max_requests or time.perf_counter() >= deadline:
                return
            text = query.text if identical else query.varied(phase_number, number)
            sent = time.perf_counter()
            try:
                status, media_type, body = client.get(server.query_path, text, query.accept)
            except (OSError, http.client.HTTPException) as error:
                with lock:
                    phase.requests += 1
                    phase.errors.append(f"{type(error).__name__}: {error}")
                continue
            elapsed = time.perf_counter() - sent
            problem = None
            if status != 200:
                problem = f"HTTP {status}: {body[:200]!r}"
            else:
                try:
                    rows = count_rows(query.accept, media_type, body)
                    if rows != expected_rows:
                        problem = f"{rows} rows, the first answer had {expected_rows}"
                except (ValueError, KeyError, SyntaxError) as error:
                    problem = f"unreadable answer: {error}"
            with lock:
                phase.requests += 1
                finished[0] = max(finished[0], time.perf_counter())
                if problem:
                    phase.errors.append(problem)
                else:
                    phase.latencies.append(elapsed)

    threads = [threading.Thread(target=worker, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client in clients:
        client.close()
    phase.seconds = finished[0] - start
    return phase


WRK_SCRIPT = """
-- Written by bench/serve_bench.py: one phase of requests; each answer is checked (status 200,
-- and the byte length of the first answer, which the same SELECT or DESCRIBE repeats).
local path = os.getenv("BENCH_PATH")
local query = os.getenv("BENCH_QUERY")
local accept = os.getenv("BENCH_ACCEPT")
local identical = os.getenv("BENCH_IDENTICAL") == "1"
local expected = tonumber(os.getenv("BENCH_BYTES"))
local phase = os.getenv("BENCH_PHASE")
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  bad_status = 0
  bad_length = 0
end

function request()
  counter = counter + 1
  local target = path .. "?query=" .. query
  if not identical then
    -- the same query spelled apart (a comment), as the threads' client does
    target = path .. "?query=%23%20phase%20" .. phase .. "%20request%20" .. counter .. "%0A"
      .. query
  end
  return wrk.format("GET", target, {["Accept"] = accept})
end

function response(status, headers, body)
  if status ~= 200 then
    bad_status = bad_status + 1
    first_bad = first_bad or (status .. " " .. string.sub(body, 1, 300))
  elseif #body ~= expected then
    bad_length = bad_length + 1
  end
end

function done(summary, latency, requests)
  local status, length = 0, 0
  for _, thread in ipairs(threads) do
    status = status + thread:get("bad_status")
    length = length + thread:get("bad_length")
    if thread:get("first_bad") then
      io.write("WRKBAD " .. string.gsub(thread:get("first_bad"), "\\n", " ") .. "\\n")
    end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %.0f, "duration_us": %.0f, "connect": %.0f, "read": %.0f, ' ..
    '"write": %.0f, "timeout": %.0f, "bad_status": %.0f, "bad_length": %.0f, ' ..
    '"p50_us": %.0f, "p99_us": %.0f}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout,
    status, length, latency:percentile(50), latency:percentile(99)))
end
"""


def _wrk_phase(
    server: Server,
    query: Query,
    phase_number: int,
    concurrency: int,
    budget: float,
    timeout: float,
    expected_bytes: int,
    identical: bool,
) -> Phase:
    script = WORK / "phase.lua"
    script.write_text(WRK_SCRIPT)
    environment = {
        **os.environ,
        "BENCH_PATH": server.query_path,
        "BENCH_QUERY": quote(query.text, safe=""),
        "BENCH_ACCEPT": query.accept,
        "BENCH_IDENTICAL": "1" if identical else "0",
        "BENCH_PHASE": str(phase_number),
        "BENCH_BYTES": str(expected_bytes),
    }
    command = [
        "wrk",
        "-t1",
        f"-c{concurrency}",
        f"-d{max(1, round(budget))}s",
        "--timeout",
        f"{max(1, round(timeout))}s",
        "-s",
        str(script),
        f"http://{HOST}:{server.port}{server.query_path}",
    ]
    done = subprocess.run(
        command, env=environment, capture_output=True, text=True, timeout=budget + timeout + 60
    )
    found = re.search(r"^WRK (\{.*\})$", done.stdout, flags=re.MULTILINE)
    if done.returncode != 0 or not found:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout} {done.stderr}")
    numbers = json.loads(found.group(1))
    phase = Phase(client="wrk")
    phase.requests = numbers["requests"] + numbers["timeout"]
    for key, what in (
        ("bad_status", "answers not 200"),
        ("bad_length", f"answers whose length is not the first answer's {expected_bytes} bytes"),
        ("connect", "connection errors"),
        ("read", "read errors"),
        ("write", "write errors"),
        ("timeout", "timeouts"),
    ):
        if numbers[key]:
            phase.errors += [f"{numbers[key]} {what}"] * numbers[key]
    bad = re.search(r"^WRKBAD (.*)$", done.stdout, flags=re.MULTILINE)
    if bad:
        phase.errors.insert(0, f"first answer not 200: {bad.group(1)}")
    phase.answered = max(0, numbers["requests"] - numbers["bad_status"] - numbers["bad_length"])
    phase.percentiles = (numbers["p50_us"] / 1e6, numbers["p99_us"] / 1e6)
    phase.seconds = numbers["duration_us"] / 1e6
    return phase


# --- stores and servers -------------------------------------------------------------------------


def peers_python() -> Path:
    """The peers' venv, made (or remade when the pins changed) from requirements-peers.txt."""
    python = PEERS_VENV / "bin" / "python"
    stamp = PEERS_VENV / ".requirements.sha256"
    wanted = hashlib.sha256(PEERS_REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    print(f"installing the peers into {PEERS_VENV.relative_to(ROOT)} …", flush=True)
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-r", str(PEERS_REQUIREMENTS)],
        check=True,
    )
    stamp.write_text(wanted)
    return python


def kg_serve_available() -> tuple[bool, str]:
    try:
        done = subprocess.run(
            [str(KG), "serve", "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return False, str(error)
    return done.returncode == 0, (done.stdout + done.stderr).strip()


def build_kg_store(data: Path, directory: Path) -> float:
    """A kg store holding the dataset file (its named graphs and their merged default graph)."""
    from pyoxigraph import RdfFormat

    from kg.store import OxigraphStore

    shutil.rmtree(directory, ignore_errors=True)
    start = time.perf_counter()
    OxigraphStore(directory).bulk_load(data, RdfFormat.N_QUADS)
    return time.perf_counter() - start


def build_oxigraph_store(oxigraph: Path, data: Path, directory: Path) -> float:
    shutil.rmtree(directory, ignore_errors=True)
    start = time.perf_counter()
    subprocess.run(
        [str(oxigraph), "load", "--location", str(directory), "--file", str(data)],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def make_server(name: str, size: int, data: Path, peers: Path, query_timeout: int) -> Server:
    port = free_port()
    log = WORK / "logs" / f"{size}-{name}.log"
    if name == "kg":
        command = [
            str(KG),
            "--store",
            str(WORK / f"kg-{size}"),
            "serve",
            "--host",
            HOST,
            "--port",
            str(port),
            "--query-timeout",
            str(query_timeout),
        ]
        return Server(name, command, "/sparql", "/health", log, port)
    if name == "oxigraph":
        command = [
            str(peers.parent / "oxigraph"),
            "serve-read-only",
            "--location",
            str(WORK / f"oxigraph-{size}"),
            "--bind",
            f"{HOST}:{port}",
            # no --timeout-s: it runs every query on a thread of its own, a third of the speed
            # on small answers; the client's timeout guards this benchmark instead
        ]
        return Server(name, command, "/query", "/query?query=ASK%7B%7D", log, port)
    command = [str(peers), str(Path(__file__).resolve()), "_serve-rdflib", str(data), str(port)]
    return Server(name, command, "/sparql", "/sparql?query=ASK%7B%7D", log, port)


def serve_rdflib(data: str, port: str) -> None:
    """Run by the peers' python: rdflib-endpoint over an rdflib Dataset of the N-Quads, whose
    default graph is the file's default graph (the merged one), as in kg and oxigraph."""
    import uvicorn
    from rdflib import Dataset
    from rdflib_endpoint import SparqlEndpoint

    dataset = Dataset(default_union=False)
    dataset.parse(data, format="nquads")
    app = SparqlEndpoint(graph=dataset, path="/sparql", cors_enabled=False)
    uvicorn.run(app, host=HOST, port=int(port), log_level="warning", access_log=False)


# --- the run ------------------------------------------------------------------------------------


@dataclass
class Settings:
    sizes: list[int]
    budget: float  # seconds per phase
    max_requests: int
    cache_budget: float
    cache_max_requests: int
    query_timeout: int
    rdflib_timeout: float
    rdflib_max_size: int
    concurrency_cap: float  # skip concurrency 8 when 8 requests in a row would take longer
    wrk: bool  # measure with wrk where it fits (else, and for slow answers, Python threads)
    wait_quiet: float  # seconds to wait, before each size, for other processes to calm down


def machine_facts(peers: Path) -> dict:
    from importlib.metadata import version

    versions = {"kg": version("kg"), "pyoxigraph": version("pyoxigraph")}
    peer_packages = ["oxigraph", "rdflib-endpoint", "rdflib", "fastapi", "uvicorn"]
    script = (
        "import json, importlib.metadata as m; "
        f"print(json.dumps({{n: m.version(n) for n in {peer_packages!r}}}))"
    )
    done = subprocess.run([str(peers), "-c", script], capture_output=True, text=True, check=True)
    versions.update(json.loads(done.stdout))
    if shutil.which("wrk"):
        wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
        versions["wrk"] = (wrk.stdout + wrk.stderr).split("\n", 1)[0].split(" [")[0]
    cpu = "unknown"
    try:
        found = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
        cpu = found.group(1).strip() if found else cpu
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
        "http_client": "http.client (standard library), one kept-alive connection per thread",
    }


def wait_for_quiet(limit: float) -> float:
    """Waits (up to `limit` seconds) until other processes use under 10% of the CPU; returns
    the share they used in the last second measured."""
    deadline = time.perf_counter() + limit
    while True:
        before, started = machine_busy(), time.perf_counter()
        time.sleep(1)
        wall = time.perf_counter() - started
        share = (machine_busy() - before) / (wall * (os.cpu_count() or 1))
        if share < 0.1 or time.perf_counter() >= deadline:
            return share
        time.sleep(4)


#: Answers slower than this under load are measured with the threads' client, not wrk.
WRK_MAX_LATENCY = 0.05


def fits_wrk(latency: float, concurrency: int, budget: float) -> bool:
    """Whether a phase suits wrk: answers well within its budget (wrk stops when the budget
    ends), and fast enough under load (about `latency` times the requests each of the two cores
    has queued) that none is still running when wrk closes its connections at the end. kg stops
    the worker processes of requests whose client has gone, and the new ones start cold: a
    benchmark artefact that the threads' client, which lets requests finish, does not cause."""
    return latency * 20 < budget and latency * max(1.0, concurrency / 2) < WRK_MAX_LATENCY


def settle(server: Server, query: Query, timeout: float, requests: int = 2) -> None:
    """Untimed concurrent requests after a wrk phase. wrk ends a phase by closing connections
    with requests in flight; kg then stops the worker processes running them and starts new
    ones, which pay for their start and for opening the store on their first query. These
    requests wait for that, so that the next phase starts on warm workers (as after a phase
    of the threads' client, which lets requests in flight finish)."""

    def one() -> None:
        client = Client(server.port, timeout)
        with contextlib.suppress(OSError, http.client.HTTPException):
            client.get(server.query_path, query.varied(next(PHASES), 0), query.accept)
        client.close()

    threads = [threading.Thread(target=one) for _ in range(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


#: A phase in which other processes used more of the CPU than this is measured again.
NOISY = 0.15


def quiet_phase(settings: Settings, *args, **kwargs) -> Phase:
    """run_phase, once more after the machine calmed down when other processes were busy
    during it (with --wait-quiet); the quieter of the two is kept."""
    server, query = args[0], args[1]
    phase = run_phase(*args, **kwargs)
    if phase.client == "wrk":
        settle(server, query, kwargs["timeout"])
    if settings.wait_quiet and phase.background_cpu > NOISY:
        wait_for_quiet(settings.wait_quiet)
        again = run_phase(*args, **kwargs)
        if again.client == "wrk":
            settle(server, query, kwargs["timeout"])
        phase = min(phase, again, key=lambda p: p.background_cpu)
        phase.measured_twice = True
    return phase


def print_phase(name: str, query: str, label: str, line: dict) -> None:
    print(
        f"  {name:16} {query:16} {label:6} median {line['median_ms']} ms  p99 {line['p99_ms']} ms"
        f"  {line['rps']} req/s  ({line['requests']} req, {line['errors']} errors)  "
        f"rss {line['peak_rss_mb']} MB  cpu/req server {line['server_cpu_ms_per_request']} ms, "
        f"client {line['client_cpu_ms_per_request']} ms [{line['client']}, others "
        f"{line['background_cpu_share']:.0%} of the CPU]",
        flush=True,
    )


def bench_size(
    names: list[str],
    size: int,
    data: Path,
    queries: list[Query],
    peers: Path,
    settings: Settings,
    stats: dict,
) -> dict:
    """Starts the servers side by side (idle ones take no CPU), then measures query after query
    and concurrency after concurrency on each in turn, so that the phases compared with each
    other run minutes apart at most; stops them all."""
    reports: dict = {}
    servers: dict[str, Server] = {}
    clients: dict[str, Client] = {}
    timeouts = {
        name: settings.rdflib_timeout if name == "rdflib-endpoint" else settings.query_timeout
        for name in names
    }
    if settings.wait_quiet:
        share = round(wait_for_quiet(settings.wait_quiet), 3)
    try:
        for name in names:
            reports[name] = {"queries": {}, "answers": {}, "notes": [], "phase_peaks": []}
            servers[name] = make_server(name, size, data, peers, settings.query_timeout)
        for name, server in servers.items():
            try:
                server.start(timeout=900)
            except RuntimeError as error:
                reports[name]["notes"].append(f"did not run: {error}")
                print(f"  {name}: {error}", flush=True)
                server.stop()
        live = [name for name in names if servers[name].process is not None]
        count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
        for name in live:
            server, report = servers[name], reports[name]
            report["startup_s"] = round(server.startup_seconds, 2)
            report["idle_rss_mb"] = round(tree_rss(server.pid) / 2**20, 1)
            if settings.wait_quiet:
                report["background_cpu_share_at_start"] = share
            clients[name] = Client(server.port, timeouts[name])
            _, _, body = clients[name].get(server.query_path, count, SELECT_JSON)
            triples = int(json.loads(body)["results"]["bindings"][0]["n"]["value"])
            report["default_graph_triples"] = triples
            if triples != stats["default_triples"]:
                expected = stats["default_triples"]
                report["notes"].append(
                    f"MISMATCH: the default graph has {triples} triples, the data {expected}"
                )
        busy: set[str] = set()  # servers still computing an answer their client gave up on
        for query in queries:
            first: dict[str, float] = {}
            sizes: dict[str, int] = {}
            for name in [n for n in live if n not in busy]:
                server, report, client = servers[name], reports[name], clients[name].fresh()
                sent = time.perf_counter()
                try:
                    status, media_type, body = client.get(
                        server.query_path, query.varied(next(PHASES), 0), query.accept
                    )
                except (OSError, http.client.HTTPException) as error:
                    waited = time.perf_counter() - sent
                    note = f"{query.name}: {type(error).__name__} {error} (after {waited:.0f} s)"
                    report["notes"].append(note + "; the rest of the mix is skipped at this size")
                    print(f"  {name} {note}", flush=True)
                    busy.add(name)
                    continue
                latency = time.perf_counter() - sent
                if status != 200:
                    report["notes"].append(f"{query.name}: HTTP {status}: {body[:300]!r}")
                    print(f"  {name} {query.name}: HTTP {status}: {body[:300]!r}", flush=True)
                    continue
                rows, digest = read_answer(query.accept, media_type, body)
                if latency < 30:  # a second, warm request: it decides how phases are run
                    sent = time.perf_counter()
                    warm = client.get(
                        server.query_path, query.varied(next(PHASES), 0), query.accept
                    )
                    latency = min(latency, time.perf_counter() - sent)
                    if warm[0] != 200 or read_answer(query.accept, warm[1], warm[2])[0] != rows:
                        report["notes"].append(f"{query.name}: a second answer differs")
                first[name], sizes[name] = latency, len(body)
                report["answers"][query.name] = {
                    "rows": rows,
                    "digest": digest,
                    "bytes": len(body),
                    "first_ms": round(latency * 1000, 1),
                }
            # kg and oxigraph are measured with the same client, chosen for the slower of them
            paired = max((first[n] for n in ("kg", "oxigraph") if n in first), default=0.0)
            for concurrency in (1, 8):
                for name in first:
                    report = reports[name]
                    latency = first[name]
                    if concurrency > 1 and latency * concurrency > settings.concurrency_cap:
                        report["notes"].append(
                            f"{query.name}: concurrency {concurrency} skipped, one request "
                            f"takes {latency:.1f} s"
                        )
                        continue
                    decisive = paired if name in ("kg", "oxigraph") else latency
                    try:
                        phase = quiet_phase(
                            settings,
                            servers[name],
                            query,
                            concurrency,
                            max_requests=settings.max_requests,
                            budget=settings.budget,
                            timeout=timeouts[name],
                            expected_rows=report["answers"][query.name]["rows"],
                            expected_bytes=sizes[name],
                            use_wrk=settings.wrk
                            and fits_wrk(decisive, concurrency, settings.budget),
                        )
                    except RuntimeError as error:  # wrk failed
                        report["notes"].append(f"{query.name} c={concurrency}: {error}")
                        print(f"  {name} {query.name}: {error}", flush=True)
                        continue
                    line = phase.summary()
                    report["queries"].setdefault(query.name, {})[str(concurrency)] = line
                    report["phase_peaks"].append(line["peak_rss_mb"])
                    print_phase(name, query.name, f"c={concurrency}", line)
        if "kg" in live:
            server, report, client = servers["kg"], reports["kg"], clients["kg"].fresh()
            report["cache_hit"] = {}
            for query in queries:
                if not query.heavy or query.name not in report["answers"]:
                    continue
                _, _, body = client.get(server.query_path, query.text, query.accept)  # cached
                phase = quiet_phase(
                    settings,
                    server,
                    query,
                    8,
                    max_requests=settings.cache_max_requests,
                    budget=settings.cache_budget,
                    timeout=timeouts["kg"],
                    expected_rows=report["answers"][query.name]["rows"],
                    expected_bytes=len(body),
                    use_wrk=settings.wrk,
                    identical=True,
                )
                report["cache_hit"][query.name] = summary = phase.summary()
                print_phase("kg", query.name, "cache", summary)
        for name in live:
            clients[name].close()
            peaks = reports[name].pop("phase_peaks") or [0]
            reports[name]["peak_rss_mb"] = max(max(peaks), reports[name]["idle_rss_mb"])
    finally:
        for name, server in servers.items():
            server.stop()
            problems = server.log_problems()
            if problems:
                reports[name]["log_problems"] = {"count": len(problems), "first": problems[:5]}
            reports[name].pop("phase_peaks", None)
    return reports


def client_ceiling(peers: Path, size: int, settings: Settings) -> dict:
    """Requests per second each client can drive at concurrency 8: a trivial ASK on oxigraph's
    server, which needs almost no CPU for it (the two cores are shared with the client)."""
    server = make_server("oxigraph", size, Path(), peers, settings.query_timeout)
    server.log = WORK / "logs" / f"{size}-client-ceiling.log"
    ceilings = {}
    try:
        server.start(timeout=120)
        ask = Query("ask", "ASK {}", SELECT_JSON, heavy=False)
        client = Client(server.port, 30)
        _, _, body = client.get(server.query_path, ask.text, ask.accept)
        client.close()
        for use_wrk in (False, True) if settings.wrk else (False,):
            phase = run_phase(
                server,
                ask,
                8,
                max_requests=40_000,
                budget=5,
                timeout=30,
                expected_rows=1,
                expected_bytes=len(body),
                use_wrk=use_wrk,
                identical=True,
            )
            ceilings["wrk" if use_wrk else "python"] = phase.summary()
        return ceilings
    finally:
        server.stop()


def ratios(servers: dict, queries: list[Query]) -> dict:
    """kg/oxigraph (latency: at most 1.25 wanted on heavy queries) and rdflib-endpoint/kg
    (latency: at least 30 wanted), from medians; the same from req/s at each concurrency."""
    result: dict = {}
    for query in queries:
        for concurrency in ("1", "8"):
            lines = {
                name: servers.get(name, {}).get("queries", {}).get(query.name, {}).get(concurrency)
                for name in SERVERS
            }

            def ratio(a: dict | None, b: dict | None, key: str) -> float | None:
                if not a or not b or not a.get(key) or not b.get(key):
                    return None
                return round(a[key] / b[key], 2)

            kg, ox, rd = lines["kg"], lines["oxigraph"], lines["rdflib-endpoint"]
            result.setdefault(query.name, {})[concurrency] = {
                "heavy": query.heavy,
                "kg_vs_oxigraph_latency": ratio(kg, ox, "median_ms"),
                "kg_vs_oxigraph_throughput": ratio(ox, kg, "rps"),
                "rdflib_endpoint_vs_kg_latency": ratio(rd, kg, "median_ms"),
                "rdflib_endpoint_vs_kg_throughput": ratio(kg, rd, "rps"),
            }
    return result


def compare_answers(servers: dict, queries: list[Query]) -> list[str]:
    mismatches = []
    for query in queries:
        answers = {
            name: servers[name]["answers"][query.name]
            for name in SERVERS
            if query.name in servers.get(name, {}).get("answers", {})
        }
        if len({a["rows"] for a in answers.values()}) > 1:
            mismatches.append(f"{query.name}: row counts differ: {answers}")
        elif len({a["digest"] for a in answers.values()}) > 1:
            mismatches.append(f"{query.name}: same row count, different answers: {answers}")
    return mismatches


def verdicts(sizes: dict) -> dict:
    """The targets, checked on every size, query and concurrency where both sides ran."""
    rdflib_ratios, oxigraph_heavy, cache = [], [], []
    for size, report in sizes.items():
        for name, by_concurrency in report.get("ratios", {}).items():
            for concurrency, line in by_concurrency.items():
                where = f"{size} {name} c={concurrency}"
                if line["rdflib_endpoint_vs_kg_latency"] is not None:
                    rdflib_ratios.append((line["rdflib_endpoint_vs_kg_latency"], where))
                if line["heavy"] and line["kg_vs_oxigraph_latency"] is not None:
                    oxigraph_heavy.append((line["kg_vs_oxigraph_latency"], where))
        for name, line in report.get("servers", {}).get("kg", {}).get("cache_hit", {}).items():
            if line.get("rps"):
                cache.append((line["rps"], f"{size} {name}"))

    def check(values, worst, passes) -> dict:
        if not values:
            return {"measured": False}
        value, where = worst(values)
        return {
            "worst": value,
            "where": where,
            "met": passes(value),
            "met_in": f"{sum(passes(v) for v, _ in values)} of {len(values)}",
            "values": {where: v for v, where in values},
        }

    return {
        "kg_at_least_30x_faster_than_rdflib_endpoint": check(
            rdflib_ratios, min, lambda v: v >= TARGETS["kg_faster_than_rdflib_endpoint"]
        ),
        "kg_within_1_25x_of_oxigraph_on_heavy_queries": check(
            oxigraph_heavy, max, lambda v: v <= TARGETS["kg_vs_oxigraph_heavy_at_most"]
        ),
        "kg_cache_hits_at_least_2000_rps": check(
            cache, min, lambda v: v >= TARGETS["kg_cache_hit_rps_at_least"]
        ),
    }


def print_tables(results: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(170, shutil.get_terminal_size().columns))

    def cell(line: dict | None, key: str) -> str:
        if not line or line.get(key) is None:
            return "–"
        value = line[key]
        return f"{value:,.0f}" if key == "rps" and value >= 100 else f"{value:g}"

    for size, report in results["sizes"].items():
        table = Table(title=f"{int(size):,} triples ({report['data']['quads']:,} quads)")
        table.add_column("query")
        table.add_column("c", justify="right")
        for name in SERVERS:
            for key in ("median ms", "p99 ms", "req/s", "RSS MB"):
                table.add_column(f"{name}\n{key}", justify="right")
        table.add_column("kg /\noxigraph", justify="right")
        table.add_column("rdflib-ep\n/ kg", justify="right")
        for query, by_concurrency in report["ratios"].items():
            for concurrency, ratio in by_concurrency.items():
                row = [query + (" *" if ratio["heavy"] else ""), concurrency]
                for name in SERVERS:
                    line = report["servers"].get(name, {}).get("queries", {}).get(query, {})
                    line = line.get(concurrency)
                    row += [cell(line, k) for k in ("median_ms", "p99_ms", "rps", "peak_rss_mb")]
                row += [
                    cell(ratio, "kg_vs_oxigraph_latency"),
                    cell(ratio, "rdflib_endpoint_vs_kg_latency"),
                ]
                table.add_row(*row)
        console.print(table)
        cache = report["servers"].get("kg", {}).get("cache_hit", {})
        for query, line in cache.items():
            console.print(
                f"  kg cache hits, {query}, c=8: {cell(line, 'rps')} req/s, "
                f"median {cell(line, 'median_ms')} ms, p99 {cell(line, 'p99_ms')} ms"
            )
        for name, server in report["servers"].items():
            for note in server.get("notes", []):
                console.print(f"  [yellow]{name}: {note}[/yellow]")
            if server.get("log_problems"):
                console.print(f"  [red]{name} log: {server['log_problems']}[/red]")
        for mismatch in report["mismatches"]:
            console.print(f"  [bold red]ANSWERS DIFFER: {mismatch}[/bold red]")
    console.print("* heavy (aggregate or property path). Ratios are of median latencies.")
    for target, verdict in results["verdicts"].items():
        if verdict.get("measured") is False:
            console.print(f"  {target}: not measured")
            continue
        mark = "[green]met[/green]" if verdict["met"] else "[red]not met[/red]"
        console.print(
            f"  {target}: {mark} (worst {verdict['worst']} at {verdict['where']}; "
            f"met in {verdict['met_in']})"
        )
    busy = [
        (line.get("background_cpu_share") or 0, f"{size} {name} {query} c={c}")
        for size, report in results["sizes"].items()
        for name, server in report["servers"].items()
        for query, by_concurrency in server.get("queries", {}).items()
        for c, line in by_concurrency.items()
    ]
    noisy = [where for share, where in busy if share > NOISY]
    if noisy:
        console.print(
            f"[yellow]Other processes used over 15% of the CPU in {len(noisy)} of {len(busy)} "
            "phases (background_cpu_share): those numbers are pessimistic.[/yellow]"
        )


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "_serve-rdflib":
        serve_rdflib(sys.argv[2], sys.argv[3])
        return 0
    arguments = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    arguments.add_argument("--sizes", type=int, nargs="+", default=None)
    arguments.add_argument("--quick", action="store_true", help="10k and 100k, short phases")
    arguments.add_argument("--seed", type=int, default=1)
    arguments.add_argument(
        "--rdflib-max-size",
        type=int,
        default=100_000,
        help="largest size rdflib-endpoint is run at (default 100000: at 1M it would parse 4M "
        "quads for about ten minutes, and its filter_join takes 18 s at 100k already)",
    )
    arguments.add_argument(
        "--servers", nargs="+", choices=SERVERS, default=list(SERVERS), help="servers to run"
    )
    arguments.add_argument("--output", type=Path, default=RESULTS / "serve.json")
    arguments.add_argument(
        "--wait-quiet",
        type=float,
        default=0,
        metavar="SECONDS",
        help="before each size, wait up to this long for other processes to use <10%% CPU; "
        "measure a phase again when they used over 15%% during it",
    )
    arguments.add_argument(
        "--no-wrk", action="store_true", help="measure with Python threads even if wrk is there"
    )
    options = arguments.parse_args()
    options.output = options.output.resolve()
    quick = options.quick
    settings = Settings(
        sizes=options.sizes or ([10_000, 100_000] if quick else [10_000, 100_000, 1_000_000]),
        budget=2.0 if quick else 8.0,
        max_requests=200 if quick else 2000,
        cache_budget=3.0 if quick else 8.0,
        cache_max_requests=10_000 if quick else 40_000,
        query_timeout=120,
        rdflib_timeout=60.0 if quick else 120.0,
        rdflib_max_size=options.rdflib_max_size,
        concurrency_cap=20.0 if quick else 90.0,
        wrk=shutil.which("wrk") is not None and not options.no_wrk,
        wait_quiet=options.wait_quiet,
    )
    if not settings.wrk:
        print(
            "wrk is not used (apt-get install wrk): every phase runs on Python threads, whose "
            "CPU per request bounds the fastest answers (see client_ceiling_c8)"
        )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.perf_counter()
    sys.path.insert(0, str(BENCH))
    from synth import generate

    peers = peers_python()
    available, help_text = kg_serve_available()
    servers = list(options.servers)
    kg_note = None
    if "kg" in servers and not available:
        kg_note = "kg serve is not available (`kg serve --help` failed): kg is skipped"
        print(f"{kg_note}\n  {help_text.splitlines()[-1] if help_text else ''}", flush=True)
        servers.remove("kg")
    results: dict = {
        "machine": machine_facts(peers),
        "settings": {
            "quick": quick,
            "phase_budget_s": settings.budget,
            "phase_max_requests": settings.max_requests,
            "cache_phase_budget_s": settings.cache_budget,
            "query_timeout_s": settings.query_timeout,
            "rdflib_endpoint_timeout_s": settings.rdflib_timeout,
            "rdflib_endpoint_max_size": settings.rdflib_max_size,
            "concurrency_8_skipped_when_8_requests_exceed_s": settings.concurrency_cap,
            "load_generator": "wrk where answers take under 1/20 of the phase and under 50 ms at"
            " that concurrency, else Python threads"
            if settings.wrk
            else "Python threads",
            "seed": options.seed,
        },
        "targets": TARGETS,
        "notes": [kg_note] if kg_note else [],
        "sizes": {},
    }
    WORK.mkdir(parents=True, exist_ok=True)
    try:
        for size in settings.sizes:
            print(f"\n== {size:,} triples", flush=True)
            data = WORK / f"synth-{size}.nq"
            stats = vars(generate(size, data, options.seed))
            print(
                f"  data: {stats['default_triples']:,} triples, {stats['quads']:,} quads, "
                f"{stats['seconds']} s",
                flush=True,
            )
            queries = query_mix(stats)
            report: dict = {"data": stats, "build_s": {}, "servers": {}}
            names = []
            for name in servers:
                if name == "rdflib-endpoint" and size > settings.rdflib_max_size:
                    note = (
                        f"not run above {settings.rdflib_max_size:,} triples (--rdflib-max-size):"
                        " it parses N-Quads at about 5k quads/s and answers in seconds at 100k"
                    )
                    report["servers"][name] = {"notes": [note]}
                    print(f"  {name}: {note}", flush=True)
                    continue
                names.append(name)
                if name == "kg":
                    report["build_s"]["kg_bulk_load"] = round(
                        build_kg_store(data, WORK / f"kg-{size}"), 2
                    )
                elif name == "oxigraph":
                    seconds = build_oxigraph_store(
                        peers.parent / "oxigraph", data, WORK / f"oxigraph-{size}"
                    )
                    report["build_s"]["oxigraph_load"] = round(seconds, 2)
            report["servers"].update(bench_size(names, size, data, queries, peers, settings, stats))
            if "rdflib-endpoint" in names:
                report["build_s"]["rdflib_endpoint_parse_and_start"] = report["servers"][
                    "rdflib-endpoint"
                ].get("startup_s")
            if "oxigraph" in names and "client_ceiling_c8" not in results:
                results["client_ceiling_c8"] = ceiling = client_ceiling(peers, size, settings)
                print(f"  client ceiling (ASK {{}} on oxigraph, c=8): {ceiling}", flush=True)
            report["ratios"] = ratios(report["servers"], queries)
            report["mismatches"] = compare_answers(report["servers"], queries)
            for mismatch in report["mismatches"]:
                print(f"  !!! ANSWERS DIFFER: {mismatch}", flush=True)
            results["sizes"][str(size)] = report
            for name in ("kg", "oxigraph"):  # the stores are large: dropped once measured
                shutil.rmtree(WORK / f"{name}-{size}", ignore_errors=True)
    finally:
        stop_all()
    results["verdicts"] = verdicts(results["sizes"])
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print_tables(results)
    print(f"\nwrote {options.output} in {results['total_seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
