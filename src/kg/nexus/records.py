"""The records of the AI Atlas Nexus data files, typed; `kg.nexus.read` builds them.

Every id is the Nexus id as the files spell it, and records refer to each other by those ids. A
field the files leave empty is None (or an empty tuple), never "". Also here: the errors and
warnings reading reports, and FIELDS, the fields each kind of YAML record may have.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from kg.errors import InputError


class NexusError(InputError):
    """A Nexus file kg cannot read: names the file, the record and the field, and what was
    expected there (`record` and `field` are None when the fault is not in one)."""

    def __init__(
        self,
        file: str,
        record: str | None,
        field: str | None,
        message: str,
        line: int | None = None,
    ) -> None:
        where = [f"record {record!r}"] if record else []
        where += [f"field {field!r}"] if field else []
        super().__init__(file, f"{', '.join(where)}: {message}" if where else message, line)
        self.file, self.record, self.field, self.message = file, record, field, message


@dataclass(frozen=True)
class NexusWarning:
    """An upstream fault kg repaired or worked around; the same kind of fault, in another record,
    has the same `message`, so that `summarise` can group them."""

    file: str
    record: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = ", ".join(part for part in (self.record, self.field) if part)
        return f"{self.file}: {where}: {self.message}" if where else f"{self.file}: {self.message}"


def summarise(warnings: Iterable[NexusWarning], shown: int = 3) -> list[str]:
    """One line per kind of fault (file, field and message), with how many records have it."""
    records: dict[tuple[str, str | None, str], list[str]] = {}
    for warning in warnings:
        key = (warning.file, warning.field, warning.message)
        records.setdefault(key, []).append(warning.record or "")
    lines = []
    for (file, field_name, message), names in records.items():
        listed = ", ".join(name for name in names[:shown] if name)
        more = f" and {len(names) - shown} more" if len(names) > shown else ""
        count = f"{len(names)} record{'s' if len(names) > 1 else ''}"
        lines.append(f"{file}: {field_name or '-'}: {message} ({count}: {listed}{more})")
    return lines


@dataclass(frozen=True)
class Document:
    """A document records come from (a paper, a bill, a framework) or that a taxonomy is from."""

    id: str  #: e.g. "doc-FLI2024", "NIST.AI.600-1" (some hold spaces: "doc-UK Government2023")
    name: str
    description: str | None
    author: str | None
    url: str | None
    created: date | None
    modified: date | None


@dataclass(frozen=True)
class Taxonomy:
    """A scheme: the v1 mitigation taxonomy, the domain or causal risk taxonomy, the NIST AI RMF."""

    id: str  #: e.g. "mit-draft-ai-risk-mitigation"
    name: str
    description: str | None
    url: str | None
    version: str | None
    created: date | None
    documents: tuple[str, ...]  #: Document ids


@dataclass(frozen=True)
class Concept:
    """A concept of a scheme: a v1 mitigation category, a risk domain or subdomain, or a causal
    factor (entity, intent, timing) or one of its values."""

    id: str  #: e.g. "mit-draft-ai-risk-mitigation-group-1.1", "mit-ai-causal-risk-entity-ai"
    scheme: str  #: Taxonomy id
    code: str  #: unique in its scheme: "1.1" (v1, domains), "entity", "entity-ai" (causal)
    name: str  #: without the code the v1 names start with ("1.1 Board Structure & Oversight")
    definition: str | None
    broader: str | None  #: Concept id, in the same scheme
    nexus_class: str  #: its `type`, a class of Nexus's schema: RiskControlGroup, RiskGroup or Risk


@dataclass(frozen=True)
class Mitigation:
    """A record of the MIT AI risk mitigation database v1 (a Nexus `control` of type Action)."""

    id: str  #: the Nexus id, e.g. "A0086_Future_of_Life_Institute2024": not a navigator ID
    name: str
    text: str | None  #: the description; 11 records have none
    document: str  #: Document id
    category: str | None  #: its v1 code ("1.1") from the categorisation TSV; None if it has no row


@dataclass(frozen=True)
class Categorisation:
    """A row of the categorisation TSV: a mitigation placed in a v1 category."""

    mitigation: str  #: Mitigation id (the subject_id "nexus:A0086_..." without its prefix)
    concept: str  #: Concept id of the v1 scheme (object_id without its prefix)
    code: str  #: the concept's code
    label: str  #: object_label, e.g. "Governance & Oversight Control not otherwise categorized"
    predicate: str  #: a CURIE, as in the file
    justification: str  #: a CURIE, as in the file
    author: str | None  #: an IRI or CURIE (an e-mail address is read as a mailto: IRI)
    date: date | None
    line: int


@dataclass(frozen=True)
class MappingSet:
    """The header of the categorisation TSV; `curie_map` as repaired (each prefix ends in a
    separator), so that `expand` never glues a prefix to a local name."""

    curie_map: Mapping[str, str]
    id: str | None
    description: str | None
    license: str | None
    date: str | None

    def expand(self, curie: str) -> str:
        prefix, _, local = curie.partition(":")
        return self.curie_map[prefix] + local if prefix in self.curie_map else curie


@dataclass(frozen=True)
class RmfGroup:
    """A NIST AI RMF function ("GV"), category ("GV-1") or subcategory ("GV-1.1"). The files have
    no records of these: they are read from the codes of the actions, the framework's notation."""

    code: str
    level: str  #: "function", "category" or "subcategory"
    name: str | None  #: "Govern", "Map", "Measure", "Manage" for functions; the files name no other
    broader: str | None  #: RmfGroup code


