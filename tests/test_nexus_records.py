"""Reading the AI Atlas Nexus files into records (kg.nexus.read): counts and records checked
against ../shared's copies, each upstream fault's warning, and broken copies (of the real files and
of tiny inline ones) that must fail naming the file, the record and the field."""

import os
from datetime import date
from pathlib import Path

import pytest

from kg.errors import InputError
from kg.nexus.read import FILES, MAPPINGS, parse_nexus, read_nexus
from kg.nexus.records import (
    Categorisation,
    Concept,
    Document,
    GenAiRisk,
    Mitigation,
    NexusData,
    NexusError,
    NexusWarning,
    ProfileRecord,
    RmfAction,
    RmfGroup,
    summarise,
)

CONTROLS = "mit_ai_risk_repository_data_controls.yaml"
ACTIONS = "nist_ai_rmf_actions_data.yaml"
MITIGATION_DATA = "mit_ai_risk_mitigation_data.yaml"
REPOSITORY = "mit_ai_risk_repository_data.yaml"
RMF = "nist_ai_rmf_data.yaml"
V1, DOMAINS, CAUSAL = (
    "mit-draft-ai-risk-mitigation",
    "mit-ai-risk-repository",
    "mit-ai-risk-repository-causal",
)
TAB = "\t"

# --- tiny inline files: one consistent set, then one fault per test ----------------------------

TINY = {
    MITIGATION_DATA: """\
documents:
  - id: doc-Paper2024
    name: A paper
    dateCreated: 2024-01-02
taxonomies:
  - id: mit-draft-ai-risk-mitigation
    name: v1
    type: RiskControlGroupTaxonomy
    hasDocumentation: [doc-Paper2024]
groups:
  - id: mit-draft-ai-risk-mitigation-group-1
    name: 1. Governance
    type: RiskControlGroup
    isDefinedByTaxonomy: mit-draft-ai-risk-mitigation
    narrower: [mit-draft-ai-risk-mitigation-group-1.1]
  - id: mit-draft-ai-risk-mitigation-group-1.1
    name: 1.1 Board
    description: Boards.
    type: RiskControlGroup
    isDefinedByTaxonomy: mit-draft-ai-risk-mitigation
    broader: [mit-draft-ai-risk-mitigation-group-1]
""",
    REPOSITORY: """\
documents: []
taxonomies:
  - {id: mit-ai-risk-repository, name: Domains, type: RiskTaxonomy}
groups:
  - {id: mit-ai-risk-domain-1, name: Discrimination, type: RiskGroup,
     isDefinedByTaxonomy: mit-ai-risk-repository}
entries:
  - {id: mit-ai-risk-subdomain-1.1, name: Unfair discrimination, description: Unequal.,
     type: Risk, isDefinedByTaxonomy: mit-ai-risk-repository, isPartOf: mit-ai-risk-domain-1}
""",
    CONTROLS: """\
controls:
  - {id: A0001_Paper2024, name: Board, description: Have a board., type: Action,
     hasDocumentation: [doc-Paper2024]}
  - {id: A0002_NIST2024, name: Other; confabulation Assessment, type: Action,
     description: "Review   outputs.\\n(TEVV, end users)", hasDocumentation: [NIST.AI.600-1]}
""",
    ACTIONS: """\
actions:
  - {id: MS-2.5-001, name: MS-2.5-001, description: Review outputs.,
     hasRelatedRisk: [nist-confabulation], hasDocumentation: [NIST.AI.600-1],
     isDefinedByTaxonomy: nist-ai-rmf, hasAiActorTask: [TEVV, End-Users]}
  - {id: GV-1.1-001, name: GV-1.1-001, description: Align.,
     hasDocumentation: [NIST.AI.600-1], isDefinedByTaxonomy: nist-ai-rmf,
     hasAiActorTask: [end users]}
""",
    RMF: """\
documents:
  - {id: NIST.AI.600-1, name: Generative AI Profile}
taxonomies:
  - {id: nist-ai-rmf, name: NIST AI RMF, type: RiskTaxonomy, hasDocumentation: [NIST.AI.600-1]}
entries:
  - {id: nist-confabulation, name: Confabulation, description: False content.,
     hasRelatedAction: [MS-2.5-001], type: Risk, isDefinedByTaxonomy: nist-ai-rmf}
""",
    MAPPINGS: "# curie_map:\n"
    "#   nexus: https://w3id.org/ai-atlas-nexus/\n"
    "#   mit-draft-ai-risk-mitigation: https://example.org/v1\n"
    "# mapping_date: '2026-02-23'\n"
    + TAB.join(["subject_id", "subject_label", "predicate_id", "object_id", "object_label",
                "mapping_justification", "author_id", "mapping_date", "comment"])
    + "\n"
    + TAB.join(["nexus:A0001_Paper2024", "Board", "nexus:isCategorizedAs",
                "mit-draft-ai-risk-mitigation:mit-draft-ai-risk-mitigation-group-1.1", "Board",
                "semapv:ManualMappingCuration", "someone@example.org", "2026-02-23"])
    + "\n",
}  # fmt: skip
ROW = "nexus:A0001_Paper2024\tBoard\tnexus:isCategorizedAs\t"


