"""The site over a store with the AI Atlas Nexus data (the sample pages, three corpus pages whose
entries are Nexus records too, then `kg import-nexus`), against a real `kg serve`: every IRI the
import mints dereferences, as HTML and as RDF; the crawl from the home page reaches every record,
document, risk category and NIST AI RMF action; and each new kind of page, the home page, the
coverage maps and search say what the store says (checked in their DOM)."""

from urllib.parse import parse_qs, urlsplit

import pytest
from rdflib import Graph, URIRef
from served import client, kg_server
from site_store import BASE, BROWSER, crawl, dom, local, select, text_of

pytestmark = pytest.mark.shared

TAXONOMY = BASE + "taxonomy/"
#: One SPARQL pattern per kind of IRI the import mints (or the site shows anew): `?x` is one.
KINDS = {
    "record": "?x dcterms:identifier ?id ; a kg:Mitigation ; kg:categoryV1 ?c",
    "NIST record": "?x prov:wasQuotedFrom ?action",
    "record without a category": (
        "?x dcterms:identifier ?id ; a kg:Mitigation FILTER NOT EXISTS { ?x kg:categoryV1 ?c }"
    ),
    "Nexus document": "?x a kg:SourceDocument ; dcterms:identifier ?id",
    "v1 category": "?x a kg:MitigationCategoryV1 ; skos:broader ?top",
    "risk domain": f"?x skos:inScheme <{TAXONOMY}risk-domain>",
    "risk cause": f"?x skos:inScheme <{TAXONOMY}risk-cause>",
    "genai risk": f"?x skos:inScheme <{TAXONOMY}genai-risk>",
    "RMF category": "?x a kg:RmfCategory",
    "RMF subcategory": "?x a kg:RmfSubcategory",
    "RMF action": "?x a kg:RmfAction",
    "actor task": "?x a kg:ActorTask",
    **{
        f"scheme {name}": f"?x a skos:ConceptScheme FILTER(?x = <{TAXONOMY}{name}>)"
        for name in ("mitigation-v1", "risk-domain", "risk-cause", "genai-risk", "actor-task")
    },
    "crosswalk mapping": "?x a owl:Axiom",
    "Nexus file graph": "GRAPH ?x { ?s ?p ?o } FILTER(CONTAINS(STR(?x), '/graph/nexus/'))",
    "derived graph": "GRAPH ?x { ?s ?p ?o } FILTER(CONTAINS(STR(?x), '/graph/derived/'))",
}
NIST_DOCUMENT = BASE + "document/nexus/nist-ai-600-1"
FLI = BASE + "document/nexus/doc-fli2024"


@pytest.fixture(scope="module")
def store(nexus_store):
    return nexus_store


@pytest.fixture(scope="module")
def http(store):
    with kg_server(store) as server, client(server) as http_client:
        yield http_client


def page(http, path: str, status: int = 200):
    answer = http.get(path, headers={"Accept": BROWSER})
    assert answer.status_code == status, (path, answer.status_code, answer.text[:300])
    return dom(answer.text)


def iris(store, query: str) -> set[str]:
    """The values of the first variable of a SELECT."""
    rows = select(store, query)
    return {next(iter(row.values())).value for row in rows if row}


def paths(store, query: str) -> set[str]:
    return {local(iri) for iri in iris(store, query)}


def one(store, kind: str) -> str:
    rows = select(store, f"SELECT DISTINCT ?x WHERE {{ {KINDS[kind]} }} ORDER BY ?x LIMIT 1")
    assert rows, f"the store has no {kind}"
    return rows[0]["x"].value


def facts(tree) -> dict[str, list]:
    """The page's facts (dl.facts): each term's definitions, in order."""
    found: dict[str, list] = {}
    for dl in tree.iter("dl"):
        if dl.get("class") != "facts":
            continue
        term = None
        for child in dl:
            if child.tag == "dt":
                term = text_of(child)
            elif child.tag == "dd" and term is not None:
                found.setdefault(term, []).append(child)
    return found


def hrefs(element) -> list[str]:
    return [a.get("href") for a in element.iter("a")]


