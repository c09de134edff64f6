"""The linked-data site against a real `kg serve`: every IRI kg mints dereferences, as HTML for
browsers and as RDF (parsed, compared with the store) for machines; validators and headers;
paths that try to leave the graph; escaping of hostile text on every page kind; the crawl from
the home page; search, coverage, the SPARQL page and the ontology page."""

import re

import pytest
from rdflib import Graph, URIRef
from served import client, kg_server
from site_store import BASE, BROWSER, SAMPLE, dom, load_store, local, select, text_of

from kg.site.paths import SUFFIXES
from kg.vocab import PREFIXES

RDF_TYPES = {
    "turtle": "text/turtle",
    "jsonld": "application/ld+json",
    "ntriples": "application/n-triples",
    "rdfxml": "application/rdf+xml",
}
RDFLIB_FORMATS = {"turtle": "turtle", "jsonld": "json-ld", "ntriples": "nt", "rdfxml": "xml"}

#: One SPARQL pattern per kind of IRI kg mints: `?x` is an IRI of that kind.
KINDS = {
    "page entry": "?x kg:navigatorId ?id",
    "listed entry": "?x a kg:Mitigation ; rdfs:label ?l FILTER NOT EXISTS { ?x kg:parentMitigation ?p }",
    "child entry": "?x kg:parentMitigation ?p",
    "document": "?x a kg:SourceDocument",
    "author list": "?d bibo:authorList ?x",
    "author": "?x a kg:Author",
    "heading": "?x a kg:Heading",
    "heading scheme": "?x a kg:HeadingScheme",
    "category": "?x skos:inScheme <https://w3id.org/airm-kg/taxonomy/mitigation>",
    "stage": "?x skos:inScheme <https://w3id.org/airm-kg/taxonomy/stage>",
    "actor": "?x skos:inScheme <https://w3id.org/airm-kg/taxonomy/actor>",
    "function": "?x skos:inScheme <https://w3id.org/airm-kg/taxonomy/rmf-function>",
    "scheme": "?x a skos:ConceptScheme FILTER NOT EXISTS { ?x a kg:HeadingScheme }",
    "file graph": "GRAPH ?x { ?s ?p ?o } FILTER(CONTAINS(STR(?x), '/graph/file/'))",
    "vocabulary graph": "GRAPH ?x { ?s ?p ?o } FILTER(CONTAINS(STR(?x), '/graph/vocabulary/'))",
}


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


def one_of_each_kind(store, base: str = BASE) -> dict[str, str]:
    """An IRI of each kind KINDS names, in a store whose data IRIs are under `base`."""
    found = {}
    for kind, pattern in KINDS.items():
        pattern = pattern.replace(BASE, base)
        rows = select(store, f"SELECT DISTINCT ?x WHERE {{ {pattern} }} ORDER BY ?x LIMIT 1")
        assert rows, f"the store has no {kind}"
        found[kind] = rows[0]["x"].value
        assert found[kind].startswith(base)
    return found


# --- every IRI dereferences ----------------------------------------------------------------


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_of_iri_is_a_page_with_title_breadcrumbs_and_alternates(store, http, kind):
    iri = one_of_each_kind(store)[kind]
    answer = http.get(local(iri), headers={"Accept": BROWSER})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert "Accept" in answer.headers["vary"]
    assert answer.headers["content-location"] == local(iri) + ".html"
    page = dom(answer.text)
    assert (
        text_of(page.find(".//title")).endswith("· kg") and len(text_of(page.find(".//title"))) > 8
    )
    crumbs = page.findall(".//nav[@class='breadcrumbs']//li")
    assert text_of(crumbs[0]) == "Home" and len(crumbs) >= 2
    alternates = {
        link.get("type"): link.get("href") for link in page.findall(".//link[@rel='alternate']")
    }
    assert alternates == {
        "text/html": local(iri) + ".html",
        **{
            media: local(iri) + suffix
            for suffix, view in SUFFIXES.items()
            for name, media in RDF_TYPES.items()
            if view == name
        },
    }
    header_links = set(
        re.findall(r'<([^>]+)>; rel="alternate"; type="([^"]+)"', answer.headers["link"])
    )
    assert header_links == {(href, media) for media, href in alternates.items()}


@pytest.mark.parametrize("view", list(RDF_TYPES))
@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_of_iri_describes_itself_in_each_rdf_format(store, http, kind, view):
    iri = one_of_each_kind(store)[kind]
    by_accept = http.get(local(iri), headers={"Accept": RDF_TYPES[view]})
    suffix = next(s for s, v in SUFFIXES.items() if v == view)
    by_suffix = http.get(local(iri) + suffix, headers={"Accept": BROWSER})
    for answer in (by_accept, by_suffix):
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].split(";")[0] == RDF_TYPES[view]
    assert by_accept.headers["content-location"] == local(iri) + suffix
    assert "content-location" not in by_suffix.headers
    graph = Graph().parse(data=by_accept.content, format=RDFLIB_FORMATS[view])
    node = URIRef(iri)
    outgoing = {(p, o) for p, o in graph.predicate_objects(node)}
    expected = select(store, f"SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }}")
    assert len(outgoing) == len(expected)
    incoming = set(graph.subject_predicates(node))
    expected_in = select(store, f"SELECT ?s ?p WHERE {{ ?s ?p <{iri}> }}")
    assert len(incoming) == min(len(expected_in), 500)
    assert len(graph) >= len(outgoing) + len(incoming)


