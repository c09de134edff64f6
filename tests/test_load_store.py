"""Loading into a real store on disk: counts, idempotence, atomicity, replacement, stable IRIs."""

import os
import shutil
import time
from pathlib import Path

import pytest
from conftest import SAMPLE
from engines import CONTRACT_ENGINES, engine, remote_settings
from pyoxigraph import DefaultGraph

from kg.load import Loader
from kg.settings import Settings
from kg.store import RETENTION, GraphStore, OxigraphStore
from kg.stores import open_store

SEED_WITH_PARENT = "001_af4fa749e00a25f6.txt"


@pytest.fixture(params=("embedded", *CONTRACT_ENGINES))
def any_store(request: pytest.FixtureRequest, tmp_path: Path):
    """Settings of a store of each kind: the store contract holds on every one."""
    if request.param == "embedded":
        yield Settings(store=tmp_path / "store")
        return
    with engine(request.param, tmp_path) as server:
        yield remote_settings(server, tmp_path)


def load(settings: Settings, *paths: Path, skip_invalid: bool = False):
    loader = Loader(settings, open_store(settings))
    report = loader.load(
        loader.vocabulary_sources() + loader.entry_sources(paths), skip_invalid=skip_invalid
    )
    return report, open_store(settings)


def count(store: GraphStore, where: str) -> int:
    rows = list(store.query(f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {where} }}"))
    return int(rows[0]["n"].value)


def snapshot(store: GraphStore) -> set[str]:
    return {str(q) for q in store.reader().quads_for_pattern(None, None, None, None)}


def test_sample_graph(any_store):
    report, store = load(any_store, SAMPLE)
    assert (report.entries, report.errors) == (2, [])
    assert count(store, "?x kg:navigatorId ?id") == 2
    # Both seeds list the same six entries of the same document: six shared resources.
    assert count(store, "?x a kg:Mitigation") == 8
    assert count(store, "?x a kg:SourceDocument") == 1
    assert count(store, "?x a kg:Author") == 13
    assert count(store, "?x a kg:MitigationCategory") == 51
    assert count(store, "?x a kg:LifecycleStage") == 10
    rows = store.query(
        """SELECT ?path ?parentLabel WHERE {
             ?m kg:navigatorId ?id ; kg:sourceHeading/kg:headingPath ?path ;
                kg:parentMitigation/rdfs:label ?parentLabel }"""
    )
    assert [(r["path"].value, r["parentLabel"].value) for r in rows] == [
        ("Value Misalignment > Privacy protection", "Privacy protection")
    ]
    year = next(iter(store.query("SELECT ?y { ?d a kg:SourceDocument ; dcterms:issued ?y }")))["y"]
    assert (year.value, year.datatype.value) == ("2024", "http://www.w3.org/2001/XMLSchema#gYear")
    first = store.query(
        "SELECT ?a WHERE { ?d bibo:authorList ?l . ?l rdf:_1 ?x . ?x foaf:name ?a }"
    )
    assert [r["a"].value for r in first] == ["Dan Shi"]
    langs = store.query("SELECT DISTINCT (LANG(?t) AS ?l) WHERE { ?m kg:quotation ?t }")
    assert [r["l"].value for r in langs] == ["en"]


def test_each_file_has_its_graph_with_provenance(any_store):
    _, store = load(any_store, SAMPLE)
    rows = store.query(
        """SELECT ?file ?hash ?version WHERE { GRAPH ?g {
             ?g kg:sourceFile ?file ; kg:contentHash ?hash ; kg:loaderVersion ?version ;
                prov:generatedAtTime ?t . ?m kg:navigatorId ?id } } ORDER BY ?file"""
    )
    rows = list(rows)
    assert [r["file"].value for r in rows] == sorted(p.name for p in SAMPLE.glob("*.txt"))
    assert all(r["hash"].value.startswith("sha256:") for r in rows)
    assert all(r["version"].value.startswith("kg ") for r in rows)


def test_reloading_an_unchanged_set_is_a_no_op(any_store):
    _, store = load(any_store, SAMPLE)
    before, version = snapshot(store), store.snapshot().version
    report, store = load(any_store, SAMPLE)
    assert (report.entries, report.quads, report.unchanged) == (0, 0, report.files)
    assert snapshot(store) == before
    assert store.snapshot().version == version


