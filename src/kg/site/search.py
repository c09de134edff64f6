"""Full-text search over the graph: an SQLite FTS5 index per data version, built by the first
search on that version and used until the data changes.

Indexed: mitigations, navigator entries and AI Atlas Nexus records alike (name, quoted text,
rationale; heading path, document title and identifiers as context), documents (title, abstract
or description), authors (names) and taxonomy concepts (label, notation, definition), NIST AI RMF
actions among them (their text is their definition). Ranked by bm25 with the name weighing most;
matches come back marked (`render.MARK_START`/`END`) for the page to highlight. Filters by
category of either mitigation taxonomy (its descendants included), stage, actor, RMF function
(an entry's, or that of the action a record quotes), risk addressed and source document keep
mitigations only.
"""

import os
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from pyoxigraph import Store

from kg.errors import QueryError
from kg.server.task import Lane, Task
from kg.site.graph_reads import labels_of, select
from kg.site.render import MARK_END, MARK_START
from kg.site.trees import taxonomy_tree
from kg.store import Snapshot
from kg.vocab import KG_NS

#: Hits per page of results.
PAGE_SIZE = 20
#: Filters a search takes: the parameter, the scheme its values are in (None: the documents)
#: and the levels of the scheme offered (the RMF's functions, not their hundreds of actions).
FILTERS = {
    "category": ("mitigation", 9),
    "v1": ("mitigation-v1", 9),
    "stage": ("stage", 9),
    "actor": ("actor", 9),
    "function": ("rmf-function", 0),
    "risk": ("genai-risk", 9),
    "document": (None, 0),
}
#: What each kind of hit is called.
KIND_NAMES = {
    "mitigation": "Mitigation",
    "document": "Document",
    "author": "Author",
    "concept": "Concept",
    "action": "NIST AI RMF action",
    "risk": "Risk category",
}
#: The index's layout: indexes made by another layout are not read (nor kept).
LAYOUT = 2

SCHEMA = """
CREATE VIRTUAL TABLE entries USING fts5(
  name, body, rationale, context,
  tokenize = 'porter unicode61 remove_diacritics 2', prefix = '2 3'
);
CREATE TABLE facets(
  id INTEGER PRIMARY KEY, iri TEXT NOT NULL, kind TEXT NOT NULL, code TEXT,
  category TEXT, v1 TEXT, stage TEXT, actor TEXT, function TEXT, risk TEXT, document TEXT,
  sort_key TEXT
);
CREATE TABLE options(filter TEXT, position INTEGER, value TEXT, label TEXT, depth INTEGER);
"""

MITIGATIONS = """
# (Separators stated: Virtuoso 7 has no default for GROUP_CONCAT DISTINCT.)
SELECT ?m (SAMPLE(?q) AS ?quote) (SAMPLE(?r) AS ?rationale) (SAMPLE(?h) AS ?heading)
  (SAMPLE(?t) AS ?title) (SAMPLE(?d) AS ?document) (SAMPLE(?code) AS ?notation)
  (SAMPLE(?v1code) AS ?v1) (SAMPLE(?id) AS ?identifier) (SAMPLE(?nid) AS ?navigator)
  (GROUP_CONCAT(DISTINCT ?stage; separator=" ") AS ?stages)
  (GROUP_CONCAT(DISTINCT ?actor; separator=" ") AS ?actors)
  (GROUP_CONCAT(DISTINCT ?function; separator=" ") AS ?functions)
WHERE {
  ?m a kg:Mitigation .
  OPTIONAL { ?m kg:quotation ?q }
  OPTIONAL { ?m kg:rationale ?r }
  OPTIONAL { ?m kg:sourceHeading/kg:headingPath ?h }
  OPTIONAL { ?m kg:sourceDocument ?d OPTIONAL { ?d dcterms:title ?t } }
  OPTIONAL { ?m kg:category/skos:notation ?code }
  OPTIONAL { ?m kg:categoryV1/skos:notation ?v1code }
  OPTIONAL { ?m dcterms:identifier ?id }
  OPTIONAL { ?m kg:navigatorId ?nid }
  OPTIONAL { ?m kg:lifecycleStage/skos:notation ?stage }
  OPTIONAL { ?m kg:actor/skos:notation ?actor }
  OPTIONAL { ?m kg:rmfFunction/skos:notation ?function }
} GROUP BY ?m"""

