"""Parse and load throughput on pages made by varying the shared corpus, against a bare bulk load.

Run with `make bench` (needs ../shared). Writes bench/results/load.json and prints a summary.
"""

import argparse
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

from pyoxigraph import RdfFormat, Store

from kg.load import Loader
from kg.navigator import PageParser
from kg.settings import Settings
from kg.store import OxigraphStore
from kg.taxonomy import load_vocabulary

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
WORK = ROOT / "bench" / "work"
RESULTS = ROOT / "bench" / "results"


def make_pages(count: int, target: Path) -> list[Path]:
    """Variants of every entry page: new ID, a varied body line and a varied document title."""
    parser = PageParser(load_vocabulary(Settings().ontology_dir))
    sources = sorted((SHARED / "corpus" / "navigator").glob("A*.txt"))
    sources += sorted((SHARED / "seeds").glob("*.txt"))
    texts = []
    for path in sources:
        entry = parser.parse_file(path)
        texts.append((path.read_text(encoding="utf-8"), entry.paper.title if entry.paper else None))
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    pages = []
    for number in range(count):
        text, title = texts[number % len(texts)]
        lines = text.split("\n")
        lines[3] = f"{lines[3]} (variant {number})" if len(lines) > 3 else lines[-1]
        varied = "\n".join(lines)
        if title:  # about 50 pages per document, as in real sources
            varied = varied.replace(title, f"{title} [{number // 50}]", 1)
        path = target / f"A{100000 + number}.txt"
        path.write_text(varied, encoding="utf-8")
        pages.append(path)
    return pages


def timed(action):
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start


def main() -> int:
    arguments = argparse.ArgumentParser(description=__doc__)
    arguments.add_argument("--pages", type=int, default=22_000)
    options = arguments.parse_args()
    if not SHARED.is_dir():
        print(f"{SHARED} is needed to make benchmark pages", file=sys.stderr)
        return 2
    pages = make_pages(options.pages, WORK / "pages")
    settings = Settings(store=WORK / "kg-store")
    shutil.rmtree(settings.store, ignore_errors=True)

    parser = PageParser(load_vocabulary(settings.ontology_dir))
    _, parse_seconds = timed(lambda: [parser.parse_file(p) for p in pages])

    store = OxigraphStore(settings.store)
    loader = Loader(settings, store)
    sources = loader.vocabulary_sources() + loader.entry_sources([WORK / "pages"])
    commit_seconds = []
    original_commit = store.commit

    def measured_commit(changes):
        _, seconds = timed(lambda: original_commit(changes))
        commit_seconds.append(seconds)

    store.commit = measured_commit
    report, load_seconds = timed(lambda: loader.load(sources))
    assert not report.errors, report.errors[:3]
    quads_in_store = store.quad_count()

    # The same quads kg wrote (named graphs and merged default graph), through the bare bulk loader.
    dump = WORK / "same-quads.nq"
    with dump.open("wb") as output:
        store.reader().dump(output, RdfFormat.N_QUADS)
    bare_directory = WORK / "bare-store"
    shutil.rmtree(bare_directory, ignore_errors=True)
    bare = Store(str(bare_directory))
    _, bulk_seconds = timed(
        lambda: (bare.bulk_load(path=str(dump), format=RdfFormat.N_QUADS), bare.flush())
    )
    assert len(bare) == quads_in_store

    # An incremental load: 20 changed pages into the full store (checkpoint, replace, re-derive).
    for path in pages[:20]:
        path.write_text(path.read_text(encoding="utf-8") + " (edited)", encoding="utf-8")
    store.commit = original_commit
    incremental, incremental_seconds = timed(lambda: loader.load(sources))
    assert incremental.entries == 20, incremental.entries

    results = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "pages": len(pages),
        "parse_seconds": round(parse_seconds, 2),
        "parse_pages_per_second": round(len(pages) / parse_seconds),
        "load_seconds": round(load_seconds, 2),
        "load_commit_seconds": round(sum(commit_seconds), 2),
        "quads_written": quads_in_store,
        "load_quads_per_second": round(quads_in_store / load_seconds),
        "bare_bulk_load_seconds": round(bulk_seconds, 2),
        "load_vs_bulk_load": round(load_seconds / bulk_seconds, 2),
        "commit_vs_bulk_load": round(sum(commit_seconds) / bulk_seconds, 2),
        "incremental_load_20_pages_seconds": round(incremental_seconds, 2),
        "targets": {"parse_pages_per_second": 2000, "load_vs_bulk_load": 1.3},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "load.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
