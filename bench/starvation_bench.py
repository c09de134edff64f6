"""Starvation (issue 9): how long a cheap query waits while expensive ones hold the workers.

A store of synthetic data (bench/synth.py, 100k triples, loaded with `kg load`) is served by
`kg serve` on 127.0.0.1 with the default number of query workers. A probe sends a cheap
`ASK { ?s ?p ?o }` every 200 ms (open loop: it does not wait for the previous answer) during:

- baseline: no other load;
- runaways: 2 clients each send, back to back, a cross product that would run far past the
  time limit (each one ends in 503 at the limit);
- mixed: 64 clients, each sending light queries (ASK, small SELECTs) and, 10% of the time, a
  heavy aggregate over the whole graph (about 0.5-1 s alone).

Every query is spelled apart (a FILTER constant), so kg's answer cache never answers one. The
latency of a request counts until its answer (a 503 at the limit counts as its full wait).
Each scenario lasts 30 s; requests in flight at its end are answered (every client waits longer
than the time limit: a client that gave up would make kg stop its worker). Before each scenario
the harness waits (`--wait-quiet`, 300 s at most) for other processes to use under 10% of the
CPU, and it records the peak RSS of the server's processes and the CPU share the server, the
harness and other processes used. Results go to bench/results/starvation.json under
`--label`, next to the other labels' runs.

    .venv/bin/python bench/starvation_bench.py --label after
    .venv/bin/python bench/starvation_bench.py --label before --src /tmp/kg-before/src
"""

import argparse
import http.client
import itertools
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import psutil
import synth
from pyoxigraph import DefaultGraph, RdfFormat, Triple, parse, serialize
from serve_bench import free_port, stop_process_tree

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "starvation.json"
HOST = "127.0.0.1"
ACCEPT = "application/sparql-results+json"
#: Unique numbers for the FILTER constants that keep every query out of the answer cache.
NUMBERS = itertools.count(1)

PROBE = 'ASK {{ ?s ?p ?o FILTER(?o != "probe {n}") }}'
RUNAWAY = 'SELECT (COUNT(*) AS ?n) WHERE {{ ?a ?b ?c . ?d ?e ?f FILTER(?c != "runaway {n}") }}'
LIGHT = [
    PROBE.replace("probe", "light"),
    'SELECT ?s ?p ?o WHERE {{ ?s ?p ?o FILTER(?o != "light {n}") }} LIMIT 10',
    'SELECT ?p ?o WHERE {{ <{sample}> ?p ?o FILTER(?o != "light {n}") }}',
]
HEAVY = [  # about 0.5 to 0.9 s each alone at 100k triples
    "SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o . ?o ?q ?x FILTER(?q != <urn:heavy:{n}>) }}",
    "SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o . ?s ?q ?x FILTER(?q != <urn:heavy:{n}>) }}",
    "SELECT ?o (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o . ?s ?q ?x FILTER(?q != <urn:heavy:{n}>) }}"
    " GROUP BY ?o ORDER BY DESC(?n) LIMIT 5",
]


def build_store(src: Path, work: Path, triples: int, seed: int, env: dict) -> dict:
    """Synthetic data as one N-Triples file (the merged graph; its owl:sameAs links point at
    entries synth does not describe and are dropped: kg derives its own), loaded by `kg load`."""
    quads = work / "synth.nq"
    stats = synth.generate(triples, quads, seed)
    merged = [
        Triple(q.subject, q.predicate, q.object)
        for q in parse(path=str(quads), format=RdfFormat.N_QUADS)
        if isinstance(q.graph_name, DefaultGraph) and not q.predicate.value.endswith("#sameAs")
    ]
    serialize(merged, output=str(work / "synth.nt"), format=RdfFormat.N_TRIPLES)
    started = time.perf_counter()
    command = [sys.executable, "-m", "kg", "--store", str(work / "store"), "load", "synth.nt"]
    loaded = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True)
    if loaded.returncode != 0:
        raise RuntimeError(f"kg load failed: {loaded.stdout[-2000:]}{loaded.stderr[-2000:]}")
    return {
        "triples": len(merged),
        "load_s": round(time.perf_counter() - started, 1),
        "sample": stats.sample_mitigation,
    }


