"""Namespaces and the IRIs kg mints: the one place that knows how an IRI is spelled."""

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote

from pyoxigraph import NamedNode
from slugify import slugify

from kg.settings import DEFAULT_BASE_IRI

KG_NS = "https://w3id.org/airm-kg/ontology#"
ONTOLOGY_IRI = "https://w3id.org/airm-kg/ontology"
SHAPES_NS = "https://w3id.org/airm-kg/shapes#"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS_NS = "http://www.w3.org/2000/01/rdf-schema#"
XSD_NS = "http://www.w3.org/2001/XMLSchema#"
SKOS_NS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS_NS = "http://purl.org/dc/terms/"
DC_NS = "http://purl.org/dc/elements/1.1/"
BIBO_NS = "http://purl.org/ontology/bibo/"
FOAF_NS = "http://xmlns.com/foaf/0.1/"
PROV_NS = "http://www.w3.org/ns/prov#"
OWL_NS = "http://www.w3.org/2002/07/owl#"
SH_NS = "http://www.w3.org/ns/shacl#"

PREFIXES = {
    "kg": KG_NS,
    "rdf": RDF_NS,
    "rdfs": RDFS_NS,
    "xsd": XSD_NS,
    "skos": SKOS_NS,
    "dcterms": DCTERMS_NS,
    "dc": DC_NS,
    "bibo": BIBO_NS,
    "foaf": FOAF_NS,
    "prov": PROV_NS,
    "owl": OWL_NS,
    "kgsh": SHAPES_NS,
    # The vocabularies kg is aligned to (ontology/mappings/), so that queries can use their terms.
    "airo": "https://w3id.org/airo#",
    "dpv": "https://w3id.org/dpv#",
    "tech": "https://w3id.org/dpv/tech#",
    "ai": "https://w3id.org/dpv/ai#",
    "risk": "https://w3id.org/dpv/risk#",
    "vair": "https://w3id.org/vair#",
    "nist": "https://w3id.org/lmodel/nist-ai-100-1/",
}
#: The namespaces of the vocabularies kg is aligned to.
ALIGNED_NAMESPACES = tuple(
    PREFIXES[name] for name in ("airo", "dpv", "tech", "ai", "risk", "vair", "nist")
)


def prefixed_name(iri: str, prefixes: dict[str, str] = PREFIXES) -> str | None:
    """`prefix:local` for an IRI in one of the namespaces whose local part reads as a name."""
    for prefix, namespace in prefixes.items():
        local = iri.removeprefix(namespace)
        if local != iri and local.replace("-", "").replace("_", "").isalnum():
            return f"{prefix}:{local}"
    return None


#: Where an entry with a navigator ID is published (the IDs come from these pages' URLs).
NAVIGATOR_PAGE = "https://www.airi-navigator.com/mitigations-v2/"

_SLUG_MAX = 80


class Terms:
    """Ontology terms as pyoxigraph nodes, built once (node construction is a hot path)."""

    def __init__(self, namespace: str, names: str) -> None:
        for name in names.split():
            setattr(self, name.replace("-", "_"), NamedNode(namespace + name))


KG = Terms(
    KG_NS,
    "Mitigation SourceDocument Author Heading HeadingScheme category lifecycleStage actor "
    "rmfFunction sourceDocument sourceHeading parentMitigation parentLabel quotation rationale "
    "navigatorId headingPath inDocument sourceFile contentHash loaderVersion "
    "MitigationCategoryV1 RiskCategory RmfCategory RmfSubcategory RmfAction ActorTask RmfFunction "
    "CategoryMapping ImportedGraph "
    "categoryV1 addressesRisk relatedRisk actorTask supportCount sourceCount",
)
RDF = Terms(RDF_NS, "type Seq")
RDFS = Terms(RDFS_NS, "label seeAlso comment")
SKOS = Terms(
    SKOS_NS,
    "Concept ConceptScheme prefLabel notation broader inScheme definition topConceptOf "
    "hasTopConcept closeMatch relatedMatch",
)
DCTERMS = Terms(
    DCTERMS_NS,
    "title creator issued abstract identifier description license hasVersion source references "
    "hasPart type",
)
DC = Terms(DC_NS, "creator")
OWL = Terms(
    OWL_NS, "sameAs Axiom Ontology annotatedSource annotatedProperty annotatedTarget versionInfo"
)
BIBO = Terms(BIBO_NS, "authorList")
FOAF = Terms(FOAF_NS, "name familyName givenName")
PROV = Terms(PROV_NS, "Entity generatedAtTime wasDerivedFrom wasQuotedFrom")
XSD = Terms(XSD_NS, "gYear dateTime string boolean integer")
SH = Terms(
    SH_NS,
    "ValidationReport ValidationResult conforms result focusNode resultPath value resultMessage "
    "resultSeverity sourceConstraintComponent sourceShape",
)