def section(tree, css_class: str):
    found = [s for s in tree.iter("section") if css_class in (s.get("class") or "").split()]
    assert found, css_class
    return found[0]


def words(text: str) -> str:
    return " ".join(text.split())


# --- every IRI dereferences ----------------------------------------------------------------


def test_the_crawl_from_home_reaches_every_new_kind_of_resource(store, http):
    seen, reached = crawl(http, limit=20000)
    broken = {url: status for url, status in seen.items() if status >= 400}
    assert broken == {}
    for name, pattern in {
        "records": "?x dcterms:identifier ?id ; a kg:Mitigation",
        "documents": "?x a kg:SourceDocument",
        "risk categories": "?x a kg:RiskCategory",
        "RMF actions": "?x a kg:RmfAction",
        "RMF subcategories": "?x a kg:RmfSubcategory",
        "actor tasks": "?x a kg:ActorTask",
        "v1 categories": "?x a kg:MitigationCategoryV1",
        "mappings": "?x a owl:Axiom",
        "schemes": "?x a skos:ConceptScheme",
    }.items():
        expected = paths(store, f"SELECT DISTINCT ?x WHERE {{ {pattern} }}")
        assert expected and expected <= reached, (name, sorted(expected - reached)[:5])


def test_every_iri_the_import_minted_is_a_page_and_a_description(store, http):
    minted = iris(
        store,
        f"""SELECT DISTINCT ?x WHERE {{
          {{ ?x ?p ?o }} UNION {{ ?s ?p ?x }} UNION {{ GRAPH ?x {{ ?a ?b ?c }} }}
          FILTER(isIRI(?x) && STRSTARTS(STR(?x), "{BASE}"))
        }}""",
    )
    assert len(minted) > 1300
    failed = []
    for iri in sorted(minted):
        for accept in (BROWSER, "text/turtle"):
            answer = http.get(local(iri), headers={"Accept": accept})
            if answer.status_code != 200:
                failed.append((iri, accept, answer.status_code))
    assert failed == []


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_new_kind_is_a_page_that_links_its_description(store, http, kind):
    iri = one(store, kind)
    tree = page(http, local(iri))
    assert text_of(tree.find(".//main//h1"))
    crumbs = tree.findall(".//nav[@class='breadcrumbs']//li")
    assert text_of(crumbs[0]) == "Home" and len(crumbs) >= 2
    turtle = {link.get("href") for link in tree.findall(".//link[@rel='alternate']")}
    assert local(iri) + ".ttl" in turtle
    graph = Graph().parse(data=http.get(local(iri) + ".ttl").content, format="turtle")
    expected = select(store, f"SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }}")
    assert len(set(graph.predicate_objects(URIRef(iri)))) == len(expected)


# --- records and documents -------------------------------------------------------------------

TWIN_ENTRY = BASE + "mitigation/A1379"
TWIN_RECORD = BASE + "mitigation/nexus/A0201_Schuett2023"


def test_a_record_page_shows_its_text_category_document_and_twin(store, http):
    row = select(
        store,
        f"""SELECT ?id ?name ?text ?category ?top ?document WHERE {{
          <{TWIN_RECORD}> dcterms:identifier ?id ; rdfs:label ?name ; kg:quotation ?text ;
            kg:categoryV1 ?category ; kg:sourceDocument ?document .
          ?category skos:broader ?top }}""",
    )[0]
    tree = page(http, local(TWIN_RECORD))
    assert row["id"].value in text_of(tree.find(".//p[@class='kind']"))
    assert text_of(tree.find(".//main//h1")) == row["name"].value
    assert text_of(tree.find(".//blockquote")) == words(row["text"].value)
    found = facts(tree)
    (category,) = found["Category (v1 draft taxonomy)"]
    assert hrefs(category) == [local(row["top"].value), local(row["category"].value)]
    assert hrefs(found["Source document"][0]) == [local(row["document"].value)]
    assert hrefs(found["Same as navigator entry"][0]) == [local(TWIN_ENTRY)]
    # … and the navigator entry names its twin, with the twin's v1 code.
    entry = facts(page(http, local(TWIN_ENTRY)))
    (twin,) = entry["Same as AI Atlas Nexus record"]
    assert hrefs(twin) == [local(TWIN_RECORD)]
    code = select(store, f"SELECT ?c {{ <{row['category'].value}> skos:notation ?c }}")[0]["c"]
    assert text_of(twin).startswith(f"v1 {code.value} ")


