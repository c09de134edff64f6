"""What `kg reason` costs: materializing RDFS and OWL 2 RL entailments on a store of the shared
corpus and the AI Atlas Nexus data, and a one-page reload with each regime (every commit reasons
again). Run with `.venv/bin/python bench/reasoning_bench.py` (needs ../shared); writes
bench/results/reasoning.json.
"""

import json
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path

from kg.load import Loader
from kg.nexus.package import locate
from kg.reasoning import Regime
from kg.settings import Settings
from kg.store import OxigraphStore

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus" / "navigator"
WORK = ROOT / "bench" / "work" / "reasoning"
RESULTS = ROOT / "bench" / "results"
REPEAT = 3


def seconds(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> int:
    shutil.rmtree(WORK, ignore_errors=True)
    settings = Settings(store=WORK / "store")
    store = OxigraphStore(WORK / "store")
    loader = Loader(settings, store)
    loader.load(loader.vocabulary_sources() + loader.entry_sources([CORPUS]), skip_invalid=True)
    loader.import_nexus(locate(SHARED / "data" / "ai-atlas-nexus"))
    page = next(CORPUS.glob("A*.txt"))
    touched = WORK / "touched" / page.name
    touched.parent.mkdir(parents=True)
    result: dict = {"machine": f"{platform.machine()}, {platform.python_version()}"}
    result["quads"] = store.quad_count()
    for regime in (Regime.RDFS, Regime.OWL_RL, Regime.NONE):
        materialize = [seconds(lambda r=regime: loader.reason(r)) for _ in range(REPEAT)]
        reloads = []
        for number in range(REPEAT):
            touched.write_bytes(page.read_bytes() + b"\n" * (number + 1 + REPEAT * len(result)))
            reloads.append(seconds(lambda: loader.load(loader.entry_sources([touched]))))
        inferred = store.query(
            "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } "
            "FILTER(CONTAINS(STR(?g), '/derived/inference')) }"
        )
        result[regime.value] = {
            "materialize, s": round(statistics.median(materialize), 2),
            "one-page reload, s": round(statistics.median(reloads), 2),
            "inferred quads": int(next(iter(inferred))["n"].value),
        }
        print(regime.value, result[regime.value])
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "reasoning.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    shutil.rmtree(WORK, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
