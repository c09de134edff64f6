"""kg's alignments to AIRO, DPV, VAIR and the NIST AI RMF: the SSSOM mapping sets in
`ontology/mappings/` are the source; the Turtle the loader reads is made from them.

A mapping set is SSSOM/TSV (https://mapping-commons.github.io/sssom/spec-formats-tsv/): a YAML
block of metadata, each line prefixed with `#`, then one mapping per row. Two kinds of row:

- axioms, `rdfs:subClassOf` and `rdfs:subPropertyOf`, only where every instance of the kg term
  qualifies: written to `ontology/alignment.ttl`, which reasoning may use;
- SKOS mappings (`skos:exactMatch`, `closeMatch`, `broadMatch`, `narrowMatch`, `relatedMatch`)
  otherwise: written to `ontology/alignment-mappings.ttl`, a graph of its own, since SKOS makes
  both ends of a mapping relation skos:Concepts, which OWL classes and properties must not become.

No other predicate is accepted (no owl:equivalentClass, no owl:sameAs). `python -m kg.alignment`
writes both Turtle files; a test keeps them identical to the mapping sets.
"""

import csv
import io
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, Triple, serialize

from kg.errors import InputError
from kg.settings import Settings
from kg.sssom import BUILT_IN
from kg.vocab import DCTERMS, OWL, PREFIXES, RDF, RDFS

RDFS_NS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS_NS = "http://www.w3.org/2004/02/skos/core#"
AXIOMS = {RDFS_NS + "subClassOf", RDFS_NS + "subPropertyOf"}
SKOS_MAPPINGS = {
    SKOS_NS + name
    for name in ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")
}
REQUIRED_METADATA = ("curie_map", "mapping_set_id", "license", "object_source")
REQUIRED_COLUMNS = ("subject_id", "predicate_id", "object_id", "mapping_justification")
#: Where the alignment module is published, and the two files made from the mapping sets.
ALIGNMENT_IRI = "https://w3id.org/airm-kg/ontology/alignment"
AXIOMS_FILE, MAPPINGS_FILE = "alignment.ttl", "alignment-mappings.ttl"


@dataclass(frozen=True)
class Mapping:
    """One row of a mapping set, its CURIEs expanded."""

    subject: str
    predicate: str
    object: str
    justification: str
    comment: str | None
    line: int

    @property
    def is_axiom(self) -> bool:
        return self.predicate in AXIOMS


@dataclass(frozen=True)
class MappingSet:
    path: Path
    metadata: dict
    mappings: tuple[Mapping, ...]
    object_source: str  #: the IRI of the vocabulary mapped to (a CURIE in the file)

    @property
    def name(self) -> str:
        return self.path.name.removesuffix(".sssom.tsv")


def read_mapping_set(path: Path) -> MappingSet:
    """A mapping set, checked: its metadata, every CURIE declared, only the predicates allowed.
    Faults are an InputError naming the file, the line and what was expected."""
    origin = str(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    count = next((n for n, line in enumerate(lines) if not line.startswith("#")), len(lines))
    try:
        metadata = yaml.safe_load("\n".join(line[1:] for line in lines[:count])) or {}
    except yaml.YAMLError as error:
        raise InputError(origin, f"metadata block: invalid YAML ({error})") from None
    if not isinstance(metadata, dict):
        raise InputError(origin, "metadata block: expected a YAML mapping", 1)
    for key in REQUIRED_METADATA:
        if key not in metadata:
            raise InputError(origin, f"metadata: no {key!r}, expected one", 1)
    prefixes = BUILT_IN | metadata["curie_map"]

    def expand(curie: str, what: str, line: int) -> str:
        prefix, _, local = str(curie).partition(":")
        if prefix not in prefixes or not local:
            raise InputError(origin, f"{what} {curie!r}: expected a CURIE of the curie_map", line)
        return prefixes[prefix] + local

    reader = csv.DictReader(io.StringIO("\n".join(lines[count:])), delimiter="\t")
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(origin, f"columns {', '.join(missing)} missing", count + 1)
    mappings = []
    for number, row in enumerate(reader, count + 2):

        def iri(column: str, row=row, number=number) -> str:
            return expand(row[column] or "", column, number)

        mapping = Mapping(
            iri("subject_id"),
            iri("predicate_id"),
            iri("object_id"),
            iri("mapping_justification"),
            row.get("comment") or None,
            number,
        )
        if mapping.predicate not in AXIOMS | SKOS_MAPPINGS:
            allowed = "rdfs:subClassOf, rdfs:subPropertyOf or a SKOS mapping relation"
            raise InputError(origin, f"predicate_id {row['predicate_id']!r}: expected {allowed}")
        mappings.append(mapping)
    source = expand(metadata["object_source"], "object_source", 1)
    return MappingSet(path, metadata, tuple(mappings), source)


def mapping_sets(ontology_dir: Path) -> list[MappingSet]:
    return [read_mapping_set(path) for path in sorted((ontology_dir / "mappings").glob("*.tsv"))]


def alignment_triples(sets: list[MappingSet]) -> tuple[list[Triple], list[Triple]]:
    """The axioms (with the module's own description) and the SKOS mappings, as triples."""
    module = NamedNode(ALIGNMENT_IRI)
    axioms = [
        Triple(module, RDF.type, OWL.Ontology),
        Triple(module, DCTERMS.title, Literal("kg alignments (axioms)", language="en")),
        Triple(module, RDFS.comment, Literal(_AXIOMS_COMMENT, language="en")),
    ]
    axioms += [Triple(module, DCTERMS.references, NamedNode(s.object_source)) for s in sets]
    mappings = []
    for mapping_set in sets:
        for m in mapping_set.mappings:
            triple = Triple(NamedNode(m.subject), NamedNode(m.predicate), NamedNode(m.object))
            (axioms if m.is_axiom else mappings).append(triple)
    return list(dict.fromkeys(axioms)), list(dict.fromkeys(mappings))


_AXIOMS_COMMENT = (
    "rdfs:subClassOf and rdfs:subPropertyOf axioms from kg's terms to AIRO, DPV, VAIR and the NIST "
    "AI RMF, made from the SSSOM mapping sets in ontology/mappings/ (their comments justify each); "
    "the SKOS mappings are in alignment-mappings.ttl, a graph of their own."
)


def turtle(triples: list[Triple]) -> bytes:
    """Triples as Turtle with kg's prefixes, sorted so that the file is stable."""
    ordered = sorted(triples, key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
    quads = [Quad(t.subject, t.predicate, t.object) for t in ordered]
    return serialize(quads, format=RdfFormat.TURTLE, prefixes=PREFIXES)


def write_alignment(ontology_dir: Path) -> list[Path]:
    """Writes the two Turtle files from the mapping sets; returns their paths."""
    axioms, mappings = alignment_triples(mapping_sets(ontology_dir))
    header = "# Made by `python -m kg.alignment` from ontology/mappings/*.sssom.tsv: edit those.\n"
    written = []
    for name, triples in ((AXIOMS_FILE, axioms), (MAPPINGS_FILE, mappings)):
        path = ontology_dir / name
        path.write_bytes(header.encode() + turtle(triples))
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_alignment(Settings().ontology_dir):
        print(f"wrote {path}", file=sys.stderr)