def test_changed_file_replaces_exactly_its_triples(any_store, tmp_path):
    pages = tmp_path / "pages"
    shutil.copytree(SAMPLE, pages)
    _, store = load(any_store, pages)
    page = pages / SEED_WITH_PARENT
    page.write_text(
        page.read_text(encoding="utf-8").replace("Developer\n", "Deployer\n"), encoding="utf-8"
    )
    report, store = load(any_store, pages)
    assert report.entries == 1
    actors = store.query("SELECT ?a WHERE { ?m kg:navigatorId ?id ; kg:actor ?a } ORDER BY ?a")
    assert [r["a"].value.rsplit("/", 1)[1] for r in actors] == ["deployer", "developer"]
    # The facts both pages state (the shared document) survive the replacement.
    assert count(store, "?x a kg:SourceDocument") == 1
    assert count(store, "?x a kg:Author") == 13


def test_failing_file_leaves_store_unchanged(any_store, tmp_path):
    _, store = load(any_store, SAMPLE)
    before, version = snapshot(store), store.snapshot().version
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "A0001.txt").write_text("Sex-related crimes\nnot an entry\n", encoding="utf-8")
    shutil.copy(SAMPLE / SEED_WITH_PARENT, bad / "A0002.txt")
    report, store = load(any_store, bad)
    assert [e.source for e in report.errors] == ["A0001.txt"]
    assert snapshot(store) == before
    assert store.snapshot().version == version
    report, store = load(any_store, bad, skip_invalid=True)
    assert count(store, "?x kg:navigatorId 'A0002'") == 1


def test_interrupted_commit_leaves_store_unchanged(any_store, tmp_path, monkeypatch):
    _, store = load(any_store, SAMPLE)
    before, version = snapshot(store), store.snapshot().version
    pages = tmp_path / "pages"
    pages.mkdir()
    shutil.copy(SAMPLE / SEED_WITH_PARENT, pages / "A0003.txt")

    def interrupted(self, quads):
        next(iter(quads))
        raise KeyboardInterrupt

    monkeypatch.setattr("pyoxigraph.Store.bulk_extend", interrupted)
    with pytest.raises(KeyboardInterrupt):
        load(any_store, pages)
    monkeypatch.undo()
    store = open_store(any_store)
    assert snapshot(store) == before
    assert store.snapshot().version == version
    if not any_store.is_remote:  # the abandoned generation is gone
        live = Path(str(store.snapshot().directory)).name
        assert [p.name for p in any_store.store_dir.glob("gen-*")] == [live]