def test_a_record_quoting_an_rmf_action_shows_the_action_and_the_risks(store, http):
    record = BASE + "mitigation/nexus/A0719_NIST2024"
    row = select(
        store,
        f"""SELECT ?action ?code ?text ?sub ?category ?function WHERE {{
          <{record}> prov:wasQuotedFrom ?action .
          ?action skos:notation ?code ; skos:definition ?text ; skos:broader ?sub .
          ?sub skos:broader ?category . ?category skos:broader ?function }}""",
    )[0]
    tree = page(http, local(record))
    quoted = section(tree, "quoted")
    code = quoted.find(".//a[@class='action-code']")
    assert code.get("href") == local(row["action"].value)
    assert text_of(code) == row["code"].value
    assert text_of(quoted.find(".//p[@class='action-text']")) == words(row["text"].value)
    under = [row[name].value for name in ("function", "category", "sub")]
    assert hrefs(quoted.find(".//p[@class='path under']")) == [local(i) for i in under]
    risks = paths(store, f"SELECT ?r {{ <{record}> kg:addressesRisk ?r }}")
    assert len(risks) == 3
    assert set(hrefs(facts(tree)["Risks it addresses"][0])) == risks


def test_a_nexus_document_page_lists_its_records_by_v1_category(store, http):
    document = FLI
    row = select(
        store,
        f"""SELECT ?creator ?year ?description ?url WHERE {{
          <{document}> dc:creator ?creator ; dcterms:issued ?year ;
            dcterms:description ?description ; rdfs:seeAlso ?url }}""",
    )[0]
    tree = page(http, local(document))
    assert text_of(tree.find(".//p[@class='authors']")) == row["creator"].value
    assert row["year"].value in text_of(tree.find(".//p[@class='kind']"))
    assert text_of(tree.find(".//p[@class='abstract']")) == words(row["description"].value)
    assert hrefs(facts(tree)["Read it at"][0]) == [row["url"].value]
    expected: dict[str | None, set[str]] = {}
    for r in select(
        store,
        f"SELECT ?m ?c {{ ?m kg:sourceDocument <{document}> OPTIONAL {{ ?m kg:categoryV1 ?c }} }}",
    ):
        category = local(r["c"].value) if r["c"] else None
        expected.setdefault(category, set()).add(local(r["m"].value))
    listed: dict[str | None, set[str]] = {}
    heading = ""
    for element in tree.iter():
        if element.tag == "h3" and (element.get("id") or "").startswith("category-"):
            heading = (hrefs(element) or [None])[0]  # none: the records without a category
        elif element.tag == "ul" and element.get("class") == "mitigations" and heading != "":
            listed[heading] = set(hrefs(element))
    assert listed == expected and sum(map(len, listed.values())) == 87


def test_twin_documents_link_each_other(store, http):
    navigator = (
        BASE
        + "document/towards-best-practices-in-agi-safety-and-governance-a-survey-of-expert-opinion"
    )
    nexus = BASE + "document/nexus/doc-schuett2023"
    (there,) = facts(page(http, local(navigator)))["In the AI Atlas Nexus"]
    assert hrefs(there) == [local(nexus)]
    records = select(store, f"SELECT (COUNT(*) AS ?n) {{ ?m kg:sourceDocument <{nexus}> }}")
    assert text_of(there.find(".//span[@class='count']")) == records[0]["n"].value
    (back,) = facts(page(http, local(nexus)))["In the navigator"]
    assert hrefs(back) == [local(navigator)]


