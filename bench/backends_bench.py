"""The embedded store and a remote engine (Oxigraph server) side by side, at each size: load
throughput, the query mix through kg's store interface, and peak memory of kg and the engine.

    python bench/backends_bench.py [--sizes 1000000 10000000]

Each size's synthetic graph (bench/synth.py) is loaded with `bulk_load` (the path of a bulk
import) into a fresh embedded store and into a fresh `oxigraph serve` through kg's remote store,
which commits on its working copy, then sends the change as one update request. The query mix
(serve_bench.query_mix) then runs through `GraphStore.query` on each: median of REPEATS runs,
answers read to their end. Writes bench/results/backends.json.
"""

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "tests"))

from serve_bench import query_mix  # noqa: E402
from server_process import ServerProcess  # noqa: E402
from synth import generate  # noqa: E402

from kg.settings import Settings  # noqa: E402
from kg.stores import open_store  # noqa: E402

WORK = BENCH / "work" / "backends"
RESULTS = BENCH / "results" / "backends.json"
REPEATS = 5


class PeakRss:
    """Peak resident memory of a process tree, sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0

    def sample(self) -> None:
        try:
            tree = [self.process, *self.process.children(recursive=True)]
            self.peak = max(self.peak, sum(p.memory_info().rss for p in tree))
        except psutil.Error:
            pass


def timed_with_memory(action, watched: list[PeakRss]):
    import threading

    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.05):
            for w in watched:
                w.sample()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    start = time.perf_counter()
    try:
        action()
    finally:
        seconds = time.perf_counter() - start
        done.set()
        thread.join()
    return seconds


def run_mix(store, sample: dict) -> dict:
    timings = {}
    for query in query_mix(sample):
        runs = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            result = store.query(query.text)
            rows = sum(1 for _ in result) if not isinstance(result, bool) else 1
            runs.append(time.perf_counter() - start)
        timings[query.name] = {"median_ms": round(statistics.median(runs) * 1000, 2), "rows": rows}
    return timings


def bench_size(size: int) -> dict:
    from pyoxigraph import RdfFormat

    folder = WORK / str(size)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    data = folder / "data.nq"
    stats = generate(size, data)
    sample = {k: v for k, v in vars(stats).items() if k.startswith("sample_")}
    result: dict = {"triples": stats.default_triples, "quads": stats.quads}
    own = PeakRss(psutil.Process().pid)

    embedded = Settings(store=folder / "embedded")
    store = open_store(embedded)
    own.peak = 0
    seconds = timed_with_memory(lambda: store.bulk_load(data, RdfFormat.N_QUADS), [own])
    result["embedded"] = {
        "load_s": round(seconds, 2),
        "load_quads_per_s": round(stats.quads / seconds),
        "kg_peak_rss_mb": round(own.peak / 2**20),
        "queries": run_mix(store, sample),
    }
    print(json.dumps({"embedded": result["embedded"]}), flush=True)

    binary = str(Path(sys.executable).with_name("oxigraph"))
    command = [binary, "serve", "--location", str(folder / "engine"), "--bind", "127.0.0.1:{port}"]
    with ServerProcess(command, ready_path="/query?query=ASK%7B%7D") as engine:
        remote = Settings(store="sparql+" + engine.url, store_workdir=folder / "kg-remote")
        store = open_store(remote)
        server = PeakRss(engine.pid)
        own.peak = 0
        seconds = timed_with_memory(lambda: store.bulk_load(data, RdfFormat.N_QUADS), [own, server])
        result["oxigraph_server"] = {
            "load_s": round(seconds, 2),
            "load_quads_per_s": round(stats.quads / seconds),
            "kg_peak_rss_mb": round(own.peak / 2**20),
            "engine_peak_rss_mb": round(server.peak / 2**20),
            "queries": run_mix(store, sample),
        }
    print(json.dumps({"oxigraph_server": result["oxigraph_server"]}), flush=True)
    shutil.rmtree(folder, ignore_errors=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    options = parser.parse_args()
    results = {
        "machine": {
            "cpus": psutil.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(),
            "oxigraph": subprocess.run(
                [str(Path(sys.executable).with_name("oxigraph")), "--version"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout.strip(),
        },
        "repeats": REPEATS,
        "sizes": {},
    }
    for size in options.sizes:
        print(f"== {size:,} triples", flush=True)
        results["sizes"][str(size)] = bench_size(size)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
