"""The `kg` command as users run it: a real process, parsed output, documented exit codes."""

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import rdflib
from conftest import ROOT, SAMPLE

KG = [sys.executable, "-m", "kg"]


def kg(*args: str, store: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "KG_STORE": str(store), **env}
    return subprocess.run([*KG, *args], capture_output=True, env=environment, check=False)


@pytest.fixture
def loaded(tmp_path) -> Path:
    store = tmp_path / "store"
    assert kg("load", str(SAMPLE), store=store).returncode == 0
    return store


def test_parse_prints_entries_and_reports_bad_files(tmp_path):
    bad = tmp_path / "risk.txt"
    bad.write_text("Privacy\nAI that leaks data.\n", encoding="utf-8")
    done = kg("parse", "--jsonl", str(bad), *map(str, sorted(SAMPLE.glob("*.txt"))), store=tmp_path)
    assert done.returncode == 1
    records = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert [r["category"]["code"] for r in records] == ["2.4.1", "1.1"]
    assert "risk.txt:1: expected the definition of a mitigation category" in done.stderr.decode()


def test_load_summary_and_exit_codes(tmp_path):
    store = tmp_path / "store"
    done = kg("load", str(SAMPLE), store=store)
    assert done.returncode == 0
    assert "2 entries loaded" in done.stderr.decode()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.txt").write_bytes(b"\x00\x01")
    done = kg("load", str(bad), store=store)
    assert done.returncode == 1
    assert "nothing committed, store unchanged" in done.stderr.decode()
    assert kg("load", str(tmp_path / "missing"), store=store).returncode == 1


def test_query_formats(loaded):
    sparql = "SELECT ?id WHERE { ?m kg:navigatorId ?id } ORDER BY ?id"
    as_json = json.loads(kg("query", sparql, "--format", "json", store=loaded).stdout)
    ids = [b["id"]["value"] for b in as_json["results"]["bindings"]]
    assert len(ids) == 2 and all(i.startswith("c") for i in ids)
    as_csv = list(
        csv.reader(
            io.StringIO(kg("query", sparql, "--format", "csv", store=loaded).stdout.decode())
        )
    )
    assert [row[0] for row in as_csv] == ["id", *ids]
    table = kg("query", sparql, store=loaded).stdout.decode()
    assert all(i in table for i in ids)
    ask = json.loads(
        kg("query", "ASK { ?s a kg:Mitigation }", "--format", "json", store=loaded).stdout
    )
    assert ask["boolean"] is True


def test_query_from_rq_file_and_construct(loaded, tmp_path):
    rq = tmp_path / "docs.rq"
    rq.write_text(
        "CONSTRUCT { ?d dcterms:title ?t } WHERE { ?d a kg:SourceDocument ; dcterms:title ?t }",
        encoding="utf-8",
    )
    done = kg("query", str(rq), store=loaded)
    graph = rdflib.Graph().parse(data=done.stdout.decode(), format="turtle")
    assert [str(t) for t in graph.objects()] == ["Large Language Model Safety: A Holistic Survey"]


def test_missing_query_file_is_a_usage_error(loaded, tmp_path):
    done = kg("query", str(tmp_path / "nope.rq"), store=loaded)
    assert done.returncode == 2
    assert "no such query file" in done.stderr.decode()


def test_invalid_query_is_a_usage_error(loaded):
    done = kg("query", "SELECT WHERE {", store=loaded)
    assert done.returncode == 2
    assert "invalid SPARQL" in done.stderr.decode()
    assert b"Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("name", "rdflib_format", "dataset"),
    [("turtle", "turtle", False), ("ntriples", "nt", False), ("jsonld", "json-ld", False),
     ("nquads", "nquads", True), ("trig", "trig", True)],
)  # fmt: skip
def test_export_formats(loaded, name, rdflib_format, dataset):
    done = kg("export", "--format", name, store=loaded)
    assert done.returncode == 0
    stats = json.loads(kg("stats", "--json", store=loaded).stdout)
    if dataset:
        parsed = rdflib.Dataset()
        parsed.parse(data=done.stdout.decode(), format=rdflib_format)
        quads = sum(
            len(g) for g in parsed.graphs() if g.identifier != rdflib.graph.DATASET_DEFAULT_GRAPH_ID
        )
        assert quads == stats["quads"] - stats["triples"]
    else:
        assert (
            len(rdflib.Graph().parse(data=done.stdout.decode(), format=rdflib_format))
            == stats["triples"]
        )


def test_stats_json(loaded):
    stats = json.loads(kg("stats", "--json", store=loaded).stdout)
    assert stats["graphs"] == 9  # 2 pages, kg.ttl, 4 taxonomies, 2 alignment files
    assert stats["classes"]["kg:Mitigation"] == 8
    assert stats["classes"]["kg:MitigationCategory"] == 51
    assert stats["quads"] > stats["triples"] > 900


