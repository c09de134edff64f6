"""The v1 ↔ current mitigation-category crosswalk as an SSSOM/TSV mapping set
(https://mapping-commons.github.io/sssom/spec-formats-tsv/).

The crosswalk has one definition, the named query `queries/category-crosswalk.rq`; this module
turns its rows into a mapping set: a YAML metadata block (PyYAML's safe dumper), each line
prefixed with `#`, then one TSV row per mapping, written in the canonical form (LF line ends, the
slots in the order of the SSSOM model, the rows sorted, empty columns left out, built-in prefixes
not declared, a scalar that cannot be plain in double quotes).

Choices a reader of the set should know:

- `mapping_justification` is `semapv:InstanceBasedMatching` ("a match between a subject A and an
  object B was established because they share the same instances"): a mapping exists because
  navigator entries classified in the current category are the same mitigations (`owl:sameAs`)
  as Nexus records classified in the v1 one. The instances are identified by matching quoted text
  (`kg.nexus.links`), but the mapping itself is drawn from the shared instances alone.
- SSSOM has no slot for counts. `similarity_score` is support / source (the share of the v1
  category's linked entries that are in the current category), rounded to three decimals as the
  canonical form requires, with `similarity_measure` saying so once for the set; the exact counts,
  which a rounded share loses, are in each mapping's `comment` (`kg:supportCount`,
  `kg:sourceCount` of the mapping's owl:Axiom, whose IRI is the `record_id`).
"""

from collections.abc import Callable, Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import yaml

from kg.errors import KgError
from kg.named_queries import read_query
from kg.nexus.derived import CLOSE_SUPPORT, CROSSWALK
from kg.store import GraphStore

