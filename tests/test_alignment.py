"""kg's alignments (ontology/mappings/*.sssom.tsv → ontology/alignment*.ttl) checked against the
real external ontologies in ../shared/ontologies: every IRI exists, every axiom is between terms
of the right kind and entails nothing a kg term is not (the AIRO domain trap), the Turtle says
what the mapping sets say, and RDFS reasoning over data, ontology, alignment and the external
ontologies types kg's resources with nothing absurd."""

from pathlib import Path

import owlrl
import pytest
import rdflib
from pyoxigraph import RdfFormat, Store, parse

from kg.alignment import (
    AXIOMS,
    AXIOMS_FILE,
    MAPPINGS_FILE,
    SKOS_MAPPINGS,
    Mapping,
    MappingSet,
    alignment_triples,
    mapping_sets,
    read_mapping_set,
)
from kg.errors import InputError
from kg.rdflib_terms import to_rdflib
from kg.settings import Settings

ONTOLOGY = Settings().ontology_dir
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
CLASSES = {OWL + "Class", RDFS + "Class"}
PROPERTIES = {
    OWL + "ObjectProperty",
    OWL + "DatatypeProperty",
    OWL + "AnnotationProperty",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#Property",
}
KG = "https://w3id.org/airm-kg/"


@pytest.fixture(scope="module")
def sets() -> list[MappingSet]:
    return mapping_sets(ONTOLOGY)


@pytest.fixture(scope="module")
def external(shared: Path) -> Store:
    """The external ontologies as shipped (their own graphs merged)."""
    store = Store()
    for path in sorted((shared / "ontologies").rglob("*.ttl")):
        store.load(path=str(path), format=RdfFormat.TURTLE)
    return store


@pytest.fixture(scope="module")
def vocabulary() -> Store:
    """kg's ontology, taxonomies and alignment axioms."""
    store = Store()
    for path in [ONTOLOGY / "kg.ttl", ONTOLOGY / AXIOMS_FILE, *ONTOLOGY.glob("taxonomies/*.ttl")]:
        store.load(path=str(path), format=RdfFormat.TURTLE)
    return store


def types(store: Store, iri: str) -> set[str]:
    return {q.object.value for q in store.quads_for_pattern(_node(iri), _node(RDF_TYPE), None)}


def _node(iri: str):
    from pyoxigraph import NamedNode

    return NamedNode(iri)


def described(store: Store, iri: str) -> bool:
    return any(True for _ in store.quads_for_pattern(_node(iri), None, None))


# --- the mapping sets and the Turtle made from them ------------------------------------------


def test_the_turtle_files_say_what_the_mapping_sets_say(sets):
    axioms, mappings = alignment_triples(sets)
    for name, expected in ((AXIOMS_FILE, axioms), (MAPPINGS_FILE, mappings)):
        parsed = parse(path=str(ONTOLOGY / name), format=RdfFormat.TURTLE)
        found = {(q.subject, q.predicate, q.object) for q in parsed}
        stated = {(t.subject, t.predicate, t.object) for t in expected}
        assert found == stated, f"{name} is stale: run `python -m kg.alignment`"


def test_axioms_and_skos_mappings_are_kept_apart(sets):
    axioms, mappings = alignment_triples(sets)
    assert {t.predicate.value for t in mappings} <= SKOS_MAPPINGS
    assert {t.predicate.value for t in axioms} - AXIOMS <= {
        RDF_TYPE,
        "http://purl.org/dc/terms/title",
        "http://purl.org/dc/terms/references",
        RDFS + "comment",
    }


def test_the_readme_counts_what_each_vocabulary_covers(sets):
    """ontology/README.md's table: kg terms each mapping set covers (ontology terms, taxonomy
    concepts), its axioms and its SKOS mappings, as the files have them."""
    readme = (ONTOLOGY / "README.md").read_text(encoding="utf-8")
    assert {s.name for s in sets} == {"airo", "dpv", "nist-ai-rmf", "vair"}
    for mapping_set in sets:
        subjects = {m.subject for m in mapping_set.mappings}
        terms = {s for s in subjects if s.startswith(KG + "ontology#")}
        axioms = sum(m.is_axiom for m in mapping_set.mappings)
        counts = [len(subjects), len(terms), len(subjects - terms), axioms]
        counts.append(len(mapping_set.mappings) - axioms)
        row = f"| `{mapping_set.path.name}` | " + " | ".join(map(str, counts)) + " |"
        assert row in readme, row


