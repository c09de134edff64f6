"""What the Nexus records are in the vocabularies kg aligns with, as Nexus's own schema says.

Every Nexus record has a `type` (Risk, RiskGroup, Action, ...), a class of the LinkML schema the
package ships (package.SCHEMA_FOLDER). A class's `class_uri`, and those of the classes it `is_a`
or mixes in, say what its instances are: a Risk is an airo:Risk, an Action is a RiskControl and
so an airo:RiskControl. kg keeps the terms of the vocabularies it aligns with, the
ones the schema misspells (DPV terms in the wrong namespace) corrected (CORRECTIONS). The rest
says nothing kg's own triples do not say better: `skos:Collection` for groups, which kg models as
SKOS concepts (the two are disjoint), `schema:Thing`, and Nexus's own `nexus:` classes.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kg.nexus.package import NexusFile
from kg.nexus.read import parse_yaml, utf8_text
from kg.nexus.records import NexusError, describe
from kg.vocab import ALIGNED_NAMESPACES, PREFIXES

_AIRO, _DPV, _RISK = PREFIXES["airo"], PREFIXES["dpv"], PREFIXES["risk"]
#: Classes the schema misspells, by what it says: DPV classes it puts in `dpv:` which DPV 2.3
#: defines in its risk extension (`risk:`), some under another name, and one AIRO class. (Its
#: slot dpv:refersToRisk, risk:refersToRisk, links incidents, which the files kg reads hold none
#: of; kg reads classes only.)
CORRECTIONS = {
    _DPV + "IncidentStatus": _RISK + "IncidentStatus",
    _DPV + "IncidentConcludedclass": _RISK + "IncidentConcluded",
    _DPV + "IncidentHaltedclass": _RISK + "IncidentHalted",
    _DPV + "IncidentMitigatedclass": _RISK + "IncidentMitigated",
    _DPV + "IncidentNearMissclass": _RISK + "IncidentNearMiss",
    _DPV + "IncidentOngoingclass": _RISK + "IncidentOngoing",
    _AIRO + "AiCapability": _AIRO + "AICapability",
}

#: The name of the graph of what the schema says of the records (`graph/nexus/<name>`): the
#: name of its root file, which imports the others.
SCHEMA_GRAPH = "ai-risk-ontology"

#: The classes of the records kg reads whose `type` the files leave out (documents, actions) or
#: fix (controls are all Actions, kg.nexus.records.TYPES).
DOCUMENTATION = "Documentation"
ACTION = "Action"
RISK = "Risk"  #: NIST AI 600-1's risks are `entries`, whose only type is Risk


@dataclass(frozen=True)
class NexusSchema:
    """The classes of the schema, each with the aligned terms its instances are instances of."""

    types: Mapping[str, tuple[str, ...]]

    def terms(self, nexus_class: str) -> tuple[str, ...]:
        """The aligned classes of an instance of `nexus_class` (none for a class not in it)."""
        return self.types.get(nexus_class, ())


def read_schema(files: Iterable[NexusFile]) -> NexusSchema:
    """The schema of the given files, which together hold its classes and prefixes (a class
    `is_a` one of another file, as ai_risk.yaml's of common.yaml's)."""
    prefixes: dict[str, str] = {}
    classes: dict[str, dict[str, Any]] = {}
    for file in files:
        schema = parse_yaml(file.origin, utf8_text(file.origin, file.data))
        if not isinstance(schema, dict):
            raise NexusError(file.origin, None, None, f"{describe(schema)}, expected a schema")
        for name, value in _section(file.origin, schema, "prefixes").items():
            expansion = value.get("prefix_reference") if isinstance(value, dict) else value
            if isinstance(expansion, str):
                prefixes[str(name)] = expansion
        for name, spec in _section(file.origin, schema, "classes").items():
            classes[str(name)] = spec if isinstance(spec, dict) else {}
    return NexusSchema({name: _aligned(name, classes, prefixes) for name in classes})


def _section(origin: str, schema: dict[str, Any], key: str) -> dict[Any, Any]:
    section = schema.get(key) or {}
    if not isinstance(section, dict):
        raise NexusError(origin, None, key, f"{describe(section)}, expected a mapping")
    return section


def _aligned(
    name: str, classes: Mapping[str, dict[str, Any]], prefixes: Mapping[str, str]
) -> tuple[str, ...]:
    """The aligned terms of `name`'s class_uri and its ancestors' (is_a and mixins), in order."""
    found: list[str] = []
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop(0)
        if current in seen or current not in classes:
            continue  # a cycle, or a class of a schema not shipped (linkml:Any)
        seen.add(current)
        spec = classes[current]
        if isinstance(uri := spec.get("class_uri"), str):
            iri = CORRECTIONS.get(expanded := _expand(uri, prefixes), expanded)
            if iri.startswith(ALIGNED_NAMESPACES) and iri not in found:
                found.append(iri)
        mixins = spec.get("mixins") or []
        parents = [spec.get("is_a"), *([mixins] if isinstance(mixins, str) else mixins)]
        todo += [str(parent) for parent in parents if parent]
    return tuple(found)


def _expand(curie: str, prefixes: Mapping[str, str]) -> str:
    prefix, colon, local = curie.partition(":")
    if colon and prefix in prefixes:
        return prefixes[prefix] + local
    return curie
