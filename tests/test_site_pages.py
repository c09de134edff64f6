"""What the site's pages say, checked in their DOM against the store: hostile text stays text on
every page kind, the crawl from the home page reaches every mitigation, search, coverage, the
SPARQL page and the ontology page; and a page costs one worker round trip."""

from urllib.parse import parse_qs, urlsplit

import pytest
import rdflib
import rdflib.compare
from served import client, copy_store, kg_server
from site_store import (
    ATTACKS,
    BASE,
    BROWSER,
    HOSTILE,
    active_content,
    crawl,
    dom,
    load_store,
    local,
    select,
    text_of,
)

from kg.settings import Settings
from kg.vocab import PREFIXES


@pytest.fixture(scope="module")
def store(hostile_store):
    return hostile_store


@pytest.fixture(scope="module")
def server(store):
    with kg_server(store) as running:
        yield running


@pytest.fixture(scope="module")
def http(server):
    with client(server) as http_client:
        yield http_client


def page(http, path: str, status: int = 200):
    answer = http.get(path, headers={"Accept": BROWSER})
    assert answer.status_code == status, (path, answer.status_code, answer.text[:300])
    return dom(answer.text)


# --- hostile text ----------------------------------------------------------------------------


def hostile_pages(store) -> list[str]:
    """Every kind of page the hostile entry's text reaches."""
    hostile = "FILTER(CONTAINS(STR(?text), '<script>'))"
    rows = {
        "entry": f"SELECT ?x WHERE {{ ?x kg:quotation ?text {hostile} }}",
        "listed": f"SELECT ?x WHERE {{ ?x a kg:Mitigation ; rdfs:label ?text {hostile} }}",
        "document": f"SELECT ?x WHERE {{ ?x dcterms:title ?text {hostile} }}",
        "author": f"SELECT ?x WHERE {{ ?x foaf:name ?text {hostile} }}",
        "heading": f"SELECT ?x WHERE {{ ?x a kg:Heading ; skos:prefLabel ?text {hostile} }}",
        "heading scheme": f"SELECT ?x WHERE {{ ?h skos:prefLabel ?text ; skos:inScheme ?x {hostile} }}",
        "file": "SELECT ?x WHERE { ?x kg:sourceFile 'hostile.txt' }",
        "category": f"SELECT ?x WHERE {{ ?m kg:quotation ?text ; kg:category ?x {hostile} }}",
        "stage": f"SELECT ?x WHERE {{ ?m kg:quotation ?text ; kg:lifecycleStage ?x {hostile} }}",
    }
    paths = []
    for kind, query in rows.items():
        found = select(store, query + " LIMIT 1")
        assert found, kind
        paths.append(local(found[0]["x"].value))
    return paths + [
        "/",
        "/search?q=hostile",
        "/search?q=alert",
        "/coverage",
        "/taxonomy/mitigation",
    ]


def test_hostile_text_renders_as_text_on_every_page_kind(store, http):
    for path in hostile_pages(store):
        tree = page(http, path)
        assert active_content(tree) == [], path
        text = text_of(tree.find(".//main"))
        if path not in ("/coverage", "/taxonomy/mitigation"):  # these show no entry text
            assert "{{7*7}}" in text or "7*7" in text, path  # as text, never evaluated
    search = page(http, "/search?q=hostile")
    marks = [text_of(m).lower() for m in search.iter("mark")]
    assert "hostile" in marks
    entry = text_of(page(http, hostile_pages(store)[0]).find(".//blockquote"))
    for attack in ATTACKS:
        assert attack in entry


# --- the crawl -------------------------------------------------------------------------------


def test_the_crawl_from_home_reaches_every_mitigation_and_no_broken_link(store, http):
    seen, paths = crawl(http)
    broken = {url: status for url, status in seen.items() if status >= 400}
    assert broken == {}
    mitigations = {local(r["m"].value) for r in select(store, "SELECT ?m { ?m a kg:Mitigation }")}
    assert mitigations and mitigations <= paths


@pytest.fixture(scope="module")
def corpus_server(corpus, tmp_path_factory):
    store = load_store(tmp_path_factory.mktemp("corpus") / "store", corpus, rejects=True)
    with kg_server(store) as server, client(server) as http:
        yield store, http


@pytest.mark.shared
def test_the_crawl_reaches_every_mitigation_of_the_corpus(corpus_server):
    store, http = corpus_server
    seen, paths = crawl(http, limit=20000)
    broken = {url: status for url, status in seen.items() if status >= 400}
    assert broken == {}
    mitigations = {local(r["m"].value) for r in select(store, "SELECT ?m { ?m a kg:Mitigation }")}
    assert len(mitigations) > 300 and mitigations <= paths


