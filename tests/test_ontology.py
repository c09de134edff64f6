"""The ontology and its taxonomies: parseable, documented, faithful to the reference tables."""

import csv
from pathlib import Path

import rdflib
from conftest import ROOT
from rdflib.namespace import OWL, RDF, RDFS, SKOS

ONTOLOGY = ROOT / "ontology"
KG = rdflib.Namespace("https://w3id.org/airm-kg/ontology#")
BASE = "https://w3id.org/airm-kg/"


def graph(*names: str) -> rdflib.Graph:
    g = rdflib.Graph()
    for name in names:
        g.parse(ONTOLOGY / name, format="turtle")
    return g


def test_every_term_has_label_and_definition():
    g = graph("kg.ttl")
    terms = set(g.subjects(RDF.type, OWL.Class)) | set(g.subjects(RDF.type, OWL.ObjectProperty))
    terms |= set(g.subjects(RDF.type, OWL.DatatypeProperty))
    terms |= set(g.subjects(RDF.type, OWL.AnnotationProperty))
    assert len(terms) >= 28
    for term in terms:
        assert str(term).startswith(str(KG))
        assert g.value(term, RDFS.label) is not None, term
        assert g.value(term, SKOS.definition) is not None, term
        if (term, RDF.type, OWL.ObjectProperty) in g or (term, RDF.type, OWL.DatatypeProperty) in g:
            assert g.value(term, RDFS.domain) is not None, term
            assert g.value(term, RDFS.range) is not None, term


def test_ontology_metadata():
    g = graph("kg.ttl")
    ontology = next(g.subjects(RDF.type, OWL.Ontology))
    # What ontology registries (LOV, OntoPortal) ask for.
    for predicate in (
        "title",
        "description",
        "license",
        "creator",
        "created",
        "issued",
        "modified",
    ):
        assert g.value(ontology, rdflib.DCTERMS[predicate]) is not None, predicate
    referenced = {str(v) for v in g.objects(ontology, rdflib.DCTERMS.references)}
    aligned = {"https://w3id.org/airo", "https://w3id.org/dpv", "https://w3id.org/vair"}
    assert aligned | {"https://w3id.org/lmodel/nist-ai-100-1"} <= referenced
    assert g.value(ontology, OWL.versionIRI) is not None
    assert (
        str(g.value(ontology, rdflib.URIRef("http://purl.org/vocab/vann/preferredNamespacePrefix")))
        == "kg"
    )


def test_mitigation_taxonomy_matches_reference(shared: Path):
    g = graph("taxonomies/mitigation-categories.ttl")
    rows = list(
        csv.DictReader((shared / "reference/mitigation-taxonomy-v2.tsv").open(), delimiter="\t")
    )
    assert len(rows) == 51
    concepts = set(g.subjects(RDF.type, KG.MitigationCategory))
    assert len(concepts) == 51
    for row in rows:
        concept = rdflib.URIRef(f"{BASE}taxonomy/mitigation/{row['code']}")
        assert str(g.value(concept, SKOS.notation)) == row["code"]
        label = g.value(concept, SKOS.prefLabel)
        assert (str(label) if label else "") == row["name"]  # unnamed stays unnamed
        definition = g.value(concept, SKOS.definition)
        assert (str(definition) if definition else "") == row["definition"]
        broader = g.value(concept, SKOS.broader)
        expected = (
            rdflib.URIRef(f"{BASE}taxonomy/mitigation/{row['parent']}") if row["parent"] else None
        )
        assert broader == expected


def test_classification_values_match_reference(shared: Path):
    rows = list(
        csv.DictReader((shared / "reference/classification-values.tsv").open(), delimiter="\t")
    )
    files = {
        "lifecycle_stage": ("lifecycle-stages.ttl", KG.LifecycleStage),
        "actor": ("actors.ttl", KG.Actor),
        "rmf_function": ("rmf-functions.ttl", KG.RmfFunction),
    }
    for dimension, (name, cls) in files.items():
        g = graph(f"taxonomies/{name}")
        expected = {
            (r["name"], r["definition_as_printed"]) for r in rows if r["dimension"] == dimension
        }
        found = set()
        for concept in g.subjects(RDF.type, cls):
            definition = g.value(concept, SKOS.definition)
            found.add(
                (str(g.value(concept, SKOS.prefLabel)), str(definition) if definition else "")
            )
            assert g.value(concept, SKOS.inScheme) is not None
        assert found == expected