def test_every_mapping_set_is_complete_sssom(sets):
    for mapping_set in sets:
        metadata = mapping_set.metadata
        assert metadata["mapping_set_id"].endswith(f"/{mapping_set.path.name}")
        assert metadata["license"].startswith("https://")
        assert not set(metadata["curie_map"]) & {"rdfs", "skos", "semapv", "owl"}  # built in
        # Entity references are CURIEs (a MUST of SSSOM/TSV that sssom-py does not check).
        for slot in ("subject_source", "object_source"):
            assert not metadata[slot].startswith("http"), (mapping_set.name, slot)
        # The canonical form: rows sorted, every declared prefix used.
        lines = mapping_set.path.read_text(encoding="utf-8").splitlines()
        body = [line for line in lines if not line.startswith("#")][1:]
        assert body == sorted(body), mapping_set.name
        used = {cell.split(":")[0] for line in body for cell in line.split("\t")[:3]}
        used |= {metadata[slot].split(":")[0] for slot in ("subject_source", "object_source")}
        assert set(metadata["curie_map"]) <= used, mapping_set.name
        rows = [(m.subject, m.predicate, m.object) for m in mapping_set.mappings]
        assert len(rows) == len(set(rows)), mapping_set.name  # no mapping twice
        for mapping in mapping_set.mappings:
            assert mapping.justification == "https://w3id.org/semapv/vocab/ManualMappingCuration"
            assert mapping.comment, (mapping_set.name, mapping.line)  # each is justified


def test_a_faulty_row_is_named_with_its_file_and_line(tmp_path):
    good = (ONTOLOGY / "mappings" / "airo.sssom.tsv").read_text(encoding="utf-8")
    cases = {
        "owl:equivalentClass": "predicate_id 'owl:equivalentClass'",
        "airx:RiskControl": "object_id 'airx:RiskControl': expected a CURIE",
    }
    for bad, message in cases.items():
        old = "rdfs:subClassOf\tairo:RiskControl"
        new = f"{bad}\tairo:RiskControl" if bad.startswith("owl") else f"rdfs:subClassOf\t{bad}"
        path = tmp_path / "bad.sssom.tsv"
        path.write_text(good.replace(old, new), encoding="utf-8")
        with pytest.raises(InputError, match=message) as raised:
            read_mapping_set(path)
        assert raised.value.source == str(path)


# --- against the real external ontologies ----------------------------------------------------


@pytest.mark.shared
def test_every_iri_exists(sets, external, vocabulary):
    """No invented IRI, no typo: each external term is described in the copies under
    ../shared/ontologies, each kg term in kg's own files."""
    for mapping_set in sets:
        for m in mapping_set.mappings:
            assert described(vocabulary, m.subject), (mapping_set.name, m.line, m.subject)
            assert described(external, m.object), (mapping_set.name, m.line, m.object)


@pytest.mark.shared
def test_axioms_relate_terms_of_one_kind(sets, external, vocabulary):
    for mapping_set in sets:
        for m in (m for m in mapping_set.mappings if m.is_axiom):
            kinds = CLASSES if m.predicate == RDFS + "subClassOf" else PROPERTIES
            assert types(vocabulary, m.subject) & kinds, (m.line, m.subject)
            assert types(external, m.object) & kinds, (m.line, m.object)


def axiom_faults(mappings: list[Mapping], external: Store, vocabulary: Store) -> list[str]:
    """What a sub-property axiom would entail that is false: its super-property's domain (range)
    must hold every value of the kg property's domain (range), by the subclass axioms of kg, the
    alignment and the external ontologies (a union domain: one of its members)."""
    union = Store()
    for store in (external, vocabulary):
        union.extend(store.quads_for_pattern(None, None, None))
    extra = [(m.subject, m.object) for m in mappings if m.predicate == RDFS + "subClassOf"]
    faults = []
    for m in (m for m in mappings if m.predicate == RDFS + "subPropertyOf"):
        for kind in ("domain", "range"):
            mine = _values(union, m.subject, RDFS + kind)
            for theirs in _values(union, m.object, RDFS + kind):
                members = _union_members(union, theirs) or {theirs}
                for value in mine:
                    if not any(_subclass(union, extra, value, member) for member in members):
                        faults.append(f"{m.subject} ⊑ {m.object}: {kind} {value} ⊄ {theirs}")
    return faults


def _values(store: Store, subject: str, predicate: str) -> set[str]:
    return {
        str(q.object.value) if hasattr(q.object, "value") else str(q.object)
        for q in store.quads_for_pattern(_node(subject), _node(predicate), None)
    }


def _union_members(store: Store, node: str) -> set[str]:
    rows = store.query(
        f"SELECT ?member WHERE {{ ?u owl:unionOf/rdf:rest*/rdf:first ?member "
        f"FILTER(STR(?u) = '{node}') }}",
        prefixes={"owl": OWL, "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#"},
    )
    return {row["member"].value for row in rows}


