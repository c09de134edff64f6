"""A named query is reachable as a file, from the CLI, as a page and as an API, with its
parameters bound as values; checked on two small queries written for the purpose (the queries of
`queries/` and their answers are tested in test_named_queries.py)."""

import csv
import io
import json
import os
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import html5rdf
import pytest
from pyoxigraph import QueryResultsFormat, parse_query_results
from served import client, kg_server

from kg.named_queries import ParameterError, QueryFileError, read_query

IN_CATEGORY = """# title: Mitigations under a category
# question: Which mitigations have exactly this category?
# params: ?code (notation, default 1) the category's code
SELECT ?mitigation ?code WHERE {
  VALUES ?code { "1" }
  ?mitigation kg:category/skos:notation ?code
} ORDER BY ?mitigation
"""
AT_STAGE = """# title: Mitigations at a stage
# question: Which mitigations are classified at this lifecycle stage?
# params: ?stage (iri) the stage
# params: ?limit (integer, default 10) rows at most
SELECT ?mitigation WHERE {
  VALUES ?stage { UNDEF }
  VALUES ?limit { 10 }
  ?mitigation kg:lifecycleStage ?stage
} ORDER BY ?mitigation
"""
STAGE = "https://w3id.org/airm-kg/taxonomy/stage/build-and-use-model"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture(scope="module")
def queries(tmp_path_factory):
    directory = tmp_path_factory.mktemp("queries")
    (directory / "in-category.rq").write_text(IN_CATEGORY, encoding="utf-8")
    (directory / "at-stage.rq").write_text(AT_STAGE, encoding="utf-8")
    return directory


def kg(*args, store, queries):
    env = {**os.environ, "KG_STORE": str(store), "KG_QUERIES_DIR": str(queries)}
    return subprocess.run(
        [sys.executable, "-m", "kg", *args], capture_output=True, env=env, check=False
    )


# --- the file -------------------------------------------------------------------------------


def test_a_query_file_states_its_parameters(queries):
    named = read_query(queries / "at-stage.rq")
    assert [(p.name, p.type, p.default) for p in named.params] == [
        ("stage", "iri", None),
        ("limit", "integer", "10"),
    ]
    bound = named.bind({"stage": STAGE}, notations={"1"})
    assert f"VALUES ?stage {{ <{STAGE}> }}" in bound
    assert 'VALUES ?limit { "10"^^<http://www.w3.org/2001/XMLSchema#integer> }' in bound
    assert (
        bound.replace(f" <{STAGE}> ", " UNDEF ").replace(
            ' "10"^^<http://www.w3.org/2001/XMLSchema#integer> ', " 10 "
        )
        == named.text
    )
    with pytest.raises(ParameterError, match="'stage' is required"):
        named.bind({}, notations={"1"})
    with pytest.raises(ParameterError, match="parameter 'limit': not an integer"):
        named.bind({"stage": STAGE, "limit": "ten"}, notations={"1"})
    with pytest.raises(ParameterError, match="parameter 'stage': not an IRI"):
        named.bind({"stage": "> } DROP ALL"}, notations={"1"})


def test_a_value_cannot_change_the_query(queries):
    named = read_query(queries / "in-category.rq")
    with pytest.raises(ParameterError, match="not a category code"):
        named.bind({"code": '1" } ; DROP ALL ; #'}, notations={"1"})


def test_a_parameter_is_bound_where_the_query_binds_it(tmp_path):
    (tmp_path / "scoped.rq").write_text(
        "# title: t\n# question: q\n# params: ?code (notation, default 2) c\n"
        'SELECT ?code WHERE { { SELECT ?c WHERE { VALUES ?code { "2" } ?c ?p ?code } }'
        " ?c ?q ?code }\n",
        encoding="utf-8",
    )
    named = read_query(tmp_path / "scoped.rq")
    assert 'VALUES ?code { "2.1" }' in named.bind({"code": "2.1"}, notations={"2", "2.1"})
    (tmp_path / "unbound.rq").write_text(
        "# title: t\n# question: q\n# params: ?code (notation, default 2) c\nSELECT * {}\n",
        encoding="utf-8",
    )
    with pytest.raises(QueryFileError, match=r"needs a block 'VALUES \?code"):
        read_query(tmp_path / "unbound.rq")
    (tmp_path / "drift.rq").write_text(
        "# title: t\n# question: q\n# params: ?code (notation, default 2) c\n"
        'SELECT * { VALUES ?code { "3" } }\n',
        encoding="utf-8",
    )
    with pytest.raises(QueryFileError, match="its default is"):
        read_query(tmp_path / "drift.rq")


def test_a_file_without_its_header_is_refused(tmp_path):
    (tmp_path / "bad.rq").write_text("# title: x\nSELECT * {}\n", encoding="utf-8")
    with pytest.raises(QueryFileError, match="question"):
        read_query(tmp_path / "bad.rq")
    (tmp_path / "worse.rq").write_text(
        "# title: x\n# question: y\n# params: ?a (colour)\nSELECT * {}\n", encoding="utf-8"
    )
    with pytest.raises(QueryFileError, match=r"worse.rq:3: expected"):
        read_query(tmp_path / "worse.rq")


# --- the CLI --------------------------------------------------------------------------------


def test_kg_queries_lists_them(sample_store, queries):
    done = kg("queries", store=sample_store, queries=queries)
    out = done.stdout.decode()
    assert done.returncode == 0 and "in-category" in out and "at-stage" in out
    assert "stage (iri)" in out and "limit (integer, default 10)" in out


