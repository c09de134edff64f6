"""The AI Atlas Nexus files read into `kg.nexus.records`, as hostile input.

Each file goes through `kg.inputs.read_input` (a regular file of bounded size), YAML through
PyYAML's safe loader only (`SAFE_LOADER`), the TSV through `csv`. What each kind of record may
hold is the table FIELDS: a missing required field, an unknown one, a value of the wrong type,
or a reference to a record no file defines is a NexusError naming the file, the record and the
field. The upstream faults kg repairs are warnings (NexusData.warnings), each naming the file,
record and field.
"""

import csv
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import yaml
from pyoxigraph import NamedNode

from kg.inputs import read_input
from kg.nexus.records import (
    Categorisation,
    Concept,
    Document,
    GenAiRisk,
    MappingSet,
    Mitigation,
    NexusData,
    NexusError,
    NexusWarning,
    ProfileRecord,
    RmfAction,
    RmfGroup,
    Taxonomy,
    check_fields,
    describe,
)
from kg.settings import DEFAULT_MAX_FILE_BYTES

#: The safe loader (plain data only, no Python objects), in Python: libyaml's C build is ten
#: times faster but overflows its stack on deeply nested input and ends the process, where
#: Python's raises RecursionError (a NexusError naming the file).
SAFE_LOADER = yaml.SafeLoader

MAPPINGS = "mit_ai_risk_mitigation_mappings.tsv"
CONTROLS = "mit_ai_risk_repository_data_controls.yaml"
ACTIONS = "nist_ai_rmf_actions_data.yaml"
NIST = "nist_ai_rmf_data.yaml"
#: The YAML files, with the sections (lists of records) each must hold, and no other.
SECTIONS = {
    "mit_ai_risk_mitigation_data.yaml": ("documents", "taxonomies", "groups"),
    "mit_ai_risk_repository_data.yaml": ("documents", "taxonomies", "groups", "entries"),
    "mit_ai_risk_repository_data_controls.yaml": ("controls",),
    "nist_ai_rmf_actions_data.yaml": ("actions",),
    "nist_ai_rmf_data.yaml": ("documents", "taxonomies", "entries"),
}
FILES = (*SECTIONS, MAPPINGS)

#: The schemes whose groups and entries are concepts, with the form of their ids (the code in it).
CODE = r"(\d+(?:\.\d+)?)"  # "1", "1.1"
CODES = {
    "mit-draft-ai-risk-mitigation": re.compile(r"mit-draft-ai-risk-mitigation-group-" + CODE),
    "mit-ai-risk-repository": re.compile(r"mit-ai-risk-(?:sub)?domain-" + CODE),
    "mit-ai-risk-repository-causal": re.compile(
        r"mit-ai-risk-repository-causal-([a-z]+)|mit-ai-causal-risk-([a-z]+-[a-z-]+)"
    ),
}
V1 = "mit-draft-ai-risk-mitigation"
#: The taxonomy whose entries are the generative-AI risks of NIST AI 600-1.
GENAI = "nist-ai-rmf"
ACTION_ID = re.compile(r"(GV|MP|MS|MG)-(\d+)\.(\d+)-(\d{3})")
FUNCTIONS = {"GV": "Govern", "MP": "Map", "MS": "Measure", "MG": "Manage"}
NUMBERED = re.compile(r"(\d+(?:\.\d+)*)\.? +(.+)")  # "1.1 Board Structure & Oversight"
TASK_LIST = re.compile(r" ?\(([^()]*)\)\.?$")  # "… values. (AI Deployment, TEVV)."
EMAIL = re.compile(r"[^@:\s]+@[^@\s]+\.[a-z]+", re.IGNORECASE)
PREDICATE = "nexus:isCategorizedAs"
COLUMNS = ("subject_id", "predicate_id", "object_id", "mapping_justification")

#: The fields each record is built from, in the order of its attributes.
DOCUMENT = ("id", "name", "description", "author", "url", "dateCreated", "dateModified")
TAXONOMY = ("id", "name", "description", "url", "version", "dateCreated", "hasDocumentation")
RISK = ("id", "name", "description", "hasRelatedAction")

Raw = dict[str, Any]  # the fields of a record, as check_fields returns them
Located = list[tuple[str, Raw]]  # (where the record was read, its fields)