def test_one_writer_at_a_time(settings):
    import fcntl

    from kg.errors import StoreError

    settings.store_dir.mkdir(parents=True)
    with (settings.store_dir / "write.lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(StoreError, match="another kg process is writing"):
            load(settings, SAMPLE)
    assert OxigraphStore(settings.store).live_directory is None


def test_previous_generation_stays_for_open_readers(settings, tmp_path):
    _, store = load(settings, SAMPLE)
    reader = store.reader()  # a reader that opened generation 1
    pages = tmp_path / "pages"
    pages.mkdir()
    shutil.copy(SAMPLE / SEED_WITH_PARENT, pages / "A0004.txt")
    load(settings, pages)
    navigator_id = "<https://w3id.org/airm-kg/ontology#navigatorId>"
    assert len(list(reader.query(f"SELECT * WHERE {{ ?s {navigator_id} ?id }}"))) == 2
    load(settings, SAMPLE, pages)  # unchanged: no new generation
    (pages / "A0005.txt").write_bytes((SAMPLE / SEED_WITH_PARENT).read_bytes())
    load(settings, pages)
    generations = sorted(p.name for p in settings.store_dir.glob("gen-*"))
    assert generations == ["gen-000001", "gen-000002", "gen-000003"]  # all replaced recently
    assert len(list(reader.query(f"SELECT * WHERE {{ ?s {navigator_id} ?id }}"))) == 2
    # Once generation 2 was written long enough ago, generation 1 goes at the next commit.
    old = time.time() - RETENTION - 1
    os.utime(settings.store_dir / "gen-000002", (old, old))
    (pages / "A0006.txt").write_bytes((SAMPLE / SEED_WITH_PARENT).read_bytes())
    load(settings, pages)
    generations = sorted(p.name for p in settings.store_dir.glob("gen-*"))
    assert generations == ["gen-000002", "gen-000003", "gen-000004"]


def test_iris_are_identical_across_runs(tmp_path, corpus):
    subjects = []
    for run in ("one", "two"):
        settings = Settings(store=tmp_path / run)
        _, store = load(settings, corpus, SAMPLE, skip_invalid=True)
        rows = store.query("SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER(isIRI(?s)) }")
        subjects.append({r["s"].value for r in rows})
    assert subjects[0] == subjects[1]
    assert len(subjects[0]) > 700


def test_corpus_counts(settings, corpus):
    report, store = load(settings, corpus, skip_invalid=True)
    assert (report.entries, len(report.errors)) == (152, 28)
    assert count(store, "?x kg:navigatorId ?id") == 152
    assert count(store, "GRAPH ?x { ?x kg:sourceFile ?f }") == 152 + 7  # pages, vocabulary files
    assert count(store, "?x a kg:SourceDocument") == 7
    per_category = store.query(
        """SELECT ?code (COUNT(?m) AS ?n) WHERE {
             ?m kg:navigatorId ?id ; kg:category/skos:notation ?code }
           GROUP BY ?code ORDER BY DESC(?n) ?code LIMIT 1"""
    )
    top = next(iter(per_category))
    assert (top["code"].value, int(top["n"].value)) == (
        "2.2.2",
        14,
    )  # grep of line 3: 14 pages print its definition
    # Every category, stage, actor and function an entry points at is a concept of its scheme.
    dangling = store.query(
        """SELECT ?m ?p ?c WHERE {
             VALUES ?p { kg:category kg:lifecycleStage kg:actor kg:rmfFunction }
             ?m ?p ?c FILTER NOT EXISTS { ?c skos:inScheme ?scheme } }"""
    )
    assert list(dangling) == []


def test_base_iri_setting_moves_data_and_taxonomy_iris(tmp_path):
    settings = Settings(store=tmp_path / "s", base_iri="https://example.org/kg/")
    _, store = load(settings, SAMPLE)
    rows = store.query(
        "SELECT ?c ?label WHERE { ?m kg:navigatorId ?id ; kg:category ?c . ?c skos:prefLabel ?label }"
        " ORDER BY ?c"
    )
    assert [(r["c"].value, r["label"].value) for r in rows] == [
        ("https://example.org/kg/taxonomy/mitigation/1.1", "Model"),
        ("https://example.org/kg/taxonomy/mitigation/2.4.1", "Research & Foundations"),
    ]
    assert (
        count(
            store,
            "?x ?p ?o FILTER(STRSTARTS(STR(?x), 'https://w3id.org/airm-kg/') && "
            "!STRSTARTS(STR(?x), 'https://w3id.org/airm-kg/ontology'))",
        )
        == 0
    )


def test_two_files_with_one_name_are_refused(settings, tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        shutil.copy(SAMPLE / SEED_WITH_PARENT, tmp_path / folder / "A0006.txt")
    report, store = load(settings, tmp_path / "a", tmp_path / "b")
    assert [e.source for e in report.errors] == [str(tmp_path / "b" / "A0006.txt")]
    assert "same file name as" in report.errors[0].reason
    assert store.live_directory is None


def test_update_commits_atomically(any_store):
    from kg.errors import QueryError

    _, store = load(any_store, SAMPLE)
    before, version = snapshot(store), store.snapshot().version
    with pytest.raises(QueryError, match="invalid SPARQL update"):
        store.update("INSERT DATA { <urn:a> <urn:b> }")
    assert snapshot(store) == before and store.snapshot().version == version
    store.update('INSERT DATA { GRAPH <urn:g> { <urn:a> rdfs:label "a" } }')
    assert count(store, '?x rdfs:label "a" FILTER(?x = <urn:a>)') == 1
    assert store.snapshot().version != version


def test_update_keeps_the_default_graph_the_union_of_named_graphs(any_store):
    _, store = load(any_store, SAMPLE)

    def triples():
        return len(list(store.reader().quads_for_pattern(None, None, None, DefaultGraph())))

    before = triples()
    store.update(
        'INSERT DATA { GRAPH <urn:g> { <urn:a> rdfs:label "a" } GRAPH <urn:h> { <urn:a> rdfs:label "a" } }'
    )
    assert triples() == before + 1
    store.update("DROP GRAPH <urn:g>")
    assert count(store, '?x rdfs:label "a" FILTER(?x = <urn:a>)') == 1  # <urn:h> still states it
    store.update('INSERT DATA { <urn:b> rdfs:label "b" } ; DROP GRAPH <urn:h>')
    assert triples() == before  # a direct write into the default graph is replaced


def test_a_failed_update_leaves_no_open_generation_behind(any_store):
    from kg.errors import QueryError

    _, store = load(any_store, SAMPLE)
    failures = []
    try:
        store.update("DROP GRAPH <urn:kg:none>")
    except QueryError as error:
        failures.append(error)  # a caller keeping the error must not keep the database open
    assert failures
    store.update('INSERT DATA { GRAPH <urn:g> { <urn:a> rdfs:label "a" } }')
    assert count(store, '?x rdfs:label "a" FILTER(?x = <urn:a>)') == 1
