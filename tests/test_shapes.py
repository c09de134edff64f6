"""Every shape proven by fixtures: valid data adds no result, invalid data exactly the stated ones.

Both engines run every fixture, and their full reports (messages and values too) must be equal.
"""

from pathlib import Path

import pytest
from rdflib import RDF, RDFS, Graph, Namespace
from shape_fixtures import result_keys, split_fixture

from kg.gate import validate_files
from kg.settings import Settings
from kg.shapes import load_shapes
from kg.validation import Engine, Validator

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "shapes"
VALID = sorted((FIXTURES / "valid").glob("*.trig"))
INVALID = sorted((FIXTURES / "invalid").glob("*.trig"))
SH = Namespace("http://www.w3.org/ns/shacl#")
KGSH = Namespace("https://w3id.org/airm-kg/shapes#")
TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
#: Shape keys that only configure a shape; any other sh: key is a constraint of the shape itself.
NOT_CONSTRAINTS = {SH.path, SH.property, SH.message, SH.severity, SH.prefixes, *TARGETS}


def test_collection_does_not_shrink():
    assert len(VALID) == 4
    assert len(INVALID) == 7


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings()


@pytest.fixture(scope="module")
def shapes(settings) -> Graph:
    return load_shapes(settings.shapes_dir, settings.base_iri)


@pytest.fixture(scope="module", params=list(Engine))
def validator(request, shapes) -> Validator:
    return Validator(shapes, request.param)


@pytest.fixture(scope="module")
def vocabulary_results(settings, validator) -> set:
    """What the ontology and taxonomies alone give (the six categories without a name)."""
    report, errors = validate_files(settings, validator, [], None)
    assert errors == []
    return result_keys(report.results)


def added_results(path, settings, validator, vocabulary_results, tmp_path):
    data, expected = split_fixture(path, tmp_path)
    report, errors = validate_files(settings, validator, [data], None)
    assert errors == []
    keys = result_keys(report.results)
    assert vocabulary_results <= keys
    return keys - vocabulary_results, expected


def test_vocabulary_alone_has_six_unnamed_categories(vocabulary_results):
    shapes = {shape.value for _focus, shape, _component, _severity in vocabulary_results}
    assert shapes == {str(KGSH["MitigationCategory-label"])}
    assert len(vocabulary_results) == 6


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_fixture_adds_no_result(path, settings, validator, vocabulary_results, tmp_path):
    added, expected = added_results(path, settings, validator, vocabulary_results, tmp_path)
    assert expected == set()
    assert added == set()


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_fixture_gives_exactly_the_stated_results(
    path, settings, validator, vocabulary_results, tmp_path
):
    added, expected = added_results(path, settings, validator, vocabulary_results, tmp_path)
    assert expected, "an invalid fixture states the results it must give"
    assert added == expected


@pytest.mark.parametrize("path", INVALID + VALID, ids=lambda p: p.stem)
def test_engines_give_identical_reports(path, settings, shapes, tmp_path):
    data, _expected = split_fixture(path, tmp_path)
    reports = [
        {
            r.key
            for r in validate_files(settings, Validator(shapes, engine), [data], None)[0].results
        }
        for engine in Engine
    ]
    assert reports[0] == reports[1]


def constrained_shapes(shapes: Graph) -> set:
    """Shapes that state a constraint themselves (value-set shapes used through sh:node excepted:
    their results are reported on the property shape that uses them)."""
    used_as_node = set(shapes.objects(None, SH.node))
    found = set()
    for shape in set(shapes.subjects(RDF.type, SH.NodeShape)) | set(
        shapes.subjects(RDF.type, SH.PropertyShape)
    ):
        keys = {p for p in shapes.predicates(shape) if str(p).startswith(str(SH))}
        if shape not in used_as_node and keys - NOT_CONSTRAINTS:
            found.add(shape)
    return found


def test_every_constrained_shape_has_an_invalid_case(shapes, tmp_path):
    covered = set()
    for path in INVALID:
        _data, expected = split_fixture(path, tmp_path)
        covered |= {shape.value for _f, shape, _c, _s in expected}
    missing = {str(s) for s in constrained_shapes(shapes)} - covered
    assert missing == set()
    assert len(constrained_shapes(shapes)) >= 60


def test_every_targeted_shape_has_a_valid_case(shapes, tmp_path):
    ontology = Graph().parse(ROOT / "ontology" / "kg.ttl")
    data = Graph()
    for path in VALID:
        data_file, _expected = split_fixture(path, tmp_path)
        data.parse(data_file)
    missing = []
    for shape in sorted(set(s for t in TARGETS for s in shapes.subjects(t, None))):
        if not any(
            _has_focus(data, ontology, target, value) for target, value in _targets(shapes, shape)
        ):
            missing.append(str(shape))
    assert missing == []


def _targets(shapes: Graph, shape):
    for target in TARGETS:
        for value in shapes.objects(shape, target):
            yield target, value


def _has_focus(data: Graph, ontology: Graph, target, value) -> bool:
    if target == SH.targetNode:
        return (value, None, None) in data or (None, None, value) in data
    if target == SH.targetSubjectsOf:
        return (None, value, None) in data
    if target == SH.targetObjectsOf:
        return (None, value, None) in data
    classes = {value} | set(ontology.transitive_subjects(RDFS.subClassOf, value))
    return any((None, RDF.type, c) in data for c in classes)