def read_nexus(directory: Path, limit: int = DEFAULT_MAX_FILE_BYTES) -> NexusData:
    """The records of the Nexus files in `directory` (an InputError if one cannot be read)."""
    paths = {name: directory / name for name in FILES}
    files = {name: read_input(path, limit) for name, path in paths.items()}
    return parse_nexus(files, {name: str(path) for name, path in paths.items()})


def parse_nexus(files: Mapping[str, bytes], origins: Mapping[str, str] | None = None) -> NexusData:
    """The records of the Nexus files given by name (FILES); `origins` says where each was read."""
    where = {name: (origins or {}).get(name, name) for name in FILES}
    for name in FILES:
        if name not in files:
            raise NexusError(name, None, None, "missing, expected each of " + ", ".join(FILES))
    sections: dict[str, Located] = defaultdict(list)
    read_from: dict[str, str] = {}
    for name, wanted in SECTIONS.items():
        for section, records in _load(where[name], files[name], wanted).items():
            sections[section] += [(where[name], record) for record in records]
            if section in ("documents", "taxonomies"):
                read_from |= {record["id"]: name for record in records}
    warnings: list[NexusWarning] = []
    for origin, r in sections["documents"] + sections["taxonomies"]:
        r["url"] = _web_address(origin, r, warnings)
    documents = {r["id"]: Document(*(r[key] for key in DOCUMENT)) for _, r in sections["documents"]}
    taxonomies = {
        r["id"]: Taxonomy(*(r[key] for key in TAXONOMY)) for _, r in sections["taxonomies"]
    }
    for origin, r in _unique(sections["documents"]) + _unique(sections["taxonomies"]):
        _refer(origin, r["id"], "hasDocumentation", r.get("hasDocumentation", ()), documents)
    for origin, r in sections["groups"] + sections["entries"] + sections["actions"]:
        _refer(origin, r["id"], "isDefinedByTaxonomy", [r["isDefinedByTaxonomy"]], taxonomies)
    genai = [e for e in sections["entries"] if e[1]["isDefinedByTaxonomy"] == GENAI]
    others = [e for e in sections["entries"] if e[1]["isDefinedByTaxonomy"] != GENAI]
    concepts = _concepts(_unique(sections["groups"] + others), warnings)
    risks = {r["id"]: GenAiRisk(*(r[key] for key in RISK), GENAI) for _, r in _unique(genai)}
    actions, groups = _actions(_unique(sections["actions"]), documents, risks, warnings)
    for origin, r in genai:
        _refer(origin, r["id"], "hasRelatedAction", r["hasRelatedAction"], actions)
    controls = _unique(sections["controls"])
    names = {r["id"]: r["name"] for _, r in controls}
    mapping_set, rows = _mappings(where[MAPPINGS], files[MAPPINGS], names, concepts, warnings)
    mitigations = {}
    for origin, r in controls:
        row = rows.get(r["id"])
        category = row.code if row else None
        document = _one_document(origin, r, documents)
        mitigations[r["id"]] = Mitigation(r["id"], r["name"], r["description"], document, category)
        if not row:
            message = "no row for this record: it has no v1 category"
            warnings.append(NexusWarning(where[MAPPINGS], r["id"], "subject_id", message))
    _same_texts(where[CONTROLS], mitigations, warnings)
    profile = _profile(mitigations, actions, risks, where, warnings)
    categorisations = tuple(rows.values())
    return NexusData(
        documents, taxonomies, concepts, mitigations, categorisations, mapping_set, groups,
        actions, risks, profile, warnings, read_from,
    )  # fmt: skip


def _web_address(origin: str, r: Raw, warnings: list[NexusWarning]) -> str | None:
    """The record's `url` if it is an http(s) IRI; otherwise None, with a warning."""
    url = r.get("url")
    if url is None:
        return None
    try:
        ok = urlsplit(url).scheme in ("http", "https") and NamedNode(url) is not None
    except ValueError:
        ok = False
    if not ok:
        message = "not an http(s) address (IRI), left out"
        warnings.append(NexusWarning(origin, r["id"], "url", message))
    return url if ok else None