def cases(*rows: tuple) -> list:
    """Parametrized error cases, each named by its file and field."""
    return [pytest.param(*row, id=f"{Path(row[0]).stem}:{row[4]}") for row in rows]


def tiny(edits: dict[str, tuple[str, str]] | None = None) -> dict[str, bytes]:
    """The tiny files, with `old` replaced by `new` in the file each edit names."""
    files = dict(TINY)
    for name, (old, new) in (edits or {}).items():
        assert old in files[name], f"{old!r} is not in {name}"
        files[name] = files[name].replace(old, new, 1)
    return {name: text.encode() for name, text in files.items()}


def test_the_tiny_files_read_into_records() -> None:
    data = parse_nexus(tiny())
    assert data.concepts["mit-draft-ai-risk-mitigation-group-1.1"] == Concept(
        "mit-draft-ai-risk-mitigation-group-1.1", V1, "1.1", "Board", "Boards.",
        "mit-draft-ai-risk-mitigation-group-1", "RiskControlGroup",
    )  # fmt: skip
    assert data.scheme(DOMAINS)["1.1"].broader == "mit-ai-risk-domain-1"
    assert data.mitigations["A0001_Paper2024"] == Mitigation(
        "A0001_Paper2024", "Board", "Have a board.", "doc-Paper2024", "1.1"
    )
    assert data.mitigations["A0002_NIST2024"].category is None
    assert data.documents["doc-Paper2024"].created == date(2024, 1, 2)
    assert data.actions["MS-2.5-001"] == RmfAction(
        "MS-2.5-001", "Review outputs.", "MS-2.5", ("nist-confabulation",), ("TEVV", "End-Users"),
        "NIST.AI.600-1", "nist-ai-rmf",
    )  # fmt: skip
    assert data.actions["GV-1.1-001"].actor_tasks == ("End-Users",)
    assert list(data.rmf_groups) == ["MS", "MS-2", "MS-2.5", "GV", "GV-1", "GV-1.1"]
    assert data.rmf_groups["MS-2.5"] == RmfGroup("MS-2.5", "subcategory", None, "MS-2")
    assert data.rmf_groups["MS"].name == "Measure"
    # The profile's record: its text without the list of actor tasks, its risks by name (a
    # `;`-part starting with a risk's name, in any case, names it).
    assert data.profile_records == {
        "A0002_NIST2024": ProfileRecord(
            "A0002_NIST2024", "Review outputs.", ("TEVV", "End-Users"), ("nist-confabulation",)
        )
    }
    (row,) = data.categorisations
    assert (row.mitigation, row.code, row.author, row.line) == (
        "A0001_Paper2024", "1.1", "mailto:someone@example.org", 6,
    )  # fmt: skip
    assert (
        data.mapping_set.expand(
            "mit-draft-ai-risk-mitigation:mit-draft-ai-risk-mitigation-group-1.1"
        )
        == "https://example.org/v1/mit-draft-ai-risk-mitigation-group-1.1"
    )
    assert data.mapping_set.date == "2026-02-23"
    found = {(w.file, w.record, w.field) for w in data.warnings}
    assert found == {
        (MAPPINGS, "header", "curie_map.mit-draft-ai-risk-mitigation"),
        (MAPPINGS, "nexus:A0001_Paper2024", "comment"),
        (MAPPINGS, "nexus:A0001_Paper2024", "author_id"),
        (MAPPINGS, "A0002_NIST2024", "subject_id"),
        (ACTIONS, "GV-1.1-001", "hasAiActorTask"),
        (CONTROLS, "A0002_NIST2024", "description"),
    }