@pytest.mark.shared
def test_long_lists_are_paged_in_a_stable_order(corpus_server):
    store, http = corpus_server
    category = "https://w3id.org/airm-kg/taxonomy/mitigation/1"
    expected = select(
        store,
        f"SELECT DISTINCT ?m {{ ?m a kg:Mitigation ; kg:category/skos:broader* <{category}> }}",
    )
    assert len(expected) > 100
    listed, url = [], local(category)
    while url:
        tree = page(http, url)
        listed += [a.get("href") for a in tree.findall(".//ul[@class='mitigations']//a")]
        following = tree.find(".//nav[@class='pager']/a[@rel='next']")
        url = following.get("href") if following is not None else None
    assert len(listed) == len(set(listed)) == len(expected)
    assert set(listed) == {local(r["m"].value) for r in expected}
    assert (
        page(http, local(category) + "?page=2")
        .findall(".//ul[@class='mitigations']//a")[0]
        .get("href")
        == listed[50]
    )


# --- mitigation, document and concept pages -------------------------------------------------


def test_a_mitigation_page_shows_its_facts(store, http):
    row = select(
        store,
        """SELECT ?m ?id ?q ?r ?stage ?code ?file WHERE {
          ?m kg:navigatorId ?id ; kg:quotation ?q ; kg:rationale ?r ;
             kg:lifecycleStage/skos:prefLabel ?stage ; kg:category/skos:notation ?code .
          GRAPH ?g { ?m kg:navigatorId ?id } ?g kg:sourceFile ?file
          FILTER(!CONTAINS(?q, "Hostile"))
        }""",
    )[0]
    tree = page(http, local(row["m"].value))
    facts = {
        text_of(dt): text_of(dd) for dt, dd in zip(tree.iter("dt"), tree.iter("dd"), strict=False)
    }
    assert facts["Rationale"] == " ".join(row["r"].value.split())
    assert facts["Lifecycle stage"] == row["stage"].value
    code = row["code"].value
    top = code.split(".")[0]
    assert facts["Category"].startswith(top + " ") and code in facts["Category"]  # top first
    paragraphs = [text_of(p) for p in tree.findall(".//blockquote/p")]
    assert paragraphs == [
        " ".join(line.split()) for line in row["q"].value.splitlines() if line.strip()
    ]
    assert row["file"].value in text_of(tree.find(".//section[@class='provenance']"))


def test_a_document_page_lists_authors_in_order_and_its_mitigations(store, http):
    document = "https://w3id.org/airm-kg/document/large-language-model-safety-a-holistic-survey"
    tree = page(http, local(document))
    authors = [text_of(a) for a in tree.findall(".//p[@class='authors']/a")]
    assert authors[:3] == ["Dan Shi", "Tianhao Shen", "Yufei Huang"]
    expected = select(store, f"SELECT ?m {{ ?m a kg:Mitigation ; kg:sourceDocument <{document}> }}")
    listed = {
        a.get("href")
        for section in tree.iter("section")
        if text_of(section.find("h2")).startswith("Mitigations by category")
        for a in section.iter("a")
        if a.get("href", "").startswith("/mitigation/")
    }
    assert listed == {local(r["m"].value) for r in expected}


def test_a_category_page_counts_its_descendants(store, http):
    tree = page(http, "/taxonomy/mitigation/1")
    members = {a.get("href") for a in tree.findall(".//ul[@class='mitigations']//a")}
    expected = select(
        store,
        "SELECT DISTINCT ?m { ?m a kg:Mitigation ; kg:category/skos:broader* <https://w3id.org/airm-kg/taxonomy/mitigation/1> }",
    )
    assert members == {local(r["m"].value) for r in expected}
    heading = text_of(tree.find(".//section/h2[span]"))
    assert heading == f"Mitigations {len(expected)}"


# --- search ----------------------------------------------------------------------------------


def test_search_ranks_names_first_and_marks_matches(http):
    tree = page(http, "/search?q=privacy")
    results = tree.findall(".//ol[@class='results']/li")
    assert results and "privacy" in text_of(results[0].find("a")).lower()
    assert all(m.text.lower().startswith("privacy") for r in results for m in r.iter("mark"))