def test_the_nist_document_says_what_the_graph_takes_from_it(store, http):
    actions = select(
        store, f"SELECT (COUNT(*) AS ?n) {{ ?a a kg:RmfAction ; dcterms:source <{NIST_DOCUMENT}> }}"
    )[0]["n"].value
    (sourced,) = facts(page(http, local(NIST_DOCUMENT)))["Concepts from it"]
    assert text_of(sourced).startswith(f"{actions} ")
    assert hrefs(sourced) == [local(TAXONOMY + "rmf-function")]


# --- concepts: v1 categories, risks, RMF actions, actor tasks, schemes, mappings --------------


def test_a_v1_category_lists_the_records_under_it_page_by_page(store, http):
    category = TAXONOMY + "mitigation-v1/4"
    expected = paths(store, f"SELECT DISTINCT ?m {{ ?m kg:categoryV1/skos:broader* <{category}> }}")
    assert len(expected) > 100
    tree = page(http, local(category))
    assert text_of(section(tree, "members").find("h2")) == f"Mitigations {len(expected)}"
    listed, url = [], local(category)
    while url:
        tree = page(http, url)
        listed += hrefs(tree.find(".//ul[@class='mitigations']"))
        following = tree.find(".//nav[@class='pager']/a[@rel='next']")
        url = following.get("href") if following is not None else None
    assert len(listed) == len(set(listed)) and set(listed) == expected


def test_crosswalk_mappings_show_on_both_categories_and_their_own_page(store, http):
    row = select(
        store,
        """SELECT ?axiom ?v1 ?current ?support ?linked ?code WHERE {
          ?axiom a owl:Axiom ; owl:annotatedSource ?v1 ; owl:annotatedTarget ?current ;
            kg:supportCount ?support ; kg:sourceCount ?linked . ?current skos:notation ?code
        } ORDER BY ?axiom LIMIT 1""",
    )[0]
    for end, other in (("v1", "current"), ("current", "v1")):
        table = section(page(http, local(row[end].value)), "mappings")
        (cells,) = [tr.findall("td") for tr in table.iter("tr") if tr.find("td") is not None]
        assert hrefs(cells[0]) == [local(row[other].value)]
        assert hrefs(cells[1]) == [local(row["axiom"].value)]
        assert text_of(cells[2]) == f"{row['support'].value} of {row['linked'].value}"
    mapping = page(http, local(row["axiom"].value))
    names = select(
        store,
        f"""SELECT ?v1code ?v1name ?name WHERE {{
          <{row["v1"].value}> skos:notation ?v1code ; skos:prefLabel ?v1name .
          <{row["current"].value}> skos:prefLabel ?name }}""",
    )[0]
    assert text_of(mapping.find(".//main//h1")) == (
        f"v1 {names['v1code'].value} {names['v1name'].value} → "
        f"{row['code'].value} {names['name'].value}"
    )
    found = facts(mapping)
    assert text_of(found["Entries in both"][0]).startswith(row["support"].value + " ")
    assert text_of(found["Entries of the source"][0]).startswith(row["linked"].value + " ")
    crumbs = hrefs(mapping.find(".//nav[@class='breadcrumbs']"))
    graph = BASE + "graph/derived/crosswalk/mitigation-v1-v2"
    assert crumbs == ["/", local(graph)]
    crosswalk = page(http, local(graph))
    axioms = paths(store, "SELECT ?x { ?x a owl:Axiom }")
    assert set(hrefs(section(crosswalk, "mappings").find(".//tbody"))) >= axioms
    assert text_of(crosswalk.find(".//main//h1")).startswith("Crosswalk: ")


