"""A parsed navigator entry: the record `kg parse` prints and the RDF mapping reads."""

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class CategoryRef:
    code: str
    name: str | None
    parent_name: str | None
    definition: str | None


@dataclass
class ListItem:
    """An entry of the same document, as listed on another entry's page."""

    name: str
    description: str | None
    code: str
    category_name: str | None

    @property
    def path(self) -> list[str]:
        return [segment.strip() for segment in self.name.split(" > ")]


@dataclass
class Paper:
    title: str
    authors: list[str]
    year: int | None
    abstract: str | None


@dataclass
class Classification:
    name: str
    definition: str | None


@dataclass
class Entry:
    id: str
    source_file: str
    complete: bool
    category: CategoryRef
    body: str
    reasoning: str | None
    parent_label: str | None
    children: list[ListItem] = field(default_factory=list)
    related: list[ListItem] = field(default_factory=list)
    paper: Paper | None = None
    lifecycle_stage: Classification | None = None
    actor: Classification | None = None
    rmf_function: Classification | None = None
    warnings: list[str] = field(default_factory=list)
    #: Line of the page where each field was read (keys as in rdfize.FIELD_BUILDERS).
    lines: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
