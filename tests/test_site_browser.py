"""The site in a real browser (Debian's chromium, driven by Playwright): a reader's paths through
it (home → category → mitigation → document and back; search with highlights and filters; the
coverage heatmap's cells; the SPARQL form; a risk of generative AI → a NIST AI RMF action → the
AI Atlas Nexus record quoting it → its document), every page kind at desktop and phone width, those
of the Nexus data too (full-page screenshots in test-artifacts/screenshots/, no sideways scrolling
on a phone) and axe-core's accessibility rules (no serious or critical violation).

Skipped when /usr/bin/chromium is missing in a user's clone; a failure under CI=true."""

import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from browser import (
    AXE,
    DESKTOP,
    PHONE,
    axe_violations,
    describe_violations,
    launched,
    opened,
    overflowing,
    require_chromium,
    screenshot,
)
from playwright.sync_api import Page, expect
from served import kg_server

from kg.store import OxigraphStore

BASE = "https://w3id.org/airm-kg/"
DOCUMENT = "/document/large-language-model-safety-a-holistic-survey"
HEADINGS = "/heading/large-language-model-safety-a-holistic-survey"
STAGES = f"""SELECT ?stage (STR(?l) AS ?label) WHERE {{
  ?stage skos:inScheme <{BASE}taxonomy/stage> ; skos:prefLabel ?l .
}} ORDER BY ?label"""

#: Every page kind: its path, what its h1 says (a part of it), and what its content must show.
PAGES = {
    "home": ("/", "AI risk mitigations", "ul.tree a[href^='/taxonomy/mitigation/']"),
    "mitigation": ("/mitigation/cac39ab0120a2", "Recent studies argue", "blockquote.quotation"),
    "document": (DOCUMENT, "Large Language Model Safety", "ul.mitigations a"),
    "category": ("/taxonomy/mitigation/2.4", "Engineering & Development", "ul.mitigations a"),
    "stage": ("/taxonomy/stage/build-and-use-model", "Build and Use Model", "ul.mitigations a"),
    "actor": ("/taxonomy/actor/developer", "Developer", "ul.mitigations a"),
    "function": ("/taxonomy/rmf-function/measure", "Measure", "ul.mitigations a"),
    "scheme": ("/taxonomy/mitigation", "AI risk mitigation taxonomy", "ul.tree .depth-2 a"),
    "heading": (
        f"{HEADINGS}/value-misalignment/privacy-protection",
        "Privacy protection",
        "ul.mitigations a",
    ),
    "heading-scheme": (HEADINGS, "", "ul.tree a[href^='/heading/']"),
    "author": ("/author/shi-dan", "Dan Shi", f"main a[href='{DOCUMENT}']"),
    "graph": (
        "/graph/file/000_a0a8653dee302dd3.txt",
        "000_a0a8653dee302dd3.txt",
        "ul.mitigations a",
    ),
    "resource": (f"{DOCUMENT}/authors", "", "section.statements td"),
    "ontology": ("/ontology", "ontology", "section.term h3"),
    "search": ("/search?q=privacy", "Search", "ol.results mark"),
    "coverage": ("/coverage?by=stage", "Coverage", "td.cell a"),
    "sparql": ("/sparql?" + urlencode({"query": STAGES}), "SPARQL", "table tbody td a"),
    "queries": ("/queries", "Named queries", "ul.queries a"),
    "query": (
        "/queries/mitigations-in-category?code=1",
        "Mitigations in a category",
        "section.results td a",
    ),
    "not-found": ("/nothing/here", "Not found", "main a[href='/search']"),
}
WIDTHS = {"desktop": DESKTOP, "phone": PHONE}
#: Every page kind the AI Atlas Nexus data brings (over `nexus_store`), as PAGES.
NEXUS_PAGES = {
    "nexus-home": ("/", "AI risk mitigations", "section#nexus .card ul.tree a"),
    "nexus-record": (
        "/mitigation/nexus/A0201_Schuett2023",
        "Publish internal risk assessment results",
        "dd.twin a[href='/mitigation/A1379']",
    ),
    "nist-record": ("/mitigation/nexus/A0719_NIST2024", "", "section.quoted a.action-code"),
    "twin-entry": (
        "/mitigation/A1379",
        "Publish internal risk",
        "dd.twin a[href^='/mitigation/nexus/']",
    ),
    "nexus-document": ("/document/nexus/doc-fli2024", "FLI AI Safety Index", "ul.mitigations a"),
    "v1-category": ("/taxonomy/mitigation-v1/1.2", "Risk Management", "section.mappings td a"),
    "v1-scheme": ("/taxonomy/mitigation-v1", "Mitigation Taxonomy", "ul.tree .depth-1 a"),
    "genai-risk": ("/taxonomy/genai-risk/confabulation", "Confabulation", "p.quoted-by a"),
    "risk-domain": ("/taxonomy/risk-domain/1", "Discrimination", "ul.tree a"),
    "risk-cause-scheme": ("/taxonomy/risk-cause", "Taxonomy", "ul.tree .depth-1 a"),
    "rmf-category": ("/taxonomy/rmf-function/gv-1", "GOVERN 1", "ul.tree a"),
    "rmf-subcategory": ("/taxonomy/rmf-function/gv-1.1", "GOVERN 1.1", ".narrower-text"),
    "rmf-action": ("/taxonomy/rmf-function/gv-1.1-001", "GV-1.1-001", "section.members a"),
    "rmf-scheme": ("/taxonomy/rmf-function", "NIST AI RMF functions", "ul.tree .depth-2 a"),
    "actor-task": ("/taxonomy/actor-task/tevv", "TEVV", "ul.actions a.action-code"),
    "mapping": ("/mapping/mitigation-v1-v2/1.2/2.2.1", "→", "dl.facts dd"),
    "crosswalk": (
        "/graph/derived/crosswalk/mitigation-v1-v2",
        "Crosswalk",
        "section.mappings td a",
    ),
    "coverage-document": ("/coverage?by=document", "Coverage", "td.cell a"),
    "coverage-risk": ("/coverage?by=risk", "Coverage", "td.cell a"),
    "nexus-search": ("/search?q=safety&v1=1", "Search", "ol.results mark"),
}


