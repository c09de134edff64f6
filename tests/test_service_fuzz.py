"""Differential fuzz test of the SERVICE rule: thousands of spellings of a SERVICE call (case,
spacing, comments, glued keywords, SILENT, prefixed, relative and escaped names, nesting, updates)
go to a real `kg serve` whose allow-list names another endpoint, so its workers have network
access and only the rule stands between a query and the canary. The same spellings run in
pyoxigraph itself against an oracle canary, which tells which of them the engine really reads as
a SERVICE call: each of those must be refused (403), and the server's canary must see nothing."""

import json
import random

import pytest
from canary import Canary
from pyoxigraph import NamedNode, Quad, QueryBoolean, Store
from served import client, copy_store, kg_server

from kg.vocab import PREFIXES

TOKEN = "fuzz-update-token"
SPELLINGS = 3000
#: Share of spellings the engine must read as SERVICE calls, or the generator tests too little.
MIN_LIVE_SHARE = 0.5

SPACES = ["", " ", "\t", "\n", "  ", "#c\n", " # SERVICE <x> {\n ", "\r\n", "#>\n"]
BEFORE = [
    "",
    "?a ?b ?c .",
    "?a ?b ?c",
    "?a ?b true",
    "?a ?b 1",
    "?a ?b 1e5",
    '?a ?b "x"',
    '?a ?b """x""" .',
    "?a ?b 'it''s'",
    "?a ?b ?c . OPTIONAL { ?a ?b ?c }",
    "BIND(1 AS ?z)",
    "FILTER(true)",
    "FILTER(?c<1)",
    # Tokens a lexer may end early, with a quote or '#' after them.
    "BIND(<http://x/#\\u0041> AS ?z)",
    "BIND(dcterms:a\u00b7\\'x AS ?z)",
    "BIND(<http://x/\\u0041'''> AS ?z)",
    "?a\u0301 ?b ?c #'\n",
    "?a ?b ?c FILTER(?c<1&&?c>0)",
    "?a ?b '''it''''",
    '?a ?b """a""""',
    '?a ?b "a\\\\"',
    "{}",
]
CONTEXTS = [
    ("query", "SELECT * WHERE {{ {body} }}"),
    ("query", "SELECT * {{ {{ {body} }} }}"),
    ("query", "SELECT * {{ ?a ?b ?c OPTIONAL {{ {body} }} }}"),
    ("query", "SELECT * {{ {{ SELECT * {{ {body} }} }} }}"),
    ("query", "ASK {{ {body} }}"),
    ("query", "SELECT * {{ ?a ?b ?c FILTER EXISTS {{ {body} }} }}"),
    ("query", "SELECT * {{ {{ ?a ?b ?c }} UNION {{ {body} }} }}"),
    ("query", "CONSTRUCT {{ ?a ?b ?c }} WHERE {{ {body} }}"),
    ("query", "SELECT * {{ GRAPH ?g {{ {body} }} }}"),
    ("update", "INSERT {{ GRAPH <urn:fuzz> {{ ?a ?b ?c }} }} WHERE {{ {body} }}"),
    ("update", "DELETE {{ GRAPH <urn:fuzz> {{ ?a ?b ?c }} }} WHERE {{ {body} }}"),
]


def _cased(rng: random.Random, word: str) -> str:
    return "".join(c.upper() if rng.random() < 0.5 else c for c in word)


def _endpoint(rng: random.Random) -> tuple[str, str]:
    """(prologue, endpoint) naming `{root}sparql`, the canary's address, in one of many ways."""
    form = rng.randrange(6)
    if form == 0:
        return "", "<{root}sparql>"
    if form == 1:  # a \u escape inside the IRI
        return "", "<{root}\\u0073parql>"
    if form == 2:
        return "BASE <{root}> ", "<sparql>"
    if form == 3:
        return "", "<{root}sparql?x=1>"
    prefix = rng.choice(["", "x", "silent", "service", "p1", "SERVICE", "Silent", "p\u0301x"])
    local = rng.choice(["sparql", "spar\\-ql", "sparql.x", "s%41", ""])
    spacing = rng.choice(SPACES)
    return f"PREFIX {prefix}:{spacing}<{{root}}> ", f"{prefix}:{local}"


def spelling(rng: random.Random) -> tuple[str, str]:
    """(verb, text) of one SERVICE call, with `{root}` for the target's address."""
    prologue, endpoint = _endpoint(rng)
    silent = _cased(rng, "silent") + rng.choice(SPACES) if rng.random() < 0.5 else ""
    clause = (
        _cased(rng, "service")
        + rng.choice(SPACES)
        + silent
        + endpoint
        + rng.choice(SPACES)
        + rng.choice(["{ ?a ?b ?c }", "{}", "{ ?s ?p ?o }"])
    )
    before = rng.choice(BEFORE)
    glue = rng.choice(SPACES) if before else ""
    verb, context = rng.choice(CONTEXTS)
    if rng.random() < 0.2:  # a comment or string mentioning SERVICE first
        prologue = rng.choice(["# SERVICE <{root}> {}\n", ""]) + prologue
    ending = rng.choice(["", "", " # '", " # '''", ' # "'])  # closes what a lexer opened early
    return verb, prologue + context.format(body=before + glue + clause) + ending


def _live_in_engine(verb: str, text: str, oracle: Canary, store: Store) -> bool:
    """Whether pyoxigraph itself, given this text, calls the oracle canary."""
    before = len(oracle.hits)
    try:
        if verb == "query":
            result = store.query(text, prefixes=PREFIXES)
            if not isinstance(result, QueryBoolean):
                list(result)
        else:
            store.update(text, prefixes=PREFIXES)
    except (SyntaxError, OSError, RuntimeError, ValueError):
        pass
    return len(oracle.hits) > before


@pytest.fixture(scope="module")
def allowed():
    running = Canary()
    yield running
    running.close()


@pytest.fixture(scope="module")
def server(sample_store, allowed, tmp_path_factory):
    """A server whose allow-list names another endpoint: its workers may open connections."""
    store = copy_store(sample_store, tmp_path_factory.mktemp("fuzz") / "store")
    env = {"KG_SERVICE_ALLOWLIST": json.dumps([allowed.url])}
    with kg_server(store, "--update-token", TOKEN, env=env) as running:
        yield running


def test_no_spelling_of_service_reaches_a_canary(server, allowed):
    rng = random.Random(9)
    target, oracle = Canary(), Canary()
    store = Store()
    triple = (NamedNode("urn:a"), NamedNode("urn:b"), NamedNode("urn:c"))
    store.add(Quad(*triple))
    store.add(Quad(*triple, NamedNode("urn:g")))
    statuses: dict[int, int] = {}
    live = 0
    try:
        with client(server) as http:
            for _ in range(SPELLINGS):
                verb, template = spelling(rng)
                if not _live_in_engine(verb, template.replace("{root}", oracle.root), oracle, store):
                    continue
                live += 1
                text = template.replace("{root}", target.root)
                headers = {"Content-Type": f"application/sparql-{verb}"}
                if verb == "update":
                    headers["Authorization"] = f"Bearer {TOKEN}"
                response = http.post("/sparql", content=text, headers=headers)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                assert response.status_code == 403, (text, response.status_code, response.text)
    finally:
        target.close()
        oracle.close()
    assert target.hits == [], f"the canary was reached: {target.hits[:5]}"
    assert allowed.hits == []
    assert live >= MIN_LIVE_SHARE * SPELLINGS, f"only {live} of {SPELLINGS} spellings were live"
    assert statuses == {403: live}