def test_the_origins_given_name_the_files() -> None:
    edits = {CONTROLS: ("type: Action,", "type: Control,")}
    origins = {name: f"/wheel.whl!data/{name}" for name in FILES}
    with pytest.raises(NexusError) as caught:
        parse_nexus(tiny(edits), origins)
    assert caught.value.file == f"/wheel.whl!data/{CONTROLS}"
    assert str(caught.value) == (
        f"/wheel.whl!data/{CONTROLS}: record 'A0001_Paper2024', field 'type': "
        "'Control', expected one of Action"
    )


@pytest.mark.parametrize(
    ("name", "old", "new", "record", "field", "expected"),
    cases(
        (CONTROLS, " name: Board,", "", "A0001_Paper2024", "name", "missing or empty"),
        (CONTROLS, "name: Board,", "name: [Board],", "A0001_Paper2024", "name", "a list, expected text"),
        (CONTROLS, "[doc-Paper2024]", "[doc-Nowhere2024]", "A0001_Paper2024", "hasDocumentation", "'doc-Nowhere2024', which no file defines"),
        (CONTROLS, "[doc-Paper2024]", "[doc-Paper2024, NIST.AI.600-1]", "A0001_Paper2024", "hasDocumentation", "2 documents, expected one"),
        (CONTROLS, "type: Action,", "type: Action, url: x,", "A0001_Paper2024", "url", "unknown field"),
        (CONTROLS, "  - {id: A0002_NIST2024", "  - {id: A0001_Paper2024", "A0001_Paper2024", "id", "a second record with this id"),
        (CONTROLS, "controls:", "mitigations:", None, "mitigations", "unknown section"),
        (CONTROLS, "controls:\n", "controls: 3\nx:\n", None, "x", "unknown section"),
        (ACTIONS, "hasAiActorTask: [end users]", "hasAiActorTask: end users", "GV-1.1-001", "hasAiActorTask", "text, expected a list of text"),
        (ACTIONS, "[nist-confabulation]", "[nist-nothing]", "MS-2.5-001", "hasRelatedRisk", "'nist-nothing'"),
        (ACTIONS, "id: GV-1.1-001", "id: GV-1-001", "GV-1-001", "id", "expected an action id"),
        (RMF, "[MS-2.5-001]", "[MS-9.9-001]", "nist-confabulation", "hasRelatedAction", "'MS-9.9-001'"),
        (MITIGATION_DATA, "dateCreated: 2024-01-02", "dateCreated: soon", "doc-Paper2024", "dateCreated", "text, expected a date"),
        (MITIGATION_DATA, "name: 1.1 Board", "name: 1.2 Board", "mit-draft-ai-risk-mitigation-group-1.1", "name", "starts with 1.2"),
        (MITIGATION_DATA, "broader: [mit-draft-ai-risk-mitigation-group-1]", "broader: [mit-draft-ai-risk-mitigation-group-9]", "mit-draft-ai-risk-mitigation-group-1.1", "broader", "which no file defines"),
        (REPOSITORY, "isPartOf: mit-ai-risk-domain-1", "isPartOf: mit-draft-ai-risk-mitigation-group-1", "mit-ai-risk-subdomain-1.1", "isPartOf", "of another scheme"),
        (REPOSITORY, "id: mit-ai-risk-subdomain-1.1", "id: mit-ai-risk-subdomain-x", "mit-ai-risk-subdomain-x", "id", "expected an id of the form"),
        (REPOSITORY, "isDefinedByTaxonomy: mit-ai-risk-repository}\nentries", "isDefinedByTaxonomy: nowhere}\nentries", "mit-ai-risk-domain-1", "isDefinedByTaxonomy", "'nowhere', which no file defines"),
        (MAPPINGS, "group-1.1\tBoard", "group-7.7\tBoard", "nexus:A0001_Paper2024", "object_id", "expected mit-draft-ai-risk-mitigation: and the id of a v1 concept"),
        (MAPPINGS, ROW, "nexus:A0009_Paper2024\tBoard\tnexus:isCategorizedAs\t", "nexus:A0009_Paper2024", "subject_id", "the id of a record"),
        (MAPPINGS, "nexus:isCategorizedAs\tmit", "skos:exactMatch\tmit", "nexus:A0001_Paper2024", "predicate_id", "expected nexus:isCategorizedAs"),
        (MAPPINGS, "2026-02-23\n", "2026-02-23\tok\textra\n", "nexus:A0001_Paper2024", None, "10 fields, expected 9"),
        (MAPPINGS, "\tsemapv:ManualMappingCuration", "\t", "nexus:A0001_Paper2024", "mapping_justification", "missing or empty"),
        (MAPPINGS, "# curie_map:\n", "# curie_map: [nexus]\n# other:\n", "header", "curie_map", "a list, expected prefixes and IRIs"),
        (MAPPINGS, "\tobject_id\t", "\tobject\t", "header", "object_id", "missing, expected the columns"),
    ),
)  # fmt: skip
def test_an_error_names_the_file_the_record_and_the_field(name, old, new, record, field, expected):
    with pytest.raises(NexusError) as caught:
        parse_nexus(tiny({name: (old, new)}))
    error = caught.value
    assert (error.file, error.record, error.field) == (name, record, field)
    assert expected in error.message
    assert isinstance(error, InputError)  # the CLI reports it as a data error (exit 1)


