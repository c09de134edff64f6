"""The embedded store and the remote engines (Oxigraph server, Virtuoso) side by side, at each
size: load throughput, the query mix through kg's store interface, and peak memory of kg and the
engine.

    python bench/backends_bench.py [--sizes 1000000 10000000] [--backends embedded virtuoso]
    python bench/backends_bench.py --table    # the results as Markdown tables (docs/scaling.md)

Each size's synthetic graph (bench/synth.py) is loaded with `bulk_load` (the path of a bulk
import) into a fresh embedded store, and into a fresh engine (started as the tests start them:
tests/engines.py) through kg's remote store, which commits on its working copy, then sends the
change (a first load, written in place: N-Quads to Oxigraph's bulk loader, a graph a request to
Virtuoso's graph store). The query mix (serve_bench.query_mix) then runs through
`GraphStore.query` on each: median of `--repeats` runs (REPEATS by default), answers read to
their end; `--skip` leaves queries out (recorded as not run). Writes bench/results/backends.json.
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

from engines import engine, remote_settings  # noqa: E402
from serve_bench import query_mix  # noqa: E402
from synth import generate  # noqa: E402

from kg.errors import KgError  # noqa: E402
from kg.settings import Settings  # noqa: E402
from kg.stores import open_store  # noqa: E402

WORK = BENCH / "work" / "backends"
RESULTS = BENCH / "results" / "backends.json"
REPEATS = 5
BACKENDS = ["embedded", "oxigraph", "virtuoso"]
#: Virtuoso with 2.6 GiB of buffers (its advice for a few million triples).
ENGINE_OPTIONS = {"virtuoso": {"buffers": 340_000}}


class PeakRss:
    """Peak resident memory of a process (with its children: an engine's tree), sampled every
    50 ms."""

    def __init__(self, pid: int, children: bool = True) -> None:
        self.process = psutil.Process(pid)
        self.children = children
        self.peak = 0

    def sample(self) -> None:
        try:
            tree = [self.process]
            if self.children:
                tree += self.process.children(recursive=True)
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


def run_mix(store, sample: dict, repeats: int, skip: list[str]) -> dict:
    timings = {}
    for query in query_mix(sample):
        if query.name in skip:
            timings[query.name] = {"skipped": True}
            continue
        runs = []
        try:
            for _ in range(repeats):
                start = time.perf_counter()
                result = store.query(query.text)
                rows = sum(1 for _ in result) if not isinstance(result, bool) else 1
                runs.append(time.perf_counter() - start)
        except KgError as error:  # an engine may refuse a query the others run
            timings[query.name] = {"error": str(error)[:300]}
            continue
        timings[query.name] = {"median_ms": round(statistics.median(runs) * 1000, 2), "rows": rows}
    return timings


def measure(store, data: Path, quads: int, sample: dict, own: PeakRss, mix: dict, engine_pid=None):
    from pyoxigraph import RdfFormat

    watched = [own] + ([PeakRss(engine_pid)] if engine_pid else [])
    own.peak = 0
    try:
        seconds = timed_with_memory(lambda: store.bulk_load(data, RdfFormat.N_QUADS), watched)
    except KgError as error:
        return {"load_error": str(error)[:400]}
    measured = {
        "load_s": round(seconds, 2),
        "load_quads_per_s": round(quads / seconds),
        "kg_peak_rss_mb": round(own.peak / 2**20),
    }
    if engine_pid:
        measured["engine_peak_rss_mb"] = round(watched[1].peak / 2**20)
    measured["queries"] = run_mix(store, sample, **mix)
    return measured


def bench_size(size: int, backends: list[str], mix: dict) -> dict:

    folder = WORK / str(size)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    data = folder / "data.nq"
    stats = generate(size, data)
    sample = {k: v for k, v in vars(stats).items() if k.startswith("sample_")}
    result: dict = {"triples": stats.default_triples, "quads": stats.quads, **mix}
    own = PeakRss(psutil.Process().pid, children=False)  # the engines are its children

    for backend in backends:
        if backend == "embedded":
            store = open_store(Settings(store=folder / "embedded"))
            result[backend] = measure(store, data, stats.quads, sample, own, mix)
        else:
            with engine(backend, folder, **ENGINE_OPTIONS.get(backend, {})) as server:
                store = open_store(remote_settings(server, folder))
                result[backend] = measure(store, data, stats.quads, sample, own, mix, server.pid)
        print(json.dumps({backend: result[backend]}), flush=True)
    shutil.rmtree(folder, ignore_errors=True)
    return result


def _virtuoso_version() -> str | None:
    try:
        said = subprocess.run(["virtuoso-t", "-?"], capture_output=True, text=True, check=False)
    except OSError:
        return None
    lines = (said.stdout + said.stderr).splitlines()
    return next((line for line in lines if line.startswith("Version")), None)


def table(results: dict) -> str:
    """Each size's results as a Markdown table, a column per backend."""
    out = []
    for size, measured in results["sizes"].items():
        backends = [b for b in BACKENDS if b in measured]
        columns = [measured[b] for b in backends]
        names = next((list(c["queries"]) for c in columns if "queries" in c), [])
        rows = [("load", _load), ("peak memory", _memory)]
        rows += [(name, lambda c, name=name: _timing(c, name)) for name in names]
        runs = measured.get("repeats", REPEATS)
        how = f"median of {runs} runs" if runs > 1 else "one run"
        out += [f"### {int(size):,} triples ({measured['quads']:,} quads; queries: {how})", ""]
        out += ["| | " + " | ".join(backends) + " |", "|---" * (len(backends) + 1) + "|"]
        for label, render in rows:
            out.append(f"| {label} | " + " | ".join(_cell(c, render) for c in columns) + " |")
        out.append("")
    return "\n".join(out)


def _cell(column: dict, render) -> str:
    try:
        return render(column)
    except KeyError:  # not measured: the load failed, or the run stopped
        return "–"


def _load(column: dict) -> str:
    if "load_error" in column:
        return f"failed: {column['load_error'][:60]}"
    return f"{column['load_s']} s ({column['load_quads_per_s']:,} quads/s)"


def _memory(column: dict) -> str:
    engine = column.get("engine_peak_rss_mb")
    if column.get("kg_peak_includes_engine"):  # measured before the bench told them apart
        return f"kg and engine {column['kg_peak_rss_mb']:,} MB (engine {engine:,} MB)"
    return f"kg {column['kg_peak_rss_mb']:,} MB" + (f" + engine {engine:,} MB" if engine else "")


def _timing(column: dict, name: str) -> str:
    answer = column["queries"][name]
    if answer.get("skipped"):
        return "not run"
    return f"{answer['median_ms']} ms" if "median_ms" in answer else "refused"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", action="store_true", help="print the results as tables")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=BACKENDS)
    parser.add_argument("--repeats", type=int, default=REPEATS, help="runs of each query")
    parser.add_argument("--skip", nargs="+", default=[], metavar="QUERY", help="queries not run")
    options = parser.parse_args()
    if options.table:
        print(table(json.loads(RESULTS.read_text())))
        return 0
    # Runs of some sizes or backends update the results of earlier runs.
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"sizes": {}}
    results["machine"] = {
        "cpus": psutil.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "oxigraph": subprocess.run(
            [str(Path(sys.executable).with_name("oxigraph")), "--version"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip(),
        "virtuoso": _virtuoso_version(),
    }
    mix = {"repeats": options.repeats, "skip": options.skip}
    results.pop("notes", None)  # notes are about one run: written again by hand after it
    for size in options.sizes:
        print(f"== {size:,} triples", flush=True)
        measured = bench_size(size, options.backends, mix)
        results["sizes"].setdefault(str(size), {}).update(measured)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