def test_a_risk_page_lists_its_actions_by_function_with_the_records_quoting_them(store, http):
    risk = TAXONOMY + "genai-risk/confabulation"
    tree = page(http, local(risk))
    addressing = paths(store, f"SELECT ?m {{ ?m kg:addressesRisk <{risk}> }}")
    assert set(hrefs(section(tree, "members").find(".//ul"))) == addressing
    actions = section(tree, "action-list")
    groups = {h3.get("id"): h3 for h3 in actions.iter("h3")}
    functions = iris(store, "SELECT ?f { ?f a kg:RmfFunction ; skos:inScheme ?s }")
    assert groups and set(groups) <= {"actions-" + f.rsplit("/", 1)[1] for f in functions}
    lists = [ul for ul in actions.iter("ul")]
    for (anchor, h3), listed in zip(groups.items(), lists, strict=True):
        function = TAXONOMY + "rmf-function/" + anchor.removeprefix("actions-")
        expected = paths(
            store,
            f"""SELECT ?a {{ ?a kg:relatedRisk <{risk}> ;
                  skos:broader/skos:broader/skos:broader <{function}> }}""",
        )
        codes = {a.get("href") for a in listed.iter("a") if a.get("class") == "action-code"}
        assert codes == expected and text_of(h3.find("span")) == str(len(expected))
        quoting = paths(
            store,
            f"""SELECT ?m {{ ?m prov:wasQuotedFrom ?a . ?a kg:relatedRisk <{risk}> ;
                  skos:broader/skos:broader/skos:broader <{function}> }}""",
        )
        quoted = {h for p in listed.iter("p") if p.get("class") == "quoted-by" for h in hrefs(p)}
        assert quoted == quoting


def test_an_rmf_action_page_shows_its_text_place_risks_tasks_and_quoting_record(store, http):
    action = TAXONOMY + "rmf-function/gv-1.1-001"
    tree = page(http, local(action))
    text = select(store, f"SELECT ?t {{ <{action}> skos:definition ?t }}")[0]["t"].value
    assert text_of(tree.find(".//div[@class='definition']")) == words(text)
    found = facts(tree)
    place = [TAXONOMY + "rmf-function/" + n for n in ("govern", "gv-1", "gv-1.1")]
    assert hrefs(found["Under"][0]) == [local(i) for i in place]
    crumbs = hrefs(tree.find(".//nav[@class='breadcrumbs']"))
    assert crumbs == ["/", local(TAXONOMY + "rmf-function"), *(local(i) for i in place)]
    risks = paths(store, f"SELECT ?r {{ <{action}> kg:relatedRisk ?r }}")
    assert set(hrefs(found["Related risks"][0])) == risks and risks
    tasks = paths(store, f"SELECT ?t {{ <{action}> kg:actorTask ?t }}")
    assert set(hrefs(found["AI actor tasks"][0])) == tasks and tasks
    quoting = paths(store, f"SELECT ?m {{ ?m prov:wasQuotedFrom <{action}> }}")
    assert set(hrefs(section(tree, "members").find(".//ul"))) == quoting and quoting


def test_an_rmf_subcategory_lists_its_actions_with_their_text(store, http):
    subcategory = TAXONOMY + "rmf-function/ms-2.2"
    tree = page(http, local(subcategory))
    expected = {
        local(r["a"].value): words(r["t"].value)
        for r in select(
            store, f"SELECT ?a ?t {{ ?a skos:broader <{subcategory}> ; skos:definition ?t }}"
        )
    }
    narrower = tree.find(".//ul[@class='tree']")
    shown = {
        li.find("a").get("href"): text_of(li.find("span[@class='narrower-text']"))
        for li in narrower.iter("li")
    }
    assert shown == expected and len(expected) > 3


def test_an_actor_task_page_lists_its_actions(store, http):
    task = TAXONOMY + "actor-task/tevv"
    tree = page(http, local(task))
    listed = {
        a.get("href")
        for a in section(tree, "action-list").iter("a")
        if a.get("class") == "action-code"
    }
    assert listed == paths(store, f"SELECT ?a {{ ?a kg:actorTask <{task}> }}")


def test_the_rmf_scheme_shows_its_upper_levels_and_the_rest_on_their_pages(store, http):
    tree = page(http, local(TAXONOMY + "rmf-function"))
    shown = set(hrefs(tree.find(".//ul[@class='tree']")))
    upper = paths(
        store,
        "SELECT ?c { ?c a ?k VALUES ?k { kg:RmfFunction kg:RmfCategory kg:RmfSubcategory } }",
    )
    assert shown == upper
    actions = select(store, "SELECT (COUNT(*) AS ?n) { ?a a kg:RmfAction }")[0]["n"].value
    assert f"the {actions} concepts below them" in text_of(tree.find(".//main"))