#: The risks a record addresses, and the RMF function of the action it quotes (few records).
RISKS = "SELECT ?m ?v WHERE { ?m kg:addressesRisk/skos:notation ?v }"
QUOTED_FUNCTIONS = """
SELECT ?m ?v WHERE {
  ?m prov:wasQuotedFrom ?action . ?action skos:broader+ ?f .
  ?f a kg:RmfFunction ; skos:notation ?v
}"""

DOCUMENTS = """
SELECT ?d (SAMPLE(?a) AS ?abstract) (SAMPLE(?y) AS ?year) WHERE {
  ?d a kg:SourceDocument .
  OPTIONAL { ?d dcterms:abstract|dcterms:description ?a }
  OPTIONAL { ?d dcterms:issued ?y }
} GROUP BY ?d"""

AUTHORS = "SELECT ?a WHERE { ?a a kg:Author }"

CONCEPTS = """
SELECT ?c (SAMPLE(?n) AS ?notation) (SAMPLE(?def) AS ?definition) (SAMPLE(?class) AS ?kind)
WHERE {
  ?c skos:inScheme ?scheme . ?scheme a skos:ConceptScheme .
  FILTER NOT EXISTS { ?scheme a kg:HeadingScheme }
  OPTIONAL { ?c skos:notation ?n }
  OPTIONAL { ?c skos:definition ?def }
  OPTIONAL { ?c a ?class FILTER (?class IN (kg:RmfAction, kg:RiskCategory)) }
} GROUP BY ?c"""
CONCEPT_KINDS = {KG_NS + "RmfAction": "action", KG_NS + "RiskCategory": "risk"}

#: The documents a filter offers: those with mitigations.
FILTER_DOCUMENTS = "SELECT DISTINCT ?d WHERE { ?m kg:sourceDocument ?d }"


@dataclass
class Hit:
    iri: str
    kind: str
    name: str  # marked
    snippet: str  # marked: the quoted text (or abstract, definition) around the match
    also: str  # marked: the rationale around a match in it, else empty
    code: str | None


@dataclass
class Results:
    hits: list[Hit]
    total: int
    page: int
    page_size: int
    options: dict[str, list[tuple[str, str, int]]] = field(default_factory=dict)


class IndexMissing(Exception):
    """No index of this data version yet: build it (`IndexTask`), then search again."""


@dataclass(frozen=True)
class IndexTask(Task):
    """Builds the index of a data version; it reads the whole graph, hence its lane."""

    lane: ClassVar[Lane] = Lane.WHOLE_GRAPH
    snapshot: Snapshot
    index_dir: str
    base_iri: str

    def run(self) -> None:
        _build(self.snapshot, Path(self.index_dir), self.base_iri)


def index_path(directory: Path, snapshot: Snapshot) -> Path:
    return directory / f"{snapshot.version}.layout{LAYOUT}.sqlite"


@dataclass(frozen=True)
class SearchTask(Task):
    snapshot: Snapshot
    index_dir: str
    base_iri: str
    text: str
    filters: tuple[tuple[str, str], ...] = ()
    page: int = 1

    def run(self) -> Results:
        index = index_path(Path(self.index_dir), self.snapshot)
        if not index.exists():
            raise IndexMissing(self.snapshot.version)
        db = sqlite3.connect(f"file:{index}?mode=ro", uri=True)
        try:
            options = _options(db)
            for name, value in self.filters:
                if value not in {o[0] for o in options[name]}:
                    raise QueryError(f"{name}: no {name} {value[:60]!r} in the taxonomy")
            hits, total = _search(db, self.text, dict(self.filters), self.page)
        finally:
            db.close()
        return Results(hits, total, self.page, PAGE_SIZE, options)