def test_every_iri_kg_minted_resolves(store, http):
    minted = select(
        store,
        f"""SELECT DISTINCT ?x WHERE {{
          {{ ?x ?p ?o }} UNION {{ ?s ?p ?x }} UNION {{ GRAPH ?x {{ ?a ?b ?c }} }}
          FILTER(isIRI(?x) && STRSTARTS(STR(?x), "{BASE}"))
        }}""",
    )
    assert len(minted) > 100
    failed = []
    for row in minted:
        iri = row["x"].value
        answer = http.get(local(iri), headers={"Accept": "text/turtle"})
        if answer.status_code != 200:
            failed.append((iri, answer.status_code))
    assert failed == []


def test_the_description_gives_labels_of_what_it_points_to(store, http):
    iri = one_of_each_kind(store)["page entry"]
    graph = Graph().parse(data=http.get(local(iri) + ".ttl").content, format="turtle")
    category = next(graph.objects(URIRef(iri), URIRef(PREFIXES["kg"] + "category")))
    labels = list(graph.objects(category, URIRef(PREFIXES["skos"] + "prefLabel")))
    assert labels, "the category's label travels with the description"


def test_validators_and_not_modified(store, http):
    path = local(one_of_each_kind(store)["page entry"])
    first = http.get(path, headers={"Accept": BROWSER})
    tag = first.headers["etag"]
    again = http.get(path, headers={"Accept": BROWSER, "If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert http.get(path, headers={"Accept": BROWSER}).headers["x-cache"] == "hit"
    turtle = http.get(path, headers={"Accept": "text/turtle"})
    assert turtle.headers["etag"] != tag
    head = http.head(path, headers={"Accept": BROWSER})
    assert head.status_code == 200 and head.headers["etag"] == tag


def test_unknown_iris_are_404_as_html_for_browsers_and_text_otherwise(http):
    page = http.get("/mitigation/no-such-entry", headers={"Accept": BROWSER})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert text_of(dom(page.text).find(".//h1")) == "Not found"
    plain = http.get("/mitigation/no-such-entry", headers={"Accept": "text/turtle"})
    assert plain.status_code == 404 and plain.headers["content-type"].startswith("text/plain")
    assert "no-such-entry" in plain.text
    assert http.get("/mitigation/x", headers={"Accept": "image/png"}).status_code == 406


@pytest.mark.parametrize(
    "raw_path",
    [
        "/../../../../etc/passwd",
        "/mitigation/../../../../etc/passwd",
        "/mitigation/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/%2Fetc%2Fpasswd",
        "/mitigation%2F..%2F..%2Fpyproject.toml",
        "//etc/passwd",
        "/static/../../../pyproject.toml",
        "/static/%2e%2e/%2e%2e/%2e%2e/pyproject.toml",
        "/static/..%2F..%2F..%2Fpyproject.toml",
        "/http://example.org/x",
        "/file:///etc/passwd",
        "/ontology/../../pyproject.toml",
        "/mitigation/%00",
    ],
)
def test_resource_paths_reach_nothing_outside_the_graph(server, raw_path):
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.putrequest("GET", raw_path, skip_accept_encoding=True)
    connection.putheader("Accept", "text/turtle")
    connection.endheaders()
    answer = connection.getresponse()
    body = answer.read()
    connection.close()
    assert answer.status in (400, 404), (raw_path, answer.status, body[:200])
    assert b"root:" not in body and b"[project]" not in body


def test_rdflib_dereferences_every_kind_from_a_server_whose_base_is_its_own_address(tmp_path):
    server = kg_server(tmp_path / "own")  # not started yet: its port is chosen
    base = f"{server.url}/"
    server.env["KG_BASE_IRI"] = base
    load_store(tmp_path / "own", SAMPLE, base_iri=base)
    with server:
        own = {kind: iri for kind, iri in one_of_each_kind(tmp_path / "own", base).items()}
        for kind, iri in own.items():
            graph = Graph().parse(iri)
            node = URIRef(iri)
            assert (node, None, None) in graph or (None, None, node) in graph, kind
        ontology = Graph().parse(f"{server.url}/ontology")
        assert (URIRef(PREFIXES["kg"] + "Mitigation"), None, None) in ontology


def one_of_each_kind_under(store, base: str) -> dict[str, str]:
    found = {}
    for kind, pattern in KINDS.items():
        pattern = pattern.replace(BASE, base)
        rows = select(store, f"SELECT DISTINCT ?x WHERE {{ {pattern} }} ORDER BY ?x LIMIT 1")
        assert rows, kind
        found[kind] = rows[0]["x"].value
        assert found[kind].startswith(base)
    return found
