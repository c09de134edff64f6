"""The AI Atlas Nexus import, step by step, and what its derived links cost every later load.

Run with `.venv/bin/python bench/nexus_bench.py` (needs ../shared). Writes bench/results/nexus.json
and prints a summary: medians of REPEAT runs of reading the six files, the text joins, the
triples, a validated import into a store holding the shared corpus, a re-import that finds
nothing to do, and a corpus reload (which recomputes the links and the crosswalk).
"""

import json
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path

from kg.load import Loader
from kg.nexus.links import profile_links
from kg.nexus.package import locate
from kg.nexus.rdfize import nexus_quads
from kg.nexus.read import parse_nexus
from kg.settings import Settings
from kg.store import OxigraphStore
from kg.validation import Validator
from kg.vocab import Iris

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
NEXUS = SHARED / "data" / "ai-atlas-nexus"
CORPUS = SHARED / "corpus" / "navigator"
WORK = ROOT / "bench" / "work" / "nexus"
RESULTS = ROOT / "bench" / "results"
REPEAT = 5


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def median_ms(action, repeat: int = REPEAT) -> float:
    return round(statistics.median(timed(action) * 1000 for _ in range(repeat)), 1)


def _one_run(source, page: Path, number: int) -> list[float]:
    """Seconds of: a page reload without Nexus data, the import, a re-import, a reload with it."""
    shutil.rmtree(WORK, ignore_errors=True)
    touched = WORK / "touched" / page.name
    touched.parent.mkdir(parents=True)
    settings = Settings(store=WORK / "store")
    loader = Loader(settings, OxigraphStore(WORK / "store"), Validator.for_settings(settings))
    loader.load(loader.vocabulary_sources() + loader.entry_sources([CORPUS]), skip_invalid=True)
    seconds = []
    for step in ("reload", "import", "import", "reload"):
        if step == "reload":  # a changed page: its graph is replaced and the links derived again
            touched.write_bytes(page.read_bytes() + b"\n" * (2 * number + len(seconds) + 1))
            seconds.append(timed(lambda: loader.load(loader.entry_sources([touched]))))
        else:
            seconds.append(timed(lambda: loader.import_nexus(source)))
    return seconds


def main() -> int:
    source = locate(NEXUS)
    files = {f.name: f.data for f in source}
    data = parse_nexus(files)
    profile = profile_links(data)
    steps = {
        "read six files (YAML, TSV), ms": median_ms(lambda: parse_nexus(files)),
        "link 203 profile records to actions, ms": median_ms(lambda: profile_links(data)),
        "records to triples, ms": median_ms(lambda: nexus_quads(data, source, Iris(), profile)),
    }
    page = next(CORPUS.glob("A*.txt"))
    runs: dict[str, list[float]] = {
        "reload of one page, no Nexus data (validated), ms": [],
        "validated import into the corpus store, ms": [],
        "re-import of unchanged files, ms": [],
        "reload of one page with Nexus data (validated), ms": [],
    }
    for number in range(REPEAT):
        for times, seconds in zip(runs.values(), _one_run(source, page, number), strict=True):
            times.append(seconds)
    steps |= {name: round(statistics.median(times) * 1000, 1) for name, times in runs.items()}
    result = {
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "repeat": REPEAT,
        "records": len(data.mitigations),
        "steps": steps,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "nexus.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for name, value in steps.items():
        print(f"{name:50} {value:>9}")
    shutil.rmtree(WORK, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