@dataclass(frozen=True)
class RmfAction:
    """A suggested action of NIST AI 600-1, e.g. "GV-1.1-001", under an AI RMF subcategory."""

    id: str
    text: str
    subcategory: str  #: RmfGroup code
    risks: tuple[str, ...]  #: GenAiRisk ids
    actor_tasks: tuple[str, ...]  #: as normalised (see NexusData.warnings)
    document: str  #: Document id
    taxonomy: str  #: Taxonomy id


@dataclass(frozen=True)
class GenAiRisk:
    """One of the 12 risks of generative AI that NIST AI 600-1 names."""

    id: str  #: e.g. "nist-confabulation"
    name: str
    definition: str | None
    actions: tuple[str, ...]  #: RmfAction ids, as the risk lists them
    taxonomy: str  #: Taxonomy id


@dataclass(frozen=True)
class ProfileRecord:
    """A mitigation of NIST AI 600-1: it quotes one of the profile's actions. Which one is told by
    the text only (not by number); linking them is left to the importer."""

    id: str  #: Mitigation id, e.g. "A0388_NIST2024"
    text: str  #: the quoted text, whitespace collapsed, without a trailing list of actor tasks
    actor_tasks: tuple[str, ...]  #: from that trailing list ("(AI Deployment, TEVV)"), if any
    risks: tuple[str, ...]  #: GenAiRisk ids its name lists ("Confabulation; Data Privacy")


@dataclass(frozen=True)
class NexusData:
    """Everything read from the Nexus files, each kind by id in file order."""

    documents: dict[str, Document]
    taxonomies: dict[str, Taxonomy]
    concepts: dict[str, Concept]
    mitigations: dict[str, Mitigation]
    categorisations: tuple[Categorisation, ...]
    mapping_set: MappingSet
    rmf_groups: dict[str, RmfGroup]
    actions: dict[str, RmfAction]
    genai_risks: dict[str, GenAiRisk]
    profile_records: dict[str, ProfileRecord]
    warnings: list[NexusWarning]
    #: The file (a name of FILES) each document and taxonomy was read from, by id.
    read_from: dict[str, str] = field(default_factory=dict)

    def scheme(self, taxonomy: str) -> dict[str, Concept]:
        """The concepts of one scheme, by code."""
        return {c.code: c for c in self.concepts.values() if c.scheme == taxonomy}


# --- The fields of each kind of record in the YAML files ------------------------------------

#: The fields of each kind of record: `?` marks an optional one, `:list` and `:date` the type
#: (text otherwise). Every other field is an error.
FIELDS = {
    "documents": "id name ?description ?author ?url ?dateCreated:date ?dateModified:date",
    "taxonomies": "id name type ?description ?url ?dateCreated:date ?version "
    "?hasDocumentation:list",
    "groups": "id name type ?description isDefinedByTaxonomy ?broader:list ?narrower:list",
    "entries": "id name type ?description isDefinedByTaxonomy ?isPartOf ?hasRelatedAction:list",
    "controls": "id name type ?description hasDocumentation:list",
    "actions": "id ?name description ?hasRelatedRisk:list hasDocumentation:list "
    "isDefinedByTaxonomy hasAiActorTask:list",
}
#: The `type` each kind of record may have.
TYPES = {
    "taxonomies": {"RiskTaxonomy", "RiskControlGroupTaxonomy"},
    "groups": {"RiskGroup", "RiskControlGroup"},
    "entries": {"Risk"},
    "controls": {"Action"},
}


def check_fields(origin: str, section: str, number: int, raw: Any) -> dict[str, Any]:
    """The fields of one record, checked against FIELDS and TYPES."""
    given = raw.get("id") if isinstance(raw, dict) else None
    record = given.strip() if isinstance(given, str) and given.strip() else f"{section}[{number}]"
    if not isinstance(raw, dict):
        raise NexusError(origin, record, None, f"{describe(raw)}, expected a mapping of fields")
    spec = {f.strip("?").split(":")[0]: f for f in FIELDS[section].split()}
    for key in raw:
        if key not in spec:
            raise NexusError(origin, record, str(key), "unknown field, expected " + ", ".join(spec))
    values = {}
    for key, form in spec.items():
        kind = form.partition(":")[2] or "text"
        value = _typed(raw.get(key), kind)
        expected = {"text": "text", "list": "a list of text", "date": "a date (YYYY-MM-DD)"}[kind]
        if value is _WRONG:
            raise NexusError(origin, record, key, f"{describe(raw[key])}, expected {expected}")
        if value in (None, ()) and not form.startswith("?"):
            raise NexusError(origin, record, key, f"missing or empty, expected {expected}")
        values[key] = value
    if section in TYPES and values["type"] not in TYPES[section]:
        allowed = ", ".join(sorted(TYPES[section]))
        raise NexusError(origin, record, "type", f"{values['type']!r}, expected one of {allowed}")
    return values


_WRONG = object()


def _typed(value: Any, kind: str) -> Any:
    if value is None:
        return () if kind == "list" else None
    if kind == "list":
        ok = isinstance(value, list) and all(
            isinstance(item, str) and item.strip() for item in value
        )
        return tuple(item.strip() for item in value) if ok else _WRONG
    if kind == "date":
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value) if isinstance(value, str) else _WRONG
        except ValueError:
            return _WRONG
    return (value.strip() or None) if isinstance(value, str) else _WRONG


def describe(value: Any) -> str:
    """What a YAML value is, in words."""
    kinds = [
        (bool, "true or false"),
        (str, "text"),
        (int | float, "a number"),
        (list, "a list"),
        (dict, "a mapping"),
        (date, "a date"),
    ]
    return next((name for kind, name in kinds if isinstance(value, kind)), "empty")
