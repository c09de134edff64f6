"""The endpoint's rules on SPARQL text, and content negotiation, as plain functions."""

import pytest
from pyoxigraph import QueryResultsFormat, RdfFormat, Store

from kg.errors import QueryError
from kg.server.negotiation import Kind, NotAcceptable, choose
from kg.server.policy import Forbidden, check_services, prepare_update
from kg.vocab import PREFIXES

BASE = "https://w3id.org/airm-kg/"
ALLOWED = ("http://allowed.example/sparql",)


def prepare(text, using=(), using_named=()):
    return prepare_update(text, using, using_named, ALLOWED, BASE, PREFIXES)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * { SERVICE <http://allowed.example/sparql> { ?s ?p ?o } }",
        "PREFIX a: <http://allowed.example/> SELECT * { SERVICE SILENT a:sparql { ?s ?p ?o } }",
        'SELECT * { ?s ?p "SERVICE <http://other.example/>" } # SERVICE <file:///etc/passwd>',
        "SELECT * { ?s <http://example.org/service> ?o }",
        # Words that merely contain the letters: variables, local names, strings.
        'SELECT ?service ?y { ?service ?p "customer service: desk" }',
        "PREFIX ex: <http://example.org/> SELECT * { ?s ex:serviceType ?t ; ex:service ?u }",
        "SELECT * { ?s ?p ?o FILTER(CONTAINS(STR(?o), 'service')) }",
    ],
)
def test_allowed_or_absent_services_pass(query):
    check_services(query, ALLOWED, BASE, PREFIXES)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * { SERVICE <http://other.example/sparql> { ?s ?p ?o } }",
        "SELECT * { SERVICE <file:///etc/passwd> { ?s ?p ?o } }",
        "SELECT * { SeRvIcE sIlEnT <http://127.0.0.1:8000/sparql> { ?s ?p ?o } }",
        "SELECT * { SERVICE ?endpoint { ?s ?p ?o } }",
        "SELECT * { SERVICE <sparql> { ?s ?p ?o } }",  # relative: resolves against the base
        # Relative endpoints are refused even when a BASE would make them allowed.
        "BASE <http://allowed.example/> SELECT * { service <sparql> { ?s ?p ?o } }",
        # Spellings Oxigraph reads as SERVICE without a word break (issue 9's bypass).
        "SELECT * WHERE { SERVICESILENT<http://127.0.0.1:9/internal> { ?s ?p ?o } }",
        "PREFIX : <http://127.0.0.1:9/> SELECT * WHERE { SERVICE:sparql { ?leak ?p ?o } }",
        "PREFIX x: <http://127.0.0.1:9/> SELECT * WHERE { SERVICEx:local { ?leak ?p ?o } }",
        "BASE <http://127.0.0.1:9/> SELECT * WHERE { SERVICESILENT<relative> { ?s ?p ?o } }",
        "SELECT * { ?s ?p true SERVICE<http://other.example/>{} }",
        "SELECT * { ?s ?p trueSERVICE<http://other.example/>{} }",
        "SELECT * { ?s ?p 1e5SERVICE<http://other.example/>{} }",
        # SILENT as a keyword or as the start of a prefixed name: both readings are checked.
        "PREFIX silent: <http://other.example/> SELECT * { SERVICE silent:x {} }",
        # An IRI's \\u escapes are decoded as the engine decodes them.
        "SELECT * { SERVICE <http://allowed.example/\\u0073parql/x> {} }",
        # Tokens the lexer once ended early, so that a '#' or quote after them hid the clause.
        "SELECT * { BIND(<http://x/#\\u0041> AS ?z) SERVICE <http://other.example/> { ?a ?b ?c } }",
        "SELECT ?z { BIND(dcterms:a\u00b7\\'x AS ?z) SERVICE <http://other.example/> { ?x ?b ?c } } # '",
        "SELECT ?z { BIND(<http://x/\\u0041'''> AS ?z) SERVICE <http://other.example/> {} } # '''",
        "SELECT * { ?a\u0301 ?b ?c # '\n SERVICE <http://other.example/> {} }",
        # An IRI to the lexer, the less-than operator to the engine.
        "PREFIX : <http://other.example/> SELECT * WHERE { FILTER(1<2)SERVICE:e#>\n{ ?s ?p ?o } }",
        # Names with characters of the grammar's PN_CHARS that a regular expression may miss.
        "PREFIX p\u0301x: <http://other.example/> SELECT * { SERVICE p\u0301x:e { ?s ?p ?o } }",
        "PREFIX p\u203fx: <http://other.example/> SELECT * { SERVICE p\u203fx:e { ?s ?p ?o } }",
        # A name character the checker does not read ends the endpoint unreadably: refused.
        "PREFIX a: <http://allowed.example/> SELECT * { SERVICE a:sparql\u00b2x {} }",
        "PREFIX : <http://other.example/> SELECT * { SERVICE :sparql { ?s ?p ?o } }",
        "PREFIX a: <http://allowed.example/> PREFIX a: <http://other.example/> SELECT * { SERVICE a:sparql {} }",
        # Long strings before the clause (Pygments' lexer read past their closing quotes).
        'SELECT * { BIND("""x""" AS ?a) SERVICE <http://other.example/> { ?s ?p ?o } }',
        "SELECT * { BIND('''it's''' AS ?a) SERVICE <http://other.example/> { ?s ?p ?o } }",
        'SELECT * { VALUES ?a { """x "" y""" } SERVICE SILENT <http://other.example/> {} }',
        'SELECT * { BIND("a\\" AS ?a) SERVICE <http://other.example/> {} }',
        "SELECT * { ?s ?p ?o # comment\n SERVICE<http://other.example/>{} }",
        "SELECT * { { SELECT * { OPTIONAL { FILTER EXISTS { SERVICE <http://other.example/> {} } } } } }",
    ],
)
def test_other_services_are_forbidden(query):
    with pytest.raises(Forbidden):
        check_services(query, ALLOWED, BASE, PREFIXES)