@pytest.fixture(scope="session")
def chromium():
    """Skips (or fails under CI=true) before the sample store is built when chromium is missing."""
    return require_chromium()


@pytest.fixture(scope="module")
def server(chromium, sample_store):
    with kg_server(sample_store) as running:
        yield running


@pytest.fixture(scope="module")
def browser(server):
    with launched() as running:
        yield running


@pytest.fixture
def page(browser, server):
    with opened(browser, server.url, DESKTOP) as desktop_page:
        yield desktop_page


def heading(page: Page) -> str:
    return " ".join(page.locator("main h1").inner_text().split())


def result_count(page: Page) -> int:
    """The number of results the search page announces ("12 results…")."""
    status = page.locator("p[role=status]").inner_text()
    match = re.match(r"([\d,]+) results?\b", status)
    assert match, status
    return int(match.group(1).replace(",", ""))


# A reader's paths.


def test_home_to_category_to_mitigation_to_document_and_back(page):
    page.goto("/")
    taxonomy = page.locator("section", has=page.get_by_role("heading", name="Mitigation taxonomy"))
    # A category below the top level that has mitigations (its count badge is not 0).
    category = (
        taxonomy.locator("ul.tree li.depth-1")
        .filter(has_not=page.locator("span.count", has_text=re.compile(r"^0$")))
        .first
    )
    link = category.locator("a")
    category_path = link.get_attribute("href")
    category_code = link.locator(".code").inner_text()
    link.click()
    expect(page).to_have_url(re.compile(re.escape(category_path) + "$"))
    assert page.locator("p.kind").text_content().startswith("Mitigation category")
    assert category_code in page.locator("p.kind").text_content()
    expected = int(page.locator("h2", has_text="Mitigations").locator(".count").inner_text())
    members = page.locator("ul.mitigations li a")
    if page.locator("nav.pager").count():
        assert 0 < members.count() <= expected
    else:
        assert members.count() == expected > 0

    mitigation = members.first
    mitigation_path = mitigation.get_attribute("href")
    mitigation.click()
    expect(page).to_have_url(re.compile(re.escape(mitigation_path) + "$"))
    assert page.locator("p.kind").text_content().startswith("Mitigation")
    mitigation_title = heading(page)
    # The mitigation's category path passes through the category clicked on.
    facts = page.locator("dl.facts")
    assert facts.locator(f"dd.path a[href='{category_path}']").count() == 1

    source = facts.locator("dt:text-is('Source document') + dd a")
    document_title = " ".join(source.inner_text().split())
    document_path = source.get_attribute("href")
    assert document_path.startswith("/document/")
    source.click()
    expect(page).to_have_url(re.compile(re.escape(document_path) + "$"))
    assert heading(page) == document_title
    assert page.locator("p.kind").text_content().startswith("Source document")
    # The document lists the mitigation we came from.
    assert page.locator(f"ul.mitigations a[href='{mitigation_path}']").count() >= 1

    page.go_back()
    expect(page).to_have_url(re.compile(re.escape(mitigation_path) + "$"))
    assert heading(page) == mitigation_title


