"""Links by quoted text (kg.nexus.links): navigator pages ↔ Nexus records against a table checked
by hand (tests/fixtures/nexus-links.tsv), the complete pages held out, the number trap, and the
NIST AI 600-1 records ↔ RMF actions; then each rule on tiny inline data."""

import csv
from pathlib import Path

import pytest
from conftest import ROOT

from kg.entry import CategoryRef, Entry, Paper
from kg.errors import NotAnEntryError
from kg.nexus.links import (
    MIN_PREFIX,
    LinkReport,
    NavigatorLink,
    ProfileLink,
    Quote,
    Unlinked,
    key,
    navigator_links,
    profile_links,
    records_of,
)
from kg.nexus.read import read_nexus
from kg.nexus.records import Document, MappingSet, Mitigation, NexusData

FIXTURE = ROOT / "tests" / "fixtures" / "nexus-links.tsv"
TABLE = list(csv.DictReader(FIXTURE.open(encoding="utf-8"), delimiter="\t"))


@pytest.fixture(scope="module")
def nexus(shared: Path) -> NexusData:
    return read_nexus(shared / "data" / "ai-atlas-nexus")


@pytest.fixture(scope="module")
def entries(corpus: Path, parser) -> list[Entry]:
    parsed = []
    for path in sorted(corpus.glob("*.txt")):
        try:
            parsed.append(parser.parse_file(path))
        except NotAnEntryError:
            continue  # risk, taxonomy and other pages that are not mitigation entries
    assert len(parsed) == 152  # as test_parse_corpus counts: the collection must not shrink
    return parsed


@pytest.fixture(scope="module")
def report(entries, nexus) -> LinkReport:
    return navigator_links(map(Quote.of, entries), records_of(nexus))


# --- navigator pages ↔ Nexus records, on the corpus -------------------------------------------


@pytest.mark.shared
def test_links_are_the_table_checked_by_hand(report: LinkReport):
    expected = {
        (r["navigator_id"], r["nexus_id"], r["how"]) for r in TABLE if r["how"] != "ambiguous"
    }
    assert {(link.entry, link.record, link.how) for link in report.links} == expected
    assert not any(link.by_document for link in report.links)  # no corpus page needs its source


@pytest.mark.shared
def test_ambiguous_pages_are_linked_to_nothing(report: LinkReport):
    expected = {(r["navigator_id"], r["nexus_id"]) for r in TABLE if r["how"] == "ambiguous"}
    assert {(u.entry, c) for u in report.ambiguous for c in u.candidates} == expected
    assert [u.reason for u in report.ambiguous] == [
        "exact: 2 records of its source doc-Schuett2023 have this text",
        "leading: its source is not told; 2 records of 1 document(s) fit",
    ]
    linked = {link.entry for link in report.links}
    assert not linked & {u.entry for u in report.ambiguous}


@pytest.mark.shared
def test_counts_and_why_the_rest_are_unmatched(report: LinkReport):
    assert report.counts() == {
        "exact": 28, "leading": 7, "prefix": 0, "by document": 0, "ambiguous": 2, "unmatched": 115,
    }  # fmt: skip
    reasons = {}
    for unmatched in report.unmatched:
        reasons.setdefault(unmatched.reason, []).append(unmatched.entry)
    assert sorted(reasons) == ["no body text", "quotes no Nexus record"]
    assert len(reasons["no body text"]) == 32


@pytest.mark.shared
def test_a1421_quotes_a1030_uuk2024(report: LinkReport, entries, nexus):
    """The issue's example: the page's number is not the record's."""
    assert [link.record for link in report.links if link.entry == "A1421"] == ["A1030_Uuk2024"]
    page = next(entry for entry in entries if entry.id == "A1421")
    assert page.body.split("\n")[0] == nexus.mitigations["A1030_Uuk2024"].text
    assert "A1421_Uuk2024" not in nexus.mitigations


@pytest.mark.shared
def test_no_link_by_number(report: LinkReport, entries, nexus):
    """A page joined to the record with its own number only when the texts are the same."""
    numbered = {record.split("_")[0]: record for record in nexus.mitigations}
    same_number = [entry.id for entry in entries if entry.id in numbered]
    assert len(same_number) == 34  # of which two quote that record (below)
    by_number = [link for link in report.links if numbered.get(link.entry) == link.record]
    assert [link.entry for link in by_number] == ["A0048", "A0052"]
    bodies = {entry.id: entry.body for entry in entries}
    for link in by_number:
        assert key(bodies[link.entry]) == key(nexus.mitigations[link.record].text or "")


