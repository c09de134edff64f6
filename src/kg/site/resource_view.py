"""A resource's page data as its templates read it: values by prefixed property name, both ways,
and the title, breadcrumbs and groupings each kind of page shows."""

from collections import defaultdict

from pyoxigraph import NamedNode

from kg.site.reads import ResourcePage
from kg.site.render import local_name
from kg.vocab import KG_NS, PREFIXES

KIND_LABELS = {
    "mitigation": "Mitigation",
    "document": "Source document",
    "author": "Author",
    "scheme": "Concept scheme",
    "graph": "Named graph",
    "mapping": "Crosswalk mapping",
    "ontology": "Ontology",
    "resource": "Resource",
}
#: What a concept is called, by its class (the classes of concepts that share a scheme) …
CONCEPT_CLASSES = {
    KG_NS + "RmfAction": "NIST AI RMF action",
    KG_NS + "RmfSubcategory": "NIST AI RMF subcategory",
    KG_NS + "RmfCategory": "NIST AI RMF category",
    KG_NS + "MitigationCategoryV1": "Mitigation category · v1 draft taxonomy",
}
#: … else by the path of its scheme (a path ending with "/": every scheme under it).
CONCEPT_LABELS = {
    "taxonomy/mitigation": "Mitigation category",
    "taxonomy/stage": "Lifecycle stage",
    "taxonomy/actor": "Actor",
    "taxonomy/rmf-function": "NIST AI RMF function",
    "taxonomy/genai-risk": "Risk of generative AI · NIST AI 600-1",
    "taxonomy/risk-domain": "AI risk domain",
    "taxonomy/risk-cause": "Causal factor of AI risks",
    "taxonomy/actor-task": "AI actor task",
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
        """What the kind's reader calls the resource, else its label, else its IRI's end."""
        return (
            self.page.extra.get("title")
            or self.description.labels.get(self.iri)
            or local_name(self.iri)
        )

    def kind_label(self, base: str) -> str:
        if self.page.kind == "concept":
            for cls in self.description.types:
                if cls in CONCEPT_CLASSES:
                    return CONCEPT_CLASSES[cls]
            for scheme in self.all("skos:inScheme"):
                path = scheme.value.removeprefix(base)
                for prefix, label in CONCEPT_LABELS.items():
                    if path == prefix or (prefix.endswith("/") and path.startswith(prefix)):
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