def test_search_filters_keep_the_matching_mitigations(store, http):
    stage = "build-and-use-model"
    expected = select(
        store,
        f"SELECT ?m {{ ?m kg:lifecycleStage/skos:notation '{stage}' }}",
    )
    tree = page(http, f"/search?stage={stage}")
    found = {a.get("href") for a in tree.findall(".//ol[@class='results']/li/a")}
    assert found == {local(r["m"].value) for r in expected}
    within = page(http, "/search?category=2")
    hrefs = {a.get("href") for a in within.findall(".//ol[@class='results']/li/a")}
    descendants = select(
        store,
        "SELECT ?m { ?m kg:category/skos:broader* <https://w3id.org/airm-kg/taxonomy/mitigation/2> }",
    )
    assert hrefs == {local(r["m"].value) for r in descendants}
    assert http.get("/search?category=9.9.9").status_code == 400
    assert http.get("/search?q=" + "x" * 600).status_code == 400
    assert http.get("/search?page=0").status_code == 400


def test_search_as_json_and_with_fts_syntax_in_the_words(http):
    answer = http.get("/search", params={"q": "privacy", "format": "json"})
    data = answer.json()
    assert answer.status_code == 200 and data["total"] == len(data["hits"]) > 0
    assert "<mark>" in data["hits"][0]["name"]
    for text in ['"unbalanced', "NEAR(a b)", "a OR", "*", "col:x", "-x", "^x"]:
        assert http.get("/search", params={"q": text}).status_code == 200, text


def test_the_search_index_follows_the_data(sample_store, tmp_path):
    store = copy_store(sample_store, tmp_path / "store")
    with kg_server(store) as server, client(server) as http:
        assert page(http, "/search?q=hostile").find(".//ol[@class='results']/li") is None
        load_store(store, HOSTILE)
        results = page(http, "/search?q=hostile").findall(".//ol[@class='results']/li")
        assert len(results) > 3
    assert len(list((store / "search").glob("*.sqlite"))) == 1


# --- coverage --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("by", "predicate"),
    [("stage", "lifecycleStage"), ("actor", "actor"), ("function", "rmfFunction")],
)
def test_coverage_cells_count_and_link_to_their_lists(store, http, by, predicate):
    tree = page(http, f"/coverage?by={by}")
    cells = tree.findall(".//td[@class='cell']/a")
    gaps = tree.findall(".//td[@class='cell gap']")
    assert cells and gaps
    for cell in cells:
        query = parse_qs(urlsplit(cell.get("href")).query)
        code, value = query["category"][0], query[by][0]
        expected = select(
            store,
            f"""SELECT (COUNT(DISTINCT ?m) AS ?n) {{
              ?m kg:category/skos:broader* ?c ; kg:{predicate}/skos:notation '{value}' .
              ?c skos:notation '{code}' }}""",
        )
        assert int(text_of(cell)) == int(expected[0]["n"].value)
        listed = page(http, cell.get("href")).findall(".//ol[@class='results']/li")
        assert len(listed) == int(text_of(cell))
    assert http.get("/coverage?by=colour").status_code == 400


def test_without_the_nexus_data_its_maps_filters_and_sections_do_not_show(http):
    """The site over kg's own data only: no tab, filter or home section leads to nothing."""
    tabs = [a.get("href") for a in page(http, "/coverage").findall(".//nav[@class='tabs']/a")]
    assert tabs == ["/coverage?by=stage", "/coverage?by=actor", "/coverage?by=function"]
    empty = page(http, "/coverage?by=document")
    assert empty.find(".//table") is None
    assert "kg import-nexus" in text_of(empty.find(".//p[@class='empty']"))
    filters = {s.get("name") for s in page(http, "/search").iter("select")}
    assert filters == {"category", "stage", "actor", "function", "document"}
    assert page(http, "/").find(".//section[@id='nexus']") is None


# --- the SPARQL page, the ontology page ------------------------------------------------------


def test_the_sparql_page_runs_queries_for_browsers(http):
    editor = page(http, "/sparql")
    assert editor.find(".//textarea[@name='query']") is not None
    examples = [a.get("href") for a in editor.findall(".//details//a")]
    assert len(examples) >= 5
    for example in examples:
        assert page(http, example).find(".//section[@class='results']") is not None, example
    query = "SELECT ?m WHERE { ?m a kg:Mitigation } ORDER BY ?m"
    tree = page(http, "/sparql?" + f"query={query}")
    rows = tree.findall(".//section[@class='results']//tbody/tr")
    assert len(rows) == len(
        http.get("/sparql", params={"query": query, "format": "json"}).json()["results"]["bindings"]
    )
    downloads = [a.get("href") for a in tree.findall(".//p[@class='downloads']/a")]
    assert any("format=csv" in d for d in downloads)
    broken = page(http, "/sparql?query=SELEC", status=400)
    assert "invalid SPARQL" in text_of(broken.find(".//div[@role='alert']"))
    # Clients of the protocol are not affected:
    assert http.get("/sparql").headers["content-type"].startswith("text/turtle")
    assert (
        http.get("/sparql", params={"query": query})
        .headers["content-type"]
        .startswith("application/sparql-results+json")
    )