def _load(origin: str, data: bytes, sections: tuple[str, ...]) -> dict[str, list[Raw]]:
    tree = parse_yaml(origin, utf8_text(origin, data))
    if not isinstance(tree, dict):
        _fail(origin, None, None, f"{describe(tree)}, expected a mapping of sections")
    for key in (key for key in tree if key not in sections):
        _fail(origin, None, str(key), "unknown section, expected " + ", ".join(sections))
    found = {}
    for section in sections:
        if not isinstance(records := tree.get(section), list):
            _fail(origin, None, section, f"{describe(records)}, expected a list of records")
        found[section] = [check_fields(origin, section, n, raw) for n, raw in enumerate(records)]
    return found


def _unique(records: Iterable[tuple[str, Raw]]) -> Located:
    seen: set[str] = set()
    for origin, record in (located := list(records)):
        if record["id"] in seen:
            _fail(origin, record["id"], "id", "a second record with this id, expected one")
        seen.add(record["id"])
    return located


def _refer(origin: str, record: str, field: str, ids: Iterable[str], known: Mapping) -> None:
    for target in ids:
        if target not in known:
            raise NexusError(origin, record, field, f"{target!r}, which no file defines")


def _one_document(origin: str, r: Raw, documents: Mapping[str, Document]) -> str:
    if (count := len(r["hasDocumentation"])) != 1:
        raise NexusError(origin, r["id"], "hasDocumentation", f"{count} documents, expected one")
    _refer(origin, r["id"], "hasDocumentation", r["hasDocumentation"], documents)
    return r["hasDocumentation"][0]


def _concepts(records: Located, warnings: list[NexusWarning]) -> dict[str, Concept]:
    concepts: dict[str, Concept] = {}
    for origin, r in records:
        scheme, name = r["isDefinedByTaxonomy"], r["name"]
        fail = partial(_fail, origin, r["id"])
        if scheme not in CODES:
            fail("isDefinedByTaxonomy", f"{scheme!r}, expected one of {', '.join([*CODES, GENAI])}")
        if not (match := CODES[scheme].fullmatch(r["id"])):
            fail("id", f"expected an id of the form {CODES[scheme].pattern}")
        code = next(group for group in match.groups() if group)
        if numbered := NUMBERED.fullmatch(name):
            if numbered[1] != code:
                fail("name", f"starts with {numbered[1]}, expected its id's code {code}")
            name = numbered[2]
        if len(r.get("broader", ())) > 1:
            fail("broader", "several concepts, expected one")
        broader = (r.get("broader") or (r.get("isPartOf"),))[0]
        if any(c.scheme == scheme and c.code == code for c in concepts.values()):
            fail("id", f"code {code} a second time in {scheme}, expected each code once")
        concepts[r["id"]] = Concept(
            r["id"], scheme, code, name, r["description"], broader, r["type"]
        )
    for origin, r in records:
        field = "broader" if "broader" in r else "isPartOf"
        parent = concepts[r["id"]].broader
        _refer(origin, r["id"], field, [parent] if parent else [], concepts)
        if parent and concepts[parent].scheme != r["isDefinedByTaxonomy"]:
            _fail(origin, r["id"], field, f"{parent!r} is of another scheme, expected its own")
        if not (narrower := r.get("narrower")):
            continue  # a scheme may state its hierarchy by `broader` (or `isPartOf`) alone
        children = {c.id for c in concepts.values() if c.broader == r["id"]}
        for child in sorted(children.symmetric_difference(narrower)):
            said = "omits" if child in children else "lists"
            message = f"{said} {child}, whose broader concept says otherwise: read from broader"
            warnings.append(NexusWarning(origin, r["id"], "narrower", message))
    return concepts


def _actions(records: Located, documents, risks, warnings: list[NexusWarning]):
    """The actions, and the AI RMF functions, categories and subcategories their ids name."""
    spelling = _spellings(task for _, r in records for task in r["hasAiActorTask"])
    actions: dict[str, RmfAction] = {}
    groups: dict[str, RmfGroup] = {}
    for origin, r in records:
        if not (match := ACTION_ID.fullmatch(r["id"])):
            _fail(origin, r["id"], "id", "expected an action id such as GV-1.1-001")
        function, category = match[1], f"{match[1]}-{match[2]}"
        subcategory = f"{category}.{match[3]}"
        groups.setdefault(function, RmfGroup(function, "function", FUNCTIONS[function], None))
        groups.setdefault(category, RmfGroup(category, "category", None, function))
        groups.setdefault(subcategory, RmfGroup(subcategory, "subcategory", None, category))
        _refer(origin, r["id"], "hasRelatedRisk", r["hasRelatedRisk"], risks)
        tasks = _tasks(origin, r["id"], "hasAiActorTask", r["hasAiActorTask"], spelling, warnings)
        text, document = " ".join(r["description"].split()), _one_document(origin, r, documents)
        actions[r["id"]] = RmfAction(
            r["id"], text, subcategory, r["hasRelatedRisk"], tasks, document,
            r["isDefinedByTaxonomy"],
        )  # fmt: skip
    return actions, groups