class Server:
    """`kg serve` run from `src`; the process prints where it imported kg from, which is checked."""

    BOOT = (
        "import sys, kg; print('kg imported from', kg.__file__, file=sys.stderr, flush=True); "
        "from kg.cli import main; main()"
    )

    def __init__(self, src: Path, work: Path, env: dict, timeout: float) -> None:
        self.port = free_port()
        self.log = work / "serve.log"
        arguments = ["--store", str(work / "store"), "serve", "--host", HOST]
        arguments += ["--port", str(self.port), "--query-timeout", str(timeout)]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", self.BOOT, *arguments],
                cwd=work,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        started = time.perf_counter()
        while time.perf_counter() - started < 120:
            if self.process.poll() is not None:
                raise RuntimeError(f"kg serve exited: {self.log.read_text()[-2000:]}")
            with suppress(OSError, http.client.HTTPException):
                connection = http.client.HTTPConnection(HOST, self.port, timeout=5)
                connection.request("GET", "/health")
                if connection.getresponse().status == 200:
                    break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"kg serve not healthy: {self.log.read_text()[-2000:]}")
        self.startup_s = round(time.perf_counter() - started, 1)
        self.imported = self.log.read_text().split("kg imported from ", 1)[1].split("\n", 1)[0]
        if not Path(self.imported).resolve().is_relative_to(src.resolve()):
            raise RuntimeError(f"kg serve imported kg from {self.imported}, not from {src}")

    def tree(self) -> list[psutil.Process]:
        with suppress(psutil.Error):
            main = psutil.Process(self.process.pid)
            return [main, *main.children(recursive=True)]
        return []

    def stop(self) -> None:
        stop_process_tree(self.process)


def cpu_seconds(server: Server) -> tuple[float, float, float]:
    """CPU seconds so far: the machine (busy), the server's tree (reaped workers included), this
    harness."""
    machine = psutil.cpu_times()
    used = 0.0
    for process in server.tree():
        with suppress(psutil.Error):
            times = process.cpu_times()
            used += times.user + times.system + times.children_user + times.children_system
    own = resource.getrusage(resource.RUSAGE_SELF)
    busy = sum(machine) - machine.idle - getattr(machine, "iowait", 0.0)
    return busy, used, own.ru_utime + own.ru_stime