def test_the_ontology_page_documents_every_term(store, http):
    tree = page(http, "/ontology")
    ids = {element.get("id") for element in tree.iter("section")}
    terms = select(
        store,
        """SELECT DISTINCT ?t { GRAPH ?g { ?t a ?k } VALUES ?k { owl:Class owl:ObjectProperty owl:DatatypeProperty }
           FILTER(STRSTARTS(STR(?t), STR(kg:))) }""",
    )
    assert {r["t"].value.split("#")[1] for r in terms} <= ids
    mitigation = tree.find(".//section[@id='Mitigation']")
    assert "An action, control or practice" in text_of(mitigation)
    turtle = http.get("/ontology", headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200
    from rdflib import Graph, URIRef

    graph = Graph().parse(data=turtle.content, format="turtle")
    assert (URIRef(PREFIXES["kg"] + "Mitigation"), None, None) in graph
    assert http.get("/ontology.ttl").status_code == 200
    assert http.get("/ontology.xyz").status_code == 404


def test_home_and_search_link_their_data(http):
    home = page(http, "/")
    alternates = {
        link.get("type"): link.get("href") for link in home.findall(".//link[@rel='alternate']")
    }
    from rdflib import Graph, Namespace

    void = Graph().parse(data=http.get(alternates["text/turtle"]).content, format="turtle")
    assert (None, None, Namespace("http://rdfs.org/ns/void#").Dataset) in void
    search = page(http, "/search?q=privacy&stage=build-and-use-model")
    (json_link,) = [link.get("href") for link in search.findall(".//link[@rel='alternate']")]
    data = http.get(json_link).json()
    assert data["total"] == len(search.findall(".//ol[@class='results']/li"))


# --- alignments ------------------------------------------------------------------------------


def test_a_concept_page_shows_its_matches_in_other_vocabularies(store, http):
    stage = f"{BASE}taxonomy/stage/deploy"
    expected = {
        row["target"].value
        for row in select(
            store,
            f"SELECT ?target {{ <{stage}> skos:exactMatch|skos:closeMatch|skos:broadMatch|"
            "skos:narrowMatch|skos:relatedMatch ?target }",
        )
    }
    assert "https://w3id.org/lmodel/nist-ai-100-1/AiLifecycleStageEnum#DEPLOY_AND_USE" in expected
    section = page(http, local(stage)).find(".//section[@class='alignments']")
    shown = {a.get("href") for a in section.iter("a")}
    assert shown == expected
    relations = [text_of(dt) for dt in section.iter("dt")]
    assert relations[0] == "exact match" and "close match" in relations


# --- JSON-LD ---------------------------------------------------------------------------------


def test_the_json_ld_context_names_every_kg_term(http):
    answer = http.get("/ontology/context.jsonld")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/ld+json")
    terms = answer.json()["@context"]
    ontology = rdflib.Graph().parse(Settings().ontology_dir / "kg.ttl")
    kinds = ("Class", "ObjectProperty", "DatatypeProperty", "AnnotationProperty")
    declared = {
        str(term)
        for kind in kinds
        for term in ontology.subjects(rdflib.RDF.type, rdflib.OWL[kind])
        if str(term).startswith(PREFIXES["kg"])
    }
    named = {
        (value if isinstance(value, str) else value["@id"])
        for key, value in terms.items()
        if not key.startswith("@") and key not in PREFIXES and key not in ("id", "type")
    }
    assert named == declared
    assert terms["category"] == {"@id": PREFIXES["kg"] + "category", "@type": "@id"}
    assert terms["quotation"] == {"@id": PREFIXES["kg"] + "quotation", "@language": "en"}


def test_json_ld_views_use_the_context_and_say_what_the_turtle_says(store, http):
    served = http.get("/ontology/context.jsonld").json()
    entry = select(store, "SELECT ?m WHERE { ?m kg:navigatorId ?id } LIMIT 1")[0]["m"].value
    answer = http.get(local(entry), headers={"Accept": "application/ld+json"})
    document = answer.json()
    assert document["@context"] == served["@context"]
    nodes = document.get("@graph", [document])
    (own,) = [node for node in nodes if node.get("id") == entry]
    assert own["category"].startswith(BASE + "taxonomy/mitigation/")
    assert isinstance(own["quotation"], str)  # English text, as the context says
    from_json = rdflib.Graph().parse(data=answer.text, format="json-ld")
    turtle = http.get(local(entry), headers={"Accept": "text/turtle"}).text
    assert rdflib.compare.isomorphic(from_json, rdflib.Graph().parse(data=turtle, format="turtle"))
