"""Entries to triples: the one module that knows how the ontology models a parsed entry.

Identity rules (see ontology/README.md):
- the page's own entry is `mitigation/<id>`;
- an entry named in a list is `mitigation/<document>/<heading path>`, so every page of a document
  that lists it describes the same resource;
- a child of the page's entry (whose own path the page does not print) is `mitigation/<id>/<name>`;
- documents are keyed by title, authors by name, headings by document and path.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from pyoxigraph import Literal, NamedNode, Quad

from kg.entry import Entry, ListItem, Paper
from kg.navigator import NAVIGATOR_ID
from kg.vocab import (
    BIBO,
    DCTERMS,
    FOAF,
    KG,
    NAVIGATOR_PAGE,
    RDF,
    RDFS,
    SKOS,
    XSD,
    Iris,
    document_key,
    rdf_member,
    slug,
)


def text(value: str) -> Literal:
    return Literal(value, language="en")


@dataclass
class _Builder:
    """Collects the quads of one entry's graph."""

    iris: Iris
    graph: NamedNode
    quads: list[Quad] = field(default_factory=list)

    def add(self, subject: NamedNode, predicate: NamedNode, obj: NamedNode | Literal) -> None:
        self.quads.append(Quad(subject, predicate, obj, self.graph))


@dataclass(frozen=True)
class _Context:
    """What the field builders share: the entry's node and its document's key (if any)."""

    entry: Entry
    mitigation: NamedNode
    document_key: str | None
    document: NamedNode | None


def _identity(b: _Builder, c: _Context) -> None:
    b.add(c.mitigation, RDF.type, KG.Mitigation)
    b.add(c.mitigation, KG.navigatorId, Literal(c.entry.id))
    if NAVIGATOR_ID.fullmatch(c.entry.id):
        b.add(c.mitigation, RDFS.seeAlso, NamedNode(NAVIGATOR_PAGE + c.entry.id))


def _category(b: _Builder, c: _Context) -> None:
    b.add(c.mitigation, KG.category, b.iris.category(c.entry.category.code))


def _body(b: _Builder, c: _Context) -> None:
    if c.entry.body:
        b.add(c.mitigation, KG.quotation, text(c.entry.body))


def _reasoning(b: _Builder, c: _Context) -> None:
    if c.entry.reasoning:
        b.add(c.mitigation, KG.rationale, text(c.entry.reasoning))


def _classifications(b: _Builder, c: _Context) -> None:
    for scheme, predicate, value in (
        ("stage", KG.lifecycleStage, c.entry.lifecycle_stage),
        ("actor", KG.actor, c.entry.actor),
        ("rmf-function", KG.rmfFunction, c.entry.rmf_function),
    ):
        if value is not None:
            b.add(c.mitigation, predicate, b.iris.concept(scheme, value.name))


def _paper(b: _Builder, c: _Context) -> None:
    paper = c.entry.paper
    if paper is None or c.document is None or c.document_key is None:
        return
    document = c.document
    b.add(c.mitigation, KG.sourceDocument, document)
    b.add(document, RDF.type, KG.SourceDocument)
    b.add(document, DCTERMS.title, text(paper.title))
    if paper.year is not None:
        b.add(document, DCTERMS.issued, Literal(str(paper.year), datatype=XSD.gYear))
    if paper.abstract:
        b.add(document, DCTERMS.abstract, text(paper.abstract))
    _authors(b, paper, document, c.document_key)


def _authors(b: _Builder, paper: Paper, document: NamedNode, key: str) -> None:
    if not paper.authors:
        return
    sequence = b.iris.author_list(key)
    b.add(document, BIBO.authorList, sequence)
    b.add(sequence, RDF.type, RDF.Seq)
    for position, printed in enumerate(paper.authors, 1):
        author = b.iris.author(printed)
        b.add(document, DCTERMS.creator, author)
        b.add(sequence, rdf_member(position), author)
        b.add(author, RDF.type, KG.Author)
        family, _, given = printed.partition(", ")
        if given:
            b.add(author, FOAF.name, Literal(f"{given} {family}"))
            b.add(author, FOAF.familyName, Literal(family))
            b.add(author, FOAF.givenName, Literal(given))
        else:
            b.add(author, FOAF.name, Literal(printed))