def test_a_scheme_no_mitigation_is_classified_in_shows_its_tree_without_counts(store, http):
    tree = page(http, local(TAXONOMY + "risk-domain"))
    listed = tree.find(".//ul[@class='tree']")
    assert set(hrefs(listed)) == paths(
        store, f"SELECT ?c {{ ?c skos:inScheme <{TAXONOMY}risk-domain> }}"
    )
    assert listed.find(".//span[@class='count']") is None


# --- home, coverage, search ------------------------------------------------------------------


def test_home_counts_the_new_kinds_and_leads_to_each_imported_taxonomy(store, http):
    home = page(http, "/")
    stats = {
        " ".join(text_of(li).split()[1:]): text_of(li.find(".//strong")).replace(",", "")
        for li in home.find(".//ul[@class='stats']")
    }
    for label, pattern in {
        "AI Atlas Nexus records": "?x dcterms:identifier ?i ; a kg:Mitigation",
        "risk categories": "?x a kg:RiskCategory",
        "NIST AI RMF actions": "?x a kg:RmfAction",
        "mitigations": "?x a kg:Mitigation",
    }.items():
        count = select(store, f"SELECT (COUNT(*) AS ?n) {{ {pattern} }}")[0]["n"].value
        assert stats[label] == count, label
    nexus = home.find(".//section[@id='nexus']")
    cards = nexus.findall(".//section")
    names = ["mitigation-v1", "genai-risk", "risk-domain", "risk-cause", "actor-task"]
    assert [card.find("h3/a").get("href") for card in cards] == [f"/taxonomy/{n}" for n in names]
    for card, name in zip(cards, names, strict=True):
        tops = paths(store, f"SELECT ?c {{ <{TAXONOMY}{name}> skos:hasTopConcept ?c }}")
        assert tops <= set(hrefs(card.find("ul")))
    # The page stays short: no RMF category, subcategory or action is listed on it.
    deep = paths(store, "SELECT ?c { ?c a ?k VALUES ?k { kg:RmfCategory kg:RmfAction } }")
    assert not deep & set(hrefs(home))


def test_the_v1_category_by_document_map_counts_records_and_leads_to_them(store, http):
    tree = page(http, "/coverage?by=document")
    cells = tree.findall(".//td[@class='cell']/a")
    assert len(cells) > 50
    for number, cell in enumerate(cells):
        query = parse_qs(urlsplit(cell.get("href")).query)
        code, document = query["v1"][0], query["document"][0]
        expected = select(
            store,
            f"""SELECT (COUNT(DISTINCT ?m) AS ?n) {{
              ?m kg:categoryV1/skos:broader* ?c ; kg:sourceDocument <{document}> .
              ?c skos:notation '{code}' ; a kg:MitigationCategoryV1 }}""",
        )
        assert int(text_of(cell)) == int(expected[0]["n"].value), (code, document)
        if number % 10 == 0:  # a sample of the links: the search lists as many records
            data = http.get(cell.get("href") + "&format=json").json()
            assert data["total"] == int(text_of(cell))


def test_the_risk_by_function_map_counts_actions_and_leads_to_the_risks_lists(store, http):
    tree = page(http, "/coverage?by=risk")
    columns = [th.find("a").get("href") for th in tree.findall(".//thead/tr/th")[1:]]
    functions = ["govern", "map", "measure", "manage"]
    assert columns == [f"/taxonomy/rmf-function/{f}" for f in functions]
    cells = tree.findall(".//td[@class='cell']/a")
    assert cells
    for cell in cells:
        path, _, anchor = cell.get("href").partition("#")
        function = TAXONOMY + "rmf-function/" + anchor.removeprefix("actions-")
        expected = select(
            store,
            f"""SELECT (COUNT(*) AS ?n) {{ ?a kg:relatedRisk <{BASE}{path[1:]}> ;
                  skos:broader/skos:broader/skos:broader <{function}> }}""",
        )[0]["n"].value
        assert text_of(cell) == expected
        group = page(http, path).find(f".//h3[@id='{anchor}']")
        assert text_of(group.find("span")) == expected