def test_a_second_row_for_a_record_is_an_error_naming_its_line() -> None:
    row = TINY[MAPPINGS].splitlines()[-1]
    with pytest.raises(NexusError) as caught:
        parse_nexus(tiny({MAPPINGS: (row, f"{row}\n{row}")}))
    assert (caught.value.record, caught.value.field, caught.value.line) == (
        "nexus:A0001_Paper2024", "subject_id", 7,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("name", "data", "expected", "line"),
    [
        (CONTROLS, b"controls:\n  - id: \xff\n", "byte 18 is not UTF-8", None),
        (ACTIONS, b"actions:\n  - id: [x\n  y: 1\n", "not YAML", 3),
        (RMF, b"[" * 100_000, "nested too deeply", None),
        (RMF, b"- a\n- b\n", "a list, expected a mapping of sections", None),
        (RMF, b"!!python/object/apply:os.system [echo hi]\n", "not YAML", 1),
        (MAPPINGS, TINY[MAPPINGS].replace(ROW, '"' + ROW).encode(), "not TSV", 6),
    ],
    ids=["not-utf8", "not-yaml", "nested", "not-a-mapping", "python-tag", "unclosed-quote"],
)
def test_hostile_content_is_an_error_naming_the_file(name, data, expected, line) -> None:
    files = tiny() | {name: data}
    with pytest.raises(NexusError) as caught:
        parse_nexus(files)
    assert (caught.value.file, caught.value.line) == (name, line)
    assert expected in caught.value.message


def test_files_are_read_as_hostile_input(tmp_path: Path) -> None:
    for name, data in tiny().items():
        (tmp_path / name).write_bytes(data)
    assert len(read_nexus(tmp_path).mitigations) == 2
    with pytest.raises(InputError, match="expected a file of at most 100 bytes"):
        read_nexus(tmp_path, limit=100)
    (tmp_path / RMF).unlink()
    os.mkfifo(tmp_path / RMF)  # opening a FIFO would wait for a writer
    with pytest.raises(InputError, match="a FIFO"):
        read_nexus(tmp_path)
    (tmp_path / RMF).unlink()
    with pytest.raises(InputError, match="No such file") as caught:
        read_nexus(tmp_path)
    assert caught.value.source == str(tmp_path / RMF)
    with pytest.raises(NexusError, match="missing, expected each of"):
        parse_nexus({name: data for name, data in tiny().items() if name != RMF})


def test_warnings_are_summarised_one_line_per_kind() -> None:
    warnings = [NexusWarning("f.tsv", f"r{n}", "author_id", "an e-mail address") for n in range(5)]
    warnings.append(NexusWarning("f.tsv", "header", "curie_map.x", "no separator"))
    assert summarise(warnings) == [
        "f.tsv: author_id: an e-mail address (5 records: r0, r1, r2 and 2 more)",
        "f.tsv: curie_map.x: no separator (1 record: header)",
    ]
    assert str(warnings[0]) == "f.tsv: r0, author_id: an e-mail address"