def _options(db: sqlite3.Connection) -> dict[str, list[tuple[str, str, int]]]:
    """Each filter's values: (value, label, depth) in tree order."""
    found: dict[str, list[tuple[str, str, int]]] = {name: [] for name in FILTERS}
    rows = db.execute("SELECT filter, value, label, depth FROM options ORDER BY filter, position")
    for name, value, label, depth in rows:
        found[name].append((value, label, depth))
    return found


def fts_query(text: str) -> str | None:
    """The words of `text` as an FTS5 query: every word must match, as a word or a prefix. Only
    word characters reach FTS5, so nothing a user types is read as FTS5 syntax."""
    words = re.findall(r"\w+", text.casefold())
    return " ".join(f'"{word}"*' for word in words[:32]) or None


def _search(db: sqlite3.Connection, text: str, filters: dict, page: int) -> tuple[list, int]:
    where, params = [], []
    match = fts_query(text)
    if match:
        where.append("entries MATCH ?")
        params.append(match)
    if filters:
        where.append("facets.kind = 'mitigation'")
    for name, value in filters.items():  # names are FILTERS' keys, columns of the facets
        where.append(f"(' ' || facets.{name} || ' ') LIKE ? ESCAPE '\\'")
        escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params.append(f"% {escaped} %")
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    order = "bm25(entries, 10.0, 1.0, 2.0, 0.5), facets.sort_key" if match else "facets.sort_key"
    joined = "FROM entries JOIN facets ON facets.id = entries.rowid"
    total = db.execute(f"SELECT count(*) {joined} {clause}", params).fetchone()[0]
    rows = db.execute(
        f"""SELECT facets.iri, facets.kind, facets.code,
            highlight(entries, 0, ?1, ?2), snippet(entries, 1, ?1, ?2, '…', 28),
            snippet(entries, 2, ?1, ?2, '…', 16)
            {joined} {clause} ORDER BY {order} LIMIT {PAGE_SIZE} OFFSET {(page - 1) * PAGE_SIZE}""",
        [MARK_START, MARK_END, *params],
    ).fetchall()
    hits = [
        Hit(iri, kind, name, snippet, also if MARK_START in also else "", code)
        for iri, kind, code, name, snippet, also in rows
    ]
    return hits, total


def _build(snapshot: Snapshot, directory: Path, base_iri: str) -> Path:
    """The index of this data version, built if there is none yet (atomically: a concurrent
    search sees the whole file or none); indexes of other versions are removed."""
    version = snapshot.version
    target = index_path(directory, snapshot)
    if target.exists():
        return target
    store = snapshot.open()
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f".{version}.{os.getpid()}.partial"
    partial.unlink(missing_ok=True)
    try:
        db = sqlite3.connect(partial)
        try:
            db.executescript(SCHEMA)
            rows = _rows(store, base_iri)
            db.executemany(
                "INSERT INTO facets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [row.facets(number) for number, row in enumerate(rows, start=1)],
            )
            db.executemany(
                "INSERT INTO entries(rowid, name, body, rationale, context) VALUES (?, ?, ?, ?, ?)",
                [row.texts(number) for number, row in enumerate(rows, start=1)],
            )
            db.executemany(
                "INSERT INTO options VALUES (?, ?, ?, ?, ?)", _option_rows(store, base_iri)
            )
            db.commit()
        finally:
            db.close()
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    for old in directory.glob("*.sqlite"):
        if old != target:
            old.unlink(missing_ok=True)
    return target


def _option_rows(store: Store, base_iri: str):
    for name, (scheme, depth) in FILTERS.items():
        if scheme is None:
            documents = [row["d"] for row in select(store, FILTER_DOCUMENTS)]
            labels = labels_of(store, documents)
            titled = sorted((labels.get(d.value, d.value), d.value) for d in documents)
            for position, (title, iri) in enumerate(titled):
                yield name, position, iri, title, 0
            continue
        shown = [n for n in taxonomy_tree(store, base_iri, scheme) if n.depth <= depth]
        for position, node in enumerate(shown):
            yield name, position, node.notation or node.iri, node.label, node.depth


