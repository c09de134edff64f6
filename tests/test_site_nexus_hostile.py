"""Nexus data as hostile input to the site: a copy of the shared files with markup, a template
expression and a javascript: URL in every kind of text the import turns into a page (document,
scheme, v1 category, risk domain, generative-AI risk, action, actor task, record), imported and
served by a real `kg serve`. Every page shows the text as text; nothing becomes markup or a link."""

import shutil
from pathlib import Path

import pytest
import yaml
from served import client, kg_server
from site_store import (
    ATTACKS,
    BROWSER,
    SAMPLE,
    active_content,
    dom,
    load_store,
    local,
    select,
    text_of,
)

from kg.load import Loader
from kg.nexus.package import locate
from kg.settings import Settings
from kg.store import OxigraphStore

pytestmark = pytest.mark.shared

ATTACK = " ".join(ATTACKS)


def _poison(folder: Path) -> None:
    """Appends ATTACK to the first record's texts of every kind, and gives a document a
    javascript: URL."""

    def edit(name: str, change) -> None:
        path = folder / name
        tree = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
        change(tree)
        path.write_text(yaml.safe_dump(tree, allow_unicode=True, sort_keys=False), "utf-8")

    def mitigation_data(tree):
        document = tree["documents"][1]
        document["name"] += ATTACK
        document["description"] = ATTACK
        document["author"] += ATTACK
        document["url"] = "javascript:alert(1)"
        tree["taxonomies"][0]["name"] += ATTACK
        tree["groups"][-1]["name"] += ATTACK  # a v1 category, "4.6 Name …"

    def repository(tree):
        tree["groups"][0]["name"] += ATTACK  # a risk domain
        tree["entries"][0]["description"] = ATTACK

    def controls(tree):
        tree["controls"][0]["name"] += ATTACK
        tree["controls"][0]["description"] += ATTACK

    def actions(tree):
        tree["actions"][0]["description"] += ATTACK
        tree["actions"][0]["hasAiActorTask"].append("Red " + ATTACK)

    def nist(tree):
        tree["entries"][0]["name"] += ATTACK  # a generative-AI risk
        tree["entries"][0]["description"] += ATTACK

    edit("mit_ai_risk_mitigation_data.yaml", mitigation_data)
    edit("mit_ai_risk_repository_data.yaml", repository)
    edit("mit_ai_risk_repository_data_controls.yaml", controls)
    edit("nist_ai_rmf_actions_data.yaml", actions)
    edit("nist_ai_rmf_data.yaml", nist)


@pytest.fixture(scope="module")
def served(shared: Path, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("hostile-nexus")
    shutil.copytree(shared / "data" / "ai-atlas-nexus", folder, dirs_exist_ok=True)
    _poison(folder)
    store = load_store(tmp_path_factory.mktemp("store") / "store", SAMPLE)
    report = Loader(Settings(store=store), OxigraphStore(store)).import_nexus(locate(folder))
    assert report.committed, report.errors[:3]
    with kg_server(store) as server, client(server) as http:
        yield store, http


def _pages(store: Path) -> dict[str, str]:
    """One page of each kind whose own text holds the attack."""
    attacked = "FILTER(CONTAINS(STR(?text), '<script>'))"
    kinds = {
        "record": f"?x dcterms:identifier ?id ; kg:quotation ?text {attacked}",
        "document": f"?x dcterms:identifier ?id ; dcterms:title ?text {attacked}",
        "v1 scheme": f"?x a skos:ConceptScheme ; skos:prefLabel ?text {attacked}",
        "v1 category": f"?x a kg:MitigationCategoryV1 ; skos:prefLabel ?text {attacked}",
        "risk": f"?x a kg:RiskCategory ; skos:prefLabel ?text {attacked}",
        "action": f"?x a kg:RmfAction ; skos:definition ?text {attacked}",
        "actor task": f"?x a kg:ActorTask ; skos:prefLabel ?text {attacked}",
    }
    pages = {}
    for kind, pattern in kinds.items():
        found = select(store, f"SELECT ?x WHERE {{ {pattern} }} ORDER BY ?x LIMIT 1")
        assert found, kind
        pages[kind] = local(found[0]["x"].value)
    return pages | {
        "home": "/",
        "search": "/search?q=alert",
        "risk map": "/coverage?by=risk",
        "document map": "/coverage?by=document",
    }


def test_hostile_nexus_text_renders_as_text_on_every_page_kind(served):
    store, http = served
    for kind, path in _pages(store).items():
        answer = http.get(path, headers={"Accept": BROWSER})
        assert answer.status_code == 200, (kind, path, answer.status_code)
        tree = dom(answer.text)
        assert active_content(tree) == [], kind
        if kind not in ("risk map", "document map"):
            assert "<script>" in text_of(tree.find(".//main")), kind  # shown, as text


def test_a_javascript_url_is_no_link(served):
    store, _ = served
    links = select(store, "SELECT ?url WHERE { ?d dcterms:identifier ?id ; rdfs:seeAlso ?url }")
    assert links and not [r for r in links if r["url"].value.lower().startswith("javascript")]
