"""A resource's page data as its templates read it: values by prefixed property name, both ways,
and the title, breadcrumbs and groupings each kind of page shows."""

from collections import defaultdict

from pyoxigraph import NamedNode

from kg.site.reads import ResourcePage
from kg.site.render import local_name
from kg.vocab import PREFIXES

KIND_LABELS = {
    "mitigation": "Mitigation",
    "document": "Source document",
    "author": "Author",
    "scheme": "Concept scheme",
    "graph": "Named graph",
    "ontology": "Ontology",
    "resource": "Resource",
}
#: What a concept is called, by the scheme path it is in.
CONCEPT_LABELS = {
    "taxonomy/mitigation": "Mitigation category",
    "taxonomy/stage": "Lifecycle stage",
    "taxonomy/actor": "Actor",
    "taxonomy/rmf-function": "NIST AI RMF function",
    "heading/": "Heading in a source document",
}


class Resource:
    def __init__(self, page: ResourcePage) -> None:
        self.page = page
        self.description = page.description
        self.iri = page.description.iri
        self._out: dict[str, list] = defaultdict(list)
        self._in: dict[str, list] = defaultdict(list)
        for quad in self.description.outgoing:
            if quad.subject == NamedNode(self.iri):
                self._out[quad.predicate.value].append(quad.object)
        for quad in self.description.incoming:
            self._in[quad.predicate.value].append(quad.subject)

    def all(self, name: str) -> list:
        return self._out.get(_expand(name), [])

    def first(self, name: str):
        found = self.all(name)
        return found[0] if found else None

    def incoming(self, name: str) -> list:
        return self._in.get(_expand(name), [])

    @property
    def title(self) -> str:
        return self.description.labels.get(self.iri) or local_name(self.iri)

    def kind_label(self, base: str) -> str:
        if self.page.kind == "concept":
            for scheme in self.all("skos:inScheme"):
                path = scheme.value.removeprefix(base)
                for prefix, label in CONCEPT_LABELS.items():
                    if path.startswith(prefix):
                        return label
            return "Concept"
        return KIND_LABELS.get(self.page.kind, "Resource")


def _expand(name: str) -> str:
    prefix, _, local = name.partition(":")
    return PREFIXES[prefix] + local


def by_category(mitigations: list[tuple]) -> list[tuple[str | None, list[tuple]]]:
    """A document's mitigations (iri, category, code, heading path) grouped by category, in the
    order of the category codes (the list comes sorted by them)."""
    groups: dict[str | None, list[tuple]] = {}
    for item in mitigations:
        groups.setdefault(item[1], []).append(item)
    return list(groups.items())


def by_heading(mitigations: list[tuple]) -> list[tuple[str | None, list[tuple]]]:
    """… grouped by the document's own heading path, in the document's heading order as far as
    paths tell it (alphabetical within a level), those without a heading last."""
    groups: dict[str | None, list[tuple]] = defaultdict(list)
    for item in mitigations:
        groups[item[3]].append(item)
    return sorted(groups.items(), key=lambda g: (g[0] is None, (g[0] or "").split(" > ")))