@dataclass(frozen=True)
class _Indexed:
    """One indexed resource: its facets (filters and sort order) and its texts."""

    iri: str
    kind: str
    sort_key: str
    name: str
    body: str = ""
    rationale: str = ""
    context: str = ""
    code: str | None = None
    category: str = ""  # its category's code and those above it, space-separated
    v1: str = ""  # … in the v1 taxonomy
    stage: str = ""
    actor: str = ""
    function: str = ""
    risk: str = ""
    document: str = ""

    def facets(self, number: int) -> tuple:
        return (
            number, self.iri, self.kind, self.code, self.category, self.v1, self.stage,
            self.actor, self.function, self.risk, self.document, self.sort_key,
        )  # fmt: skip

    def texts(self, number: int) -> tuple:
        return number, *(_clean(t) for t in (self.name, self.body, self.rationale, self.context))


def _rows(store: Store, base_iri: str) -> list[_Indexed]:
    """The indexed resources: mitigations, documents, authors, taxonomy concepts (kg's own: not
    those of ontologies imported with `kg import-ontology`)."""
    mitigations = select(store, MITIGATIONS)
    documents = select(store, DOCUMENTS)
    authors = select(store, AUTHORS)
    concepts = [r for r in select(store, CONCEPTS) if r["c"].value.startswith(base_iri)]
    nodes = [r["m"] for r in mitigations] + [r["d"] for r in documents]
    nodes += [r["a"] for r in authors] + [r["c"] for r in concepts]
    labels = labels_of(store, nodes)
    risks, functions = _by_mitigation(store, RISKS), _by_mitigation(store, QUOTED_FUNCTIONS)
    rows = []
    for r in mitigations:
        iri, code, v1 = r["m"].value, _text(r, "notation"), _text(r, "v1")
        context = " · ".join(
            t
            for t in (_text(r, name) for name in ("heading", "title", "identifier", "navigator"))
            if t
        )
        function = " ".join(filter(None, [_text(r, "functions"), *functions.get(iri, [])]))
        rows.append(
            _Indexed(
                iri,
                "mitigation",
                f"0 {_code_key(code) if code else '~' + _code_key(v1)} {iri}",
                name=labels.get(iri, ""),
                body=_text(r, "quote"),
                rationale=_text(r, "rationale"),
                context=context,
                code=code or (f"v1 {v1}" if v1 else None),
                category=_ancestors(code),
                v1=_ancestors(v1),
                stage=_text(r, "stages"),
                actor=_text(r, "actors"),
                function=function,
                risk=" ".join(risks.get(iri, [])),
                document=_text(r, "document"),
            )
        )
    for r in documents:
        iri = r["d"].value
        rows.append(
            _Indexed(
                iri,
                "document",
                f"1 {iri}",
                labels.get(iri, ""),
                _text(r, "abstract"),
                code=_text(r, "year"),
            )
        )
    for r in authors:
        iri = r["a"].value
        rows.append(_Indexed(iri, "author", f"2 {iri}", labels.get(iri, "")))
    for r in concepts:
        iri, code = r["c"].value, _text(r, "notation")
        rows.append(
            _Indexed(
                iri,
                CONCEPT_KINDS.get(_text(r, "kind"), "concept"),
                f"3 {iri}",
                labels.get(iri, ""),
                _text(r, "definition"),
                context=code,
                code=code,
            )
        )
    return rows


def _by_mitigation(store: Store, sparql: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for row in select(store, sparql):
        values = found.setdefault(row["m"].value, [])
        if row["v"].value not in values:
            values.append(row["v"].value)
    return found


def _text(row: dict, name: str) -> str:
    return row[name].value if name in row else ""


def _clean(text: str | None) -> str:
    """Text as indexed: the markers of matches cannot occur in it."""
    return (text or "").replace(MARK_START, "").replace(MARK_END, "")


def _ancestors(code: str) -> str:
    """ "2.2.1" → "2 2.2 2.2.1": a category filter matches its descendants."""
    parts = code.split(".") if code else []
    return " ".join(".".join(parts[: i + 1]) for i in range(len(parts)))


def _code_key(code: str) -> str:
    """A sort key that puts 2.10 after 2.9."""
    return ".".join(p.zfill(4) for p in code.split(".")) if code else "~"