def wait_quiet(server: Server, limit: float) -> float:
    """Waits up to `limit` s for a second in which other processes use under 10% of the CPU;
    returns the seconds waited."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        before = cpu_seconds(server)
        time.sleep(1.0)
        machine, used, own = (b - a for a, b in zip(before, cpu_seconds(server), strict=True))
        if machine - used - own < 0.1 * (os.cpu_count() or 1):
            break
    return round(time.perf_counter() - started, 1)


class Watch:
    """During a scenario: the peak of the summed RSS of the server's process tree, sampled every
    0.2 s (workers come and go: a stopped query's worker is replaced), and the CPU the server,
    this harness and other processes used (the machine is shared; others' use skews latencies)."""

    def __init__(self, server: Server) -> None:
        self.server, self.peak, self.done = server, 0, threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self.done.wait(0.2):
            total = 0
            for process in self.server.tree():
                with suppress(psutil.Error):
                    total += process.memory_info().rss
            self.peak = max(self.peak, total)

    def __enter__(self) -> "Watch":
        self.started, self.cpu_before = time.perf_counter(), cpu_seconds(self.server)
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.done.set()
        self.thread.join()
        wall = time.perf_counter() - self.started
        machine, server, own = (
            b - a for a, b in zip(self.cpu_before, cpu_seconds(self.server), strict=True)
        )
        capacity = wall * (os.cpu_count() or 1)
        self.usage = {
            "peak_rss_mb": round(self.peak / 2**20),
            "server_cpu_share": round(server / capacity, 2),
            "client_cpu_share": round(own / capacity, 2),
            "other_cpu_share": round(max(0.0, machine - server - own) / capacity, 2),
        }


class Client:
    """One kept-alive connection. Its timeout outlasts the server's limit: a client that gave up
    would disconnect, and kg then kills the worker, which is not what is measured here."""

    def __init__(self, port: int, timeout: float) -> None:
        self.port, self.timeout = port, timeout
        self.connection = http.client.HTTPConnection(HOST, port, timeout=timeout)

    def send(self, query: str) -> tuple[int, float]:
        """Status (0: no answer) and seconds until the answer was read."""
        target = "/sparql?query=" + quote(query, safe="")
        started = time.perf_counter()
        for attempt in (1, 2):  # once more when uvicorn closed the idle kept-alive connection
            try:
                self.connection.request("GET", target, headers={"Accept": ACCEPT})
                response = self.connection.getresponse()
                response.read()
                return response.status, time.perf_counter() - started
            except (OSError, http.client.HTTPException) as error:
                self.connection.close()
                self.connection = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
                if attempt == 2 or not isinstance(error, http.client.RemoteDisconnected):
                    return 0, time.perf_counter() - started
        raise AssertionError("unreachable")


def summary(records: list[tuple[int, float]], seconds: float) -> dict:
    """Statuses, latency percentiles (nearest rank, every request counted) and answers per second
    (200s over the scenario's wall time, requests in flight at its end included)."""
    latencies = sorted(latency for _, latency in records)

    def at(share: float) -> float | None:
        if not latencies:
            return None
        return round(latencies[min(len(latencies) - 1, int(share * len(latencies)))] * 1000, 1)

    statuses: dict[str, int] = {}
    for status, _ in records:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    return {
        "requests": len(records),
        "statuses": dict(sorted(statuses.items())),
        "p50_ms": at(0.5),
        "p90_ms": at(0.9),
        "p99_ms": at(0.99),
        "max_ms": at(1.0),
        "answered_per_s": round(statuses.get("200", 0) / seconds, 1),
    }


def scenario(server: Server, options, loaders: int, pick) -> dict:
    """Probes every `probe_interval` s for `duration` s while `loaders` threads send `pick(rng)`
    back to back; requests in flight at the end are answered (within the server's limit)."""
    records: dict[str, list] = {"probe": []}
    timeout = options.timeout + 30
    waited = wait_quiet(server, options.wait_quiet)
    started = time.perf_counter()
    deadline = started + options.duration

    def load(number: int) -> None:
        client, rng = Client(server.port, timeout), random.Random(number)
        for _ in range(options.max_requests):
            if time.perf_counter() >= deadline:
                return
            kind, query = pick(rng)
            records.setdefault(kind, []).append(client.send(query))

    def probe() -> None:
        records["probe"].append(Client(server.port, timeout).send(PROBE.format(n=next(NUMBERS))))

    # Enough threads for every probe that can be waiting at once (up to the time limit).
    probes = int((options.timeout + 5) / options.probe_interval) + 8
    with Watch(server) as watch, ThreadPoolExecutor(loaders + probes) as pool:
        futures = [pool.submit(load, number) for number in range(loaders)]
        for count in range(int(options.duration / options.probe_interval)):
            time.sleep(max(0.0, started + count * options.probe_interval - time.perf_counter()))
            futures.append(pool.submit(probe))
        for future in futures:
            future.result()  # raises what a thread raised
    seconds = time.perf_counter() - started
    result = {kind: summary(found, seconds) for kind, found in sorted(records.items())}
    return {**result, "seconds": round(seconds, 1), "waited_for_quiet_s": waited, **watch.usage}


def settle(server: Server) -> None:
    """Waits until both workers answer quickly again (killed workers are replaced cold)."""
    for _ in range(60):
        queries = [PROBE.format(n=next(NUMBERS)) for _ in range(2)]
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda query: Client(server.port, 30).send(query), queries))
        if all(status == 200 and latency < 0.25 for status, latency in answers):
            return
        time.sleep(0.5)