def test_search_highlights_words_and_a_result_leads_to_its_page(page):
    page.goto("/")
    box = page.get_by_role("searchbox", name="Search mitigations")
    box.fill("privacy")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=privacy$"))
    assert page.get_by_role("searchbox").input_value() == "privacy"
    results = page.locator("ol.results > li")
    total = result_count(page)
    assert total > 0 and results.count() == total
    marks = page.locator("ol.results mark").all_inner_texts()
    assert marks and all(mark.lower() == "privacy" for mark in marks)

    first = results.first.locator("a").first
    name = " ".join(first.inner_text().split())
    target = first.get_attribute("href")
    assert "privacy" in name.lower() and first.locator("mark").count() >= 1
    first.click()
    expect(page).to_have_url(re.compile(re.escape(target) + "$"))
    assert heading(page) == name


def test_a_filter_narrows_the_search_to_the_concepts_mitigations(page):
    page.goto("/search")
    page.get_by_label("Lifecycle stage").select_option("build-and-use-model")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"[?&]stage=build-and-use-model(&|$)"))
    assert page.get_by_label("Lifecycle stage").input_value() == "build-and-use-model"
    total = result_count(page)
    found = page.locator("ol.results > li > a").evaluate_all("links => links.map(a => a.pathname)")
    assert total > 0 and len(found) == total
    assert all(
        kind.lower().startswith("mitigation")
        for kind in page.locator("ol.results .meta").all_inner_texts()
    )

    # The same mitigations the stage's own page lists.
    page.goto("/taxonomy/stage/build-and-use-model")
    members = page.locator("ul.mitigations a").evaluate_all("links => links.map(a => a.pathname)")
    assert sorted(found) == sorted(members)

    # A word and a filter: fewer results, each of them one of the stage's.
    page.goto("/search?q=privacy")
    unfiltered = result_count(page)
    page.get_by_label("Lifecycle stage").select_option("build-and-use-model")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"q=privacy.*stage=build-and-use-model"))
    filtered = page.locator("ol.results > li > a").evaluate_all(
        "links => links.map(a => a.pathname)"
    )
    assert result_count(page) == len(filtered) <= unfiltered
    assert set(filtered) <= set(members)