# --- ../shared's copies of the real files ------------------------------------------------------


@pytest.fixture(scope="module")
def nexus_dir(shared: Path) -> Path:
    return shared / "data" / "ai-atlas-nexus"


@pytest.fixture(scope="module")
def data(nexus_dir: Path) -> NexusData:
    return read_nexus(nexus_dir)


@pytest.mark.shared
def test_the_counts_of_each_kind_of_record(data: NexusData) -> None:
    assert len(data.mitigations) == 831
    # 13 documents in the mitigation data; the records come from 12 of them (not the MIT paper
    # describing the taxonomy) and from NIST AI 600-1, defined in nist_ai_rmf_data.yaml.
    assert len({m.document for m in data.mitigations.values()}) == 13
    assert len(data.documents) == 15
    assert len(data.categorisations) == 820
    assert sum(m.category is not None for m in data.mitigations.values()) == 820
    v1, domains, causal = data.scheme(V1), data.scheme(DOMAINS), data.scheme(CAUSAL)
    assert [len([c for c in s.values() if c.broader is None]) for s in (v1, domains, causal)] == [
        4,
        7,
        3,
    ]
    assert [len([c for c in s.values() if c.broader]) for s in (v1, domains, causal)] == [23, 24, 9]
    assert sorted(c.code for c in causal.values() if c.broader is None) == [
        "entity",
        "intent",
        "timing",
    ]
    assert len(data.genai_risks) == 12
    assert len(data.actions) == 212
    levels = [group.level for group in data.rmf_groups.values()]
    assert [levels.count(level) for level in ("function", "category", "subcategory")] == [4, 19, 49]
    assert len(data.profile_records) == 203
    assert {m.document for m in data.mitigations.values() if m.id in data.profile_records} == {
        "NIST.AI.600-1"
    }