def run(options, src: Path, work: Path, env: dict) -> dict:
    data = build_store(src, work, options.triples, options.seed, env)
    server = Server(src, work, env, options.timeout)
    try:
        alone = {}
        for number, template in enumerate(HEAVY):
            status, latency = Client(server.port, 60).send(template.format(n=next(NUMBERS)))
            alone[f"heavy_{number}"] = {"status": status, "ms": round(latency * 1000)}
        settle(server)
        results = {"baseline": scenario(server, options, 0, None)}
        print("baseline done", flush=True)
        settle(server)
        results["runaways"] = scenario(
            server, options, 2, lambda rng: ("runaway", RUNAWAY.format(n=next(NUMBERS)))
        )
        print("runaways done", flush=True)
        settle(server)

        def mixed(rng: random.Random) -> tuple[str, str]:
            heavy = rng.random() < options.heavy_share
            template = rng.choice(HEAVY if heavy else LIGHT)
            query = template.format(n=next(NUMBERS), sample=data["sample"])
            return ("heavy" if heavy else "light"), query

        results["mixed"] = scenario(server, options, options.clients, mixed)
        print("mixed done", flush=True)
    finally:
        server.stop()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "src": str(src),
        "kg_imported_from": server.imported,
        "commit": git(src, "rev-parse", "--short", "HEAD"),
        "modified_files": git(src, "status", "--porcelain", "--untracked-files=no", "--", "."),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "settings": {k: v for k, v in vars(options).items() if k not in ("label", "src", "output")},
        "data": data,
        "server_startup_s": server.startup_s,
        "heavy_alone": alone,
        "scenarios": results,
    }


def git(src: Path, *arguments: str) -> str:
    done = subprocess.run(["git", "-C", str(src), *arguments], capture_output=True, text=True)
    return done.stdout.strip()


def table(entry: dict) -> str:
    """One row per series: request count, latency percentiles (ms) and statuses."""
    header = ("scenario", "series", "n", "p50", "p90", "p99", "max")
    lines = ["{:<9} {:<8} {:>5} {:>8} {:>8} {:>8} {:>8}  statuses".format(*header)]
    for name, found in entry["scenarios"].items():
        for series, stats in found.items():
            if not isinstance(stats, dict):
                continue
            values = [stats[k] for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms")]
            cells = " ".join(f"{'-' if v is None else v:>8}" for v in values)
            lines.append(
                f"{name:<9} {series:<8} {stats['requests']:>5} {cells}  {stats['statuses']}"
            )
        lines.append(
            f"{name:<9} peak RSS {found['peak_rss_mb']} MB; CPU share: server"
            f" {found['server_cpu_share']}, client {found['client_cpu_share']},"
            f" other processes {found['other_cpu_share']}"
        )
    return "\n".join(lines)


def main() -> int:
    arguments = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    arguments.add_argument("--label", required=True, help="name of this run, e.g. before, after")
    arguments.add_argument("--src", type=Path, default=ROOT / "src", help="the kg source tree")
    arguments.add_argument("--triples", type=int, default=100_000)
    arguments.add_argument("--seed", type=int, default=1)
    arguments.add_argument("--duration", type=float, default=30.0, help="seconds per scenario")
    arguments.add_argument("--timeout", type=float, default=10.0, help="kg's query time limit")
    arguments.add_argument("--clients", type=int, default=64, help="clients of the mixed load")
    arguments.add_argument("--heavy-share", type=float, default=0.1)
    arguments.add_argument("--probe-interval", type=float, default=0.2)
    arguments.add_argument("--max-requests", type=int, default=5000, help="per client")
    arguments.add_argument("--wait-quiet", type=float, default=300.0, help="seconds at most")
    arguments.add_argument("--output", type=Path, default=RESULTS)
    options = arguments.parse_args()
    src = options.src.resolve()
    env = {key: value for key, value in os.environ.items() if not key.startswith("KG_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory(prefix="kg-starvation-") as work:
        entry = run(options, src, Path(work), env)
    print(table(entry))
    results = json.loads(options.output.read_text()) if options.output.exists() else {}
    results[options.label] = entry
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"kg from {entry['kg_imported_from']}; written to {options.output} as {options.label!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