@pytest.mark.parametrize(
    "update",
    [
        "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
        "DELETE DATA { <urn:a> <urn:b> <urn:c> }",
        "DELETE WHERE { ?s ?p ?o }",
        "INSERT { ?s <urn:p> ?o } WHERE { GRAPH ?g { ?s <urn:q> ?o } }",
        "DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
        "COPY <urn:g> TO DEFAULT",
        "MOVE DEFAULT TO <urn:g>",
        "ADD <urn:g> TO DEFAULT",
        "CLEAR DEFAULT",
        "DROP DEFAULT",
        "INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:b> <urn:c> } } ; INSERT DATA { <urn:a> <urn:b> <urn:c> }",
    ],
)
def test_writes_to_the_default_graph_are_refused(update):
    with pytest.raises(QueryError, match="default graph"):
        prepare(update)


@pytest.mark.parametrize(
    "update",
    [
        "INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:b> <urn:c> } }",
        "WITH <urn:g> DELETE { ?s ?p ?o } INSERT { ?s ?p 1 } WHERE { ?s ?p ?o }",
        "PREFIX ex: <http://example.org/> CLEAR ALL ; INSERT { GRAPH ex:g { ?s a ex:C } } WHERE { ?s a ex:D }",
        "DROP ALL ; CREATE GRAPH <urn:g> ; COPY <urn:g> TO <urn:h>",
        "DELETE WHERE { GRAPH <urn:g> { ?s ?p ?o } }",
    ],
)
def test_writes_to_named_graphs_pass_unchanged(update):
    assert prepare(update) == update


def test_load_is_forbidden():
    with pytest.raises(Forbidden, match="LOAD"):
        prepare("LOAD <http://example.org/data.ttl> INTO GRAPH <urn:g>")


def test_service_in_an_update_is_checked():
    with pytest.raises(Forbidden):
        prepare(
            "INSERT { GRAPH <urn:g> { ?s ?p ?o } } WHERE { SERVICE <http://x.example/> { ?s ?p ?o } }"
        )