def test_kg_query_by_name_in_each_format(sample_store, queries):
    as_json = kg(
        "query",
        "--name",
        "at-stage",
        "--param",
        f"stage={STAGE}",
        "--format",
        "json",
        store=sample_store,
        queries=queries,
    )
    assert as_json.returncode == 0, as_json.stderr
    rows = list(parse_query_results(as_json.stdout, QueryResultsFormat.JSON))
    assert rows and all(r["mitigation"].value.startswith("https://") for r in rows)
    as_csv = kg(
        "query",
        "--name",
        "at-stage",
        "--param",
        f"stage={STAGE}",
        "--format",
        "csv",
        store=sample_store,
        queries=queries,
    )
    lines = list(csv.reader(io.StringIO(as_csv.stdout.decode())))
    assert lines[0] == ["mitigation"] and [line[0] for line in lines[1:]] == [
        r["mitigation"].value for r in rows
    ]
    table = kg("query", "--name", "in-category", store=sample_store, queries=queries)
    assert table.returncode == 0 and "mitigation" in table.stdout.decode()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "in-category", "--param", "code=9.9.9"], "no category 9.9.9"),
        (["--name", "in-category", "--param", "colour=red"], "no parameter 'colour'"),
        (["--name", "at-stage"], "'stage' is required"),
        (["--name", "nothing"], "no query 'nothing'"),
        (["--name", "at-stage", "--param", "stage"], "expected NAME=VALUE"),
        (["SELECT * {}", "--name", "at-stage"], "not both"),
    ],
)
def test_kg_query_by_name_refuses_bad_parameters(sample_store, queries, args, message):
    done = kg("query", *args, store=sample_store, queries=queries)
    assert done.returncode == 2 and message in done.stderr.decode()


# --- pages and API --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def http(sample_store, queries):
    server = kg_server(sample_store, env={"KG_QUERIES_DIR": str(queries)})
    with server, client(server) as http_client:
        yield http_client


def dom(answer):
    return html5rdf.parse(answer.text, namespaceHTMLElements=False)


def test_the_list_as_a_page_and_as_json(http):
    page = dom(http.get("/queries", headers={"Accept": BROWSER}))
    links = {a.get("href") for a in page.findall(".//ul[@class='queries']//a")}
    assert links == {"/queries/in-category", "/queries/at-stage"}
    listing = http.get("/queries", headers={"Accept": "application/json"}).json()["queries"]
    assert {q["name"]: [p["name"] for p in q["params"]] for q in listing} == {
        "in-category": ["code"],
        "at-stage": ["stage", "limit"],
    }


def test_the_page_shows_form_text_editor_link_and_the_answer(http):
    api = http.get("/queries/at-stage", params={"stage": STAGE, "format": "json"})
    expected = [b["mitigation"]["value"] for b in api.json()["results"]["bindings"]]
    answer = http.get("/queries/at-stage", params={"stage": STAGE}, headers={"Accept": BROWSER})
    page = dom(answer)
    assert answer.status_code == 200
    assert page.find(".//input[@name='stage']").get("value") == STAGE
    assert page.find(".//input[@name='limit']").get("value") == "10"
    assert "SELECT ?mitigation" in "".join(page.find(".//pre[@class='query']").itertext())
    rows = page.findall(".//section[@class='results']//tbody/tr")
    assert [r.find("td/a").get("href") for r in rows] == [
        "/" + iri.removeprefix("https://w3id.org/airm-kg/") for iri in expected
    ]
    editor = next(a.get("href") for a in page.iter("a") if a.text == "Open in the SPARQL editor")
    bound = parse_qs(urlsplit(editor).query)["query"][0]
    assert f"<{STAGE}>" in bound
    in_editor = dom(http.get(editor, headers={"Accept": BROWSER}))
    assert len(in_editor.findall(".//section[@class='results']//tbody/tr")) == len(expected)


def test_the_api_negotiates_and_revalidates_like_sparql(http):
    params = {"code": "2.4.1"}
    by_accept = http.get(
        "/queries/in-category", params=params, headers={"Accept": "text/tab-separated-values"}
    )
    assert by_accept.headers["content-type"].startswith("text/tab-separated-values")
    lines = by_accept.text.splitlines()
    assert lines[0] == "?mitigation\t?code" and len(lines) > 1
    assert all(line.endswith('"2.4.1"') for line in lines[1:])
    as_csv = http.get("/queries/in-category", params={**params, "format": "csv"})
    assert as_csv.text.splitlines()[0] == "mitigation,code"
    tag = as_csv.headers["etag"]
    again = http.get(
        "/queries/in-category", params={**params, "format": "csv"}, headers={"If-None-Match": tag}
    )
    assert again.status_code == 304
    cached = http.get("/queries/in-category", params={**params, "format": "csv"})
    assert cached.headers["x-cache"] == "hit"


def test_bad_parameters_are_400_naming_them(http):
    api = http.get("/queries/in-category", params={"code": "9.9.9"})
    assert api.status_code == 400 and "parameter 'code'" in api.text
    page = http.get("/queries/in-category", params={"code": "x"}, headers={"Accept": BROWSER})
    assert page.status_code == 400
    alert = dom(page).find(".//div[@role='alert']")
    assert "parameter 'code'" in "".join(alert.itertext())
    assert http.get("/queries/at-stage").status_code == 400  # a required one missing
    assert http.get("/queries/nothing").status_code == 404
    assert json.loads(http.get("/queries", params={"format": "json"}).text)["queries"]
