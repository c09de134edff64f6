"""Pages written here, for variants the corpus shows rarely or not at all."""

import pytest
from conftest import SAMPLE

from kg.errors import NotAnEntryError

BANNERS = [
    "This page is still being polished. If you have thoughts, please share them via the form.",
    "Data on this page is preliminary and may change. Please do not share or cite these figures.",
]
TAIL = [
    "Verify and Validate",
    "Testing, evaluating, auditing, and red-teaming the AI system",
    "Deployer",
    "Entity that integrates and deploys the AI system for end users",
    "Map",
    "Identifying and documenting AI risks, contexts, and impacts",
]
LEGAL_DEFINITION = (
    "Laws, legal frameworks, and binding policy instruments governing AI development and use."
)
SOURCE = [
    "A Made-Up Framework for Testing",
    "Doe, Jane; Roe, Richard (2023)",
    "An abstract of one paragraph.",
]


def page(*blocks: list[str]) -> str:
    return "\n".join(BANNERS + [line for block in blocks for line in block])


def test_section_numbers_in_names_are_not_codes(parser):
    text = page(
        ["Red teaming, capability evaluations, adversarial testing, and performance verification."],
        ["Also in Risk & Assurance"],
        ["1.1 Awareness and education on the limits of AI systems.", "2\\. Numbered too."],
        ["Reasoning", "Tests the system."],
        ["5.1 Access Control Frameworks", "2.2.2 Testing & Evaluation2.2 Exploratory Methods"],
        ["Sets out exploratory methods.", "1.2.1 Guardrails & Filtering" + SOURCE[0]],
        SOURCE[1:],
        TAIL,
    )
    entry = parser.parse_text(text, "A9999.txt")
    assert entry.id == "A9999"
    assert entry.category.code == "2.2.2"
    assert (
        entry.body == "1.1 Awareness and education on the limits of AI systems.\n2\\. Numbered too."
    )
    assert [(i.name, i.description, i.code) for i in entry.related] == [
        ("5.1 Access Control Frameworks", None, "2.2.2"),
        ("2.2 Exploratory Methods", "Sets out exploratory methods.", "1.2.1"),
    ]
    assert entry.paper.title == SOURCE[0]
    assert entry.paper.authors == ["Doe, Jane", "Roe, Richard"]
    assert (entry.lifecycle_stage.name, entry.actor.name, entry.rmf_function.name) == (
        "Verify and Validate",
        "Deployer",
        "Map",
    )
    assert entry.complete and entry.warnings == []


def test_page_without_source_block_glues_last_code_to_stage(parser):
    text = page(
        [LEGAL_DEFINITION],
        ["Also in Legal & Regulatory", "Body text.", "Reasoning", "Because."],
        ["Principles", "3.1.1 Legislation & Policy" + TAIL[0]],
        TAIL[1:],
    )
    entry = parser.parse_text(text, "A1.txt")
    assert entry.paper is None
    assert [(i.name, i.code) for i in entry.related] == [("Principles", "3.1.1")]
    assert entry.complete and entry.lifecycle_stage.name == "Verify and Validate"
    assert entry.warnings == ["no source document block"]


def test_page_without_reasoning_block(parser):
    text = page(
        [LEGAL_DEFINITION],
        ["Also in Legal & Regulatory", "The only body paragraph."],
        ["Licensing", "3.1.1 Legislation & Policy" + SOURCE[0]],
        SOURCE[1:],
        TAIL,
    )
    entry = parser.parse_text(text, "A2.txt")
    assert entry.body == "The only body paragraph."
    assert entry.reasoning is None
    assert entry.related[0].name == "Licensing"
    assert "no Reasoning block" in entry.warnings


def test_every_cut_of_a_seed_parses_and_reports_truncation(parser):
    data = (SAMPLE / "000_a0a8653dee302dd3.txt").read_bytes()
    first_body_byte = data.index(b"Also in")
    for cut in range(first_body_byte, len(data) - 1, 13):
        entry = parser.parse_bytes(data[:cut], "A1234.txt")
        assert entry.category.code == "2.4.1"
        if not entry.complete:
            assert any(w.startswith("page is truncated") for w in entry.warnings)
    assert parser.parse_bytes(data, "A1234.txt").complete


def test_character_cut_mid_way_at_the_end_is_dropped(parser):
    text = page(
        [LEGAL_DEFINITION],
        ["Also in Legal & Regulatory", "Régulation"],
    )
    data = text.encode()[: -len("gulation") - 1]  # cuts inside the two bytes of "é"
    entry = parser.parse_bytes(data, "A3.txt")
    assert entry.body == "R"
    assert "last character cut mid-way, dropped" in entry.warnings


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "binary file"),
        ("Défini".encode("latin-1") + b"\nmore", "not UTF-8"),
        (b"Sex-related crimes\nAI that exposes users to harmful content.", "not a mitigation"),
    ],
)
def test_not_an_entry(parser, data, reason):
    with pytest.raises(NotAnEntryError) as raised:
        parser.parse_bytes(data, "bad.txt")
    assert raised.value.source == "bad.txt"
    assert reason in raised.value.reason


def test_content_derived_id_is_stable_and_content_sensitive(parser):
    text = (SAMPLE / "001_af4fa749e00a25f6.txt").read_text(encoding="utf-8")
    first = parser.parse_text(text, "copy.txt").id
    assert first == parser.parse_text(text.replace("\n", "\r\n"), "other-name.txt").id
    assert first != parser.parse_text(text.replace("variety", "A variety"), "copy.txt").id
