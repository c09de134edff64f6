"""SHACL validation time at about 10k, 100k and 1M triples: pySHACL against what `kg validate`
uses (pyshacl-turbo), same run, same data, both giving identical reports.

Run with `make bench` (needs ../shared), or `python bench/validate_bench.py --sizes 10000 100000`.
Writes bench/results/validate.json and prints a summary. pySHACL is skipped above
--pyshacl-limit triples (default 100k): it runs for many minutes at 1M.
"""

import argparse
import json
import os
import platform
import sys
import time

from load_bench import RESULTS, SHARED, WORK, make_pages, timed
from pyoxigraph import DefaultGraph, RdfFormat

from kg.load import Loader
from kg.settings import Settings
from kg.shapes import load_shapes
from kg.store import OxigraphStore
from kg.validation import Engine, Severity, Validator

#: Merged-graph triples one varied page adds, measured on the corpus variants (about 23.5).
TRIPLES_PER_PAGE = 23.5


def build_store(triples: int) -> tuple[OxigraphStore, int]:
    pages = WORK / f"validate-pages-{triples}"
    directory = WORK / f"validate-store-{triples}"
    store = OxigraphStore(directory)
    if not (directory / "current").exists():
        make_pages(max(1, int(triples / TRIPLES_PER_PAGE)), pages)
        settings = Settings(store=directory)
        loader = Loader(settings, store)  # no validator: the benchmark validates on its own
        loader.load(loader.vocabulary_sources() + loader.entry_sources([pages]))
    dataset = store.reader()
    return store, len(list(dataset.quads_for_pattern(None, None, None, DefaultGraph())))


def measure(triples: int, pyshacl_limit: int) -> dict:
    store, actual = build_store(triples)
    dataset = store.reader()
    ntriples, dump_seconds = timed(
        lambda: dataset.dump(format=RdfFormat.N_TRIPLES, from_graph=DefaultGraph())
    )
    shapes = load_shapes(Settings().shapes_dir)
    row: dict = {"target_triples": triples, "triples": actual, "dump_s": round(dump_seconds, 3)}
    keys = {}
    for engine in Engine:
        if engine is Engine.PYSHACL and actual > pyshacl_limit:
            row[engine.value] = "skipped (above --pyshacl-limit)"
            continue
        validator = Validator(shapes, engine)
        report, seconds = timed(lambda v=validator: v.validate_ntriples(ntriples))
        keys[engine] = {r.key for r in report.results}
        row[engine.value] = {
            "validate_s": round(seconds, 3),
            "end_to_end_s": round(seconds + dump_seconds, 3),
            "violations": report.count(Severity.VIOLATION),
            "results": len(report.results),
        }
    if len(keys) == 2:
        row["identical_reports"] = keys[Engine.TURBO] == keys[Engine.PYSHACL]
        row["speedup"] = round(row["pyshacl"]["validate_s"] / row["turbo"]["validate_s"], 1)
    print(json.dumps(row), flush=True)
    return row


def main() -> int:
    arguments = argparse.ArgumentParser(description=__doc__)
    arguments.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    arguments.add_argument("--pyshacl-limit", type=int, default=150_000)
    options = arguments.parse_args()
    if not SHARED.is_dir():
        print(f"{SHARED} is missing: the benchmark varies the shared corpus pages", file=sys.stderr)
        return 2
    rows = [measure(size, options.pyshacl_limit) for size in options.sizes]
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {
        "when": time.strftime("%Y-%m-%d %H:%M"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "target": "<= 2 s at 100k triples with reports identical to pySHACL",
        "rows": rows,
    }
    (RESULTS / "validate.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