_RDF_MEMBER = [NamedNode(f"{RDF_NS}_{i}") for i in range(1, 65)]


def rdf_member(position: int) -> NamedNode:
    """rdf:_1, rdf:_2, … for ordered containers."""
    if position <= len(_RDF_MEMBER):
        return _RDF_MEMBER[position - 1]
    return NamedNode(f"{RDF_NS}_{position}")


@lru_cache(maxsize=1 << 16)  # the same headings and names recur on every page of a document
def slug(text: str) -> str:
    """A readable, stable IRI segment; falls back to a digest for text with no letters or digits."""
    readable = slugify(text, max_length=_SLUG_MAX, word_boundary=True, save_order=True)
    if readable:
        return readable
    return "h" + hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Iris:
    """Mints data IRIs under one base (setting `KG_BASE_IRI`)."""

    base: str = DEFAULT_BASE_IRI

    def _node(self, path: str) -> NamedNode:
        return NamedNode(self.base + path)

    def mitigation(self, entry_id: str) -> NamedNode:
        return self._node(f"mitigation/{quote(entry_id)}")

    def listed_mitigation(self, document_key: str, path: list[str]) -> NamedNode:
        """A mitigation known by its heading path in a document (from another entry's list)."""
        return self._node(f"mitigation/{document_key}/" + "/".join(slug(s) for s in path))

    def child_mitigation(self, parent: NamedNode, name: str) -> NamedNode:
        return NamedNode(f"{parent.value}/{slug(name)}")

    def document(self, document_key: str) -> NamedNode:
        return self._node(f"document/{document_key}")

    def author_list(self, document_key: str) -> NamedNode:
        return self._node(f"document/{document_key}/authors")

    def author(self, name: str) -> NamedNode:
        return self._node(f"author/{slug(name)}")

    def heading_scheme(self, document_key: str) -> NamedNode:
        return self._node(f"heading/{document_key}")

    def heading(self, document_key: str, path: list[str]) -> NamedNode:
        return self._node(f"heading/{document_key}/" + "/".join(slug(s) for s in path))

    def scheme(self, name: str) -> NamedNode:
        """A taxonomy's concept scheme: `mitigation`, `stage`, `actor`, `rmf-function`."""
        return self._node(f"taxonomy/{name}")

    def category(self, code: str) -> NamedNode:
        return self._node(f"taxonomy/mitigation/{code}")

    def concept(self, scheme: str, name: str) -> NamedNode:
        return self._node(f"taxonomy/{scheme}/{slug(name)}")

    def coded_concept(self, scheme: str, code: str) -> NamedNode:
        """A concept known by its code in its scheme: `taxonomy/mitigation-v1/1.1`."""
        return self._node(f"taxonomy/{scheme}/{quote(code, safe='')}")

    def nexus_mitigation(self, record_id: str) -> NamedNode:
        """A record of the AI Atlas Nexus data: its Nexus id, never taken for a navigator ID."""
        return self._node(f"mitigation/nexus/{quote(record_id)}")

    def nexus_document(self, document_id: str) -> NamedNode:
        return self._node(f"document/nexus/{slug(document_id)}")

    def crosswalk_mapping(self, name: str, source: str, target: str) -> NamedNode:
        """The evidence of one mapping of a crosswalk: `mapping/<crosswalk>/<source>/<target>`."""
        return self._node(f"mapping/{name}/{source}/{target}")

    def nexus_graph(self, file_name: str) -> NamedNode:
        return self._node(f"graph/nexus/{quote(file_name)}")

    def file_graph(self, file_name: str) -> NamedNode:
        return self._node(f"graph/file/{quote(file_name)}")

    def derived_graph(self, name: str) -> NamedNode:
        return self._node(f"graph/derived/{name}")

    def inference_graph(self) -> NamedNode:
        """What `kg reason` materializes (kg.reasoning): left out of validation and checks."""
        return self.derived_graph("inference")

    def is_own(self, iri: str) -> bool:
        """Whether the IRI is under the base: kg's own, never an imported ontology's graph."""
        return iri.startswith(self.base.rstrip("/"))

    def vocabulary_graph(self, name: str) -> NamedNode:
        return self._node(f"graph/vocabulary/{name}")

    def rebase(self, iri: str) -> str:
        """Moves an IRI written under the default base (in ontology files) to this base."""
        movable = iri.startswith(DEFAULT_BASE_IRI) and not iri.startswith(
            (KG_NS, ONTOLOGY_IRI, SHAPES_NS)
        )
        return (
            self.base + iri[len(DEFAULT_BASE_IRI) :]
            if self.base != DEFAULT_BASE_IRI and movable
            else iri
        )


def document_key(title: str) -> str:
    """Documents are keyed by their title: every page of a document prints the same one."""
    return slug(re.sub(r"\s+", " ", title).strip())