def _task_key(task: str) -> str:
    return " ".join(task.casefold().replace("-", " ").split())


def _spellings(tasks: Iterable[str]) -> dict[str, str]:
    """Each spelling of an actor task with the one kept: the most used of those that differ only
    in case or hyphens (the first seen of equally used ones)."""
    counts = Counter(tasks)
    kept: dict[str, str] = {}
    for task, _ in counts.most_common():
        kept.setdefault(_task_key(task), task)
    return {task: kept[_task_key(task)] for task in counts}


def _tasks(origin, record, field, tasks, spelling, warnings: list[NexusWarning]) -> tuple[str, ...]:
    by_key = {_task_key(kept): kept for kept in spelling.values()}
    for task in tasks:
        if (kept := by_key[_task_key(task)]) != task:
            message = f"{task!r} read as {kept!r}: the spellings differ only in case or hyphens"
            warnings.append(NexusWarning(origin, record, field, message))
    return tuple(dict.fromkeys(by_key[_task_key(task)] for task in tasks))


def _profile(mitigations, actions, risks, where, warnings) -> dict[str, ProfileRecord]:
    """The mitigations from the document of the NIST actions, with what they quote."""
    documents = {action.document for action in actions.values()}
    spelling = {task: task for action in actions.values() for task in action.actor_tasks}
    by_name = {_risk_key(risk.name): risk.id for risk in risks.values()}
    known = {_task_key(task) for task in spelling}
    origin = where["mit_ai_risk_repository_data_controls.yaml"]
    profile = {}
    for m in (m for m in mitigations.values() if m.document in documents):
        text, tasks = " ".join((m.text or "").split()), ()
        listed = TASK_LIST.search(text)
        items = [item.strip() for item in listed[1].split(",")] if listed else []
        if items and all(_task_key(item) in known for item in items):
            tasks = _tasks(origin, m.id, "description", items, spelling, warnings)
            text = text[: listed.start()]
        named = tuple(
            dict.fromkeys(
                risk
                for part in m.name.split(";")
                for name, risk in by_name.items()
                if _risk_key(part).startswith(name)
            )
        )
        profile[m.id] = ProfileRecord(m.id, text, tasks, named)
    return profile


def _same_texts(origin: str, mitigations: Mapping[str, Mitigation], warnings: list) -> None:
    """Records of one document with the same text (whitespace aside) are kept, as upstream has
    them, with a warning: two ids say they are two records, though they quote one passage."""
    first: dict[tuple[str, str], str] = {}
    for record in mitigations.values():
        if not record.text:
            continue
        same = (record.document, " ".join(record.text.split()))
        if (other := first.setdefault(same, record.id)) != record.id:
            message = f"the same text as {other}, of the same document"
            warnings.append(NexusWarning(origin, record.id, "description", message))


def _risk_key(name: str) -> str:
    """Letters and digits, casefolded: a record's name names a risk when one of its `;`-parts
    starts with the risk's name ("Harmful Bias and Homogenization Assessment")."""
    return "".join(c for c in name.casefold() if c.isalnum())


def _mappings(origin, data, names, concepts, warnings) -> tuple[MappingSet, dict]:
    """The categorisation TSV: a `# `-commented YAML header (its curie_map), then one row a line."""
    lines = utf8_text(origin, data).splitlines()
    count = next((n for n, line in enumerate(lines) if not line.startswith("#")), len(lines))
    header = (line.removeprefix("#").removeprefix(" ") for line in lines[:count])
    meta = parse_yaml(origin, "\n".join(header))
    curie_map = meta.get("curie_map") if isinstance(meta, dict) else None
    if not isinstance(curie_map, dict) or any(
        not isinstance(key, str) or not isinstance(value, str) for key, value in curie_map.items()
    ):
        _fail(origin, "header", "curie_map", f"{describe(curie_map)}, expected prefixes and IRIs")
    repaired = {}
    for prefix, base in curie_map.items():
        if not base.endswith(("/", "#", "=", ":")):
            broken = f"{prefix}:x expands to {base}x"
            message = f"{base!r} ends without a separator ({broken}): read as {base}/"
            warnings.append(NexusWarning(origin, "header", f"curie_map.{prefix}", message))
            base += "/"
        repaired[prefix] = base
    keys = ("mapping_set_id", "mapping_set_description", "license", "mapping_date")
    mapping_set = MappingSet(
        repaired, *(None if meta.get(k) is None else str(meta[k]) for k in keys)
    )
    reader = csv.reader(lines[count:], delimiter="\t", strict=True)
    try:
        return mapping_set, _rows(origin, reader, count, names, concepts, warnings)
    except csv.Error as error:
        _fail(origin, None, None, f"not TSV: {error}", count + reader.line_num)