@pytest.mark.shared
def test_records_field_by_field(data: NexusData) -> None:
    assert data.mitigations["A0086_Future_of_Life_Institute2024"] == Mitigation(
        "A0086_Future_of_Life_Institute2024", "AI Safety Team",
        "Does your organization have a safety team? If yes, please provide the team name, a URL to "
        "the team’s website (if applicable), the team size (defined as FTE technical staff), and "
        "briefly describe its mission.",
        "doc-FLI2024", "1.1",
    )  # fmt: skip
    assert data.mitigations["A0164_Future_of_Life_Institute2024"].text is None  # description: ""
    assert data.documents["doc-FLI2024"] == Document(
        "doc-FLI2024", "FLI AI Safety Index 2024", data.documents["doc-FLI2024"].description,
        "Future of Life Institute", "https://futureoflife.org/document/fli-ai-safety-index-2024/",
        date(2024, 12, 11), date(2024, 12, 11),
    )  # fmt: skip
    assert data.documents["doc-FLI2024"].description.startswith("The 2024 FLI AI Safety Index")
    assert data.concepts["mit-draft-ai-risk-mitigation-group-3.6"] == Concept(
        "mit-draft-ai-risk-mitigation-group-3.6", V1, "3.6", "Incident Response & Recovery",
        "Protocols and technical systems that respond to security incidents, safety failures, or "
        "capability misuse.\nExamples: Incident response plans, emergency shutdown/rollback "
        "procedures, model containment mechanisms, safety drills, critical infrastructure "
        "protection measures",
        "mit-draft-ai-risk-mitigation-group-3", "RiskControlGroup",
    )  # fmt: skip
    assert data.scheme(V1)["1"].name == "Governance & Oversight Controls"
    assert data.scheme(DOMAINS)["7.6"].name == "Multi-agent risks"  # "Multi-agent risks " upstream
    assert data.scheme(DOMAINS)["7.6"].broader == "mit-ai-risk-domain-7"
    assert data.scheme(CAUSAL)["entity-ai"] == Concept(
        "mit-ai-causal-risk-entity-ai", CAUSAL, "entity-ai", "AI",
        "The risk is caused by a decision or action made by an AI system",
        "mit-ai-risk-repository-causal-entity", "Risk",  # upstream's type: Risk, not RiskGroup
    )  # fmt: skip
    assert data.actions["GV-1.1-001"] == RmfAction(
        "GV-1.1-001",
        "Align GAI development and use with applicable laws and regulations, including those "
        "related to data privacy, copyright and intellectual property law.",
        "GV-1.1", ("nist-data-privacy", "nist-intellectual-property"),
        ("Governance and Oversight",), "NIST.AI.600-1", "nist-ai-rmf",
    )  # fmt: skip
    assert data.rmf_groups["GV-1.1"] == RmfGroup("GV-1.1", "subcategory", None, "GV-1")
    assert data.rmf_groups["GV-1"] == RmfGroup("GV-1", "category", None, "GV")
    assert data.rmf_groups["GV"] == RmfGroup("GV", "function", "Govern", None)
    confabulation = data.genai_risks["nist-confabulation"]
    assert confabulation == GenAiRisk(
        "nist-confabulation", "Confabulation", confabulation.definition,
        confabulation.actions, "nist-ai-rmf",
    )  # fmt: skip
    assert confabulation.actions[:3] == ("GV-1.3-002", "GV-4.1-001", "GV-5.1-002")
    assert len(confabulation.actions) == 18
    assert data.genai_risks["nist-environmental-impacts"].actions == ()
    assert data.profile_records["A0735_NIST2024"] == ProfileRecord(
        "A0735_NIST2024",
        "Use structured feedback mechanisms to solicit and capture user input about AI generated "
        "content to detect subtle shifts in quality or alignment with community and societal "
        "values.",
        ("AI Deployment", "AI Impact Assessment", "Governance and Oversight", "Operation and Monitoring"),
        ("nist-human-ai-configuration", "nist-harmful-bias-and-homogenization"),
    )  # fmt: skip
    # A parenthesis that is not a list of actor tasks stays in the text.
    assert data.profile_records["A0412_NIST2024"].text.endswith("(or has already caused harm).")
    assert data.profile_records["A0412_NIST2024"].actor_tasks == ()
    assert data.categorisations[0] == Categorisation(
        "A0086_Future_of_Life_Institute2024", "mit-draft-ai-risk-mitigation-group-1.1", "1.1",
        "Board Structure & Oversight", "nexus:isCategorizedAs", "semapv:ManualMappingCuration",
        "mailto:airisk@mit.edu", date(2026, 2, 23), 13,
    )  # fmt: skip


@pytest.mark.shared
@pytest.mark.parametrize(
    ("record", "code"),
    [
        ("A0086_Future_of_Life_Institute2024", "1.1"),
        ("A0905_UK_Government2023", "4.6"),
        ("A0735_NIST2024", "4.6"),
        ("A0861_UK_Government2023", "4.3"),  # its TSV label is CSV-quoted
        ("A0634_Barrett2024", "1"),  # "Governance & Oversight Control not otherwise categorized"
        ("A0041_Casper2025", None),  # no row in the TSV
    ],
)
def test_the_v1_category_of_a_record(data: NexusData, record: str, code: str | None) -> None:
    assert data.mitigations[record].category == code


@pytest.mark.shared
@pytest.mark.parametrize(
    ("file", "record", "field", "expected"),
    [
        (MAPPINGS, "header", "curie_map.mit-draft-ai-risk-mitigation", "read as https://airisk.mit.edu/blog/mapping-ai-risk-mitigations/"),
        (MAPPINGS, "nexus:A0086_Future_of_Life_Institute2024", "author_id", "read as mailto:airisk@mit.edu"),
        (MAPPINGS, "nexus:A0905_UK_Government2023", "comment", "8 fields, the header has 9"),
        (ACTIONS, "GV-6.1-001", "hasAiActorTask", "'third-party entities' read as 'Third-party entities'"),
        (ACTIONS, "MP-2.2-001", "hasAiActorTask", "'End Users' read as 'End-Users'"),
        (MITIGATION_DATA, "mit-draft-ai-risk-mitigation-group-3", "narrower", "omits mit-draft-ai-risk-mitigation-group-3.6"),
        (MAPPINGS, "nexus:A0861_UK_Government2023", "subject_label", "differs from the record's name"),
        (MAPPINGS, "A0880_UK_Government2023", "subject_id", "no v1 category"),
        (CONTROLS, "A1041_Uuk2024", "description", "the same text as A1039_Uuk2024"),
    ],
)  # fmt: skip
def test_an_upstream_fault_is_a_warning_naming_where(
    data, nexus_dir, file, record, field, expected
):
    found = [w for w in data.warnings if (w.record, w.field) == (record, field)]
    assert [w.file for w in found] == [str(nexus_dir / file)]
    assert expected in found[0].message


