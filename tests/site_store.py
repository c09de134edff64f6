"""What the site's tests share: stores (the sample pages plus a page made to attack the HTML, every
field of it holding markup, a template expression and a javascript: URL; the sample pages with the
AI Atlas Nexus data), loaded under a chosen base IRI, and the readers of what the server answers
(store rows, the DOM, local paths)."""

from collections import deque
from pathlib import Path
from urllib.parse import urlsplit

import html5rdf

from kg.load import Loader
from kg.settings import DEFAULT_BASE_IRI, Settings
from kg.store import OxigraphStore

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
HOSTILE = ROOT / "tests" / "fixtures" / "site" / "hostile.txt"
#: What the hostile page puts in every text field.
ATTACKS = ["<script>", '"><img src=x onerror=alert(1)>', "{{7*7}}", "javascript:alert(1)"]
BASE = DEFAULT_BASE_IRI
#: Corpus pages whose entries are AI Atlas Nexus records too (`owl:sameAs`, derived at commit):
#: the first two name a document the Nexus has too, the third none.
TWIN_PAGES = ["A1379.txt", "A2219.txt", "A1421.txt"]
#: What a browser sends.
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def load_store(
    directory: Path, *inputs: Path, base_iri: str = DEFAULT_BASE_IRI, rejects: bool = False
) -> Path:
    """Loads `inputs` (files or folders of pages); `rejects`: files that are not entry pages
    (the corpus has some) are left out instead of failing the test."""
    settings = Settings(store=directory, base_iri=base_iri)
    loader = Loader(settings, OxigraphStore(directory))
    sources = loader.vocabulary_sources() + loader.entry_sources(list(inputs))
    report = loader.load(sources, skip_invalid=rejects)
    assert report.committed and (rejects or not report.errors), report.errors[:3]
    return directory


def load_nexus_store(directory: Path, shared: Path) -> Path:
    """The sample pages and TWIN_PAGES of the corpus, then `kg import-nexus` of the Nexus data."""
    from kg.nexus.package import locate

    corpus = shared / "corpus" / "navigator"
    load_store(directory, SAMPLE, *(corpus / name for name in TWIN_PAGES))
    loader = Loader(Settings(store=directory), OxigraphStore(directory))
    report = loader.import_nexus(locate(shared / "data" / "ai-atlas-nexus"))
    assert report.committed and not report.errors, report.errors[:3]
    return directory


#: Attributes through which markup would run script.
ON_ATTRIBUTES = ("onerror", "onload", "onclick", "onmouseover")


def active_content(tree) -> list[str]:
    """What in a page could run: script or img elements, on* attributes, javascript: links (the
    site has no script of its own, so any is an injection)."""
    found = [element.tag for element in tree.iter() if element.tag in ("script", "img")]
    for element in tree.iter():
        found += [f"{element.tag}@{name}" for name in ON_ATTRIBUTES if name in element.attrib]
        href = (element.get("href") or "").strip().lower()
        if href.startswith("javascript:"):
            found.append(f"{element.tag} href={href}")
    return found


def select(store: Path, query: str) -> list[dict]:
    """Rows of a SELECT on a store directory, as dicts of terms."""
    solutions = OxigraphStore(store).query(query)
    return [{v.value: row[v.value] for v in solutions.variables} for row in solutions]


def dom(body: str):
    return html5rdf.parse(body, namespaceHTMLElements=False)


def text_of(element) -> str:
    return " ".join("".join(element.itertext()).split())


def local(iri: str, base: str = BASE) -> str:
    """The path where the server serves `iri`."""
    assert iri.startswith(base), iri
    return "/" + iri[len(base) :]


def crawl(http, start: str = "/", limit: int = 5000) -> tuple[dict[str, int], set[str]]:
    """Status of every internal URL reachable from `start` through <a href>s (HTML followed)."""
    seen: dict[str, int] = {}
    queue = deque([start])
    while queue and len(seen) < limit:
        url = queue.popleft()
        if url in seen:
            continue
        answer = http.get(url, headers={"Accept": BROWSER})
        seen[url] = answer.status_code
        if not answer.headers.get("content-type", "").startswith("text/html"):
            continue
        for link in dom(answer.text).iter("a"):
            href = (link.get("href") or "").split("#")[0]
            if href.startswith("/") and not href.startswith("//") and href not in seen:
                if href.startswith("/sparql?") or href.startswith("/dump."):
                    continue  # answers, not pages: checked elsewhere
                queue.append(href)
    return seen, {urlsplit(u).path for u in seen}