@pytest.mark.parametrize(
    ("dimension", "tab"),
    [("stage", "Lifecycle stage"), ("actor", "Actor"), ("function", "NIST AI RMF function")],
    ids=["stage", "actor", "function"],
)
def test_a_coverage_cell_leads_to_as_many_mitigations_as_it_counts(page, dimension, tab):
    page.goto("/coverage")
    page.get_by_role("navigation", name="Dimension").get_by_role("link", name=tab).click()
    expect(page).to_have_url(re.compile(rf"/coverage\?by={dimension}$"))
    cells = page.locator("td.cell a")
    counts = [int(text.replace(",", "")) for text in cells.all_inner_texts()]
    assert counts, "no non-empty cell"
    # The largest cell, and among equals the last (deepest in the table).
    chosen = max(range(len(counts)), key=lambda i: (counts[i], i))
    cell = cells.nth(chosen)
    query = parse_qs(urlsplit(cell.get_attribute("href")).query)
    row = cell.locator("xpath=ancestor::tr/th").inner_text()
    cell.click()
    expect(page).to_have_url(re.compile(r"/search\?"))
    assert result_count(page) == counts[chosen], (row, query)
    if not page.locator("nav.pager").count():
        assert page.locator("ol.results > li").count() == counts[chosen]
    assert page.locator("select[name=category]").input_value() == query["category"][0]
    assert page.locator(f"select[name={dimension}]").input_value() == query[dimension][0]


def test_the_sparql_form_runs_an_edited_query(page, sample_store):
    page.goto("/sparql")
    textarea = page.get_by_role("textbox", name="Query")
    textarea.fill(STAGES)
    page.get_by_role("button", name="Run query").click()
    expect(page).to_have_url(re.compile(r"/sparql\?query="))
    assert textarea.input_value().strip() == STAGES.strip()

    expected = [
        ("/" + row["stage"].value.removeprefix(BASE), row["label"].value)
        for row in OxigraphStore(sample_store).query(STAGES)
    ]
    results = page.locator("section.results")
    assert results.locator("thead th").all_inner_texts() == ["stage", "label"]
    rows = results.locator("tbody tr")
    assert rows.count() == len(expected) > 1
    shown = [
        (
            row.locator("td").nth(0).locator("a").get_attribute("href"),
            row.locator("td").nth(1).inner_text(),
        )
        for row in rows.all()
    ]
    assert shown == expected
    assert results.locator("p.note").inner_text().startswith(f"{len(expected)} rows")


def test_an_example_query_answers_with_a_table(page):
    page.goto("/sparql")
    examples = page.locator("details ul a")
    assert examples.count() >= 3
    title = examples.first.inner_text()
    examples.first.click()
    expect(page).to_have_url(re.compile(r"/sparql\?query="))
    assert page.get_by_role("textbox", name="Query").input_value().strip(), title
    assert page.locator("section.results tbody tr").count() > 0, title


# Every page kind at desktop and phone width.


@pytest.fixture(scope="module")
def sized(browser, server):
    """One page per width, reused by the page-kind tests (each loads its own path)."""
    with (
        opened(browser, server.url, DESKTOP) as desktop,
        opened(browser, server.url, PHONE) as phone,
    ):
        yield {"desktop": desktop, "phone": phone}


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("kind", list(PAGES))
def test_page_kind_fits_the_width_and_passes_axe(sized, kind, width):
    """Loads the page and checks its content; saves a full-page screenshot; at phone width the
    document must not scroll sideways (wide tables scroll in their own container); and axe-core
    must find no serious or critical violation."""
    check_page_kind(sized[width], kind, width, PAGES[kind])


@pytest.fixture(scope="module")
def nexus_server(chromium, nexus_store):
    with kg_server(nexus_store) as running:
        yield running


@pytest.fixture(scope="module")
def nexus_sized(browser, nexus_server):
    with (
        opened(browser, nexus_server.url, DESKTOP) as desktop,
        opened(browser, nexus_server.url, PHONE) as phone,
    ):
        yield {"desktop": desktop, "phone": phone}