#: The named query whose rows are the crosswalk.
CROSSWALK_QUERY = "category-crosswalk"
SSSOM_VERSION = "1.1"
JUSTIFICATION = "semapv:InstanceBasedMatching"
#: kg's licence (ontology/kg.ttl), and that of the AI Atlas Nexus data the v1 side comes from.
LICENSE = "https://www.apache.org/licenses/LICENSE-2.0"
SIMILARITY_MEASURE = (
    "share of the subject category's linked entries (navigator entries that are a Nexus record, "
    "each with one category in each taxonomy) that are classified in the object category: "
    "kg:supportCount / kg:sourceCount"
)
#: Prefixes SSSOM declares itself (spec-intro, "IRI prefixes"): never written in the curie_map.
BUILT_IN = {
    "linkml": "https://w3id.org/linkml/",
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "semapv": "https://w3id.org/semapv/vocab/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "sssom": "https://w3id.org/sssom/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
#: kg's prefixes, as paths under the base IRI (the layout `kg.vocab.Iris` mints).
KG_PREFIXES = {
    "kgmap": f"mapping/{CROSSWALK}/",
    "kgmit": "taxonomy/mitigation/",
    "kgmitv1": "taxonomy/mitigation-v1/",
    "kgtax": "taxonomy/",
}
#: The slots written for each mapping, in the order of the SSSOM `Mapping` class.
COLUMNS = (
    "record_id",
    "subject_id",
    "subject_label",
    "predicate_id",
    "object_id",
    "object_label",
    "mapping_justification",
    "similarity_score",
    "comment",
)

Row = Mapping[str, str | None]
Curie = Callable[[str], str]


class CurieError(KgError):
    """An IRI of the crosswalk that no prefix of the mapping set covers."""


def crosswalk_rows(store: GraphStore, queries_dir: Path) -> list[dict[str, str | None]]:
    """The rows of the crosswalk query on the store: lexical values by column, None if unbound."""
    query = read_query(queries_dir / f"{CROSSWALK_QUERY}.rq")
    solutions = store.query(query.bind({}, ()))
    names = [variable.value for variable in solutions.variables]
    return [{n: (row[n].value if row[n] is not None else None) for n in names} for row in solutions]


def sssom_tsv(rows: Iterable[Row], base_iri: str) -> str:
    """The crosswalk rows (columns of `category-crosswalk`) as an SSSOM/TSV file; `base_iri` is
    the store's (`KG_BASE_IRI`), under which kg's prefixes are declared."""
    prefixes = {name: base_iri + path for name, path in KG_PREFIXES.items()}
    used: set[str] = set()

    def curie(iri: str) -> str:
        return _curie(iri, prefixes, used)

    mappings = sorted(
        (_mapping(row, curie) for row in rows),
        key=lambda mapping: tuple(mapping.get(column) or "" for column in COLUMNS),
    )
    columns = [c for c in COLUMNS if any(m.get(c) for m in mappings)] or list(COLUMNS[:7])
    metadata = _metadata(base_iri, curie)
    metadata["curie_map"] = {name: prefixes[name] for name in sorted(used)}
    return _metadata_block(metadata) + _mappings_block(mappings, columns)


def _mapping(row: Row, curie: Curie) -> dict[str, str | None]:
    support, sources = int(row["support"]), int(row["sources"])
    return {
        "record_id": curie(row["mapping"]),
        "subject_id": curie(row["v1"]),
        "subject_label": row["v1Label"],
        "predicate_id": curie(row["predicate"]),
        "object_id": curie(row["v2"]),
        "object_label": row["v2Label"],
        "mapping_justification": JUSTIFICATION,
        "similarity_score": _score(support, sources),
        "comment": (
            f"{support}/{sources} linked entries of v1 {row['v1Code']} are in {row['v2Code']} "
            f"(kg:supportCount {support}, kg:sourceCount {sources})"
        ),
    }


def _metadata(base_iri: str, curie: Curie) -> dict:
    """The mapping set's slots, in the order of the SSSOM `MappingSet` class (curie_map is filled
    in once the mappings have used their prefixes)."""
    try:
        tool_version = version("kg")
    except PackageNotFoundError:  # run from a checkout that is not installed
        tool_version = None
    metadata = {
        "sssom_version": SSSOM_VERSION,
        "curie_map": {},
        "mapping_set_id": f"{base_iri}graph/derived/crosswalk/{CROSSWALK}",
        "mapping_set_title": "Crosswalk from the v1 AI risk mitigation taxonomy to the current one",
        "mapping_set_description": (
            "Derived by kg from the navigator entries that are AI Atlas Nexus records "
            "(owl:sameAs, found by their quoted text): an entry with one category in each "
            "taxonomy supports the mapping from its record's v1 category to its own current "
            f"category. skos:closeMatch when the two categories have only each other, on at "
            f"least {CLOSE_SUPPORT} entries; skos:relatedMatch otherwise."
        ),
        "license": LICENSE,
        "subject_type": "skos concept",
        "subject_source": curie(f"{base_iri}taxonomy/mitigation-v1"),
        "object_type": "skos concept",
        "object_source": curie(f"{base_iri}taxonomy/mitigation"),
        "mapping_tool": "kg",
        "mapping_tool_version": tool_version,
        "similarity_measure": SIMILARITY_MEASURE,
    }
    return {slot: value for slot, value in metadata.items() if value is not None}


def _curie(iri: str, prefixes: dict[str, str], used: set[str]) -> str:
    """`prefix:local` by the longest namespace holding `iri` (kg's, then the built-in ones);
    CurieError when none does, rather than a guessed prefix."""
    candidates = [
        (namespace, name)
        for name, namespace in (prefixes | BUILT_IN).items()
        if iri.startswith(namespace) and len(iri) > len(namespace)
    ]
    if not candidates:
        raise CurieError(
            f"{iri}: no prefix of the mapping set covers this IRI "
            "(was the store loaded under another KG_BASE_IRI?)"
        )
    namespace, name = max(candidates, key=lambda candidate: len(candidate[0]))
    if name in prefixes:
        used.add(name)
    return f"{name}:{iri[len(namespace) :]}"


def _score(support: int, sources: int) -> str:
    """support / sources with at most three decimals, half rounded up (`1.0`, `0.5`, `0.333`)."""
    share = (Decimal(support) / Decimal(sources)).quantize(Decimal("0.001"), ROUND_HALF_UP)
    text = f"{share:f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


class _Dumper(yaml.SafeDumper):
    """PyYAML's safe dumper writing a scalar that cannot be plain in double quotes, not single
    ones, as canonical SSSOM/TSV asks (`"1.1"`, a text holding `: `)."""

    def choose_scalar_style(self) -> str:
        style = super().choose_scalar_style()
        return '"' if style == "'" else style


def _metadata_block(metadata: dict) -> str:
    text = yaml.dump(metadata, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1_000_000)
    return "".join(f"#{line}\n" for line in text.splitlines())


def _mappings_block(mappings: list[dict[str, str | None]], columns: list[str]) -> str:
    lines = [columns, *([mapping.get(column) or "" for column in columns] for mapping in mappings)]
    return "".join("\t".join(map(_cell, line)) + "\n" for line in lines)


def _cell(value: str) -> str:
    """A TSV value, in double quotes (doubled inside) when it holds a tab, a line break or a
    double quote (SSSOM/TSV "Quoting"; the csv module would leave a lone CR unquoted)."""
    if any(character in value for character in '\t\n\r"'):
        return '"' + value.replace('"', '""') + '"'
    return value
