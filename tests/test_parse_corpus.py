"""The shared corpus: complete pages against a hand-made table, every file without a crash."""

import csv
from pathlib import Path

import pytest
from conftest import ROOT

from kg.errors import NotAnEntryError

FIXTURE = ROOT / "tests" / "fixtures" / "complete-pages.tsv"
EXPECTED = list(csv.DictReader(FIXTURE.open(encoding="utf-8"), delimiter="\t"))
NON_ENTRY_PREFIXES = ("risk_", "explore_", "governance_", "subdomain_", "taxonomies")


def test_fixture_covers_every_complete_page(corpus: Path):
    index = list(csv.DictReader((corpus / "index.tsv").open(encoding="utf-8"), delimiter="\t"))
    complete = sorted(row["file"] for row in index if row["complete"] == "yes")
    assert sorted(row["file"] for row in EXPECTED) == complete


@pytest.mark.parametrize("row", EXPECTED, ids=[row["file"] for row in EXPECTED])
def test_complete_page(corpus: Path, parser, row):
    entry = parser.parse_file(corpus / row["file"])
    assert entry.id == row["file"].removesuffix(".txt")
    assert entry.complete is True
    assert entry.category.code == row["code"]
    assert entry.lifecycle_stage.name == row["lifecycle_stage"]
    assert entry.actor.name == row["actor"]
    assert entry.rmf_function.name == row["rmf_function"]
    if row["title"]:
        assert entry.paper.title == row["title"]
        assert entry.paper.year == int(row["year"])
        assert entry.paper.authors
    else:
        assert entry.paper is None
        assert "no source document block" in entry.warnings
    assert len(entry.related) == 6  # a full related list shows six entries


def test_every_corpus_file(corpus: Path, parser):
    files = sorted(corpus.glob("*.txt"))
    assert len(files) == 180
    entries, rejected = [], []
    for path in files:
        try:
            entries.append(parser.parse_file(path))
        except NotAnEntryError as error:
            assert error.source == path.name and error.line == 1
            rejected.append(path.name)
    assert sorted(rejected) == sorted(
        p.name for p in files if p.name.startswith(NON_ENTRY_PREFIXES)
    )
    assert len(entries) == 152
    for entry in entries:
        assert entry.complete or any(
            w.startswith("page is truncated; missing:") for w in entry.warnings
        )
        for item in entry.related + entry.children:
            assert item.code and item.category_name


def test_children_and_parent_label_of_grouping_entry(corpus: Path, parser):
    entry = parser.parse_file(corpus / "A0605.txt")
    assert entry.body == ""
    assert entry.parent_label == "Ensure Deployed AI = Safe AI"
    assert [(c.name, c.code) for c in entry.children] == [
        ("Pauses/ Red Lines", "3.1.1"),
        ("Licensing", "3.1.1"),
        ("Use Limitations", "3.1.4"),
        ("Soft Nationalization", "99.9"),
        ("Compute Controls", "3.1.4"),
    ]
    assert entry.related[0].name == "Develop Safe AI"
    assert entry.related[2].name == "Develop Safe AI > Establish Safety Practices"
    assert entry.related[2].code == "2"


def test_item_descriptions_and_children_beside_a_body(corpus: Path, parser):
    entry = parser.parse_file(corpus / "A0818.txt")
    assert entry.body.startswith("Organisations that develop")
    assert [c.name for c in entry.children] == [
        "Accountability",
        "Government",
        "Contextual approach",
    ]
    assert entry.related[0].name == "Ethical Purpose and Societal Benefit"
    assert entry.related[0].description.startswith("Organisations that develop")
    assert entry.related[1].description is None


def test_truncated_page_names_missing_blocks(corpus: Path, parser):
    entry = parser.parse_file(corpus / "A2123.txt")
    assert entry.complete is False
    assert entry.paper.title == "Large Language Model Safety: A Holistic Survey"
    assert entry.lifecycle_stage is None
    # The abstract runs into the cut, so it is dropped rather than kept partial.
    assert entry.paper.abstract is None
    assert "abstract cut short with the page, not kept" in entry.warnings
    assert (
        "page is truncated; missing: abstract, lifecycle stage, actor, AI RMF function"
        in entry.warnings
    )