@pytest.mark.shared
@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("kind", list(NEXUS_PAGES))
def test_nexus_page_kind_fits_the_width_and_passes_axe(nexus_sized, kind, width):
    """The same for the pages of the AI Atlas Nexus data."""
    check_page_kind(nexus_sized[width], kind, width, NEXUS_PAGES[kind])


@pytest.mark.shared
def test_from_a_risk_to_an_action_to_the_record_quoting_it_and_its_document(browser, nexus_server):
    with opened(browser, nexus_server.url, DESKTOP) as page:
        page.goto("/")
        card = page.locator(
            "section.card", has=page.get_by_role("link", name="Risks of generative AI")
        )
        card.get_by_role("link", name="Confabulation").click()
        expect(page).to_have_url(re.compile(r"/taxonomy/genai-risk/confabulation$"))
        assert page.locator("p.kind").text_content().startswith("Risk of generative AI")
        action = page.locator("ul.actions li").first
        code = action.locator("a.action-code").inner_text()
        record = action.locator("p.quoted-by a").first
        name = " ".join(record.inner_text().split())
        action.locator("a.action-code").click()
        expect(page).to_have_url(re.compile(rf"/taxonomy/rmf-function/{code.lower()}$"))
        assert heading(page) == code
        page.locator("section.members ul.mitigations a").first.click()
        expect(page).to_have_url(re.compile(r"/mitigation/nexus/"))
        assert heading(page) == name
        assert page.locator("section.quoted a.action-code").inner_text() == code
        source = page.locator("dl.facts dt:text-is('Source document') + dd a")
        title = " ".join(source.inner_text().split())
        source.click()
        expect(page).to_have_url(re.compile(r"/document/nexus/"))
        assert heading(page) == title


def check_page_kind(page: Page, kind: str, width: str, expected: tuple[str, str, str]) -> None:
    path, title, content = expected
    response = page.goto(path)
    assert response is not None and response.status == (404 if kind == "not-found" else 200)
    assert heading(page) and title in heading(page), (path, heading(page))
    assert page.locator(content).count() > 0, (path, content)
    screenshot(page, f"{kind}-{WIDTHS[width]['width']}")
    problems = []
    if width == "phone" and (wide := overflowing(page)):
        problems.append("wider than the phone: " + "; ".join(wide))
    if violations := axe_violations(page):
        problems.append("axe-core:\n" + describe_violations(violations))
    assert not problems, f"{path} at {width} width:\n" + "\n".join(problems)


def test_heatmap_cells_are_legible_at_every_heat(page):
    """The sample's cells are all alike (and axe-core skips one-digit text): a row of cells from
    the least to the most shaded checks the colour scale's contrast with axe-core."""
    page.goto("/coverage?by=stage")
    heats = [round(step / 20, 2) for step in range(21)]
    page.evaluate(
        """(heats) => {
        // Rows of 7 cells: the columns a desktop shows without scrolling the table.
        const cell = document.querySelector('td.cell:not(.gap)');
        const body = cell.closest('tbody');
        heats.forEach((heat, i) => {
            if (i % 7 === 0) {
                const row = cell.parentElement.cloneNode(false);
                row.className = 'heat-scale';
                row.appendChild(cell.parentElement.querySelector('th').cloneNode(true));
                body.prepend(row);
            }
            const copy = cell.cloneNode(true);
            copy.style.setProperty('--heat', heat);
            copy.querySelector('a').textContent = String(Math.round(heat * 1000));
            body.firstElementChild.appendChild(copy);
        });
    }""",
        heats,
    )
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run('tr.heat-scale', {runOnly: ['color-contrast']})"
    )
    assert not result["violations"], describe_violations(result["violations"])
    assert not result["incomplete"], describe_violations(result["incomplete"])
    cells = [node for node in result["passes"][0]["nodes"] if "td" in node["target"][0]]
    assert len(cells) == len(heats)
    # Ink on the light shades, white on the dark ones.
    assert {cell["any"][0]["data"]["fgColor"] for cell in cells} == {"#1d2330", "#ffffff"}
