"""The crosswalk as SSSOM/TSV (kg.sssom): the file is parsed back (its YAML metadata block and its
TSV mappings) and compared with the mappings the store holds; then the writer's rules (required
metadata, CURIEs, quoting, rounding, order) on tiny inline rows."""

import csv
import io
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from site_store import load_store

from kg.load import Loader
from kg.nexus.package import locate
from kg.settings import DEFAULT_BASE_IRI, Settings
from kg.sssom import BUILT_IN, COLUMNS, CurieError, crosswalk_rows, sssom_tsv
from kg.store import OxigraphStore

QUERIES_DIR = ROOT / "queries"
BASE = DEFAULT_BASE_IRI
SKOS = "http://www.w3.org/2004/02/skos/core#"
#: The axioms of the crosswalk graph, read without the named query the writer uses.
AXIOMS = """
SELECT ?v1 ?predicate ?v2 ?support ?sources ?mapping WHERE {
  ?mapping a owl:Axiom ; owl:annotatedSource ?v1 ; owl:annotatedProperty ?predicate ;
           owl:annotatedTarget ?v2 ; kg:supportCount ?support ; kg:sourceCount ?sources .
}
"""


def parse(text: str) -> tuple[dict, list[dict[str, str]]]:
    """An SSSOM/TSV file's metadata (the YAML of the `#` lines it starts with) and its mappings."""
    lines = text.split("\n")
    count = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    metadata = yaml.safe_load("\n".join(line[1:] for line in lines[:count]))
    body = "\n".join(lines[count:])
    assert not any(line.startswith("#") for line in lines[count:]), "one metadata block, first"
    return metadata, list(csv.DictReader(io.StringIO(body, newline=""), delimiter="\t"))


def expand(curie: str, metadata: dict) -> str:
    prefix, _, local = curie.partition(":")
    return (metadata["curie_map"] | BUILT_IN)[prefix] + local


def row(v1: str, v2: str, support: int, sources: int, **labels: str) -> dict[str, str]:
    """A row of the crosswalk query, as `crosswalk_rows` gives it."""
    return {
        "v1Code": v1,
        "v1Label": labels.get("v1Label", f"v1 {v1}"),
        "predicate": SKOS + "relatedMatch",
        "v2Code": v2,
        "v2Label": labels.get("v2Label", f"v2 {v2}"),
        "support": str(support),
        "sources": str(sources),
        "v1": f"{BASE}taxonomy/mitigation-v1/{v1}",
        "v2": f"{BASE}taxonomy/mitigation/{v2}",
        "mapping": f"{BASE}mapping/mitigation-v1-v2/{v1}/{v2}",
    }


@pytest.fixture(scope="module")
def store(corpus: Path, shared: Path, tmp_path_factory) -> OxigraphStore:
    directory = tmp_path_factory.mktemp("sssom") / "store"
    store = OxigraphStore(load_store(directory, corpus, rejects=True))
    report = Loader(Settings(store=directory), store).import_nexus(
        locate(shared / "data" / "ai-atlas-nexus")
    )
    assert report.committed and not report.errors
    return store


@pytest.fixture(scope="module")
def written(store: OxigraphStore) -> tuple[dict, list[dict[str, str]]]:
    return parse(sssom_tsv(crosswalk_rows(store, QUERIES_DIR), BASE))


# --- the crosswalk of the store -------------------------------------------------------------


@pytest.mark.shared
def test_every_mapping_of_the_store_is_written_with_its_counts(store, written):
    metadata, mappings = written
    axioms = {
        (v1.value, predicate.value, v2.value): (int(support.value), int(sources.value), m.value)
        for v1, predicate, v2, support, sources, m in store.query(AXIOMS)
    }
    assert len(axioms) == 27
    found = {}
    for mapping in mappings:
        key = tuple(
            expand(mapping[k], metadata) for k in ("subject_id", "predicate_id", "object_id")
        )
        support, sources, axiom = axioms[key]
        assert expand(mapping["record_id"], metadata) == axiom
        assert float(mapping["similarity_score"]) == pytest.approx(support / sources, abs=5e-4)
        assert f"kg:supportCount {support}, kg:sourceCount {sources}" in mapping["comment"]
        found[key] = mapping
    assert found.keys() == axioms.keys() and len(mappings) == len(axioms)