def test_the_category_maps_still_count_only_the_current_taxonomy(store, http):
    tree = page(http, "/coverage?by=function")
    columns = [th.find("a").get("href") for th in tree.findall(".//thead/tr/th")[1:]]
    assert set(columns) == paths(store, "SELECT ?f { ?f a kg:RmfFunction }")
    assert len(columns) == 5
    for cell in tree.findall(".//td[@class='cell']/a"):
        query = parse_qs(urlsplit(cell.get("href")).query)
        code, value = query["category"][0], query["function"][0]
        expected = select(
            store,
            f"""SELECT (COUNT(DISTINCT ?m) AS ?n) {{
              ?m kg:category/skos:broader* ?c ; kg:rmfFunction/skos:notation '{value}' .
              ?c skos:notation '{code}' ; a kg:MitigationCategory }}""",
        )
        assert int(text_of(cell)) == int(expected[0]["n"].value)
    tabs = [a.get("href") for a in tree.findall(".//nav[@class='tabs']/a")]
    assert "/coverage?by=document" in tabs and "/coverage?by=risk" in tabs


def all_hits(http, **params: str) -> list[dict]:
    """Every hit of a search, page after page (as JSON)."""
    found, number = [], 1
    while True:
        data = http.get("/search", params={**params, "format": "json", "page": number}).json()
        found += data["hits"]
        if number * data["page_size"] >= data["total"]:
            assert len(found) == data["total"]
            return found
        number += 1


@pytest.mark.parametrize(
    ("filters", "pattern"),
    [
        ({"v1": "1.1"}, f"?x kg:categoryV1 <{TAXONOMY}mitigation-v1/1.1>"),
        ({"v1": "3"}, f"?x kg:categoryV1/skos:broader* <{TAXONOMY}mitigation-v1/3>"),
        ({"risk": "confabulation"}, f"?x kg:addressesRisk <{TAXONOMY}genai-risk/confabulation>"),
        (
            {"function": "govern"},
            f"""{{ ?x kg:rmfFunction <{TAXONOMY}rmf-function/govern> }} UNION
               {{ ?x prov:wasQuotedFrom/skos:broader+ <{TAXONOMY}rmf-function/govern> }}""",
        ),
        ({"document": FLI}, f"?x kg:sourceDocument <{FLI}>"),
    ],
    ids=["v1-leaf", "v1-top", "risk", "function", "document"],
)
def test_search_filters_keep_the_records_the_graph_classifies_so(store, http, filters, pattern):
    found = {hit["iri"] for hit in all_hits(http, **filters)}
    expected = iris(store, f"SELECT DISTINCT ?x {{ {pattern} }}")
    assert found == expected and expected
    # Words as well: each hit one of the filter's, fewer than the words alone find.
    worded = {hit["iri"] for hit in all_hits(http, q="risk", **filters)}
    assert worded and worded <= expected
    assert len(worded) < len(all_hits(http, q="risk"))


def test_search_finds_records_by_name_and_identifier_and_actions_by_their_text(store, http):
    record = BASE + "mitigation/nexus/A0086_Future_of_Life_Institute2024"
    by_name = all_hits(http, q="AI Safety Team")
    assert record in [hit["iri"] for hit in by_name[:3]]
    by_id = all_hits(http, q="A0086")
    assert by_id[0]["iri"] == record
    action = TAXONOMY + "rmf-function/gv-1.1-001"
    hits = all_hits(http, q="Align GAI development with applicable laws")
    kinds = {hit["iri"]: hit["kind"] for hit in hits}
    assert kinds[action] == "action"
    tree = page(http, "/search?q=Align+GAI+development+with+applicable+laws")
    meta = [
        text_of(li.find("div"))
        for li in tree.findall(".//ol[@class='results']/li")
        if li.find("a").get("href") == local(action)
    ]
    assert meta == ["NIST AI RMF action · GV-1.1-001"]
    assert http.get("/search", params={"v1": "9.9"}).status_code == 400
    assert http.get("/search", params={"document": BASE + "document/none"}).status_code == 400