def test_protocol_dataset_becomes_using_clauses_of_each_modify():
    update = (
        'INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:p> "WHERE {" } } ;\n'
        "INSERT { GRAPH <urn:h> { ?s ?p ?o } } WHERE { ?s ?p ?o } ;\n"
        "DELETE WHERE { GRAPH <urn:h> { ?s <urn:x> ?o } } ;\n"
        "DELETE { GRAPH <urn:h> { ?s ?p ?o } } where { GRAPH ?g { ?s ?p ?o } }"
    )
    prepared = prepare(update, using=("urn:d1", "urn:d2"), using_named=("urn:n",))
    clauses = "USING <urn:d1> USING <urn:d2> USING NAMED <urn:n> "
    assert prepared == (
        'INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:p> "WHERE {" } } ;\n'
        f"INSERT {{ GRAPH <urn:h> {{ ?s ?p ?o }} }} {clauses}WHERE {{ ?s ?p ?o }} ;\n"
        "DELETE WHERE { GRAPH <urn:h> { ?s <urn:x> ?o } } ;\n"
        f"DELETE {{ GRAPH <urn:h> {{ ?s ?p ?o }} }} {clauses}where {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    )
    Store().update(prepared)  # and pyoxigraph accepts it


@pytest.mark.parametrize(
    "iri",
    [
        "http://x> WHERE {} ; LOAD <http://other.example/> ; INSERT { GRAPH <urn:g> { ?s ?p ?o } } USING <http://x",
        "http://x> WHERE { SERVICE <http://other.example/> {} } # ",
        "not an iri",
    ],
)
def test_protocol_dataset_iris_cannot_inject_text(iri):
    with pytest.raises(QueryError, match="not an IRI"):
        prepare("INSERT { GRAPH <urn:g> { ?s ?p ?o } } WHERE { ?s ?p ?o }", using=(iri,))


def test_using_clauses_go_after_long_strings_too():
    update = 'INSERT { GRAPH <urn:g> { ?s <urn:p> """x""" } } WHERE { ?s ?p ?o }'
    assert prepare(update, using=("urn:d",)) == update.replace("WHERE", "USING <urn:d> WHERE")


def test_protocol_dataset_conflicts_with_using_in_the_update():
    with pytest.raises(QueryError, match="one place"):
        prepare(
            "INSERT { GRAPH <urn:g> { ?s ?p ?o } } USING <urn:x> WHERE { ?s ?p ?o }",
            using=("urn:y",),
        )


def test_unparsable_update_is_a_query_error():
    with pytest.raises(QueryError, match="invalid SPARQL update"):
        prepare("INSERT DATA { GRAPH <urn:g> { <urn:a> } }")
    with pytest.raises(QueryError, match="empty"):
        prepare("  # nothing\n")


@pytest.mark.parametrize(
    ("kind", "accept", "format_name", "expected"),
    [
        (Kind.SOLUTIONS, None, None, QueryResultsFormat.JSON),
        (
            Kind.SOLUTIONS,
            "text/tab-separated-values;q=1, text/csv;q=0.9",
            None,
            QueryResultsFormat.TSV,
        ),
        (Kind.SOLUTIONS, "garbage", None, QueryResultsFormat.JSON),
        (Kind.BOOLEAN, "application/xml", None, QueryResultsFormat.XML),
        (Kind.GRAPH, "application/json", None, RdfFormat.JSON_LD),
        (Kind.GRAPH, "text/plain", None, RdfFormat.N_TRIPLES),
        (Kind.GRAPH, "*/*", None, RdfFormat.TURTLE),
        (Kind.GRAPH, None, "ttl", RdfFormat.TURTLE),
        (Kind.GRAPH, None, "application/rdf+xml", RdfFormat.RDF_XML),
        (Kind.DATASET, None, None, RdfFormat.N_QUADS),
        (Kind.DATASET, "application/trig, */*;q=0.1", None, RdfFormat.TRIG),
    ],
)
def test_negotiation(kind, accept, format_name, expected):
    assert choose(kind, accept, format_name).format == expected


@pytest.mark.parametrize(
    ("kind", "accept", "format_name"),
    [
        (Kind.SOLUTIONS, "text/turtle", None),
        (Kind.BOOLEAN, "text/csv", None),
        (Kind.DATASET, "text/turtle", None),
        (Kind.GRAPH, None, "csv"),
        (Kind.GRAPH, None, "nonsense"),
    ],
)
def test_negotiation_refusals(kind, accept, format_name):
    with pytest.raises(NotAcceptable):
        choose(kind, accept, format_name)


@pytest.mark.parametrize(
    "update",
    [
        "LOAD <http://other.example/data>",
        "load silent <http://other.example/data> INTO GRAPH <urn:g>",
        # rdflib runs this comment past the carriage return; the engine ends it there.
        'INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:b> "c" } } #x\r; LOAD <http://other.example/x> INTO GRAPH <urn:g2>',
        'INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:b> "\u00e9" } } ; LOAD<http://other.example/x>',
    ],
)
def test_load_is_refused_however_it_is_spelled(update):
    with pytest.raises(Forbidden, match="LOAD"):
        prepare(update)


def test_the_word_load_elsewhere_is_no_load():
    prepare('INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:workload> "download <x>" } }')