@pytest.mark.shared
def test_the_upstream_faults_and_how_often(data: NexusData) -> None:
    counts = {}
    for warning in data.warnings:
        key = (Path(warning.file).name, warning.field)
        counts[key] = counts.get(key, 0) + 1
    assert counts == {
        (MAPPINGS, "curie_map.mit-draft-ai-risk-mitigation"): 1,
        (MAPPINGS, "comment"): 820,  # every row: 8 fields under a header of 9
        (MAPPINGS, "author_id"): 820,  # every row: airisk@mit.edu
        (MAPPINGS, "subject_label"): 1,
        (MAPPINGS, "subject_id"): 11,
        (ACTIONS, "hasAiActorTask"): 19,  # 17 'third-party entities', 2 'End Users'
        (MITIGATION_DATA, "narrower"): 1,
        (CONTROLS, "description"): 5,  # records of one document quoting one passage
    }
    assert len(summarise(data.warnings)) == 13  # each same-text pair names its first record
    # Repaired: no IRI glues the prefix to the local name.
    iri = data.mapping_set.expand(f"{V1}:{V1}-group-1.1")
    assert iri == "https://airisk.mit.edu/blog/mapping-ai-risk-mitigations/" + f"{V1}-group-1.1"


@pytest.mark.shared
@pytest.mark.parametrize(
    ("name", "old", "new", "record", "field", "expected"),
    cases(
        (CONTROLS, "    hasDocumentation:\n      - doc-FLI2024\n    type: Action\n  - id: A0089", "    type: Action\n  - id: A0089", "A0086_Future_of_Life_Institute2024", "hasDocumentation", "missing or empty, expected a list of text"),
        (CONTROLS, "name: AI Safety Team", "name: [AI Safety Team]", "A0086_Future_of_Life_Institute2024", "name", "a list, expected text"),
        (CONTROLS, "      - doc-FLI2024\n    type: Action\n  - id: A0089", "      - doc-FLI2025\n    type: Action\n  - id: A0089", "A0086_Future_of_Life_Institute2024", "hasDocumentation", "'doc-FLI2025', which no file defines"),
        (ACTIONS, "    hasAiActorTask:\n      - Governance and Oversight\n  - id: GV-1.2-001", "    hasAiActorTask: Governance and Oversight\n  - id: GV-1.2-001", "GV-1.1-001", "hasAiActorTask", "text, expected a list of text"),
        (RMF, "      - GV-1.2-002\n", "      - GV-1.2-999\n", "nist-cbrn-information-or-capabilities", "hasRelatedAction", "'GV-1.2-999'"),
        (MAPPINGS, "mit-draft-ai-risk-mitigation-group-1.1\tBoard Structure & Oversight", "mit-draft-ai-risk-mitigation-group-1.9\tBoard Structure & Oversight", "nexus:A0086_Future_of_Life_Institute2024", "object_id", "a v1 concept"),
    ),
)  # fmt: skip
def test_a_broken_copy_is_an_error_naming_file_record_and_field(
    nexus_dir: Path, tmp_path: Path, name, old, new, record, field, expected
) -> None:
    for file in FILES:
        text = (nexus_dir / file).read_text(encoding="utf-8")
        if file == name:
            assert old in text, f"{old!r} is not in {file}"
            text = text.replace(old, new, 1)
        (tmp_path / file).write_text(text, encoding="utf-8")
    with pytest.raises(NexusError) as caught:
        read_nexus(tmp_path)
    error = caught.value
    assert (error.file, error.record, error.field) == (str(tmp_path / name), record, field)
    assert expected in error.message
    assert str(error).startswith(f"{tmp_path / name}")