@pytest.mark.shared
def test_labels_are_the_categories_pref_labels(store, written):
    metadata, mappings = written
    labels = {
        concept.value: label.value
        for concept, label in store.query(
            "SELECT ?c ?l WHERE { ?c a ?t ; skos:prefLabel ?l "
            "FILTER(?t IN (kg:MitigationCategory, kg:MitigationCategoryV1)) }"
        )
    }
    for mapping in mappings:
        assert mapping["subject_label"] == labels[expand(mapping["subject_id"], metadata)]
        # A category whose name was never printed (1.2.x) has no label: the cell is empty.
        assert mapping["object_label"] == labels.get(expand(mapping["object_id"], metadata), "")
    assert any(m["object_label"] == "" for m in mappings)


@pytest.mark.shared
def test_the_set_has_the_required_metadata(written):
    metadata, mappings = written
    assert metadata["sssom_version"] == "1.1"
    assert metadata["mapping_set_id"] == BASE + "graph/derived/crosswalk/mitigation-v1-v2"
    assert metadata["license"].startswith("https://")
    # Only kg's prefixes the set uses, sorted; never a built-in one.
    used = {
        value.partition(":")[0]
        for m in mappings
        for value in (m["record_id"], m["subject_id"], m["object_id"])
    } | {metadata["subject_source"].partition(":")[0]}
    assert list(metadata["curie_map"]) == sorted(used)
    assert not set(metadata["curie_map"]) & set(BUILT_IN)
    assert expand(metadata["subject_source"], metadata) == BASE + "taxonomy/mitigation-v1"
    assert expand(metadata["object_source"], metadata) == BASE + "taxonomy/mitigation"
    assert metadata["subject_type"] == metadata["object_type"] == "skos concept"
    assert "kg:supportCount / kg:sourceCount" in metadata["similarity_measure"]
    for mapping in mappings:
        assert all(mapping[k] for k in ("subject_id", "predicate_id", "object_id"))
        assert mapping["mapping_justification"] == "semapv:InstanceBasedMatching"
        assert mapping["predicate_id"] in ("skos:closeMatch", "skos:relatedMatch")


@pytest.mark.shared
def test_columns_and_rows_are_in_canonical_order(written):
    _, mappings = written
    assert list(mappings[0]) == list(COLUMNS)
    keys = [tuple(m[c] for c in COLUMNS) for m in mappings]
    assert keys == sorted(keys)


# --- the writer's rules, on inline rows -------------------------------------------------------


def test_values_with_tabs_quotes_and_line_breaks_are_quoted():
    label = 'Tabs\tand "quotes",\nline\r\nbreaks | and pipes'
    text = sssom_tsv([row("1.1", "2.2", 1, 2, v1Label=label)], BASE)
    assert text.count("\r") == 1  # the label's: lines end with LF only
    _, (mapping,) = parse(text)
    assert mapping["subject_label"] == label
    assert mapping["object_label"] == "v2 2.2"


def test_scores_have_three_decimals_rounded_half_up():
    counts = [(1, 1), (1, 2), (1, 3), (2, 3), (1, 8), (1, 16)]
    rows = [row(f"{n}.{d}", "2.2", n, d) for n, d in counts]
    _, mappings = parse(sssom_tsv(rows, BASE))
    scores = {m["subject_id"]: m["similarity_score"] for m in mappings}
    assert [scores[f"kgmitv1:{n}.{d}"] for n, d in counts] == [
        "1.0",
        "0.5",
        "0.333",
        "0.667",
        "0.125",
        "0.063",
    ]


def test_prefixes_follow_the_base_iri():
    base = "https://example.org/kg/"
    rows = [{k: v.replace(BASE, base) for k, v in row("1.2", "2.2.1", 2, 4).items()}]
    metadata, (mapping,) = parse(sssom_tsv(rows, base))
    assert expand(mapping["subject_id"], metadata) == base + "taxonomy/mitigation-v1/1.2"
    assert metadata["mapping_set_id"] == base + "graph/derived/crosswalk/mitigation-v1-v2"
    # Rows of a store loaded under another base are refused, not given made-up prefixes.
    with pytest.raises(CurieError, match="KG_BASE_IRI"):
        sssom_tsv(rows, BASE)


def test_no_mapping_is_a_set_with_its_metadata_and_header_only():
    metadata, mappings = parse(sssom_tsv([], BASE))
    assert mappings == []
    assert metadata["mapping_set_id"] and metadata["license"]
    assert sssom_tsv([], BASE).splitlines()[-1].split("\t")[:3] == [
        "record_id",
        "subject_id",
        "subject_label",
    ]