def test_bad_base_iri_is_a_usage_error(tmp_path):
    done = kg("stats", store=tmp_path, KG_BASE_IRI="not-an-iri")
    assert done.returncode == 2
    assert "KG_BASE_IRI" in done.stderr.decode()


def test_readme_documents_every_command_and_setting():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    from kg.cli import cli
    from kg.settings import Settings

    for command in cli.commands:
        assert f"kg {command}" in readme, command
    for setting in Settings.model_fields:
        assert f"KG_{setting.upper()}" in readme, setting


def test_store_is_usable_from_a_copy_of_the_checkout(tmp_path, loaded):
    moved = tmp_path / "moved"
    shutil.copytree(loaded, moved, symlinks=True)
    assert json.loads(kg("stats", "--json", store=moved).stdout)["graphs"] == 9


@pytest.mark.parametrize("token", ["", "short"])
def test_serve_refuses_a_guessable_update_token(tmp_path, token):
    done = kg("serve", "--port", "0", "--update-token", token, store=tmp_path)
    assert done.returncode == 2
    assert "KG_UPDATE_TOKEN must have at least" in done.stderr.decode()


def test_check_gates_the_data_with_exit_codes_and_names_files(tmp_path):
    passed = kg("check", str(SAMPLE), store=tmp_path / "none")
    assert passed.returncode == 0, passed.stdout
    assert passed.stdout.decode().strip().endswith("passed: 5 checks, no rows")
    violating = tmp_path / "A9101.ttl"
    violating.write_text(
        "@prefix kg: <https://w3id.org/airm-kg/ontology#> .\n"
        "<https://w3id.org/airm-kg/mitigation/A9101> a kg:Mitigation ;\n"
        "  kg:category <https://w3id.org/airm-kg/taxonomy/mitigation/4.1> .\n",
        encoding="utf-8",
    )
    failed = kg("check", str(violating), "--format", "json", store=tmp_path / "none")
    assert failed.returncode == 1
    report = json.loads(failed.stdout)
    (unknown,) = [c for c in report["checks"] if not c["passed"]]
    assert unknown["name"] == "unknown-category-violation"
    assert unknown["rows"][0]["files"] == ["A9101.ttl"]
    assert unknown["rows"][0]["values"]["focus"]["value"].endswith("/mitigation/A9101")
    store = tmp_path / "store"
    assert kg("load", str(SAMPLE), store=store).returncode == 0
    assert kg("check", store=store).returncode == 0


# --- kg crosswalk (in process, through click's CliRunner) -------------------------------------


def _sssom(text: str) -> tuple[dict, list[dict[str, str]]]:
    """The YAML metadata (the `#` lines) and the TSV mappings of an SSSOM/TSV text."""
    import yaml

    lines = text.split("\n")
    count = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    metadata = yaml.safe_load("\n".join(line[1:] for line in lines[:count]))
    body = io.StringIO("\n".join(lines[count:]), newline="")
    return metadata, list(csv.DictReader(body, delimiter="\t"))


@pytest.mark.shared
def test_crosswalk_prints_or_writes_the_store_crosswalk_as_sssom(tmp_path, shared):
    from click.testing import CliRunner

    from kg.cli import cli

    store, output = tmp_path / "store", tmp_path / "crosswalk.sssom.tsv"

    def run(*args: str):
        return CliRunner().invoke(cli, ["--store", str(store), *args])

    assert run("load", "--skip-invalid", str(shared / "corpus" / "navigator")).exit_code == 0
    assert run("import-nexus", str(shared / "data" / "ai-atlas-nexus")).exit_code == 0
    printed = run("crosswalk")
    assert printed.exit_code == 0, printed.output
    metadata, mappings = _sssom(printed.stdout)
    assert metadata["mapping_set_id"].endswith("/graph/derived/crosswalk/mitigation-v1-v2")
    assert len(mappings) == 27
    assert {m["mapping_justification"] for m in mappings} == {"semapv:InstanceBasedMatching"}
    pairs = {(m["subject_id"], m["object_id"]) for m in mappings}
    assert ("kgmitv1:1.2", "kgmit:2.2.1") in pairs
    written = run("crosswalk", "--output", str(output))
    assert written.exit_code == 0 and written.stdout == ""
    assert output.read_bytes() == printed.stdout_bytes


def test_crosswalk_of_a_store_without_nexus_data_is_an_empty_set(loaded):
    from click.testing import CliRunner

    from kg.cli import cli

    done = CliRunner().invoke(cli, ["--store", str(loaded), "crosswalk"])
    assert done.exit_code == 0
    metadata, mappings = _sssom(done.stdout)
    assert mappings == [] and metadata["license"]
    assert "no mapping" in done.stderr