def _listed(b: _Builder, c: _Context) -> None:
    """Entries of the same document named on this page, and where this entry hangs among them."""
    for item in c.entry.related:
        node = _listed_node(b, c, item.path)
        _describe_item(b, c, node, item)
        if len(item.path) > 1:
            b.add(node, KG.parentMitigation, _listed_node(b, c, item.path[:-1]))
            _heading(b, c, node, item.path[:-1])
    parent_path = _parent_path(c.entry)
    if parent_path:
        b.add(c.mitigation, KG.parentMitigation, _listed_node(b, c, parent_path))
        _heading(b, c, c.mitigation, parent_path)
    elif c.entry.parent_label:
        b.add(c.mitigation, KG.parentLabel, text(c.entry.parent_label))
    for item in c.entry.children:
        child = b.iris.child_mitigation(c.mitigation, item.name)
        _describe_item(b, c, child, item)
        b.add(child, KG.parentMitigation, c.mitigation)


def _listed_node(b: _Builder, c: _Context, path: list[str]) -> NamedNode:
    if c.document_key is not None:
        return b.iris.listed_mitigation(c.document_key, path)
    # Without a source block the document is unknown: the listing page scopes the names.
    return NamedNode(f"{c.mitigation.value}/listed/" + "/".join(slug(s) for s in path))


def _describe_item(b: _Builder, c: _Context, node: NamedNode, item: ListItem) -> None:
    b.add(node, RDF.type, KG.Mitigation)
    b.add(node, RDFS.label, text(item.path[-1]))
    b.add(node, KG.category, b.iris.category(item.code))
    if item.description:
        b.add(node, KG.quotation, text(item.description))
    if c.document is not None:
        b.add(node, KG.sourceDocument, c.document)


def _heading(b: _Builder, c: _Context, mitigation: NamedNode, path: list[str]) -> None:
    """`mitigation` is stated under the heading at `path`; headings exist per document only."""
    if c.document_key is None or c.document is None:
        return
    scheme = b.iris.heading_scheme(c.document_key)
    b.add(mitigation, KG.sourceHeading, b.iris.heading(c.document_key, path))
    b.add(scheme, RDF.type, KG.HeadingScheme)
    b.add(scheme, KG.inDocument, c.document)
    for depth in range(1, len(path) + 1):
        heading = b.iris.heading(c.document_key, path[:depth])
        b.add(heading, RDF.type, KG.Heading)
        b.add(heading, SKOS.prefLabel, text(path[depth - 1]))
        b.add(heading, KG.headingPath, Literal(" > ".join(path[:depth])))
        b.add(heading, SKOS.inScheme, scheme)
        b.add(heading, KG.inDocument, c.document)
        if depth > 1:
            b.add(heading, SKOS.broader, b.iris.heading(c.document_key, path[: depth - 1]))


def _parent_path(entry: Entry) -> list[str] | None:
    """The full heading path of the printed parent label, when the related list names it once."""
    label = entry.parent_label
    if label is None:
        return None
    matches = {tuple(item.path) for item in entry.related if item.path[-1] == label}
    return list(matches.pop()) if len(matches) == 1 else None


#: Each part of an entry and the builder that turns it into triples, in output order.
FIELD_BUILDERS: tuple[tuple[str, Callable[[_Builder, _Context], None]], ...] = (
    ("id", _identity),
    ("category", _category),
    ("body", _body),
    ("reasoning", _reasoning),
    ("lifecycle_stage, actor, rmf_function", _classifications),
    ("paper", _paper),
    ("parent_label, children, related", _listed),
)


#: The entry field each predicate of the page's own entry and document is built from, so that a
#: validation result can point at the line of the page to fix.
FIELD_OF_PREDICATE: dict[str, str] = {
    KG.category.value: "category",
    KG.quotation.value: "body",
    KG.rationale.value: "reasoning",
    KG.lifecycleStage.value: "lifecycle_stage",
    KG.actor.value: "actor",
    KG.rmfFunction.value: "rmf_function",
    KG.sourceDocument.value: "paper",
    DCTERMS.title.value: "paper",
    DCTERMS.issued.value: "paper",
    DCTERMS.abstract.value: "paper",
    DCTERMS.creator.value: "paper",
}


def entry_quads(entry: Entry, iris: Iris, graph: NamedNode) -> list[Quad]:
    """All triples of one entry, in `graph` (duplicates removed, order kept)."""
    builder = _Builder(iris, graph)
    key = document_key(entry.paper.title) if entry.paper else None
    context = _Context(
        entry=entry,
        mitigation=iris.mitigation(entry.id),
        document_key=key,
        document=iris.document(key) if key else None,
    )
    for _, build in FIELD_BUILDERS:
        build(builder, context)
    return list(dict.fromkeys(builder.quads))
