"""The taxonomies the parser resolves against, read from the project's SKOS files."""

import re
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

from pyoxigraph import Literal, NamedNode, RdfFormat, parse

from kg.vocab import KG_NS, RDF_NS, SKOS_NS

TAXONOMY_FILES = {
    "mitigation": "mitigation-categories.ttl",
    "stage": "lifecycle-stages.ttl",
    "actor": "actors.ttl",
    "rmf-function": "rmf-functions.ttl",
}
_CLASSIFICATION_CLASSES = {
    "stage": KG_NS + "LifecycleStage",
    "actor": KG_NS + "Actor",
    "rmf-function": KG_NS + "RmfFunction",
}


@dataclass(frozen=True)
class Category:
    code: str
    name: str | None
    parent_code: str | None
    definition: str | None


@dataclass(frozen=True)
class ClassificationValue:
    """A lifecycle stage, actor or RMF function as the pages print it."""

    scheme: str
    name: str
    definition: str | None


@dataclass
class Vocabulary:
    categories: dict[str, Category]
    stages: dict[str, ClassificationValue]
    actors: dict[str, ClassificationValue]
    rmf_functions: dict[str, ClassificationValue]

    @cached_property
    def category_by_definition(self) -> dict[str, Category]:
        return {c.definition: c for c in self.categories.values() if c.definition}

    @cached_property
    def code_prefix(self) -> re.Pattern[str]:
        """Matches a taxonomy code at the start of a line: a notation and its category's name."""
        codes = [f"{c.code} {c.name}" for c in self.categories.values() if c.name]
        # Longest first, so "1.1 Model" never shadows a longer code that shares its start.
        ordered = sorted(codes, key=len, reverse=True)
        return re.compile("(?:" + "|".join(re.escape(code) for code in ordered) + ")")

    def parent_name(self, category: Category) -> str | None:
        parent = self.categories.get(category.parent_code or "")
        return parent.name if parent else None


def _concepts(path: Path) -> dict[str, dict[str, list[str]]]:
    """Subject IRI → predicate IRI → values, for one small Turtle file."""
    table: dict[str, dict[str, list[str]]] = {}
    with path.open("rb") as stream:
        for triple in parse(stream, format=RdfFormat.TURTLE):
            if isinstance(triple.subject, NamedNode) and isinstance(
                triple.object, NamedNode | Literal
            ):
                table.setdefault(triple.subject.value, {}).setdefault(
                    triple.predicate.value, []
                ).append(triple.object.value)
    return table


def _one(values: dict[str, list[str]], predicate: str) -> str | None:
    found = values.get(predicate)
    return found[0] if found else None


@cache
def load_vocabulary(ontology_dir: Path) -> Vocabulary:
    taxonomies = ontology_dir / "taxonomies"
    categories: dict[str, Category] = {}
    for iri, values in _concepts(taxonomies / TAXONOMY_FILES["mitigation"]).items():
        if KG_NS + "MitigationCategory" not in values.get(RDF_NS + "type", []):
            continue
        broader = _one(values, SKOS_NS + "broader")
        code = _one(values, SKOS_NS + "notation")
        if code is None:
            raise ValueError(f"{taxonomies}: category {iri} has no skos:notation")
        categories[code] = Category(
            code=code,
            name=_one(values, SKOS_NS + "prefLabel"),
            parent_code=broader.rsplit("/", 1)[1] if broader else None,
            definition=_one(values, SKOS_NS + "definition"),
        )
    schemes = {}
    for scheme, class_iri in _CLASSIFICATION_CLASSES.items():
        values_by_name = {}
        for values in _concepts(taxonomies / TAXONOMY_FILES[scheme]).values():
            if class_iri in values.get(RDF_NS + "type", []):
                name = _one(values, SKOS_NS + "prefLabel") or ""
                values_by_name[name] = ClassificationValue(
                    scheme, name, _one(values, SKOS_NS + "definition")
                )
        schemes[scheme] = values_by_name
    return Vocabulary(categories, schemes["stage"], schemes["actor"], schemes["rmf-function"])