@pytest.mark.shared
def test_held_out_complete_pages(corpus: Path, report: LinkReport):
    """The done-when: every complete page (index.tsv) that quotes a Nexus record is linked to
    that record and to no other; the others to none."""
    index = csv.DictReader((corpus / "index.tsv").open(encoding="utf-8"), delimiter="\t")
    complete = {row["file"].removesuffix(".txt") for row in index if row["complete"] == "yes"}
    found = {link.entry: link.record for link in report.links if link.entry in complete}
    assert found == {
        "A2212": "A0935_Gipiskis2024",
        "A2244": "A0998_Gipiskis2024",
        "A2252": "A0948_Gipiskis2024",
        "A2285": "A0970_Gipiskis2024",
    }
    for record in found.values():  # no other page claims these records
        assert [link.entry for link in report.links if link.record == record] == [
            entry for entry, mine in found.items() if mine == record
        ]
    unmatched = {u.entry for u in report.unmatched}
    assert complete - set(found) - unmatched == set()  # parsed complete pages: none ambiguous


# --- NIST AI 600-1 records ↔ RMF actions ------------------------------------------------------


@pytest.mark.shared
def test_profile_links(nexus: NexusData):
    report = profile_links(nexus)
    assert len(report.links) == 203 and report.unlinked == ()
    assert sum(link.how == "exact" for link in report.links) == 197
    assert len({link.action for link in report.links}) == 203  # no action quoted twice
    similar = [link for link in report.links if link.how == "similar"]
    assert similar == [
        ProfileLink("A0396_NIST2024", "GV-1.3-006", "similar", 0.972,
                    "adds 'Information or Capabilities'"),
        ProfileLink("A0531_NIST2024", "MS-2.10-001", "similar", 0.987,
                    "'information;' → 'information ;'; adds 'Property'"),
        ProfileLink("A0407_NIST2024", "GV-1.7-002", "similar", 0.99, "adds 'Human-'"),
        ProfileLink("A0524_NIST2024", "MS-2.7-009", "similar", 0.867,
                    "lacks 'effective and have not'"),
        ProfileLink("A0438_NIST2024", "GV-6.2-002", "similar", 0.964,
                    "'open-source data' → 'open-data'; 'software' → 'software.'"),
        ProfileLink("A0738_NIST2024", "MG-2.4-001", "similar", 0.987,
                    "'reasons,' → 'r easons,'; adds 'Human-'"),
    ]  # fmt: skip
    assert [link.record for link in report.doubtful] == ["A0524_NIST2024"]


@pytest.mark.shared
def test_profile_pairs_field_by_field(nexus: NexusData):
    links = {link.record: link for link in profile_links(nexus).links}
    first = links["A0414_NIST2024"]
    assert (first.action, first.how, first.score, first.differs) == (
        "GV-3.2-002",
        "exact",
        1.0,
        None,
    )
    for record, action in [
        ("A0414_NIST2024", "GV-3.2-002"),
        ("A0420_NIST2024", "GV-4.1-003"),
        ("A0448_NIST2024", "MP-1.2-001"),
    ]:
        assert links[record].action == action
        assert key(nexus.profile_records[record].text) == key(nexus.actions[action].text)
        assert nexus.actions[action].document == nexus.mitigations[record].document
    garbled = nexus.actions["MS-2.7-009"].text
    assert garbled == "Regularly assess and verify that security measures remain been compromised."


# --- each rule, on tiny inline data ----------------------------------------------------------

QUOTE = "Developers can restrict web access to read-only or limit the access of the AI system."
OTHER = "Labs should keep a register of incidents and share it with the regulator each quarter."


def _nexus(*records: tuple[str, str, str]) -> NexusData:
    documents = {
        doc: Document(doc, f"The {doc} paper", None, None, None, None, None)
        for doc in {document for _, _, document in records}
    }
    mitigations = {rid: Mitigation(rid, rid, text, doc, None) for rid, text, doc in records}
    mapping = MappingSet({}, None, None, None, None)
    return NexusData(documents, {}, {}, mitigations, (), mapping, {}, {}, {}, {}, [])


def _entry(eid: str, body: str, title: str | None = None, complete: bool = True) -> Entry:
    paper = Paper(title, ["Doe, J"], 2024, None) if title else None
    category = CategoryRef("1.1", "Name", None, None)
    return Entry(eid, f"{eid}.txt", complete, category, body, None, None, paper=paper)


def test_key_absorbs_formatting_only():
    assert key("Identify in- stances [85], of “emergent” risks—now.") == key(
        'identify instances of "emergent" risks - now'
    )
    assert key("red-team [9, 22]") == "redteam"
    assert key("red team A") != key("red team B")