def _subclass(store: Store, extra: list[tuple[str, str]], sub: str, sup: str) -> bool:
    seen, todo = set(), [sub]
    while todo:
        current = todo.pop()
        if current == sup:
            return True
        if current in seen:
            continue
        seen.add(current)
        todo += _values(store, current, RDFS + "subClassOf") if current.startswith("http") else []
        todo += [b for a, b in extra if a == current]
    return False


@pytest.mark.shared
def test_no_sub_property_entails_a_false_domain_or_range(sets, external, vocabulary):
    mappings = [m for s in sets for m in s.mappings]
    assert axiom_faults(mappings, external, vocabulary) == []


@pytest.mark.shared
@pytest.mark.parametrize(
    "trap",
    [
        "https://w3id.org/airo#hasLifecyclePhase",  # domain: AI component or AI system
        "https://w3id.org/airo#hasStakeholder",
        "https://w3id.org/lmodel/nist-ai-100-1/lifecycle_stage",  # range: the enum class
    ],
)
def test_the_traps_would_be_caught(trap, external, vocabulary):
    """The check above is no formality: making kg:lifecycleStage (or kg:actor) a sub-property
    of these would type mitigations as AI systems, or kg's stages as NIST enum values."""
    subject = KG + ("ontology#actor" if "Stakeholder" in trap else "ontology#lifecycleStage")
    trap_mapping = Mapping(subject, RDFS + "subPropertyOf", trap, "", None, 0)
    assert axiom_faults([trap_mapping], external, vocabulary)


# --- reasoning -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reasoned(shared: Path, sample_store: Path) -> rdflib.Graph:
    """RDFS closure of the sample data, kg's vocabulary, the alignment axioms (not the SKOS
    mappings: their own graph) and every external ontology."""
    from kg.store import OxigraphStore

    graph = rdflib.Graph()
    for path in sorted((shared / "ontologies").rglob("*.ttl")):
        graph.parse(path)
    for path in [ONTOLOGY / "kg.ttl", ONTOLOGY / AXIOMS_FILE, *ONTOLOGY.glob("taxonomies/*.ttl")]:
        graph.parse(path)
    data = OxigraphStore(sample_store).query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
    for triple in data:
        graph.add(
            tuple(to_rdflib(term) for term in (triple.subject, triple.predicate, triple.object))
        )
    owlrl.DeductiveClosure(owlrl.RDFS_Semantics).expand(graph)
    return graph


#: Every type RDFS may give kg's resources of each class; anything else is absurd.
ALLOWED = {
    "Mitigation": {
        RDFS + "Resource",
        KG + "ontology#Mitigation",
        "https://w3id.org/airo#RiskControl",
        "https://w3id.org/dpv#RiskMitigationMeasure",
        "https://w3id.org/dpv#TechnicalOrganisationalMeasure",
    },
    "LifecycleStage": {
        RDFS + "Resource",
        KG + "ontology#LifecycleStage",
        "http://www.w3.org/2004/02/skos/core#Concept",
    },
    "Actor": {
        RDFS + "Resource",
        KG + "ontology#Actor",
        "http://www.w3.org/2004/02/skos/core#Concept",
    },
    "RmfFunction": {
        RDFS + "Resource",
        KG + "ontology#RmfFunction",
        "http://www.w3.org/2004/02/skos/core#Concept",
    },
    "SourceDocument": {
        RDFS + "Resource",
        KG + "ontology#SourceDocument",
        "http://purl.org/ontology/bibo/Document",
        "https://w3id.org/airo#Documentation",
    },
}


@pytest.mark.shared
@pytest.mark.parametrize("kind", sorted(ALLOWED))
def test_reasoning_adds_no_absurd_type(reasoned, kind):
    instances = set(reasoned.subjects(rdflib.RDF.type, rdflib.URIRef(KG + "ontology#" + kind)))
    assert instances, kind
    for instance in instances:
        found = {str(t) for t in reasoned.objects(instance, rdflib.RDF.type)}
        assert found <= ALLOWED[kind], (instance, found - ALLOWED[kind])


@pytest.mark.shared
def test_every_mitigation_is_an_airo_risk_control_by_reasoning(reasoned):
    mitigations = set(reasoned.subjects(rdflib.RDF.type, rdflib.URIRef(KG + "ontology#Mitigation")))
    controls = set(
        reasoned.subjects(rdflib.RDF.type, rdflib.URIRef("https://w3id.org/airo#RiskControl"))
    )
    measures = set(
        reasoned.subjects(
            rdflib.RDF.type, rdflib.URIRef("https://w3id.org/dpv#RiskMitigationMeasure")
        )
    )
    assert len(mitigations) == 8 and mitigations <= controls and mitigations <= measures