def _rows(origin, reader, count, names, concepts, warnings) -> dict[str, Categorisation]:
    columns = next(reader, [])
    for column in COLUMNS:
        if column not in columns:
            expected = "missing, expected the columns " + ", ".join(COLUMNS)
            _fail(origin, "header", column, expected, count + reader.line_num)
    rows: dict[str, Categorisation] = {}
    for row in reader:
        line = count + reader.line_num
        if not "".join(row).strip():
            continue
        if len(row) > len(columns):
            message = f"{len(row)} fields, expected {len(columns)} as in the header"
            _fail(origin, row[0], None, message, line)
        if missing := columns[len(row) :]:
            message = f"{len(row)} fields, the header has {len(columns)}: read as empty"
            warnings.append(NexusWarning(origin, row[0], ", ".join(missing), message))
        values = dict(zip(columns, row, strict=False))
        categorisation = _row(origin, line, values, names, concepts, warnings)
        if categorisation.mitigation in rows:
            message = "a second row for this record, expected one category"
            _fail(origin, row[0], "subject_id", message, line)
        rows[categorisation.mitigation] = categorisation
    return rows


def _row(origin, line, values, names, concepts, warnings) -> Categorisation:
    """One row of the categorisation TSV, its references checked."""
    record = values["subject_id"]
    fail = partial(_fail, origin, record, line=line)
    for column in COLUMNS:
        if not values.get(column, "").strip():
            fail(column, "missing or empty, expected a CURIE")
    prefix, _, mitigation = record.partition(":")
    if prefix != "nexus" or mitigation not in names:
        fail("subject_id", "expected nexus: and the id of a record of the controls file")
    prefix, _, concept = values["object_id"].partition(":")
    if prefix != V1 or concept not in concepts or concepts[concept].scheme != V1:
        fail("object_id", f"expected {V1}: and the id of a v1 concept")
    if values["predicate_id"] != PREDICATE:
        fail("predicate_id", f"expected {PREDICATE}")
    if (label := values.get("subject_label")) and label != names[mitigation]:
        message = "differs from the record's name in the controls file: the name is kept"
        warnings.append(NexusWarning(origin, record, "subject_label", message))
    if (author := values.get("author_id") or None) and EMAIL.fullmatch(author):
        message = f"an e-mail address, expected an IRI or CURIE: read as mailto:{author}"
        warnings.append(NexusWarning(origin, record, "author_id", message))
        author = f"mailto:{author}"
    try:
        day = date.fromisoformat(values["mapping_date"]) if values.get("mapping_date") else None
    except ValueError:
        fail("mapping_date", "expected a date (YYYY-MM-DD)")
    return Categorisation(
        mitigation, concept, concepts[concept].code, values.get("object_label", ""),
        values["predicate_id"], values["mapping_justification"], author, day, line,
    )  # fmt: skip


def _fail(origin: str, record: str | None, field: str | None, message: str, line=None) -> NoReturn:
    raise NexusError(origin, record, field, message, line)


def utf8_text(origin: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        message = f"byte {error.start} is not UTF-8, expected UTF-8 text"
        raise NexusError(origin, None, None, message) from None


def parse_yaml(origin: str, text: str) -> Any:
    try:
        return yaml.load(text, Loader=SAFE_LOADER)
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else None
        raise NexusError(origin, None, None, f"not YAML: {error.problem}", line) from None
    except yaml.YAMLError as error:
        raise NexusError(origin, None, None, f"not YAML: {error}") from None
    except RecursionError:
        message = "nested too deeply, expected lists of records"
        raise NexusError(origin, None, None, message) from None