def test_the_page_source_chooses_between_documents():
    nexus = _nexus(("A0001_X", QUOTE, "doc-X"), ("A0002_Y", QUOTE, "doc-Y"))
    report = navigator_links(
        map(Quote.of, [_entry("A0900", QUOTE, "THE doc-Y  PAPER")]), records_of(nexus)
    )
    assert report.links == (NavigatorLink("A0900", "A0002_Y", "exact", by_document=True),)
    assert report.counts()["by document"] == 1


def test_untold_source_links_none():
    nexus = _nexus(("A0001_X", QUOTE, "doc-X"), ("A0002_Y", QUOTE, "doc-Y"))
    for title in (None, "A paper Nexus does not hold"):
        report = navigator_links(map(Quote.of, [_entry("A0900", QUOTE, title)]), records_of(nexus))
        assert report.links == ()
        reason = "exact: its source is not told; 2 records of 2 document(s) fit"
        assert report.ambiguous == (Unlinked("A0900", reason, ("A0001_X", "A0002_Y")),)


def test_a_known_source_rules_out_other_documents():
    nexus = _nexus(("A0001_X", QUOTE, "doc-X"), ("A0002_Y", OTHER, "doc-Y"))
    report = navigator_links(
        map(Quote.of, [_entry("A0900", QUOTE, "The doc-Y paper")]), records_of(nexus)
    )
    reason = "quotes records of other documents than its source doc-Y"
    assert report.links == () and report.unmatched == (Unlinked("A0900", reason, ("A0001_X",)),)


def test_never_by_number():
    nexus = _nexus(("A0900_X", OTHER, "doc-X"), ("A0001_X", QUOTE, "doc-X"))
    report = navigator_links(map(Quote.of, [_entry("A0900", QUOTE)]), records_of(nexus))
    assert [link.record for link in report.links] == ["A0001_X"]


def test_leading_lines_and_cut_prefix():
    nexus = _nexus(("A0001_X", QUOTE, "doc-X"), ("A0002_X", OTHER, "doc-X"))
    leading = _entry("A0900", QUOTE + "\nExperts agreed this helps.", complete=False)
    cut = _entry("A0901", OTHER[:80], complete=False)
    short = _entry("A0902", OTHER[:40], complete=False)
    whole = _entry("A0903", OTHER[:80])  # a complete page's body is not cut: no prefix match
    report = navigator_links(map(Quote.of, [leading, cut, short, whole]), records_of(nexus))
    assert report.links == (
        NavigatorLink("A0900", "A0001_X", "leading"),
        NavigatorLink("A0901", "A0002_X", "prefix"),
    )
    assert [(u.entry, u.reason) for u in report.unmatched] == [
        ("A0902", f"cut body of {len(key(OTHER[:40]))} key characters, fewer than {MIN_PREFIX}"),
        ("A0903", "quotes no Nexus record"),
    ]


def test_a_cut_body_fitting_several_records_is_ambiguous():
    longer = QUOTE + " It also keeps logs."
    nexus = _nexus(("A0001_X", QUOTE, "doc-X"), ("A0002_X", longer, "doc-X"))
    report = navigator_links(
        map(Quote.of, [_entry("A0900", QUOTE[:80], complete=False)]), records_of(nexus)
    )
    assert report.links == () and report.ambiguous[0].candidates == ("A0001_X", "A0002_X")


def test_records_without_text_are_not_candidates():
    nexus = _nexus(("A0001_X", None, "doc-X"))  # type: ignore[arg-type]
    assert navigator_links(map(Quote.of, [_entry("A0900", "")]), records_of(nexus)).unmatched == (
        Unlinked("A0900", "no body text"),
    )


def test_a_record_two_entries_quote_links_neither():
    nexus = _nexus(("A0001_X", QUOTE, "doc-X"))
    entries = [_entry("A0900", QUOTE, "The doc-X paper"), _entry("A0901", QUOTE)]
    report = navigator_links(map(Quote.of, entries), records_of(nexus))
    assert report.links == ()
    assert [(u.entry, u.reason, u.candidates) for u in report.ambiguous] == [
        ("A0900", "exact: 2 entries quote A0001_X", ("A0001_X",)),
        ("A0901", "exact: 2 entries quote A0001_X", ("A0001_X",)),
    ]


def test_a_short_first_line_is_no_leading_match():
    short = "Evaluate models for security."  # fewer than MIN_PREFIX key characters
    nexus = _nexus(("A0001_X", short, "doc-X"))
    page = _entry("A0900", short + "\nThen the page goes on about something else entirely.")
    report = navigator_links(map(Quote.of, [page]), records_of(nexus))
    assert report.links == () and report.unmatched[0].reason == "quotes no Nexus record"
