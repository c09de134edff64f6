"""A query's answer as a table for a page: solutions, a boolean or a graph, and the links to
download it in each format. The page asks for a readable serialization (`READABLE`) and reads
it back here."""

import json
from pathlib import Path
from urllib.parse import urlencode

from pyoxigraph import RdfFormat, parse

from kg.server.service import Served

#: Rows a results table shows at most (the downloads have them all, up to the server's cap).
SHOWN_ROWS = 1000
#: What a page asks a query for: solutions and booleans as JSON, graphs as N-Triples.
READABLE = "application/sparql-results+json, application/n-triples;q=0.9"


def results_table(served: Served) -> dict:
    answer = served.answer
    if answer.file is not None:  # too large for a page: the downloads have it
        Path(answer.file).unlink(missing_ok=True)
        return {"kind": "large", "size": answer.size}
    if answer.media_type.startswith("application/n-triples"):
        triples = list(parse(answer.body, RdfFormat.N_TRIPLES))
        rows = [
            [_cell(t) for t in (q.subject, q.predicate, q.object)] for q in triples[:SHOWN_ROWS]
        ]
        return {
            "kind": "graph",
            "head": ["subject", "predicate", "object"],
            "rows": rows,
            "total": len(triples),
            "truncated": answer.truncated,
        }
    data = json.loads(answer.body)
    if "boolean" in data:
        return {"kind": "boolean", "value": data["boolean"]}
    names = data["head"]["vars"]
    bindings = data["results"]["bindings"]
    rows = [[_json_cell(b.get(n)) for n in names] for b in bindings[:SHOWN_ROWS]]
    return {
        "kind": "solutions",
        "head": names,
        "rows": rows,
        "total": len(bindings),
        "truncated": answer.truncated,
    }


def _cell(term) -> dict:
    kind = type(term).__name__
    if kind == "NamedNode":
        return {"iri": term.value}
    if kind == "Literal":
        return {"text": term.value, "lang": term.language}
    return {"text": str(term)}


def _json_cell(value: dict | None) -> dict | None:
    if value is None:
        return None
    if value["type"] == "uri":
        return {"iri": value["value"]}
    return {"text": value["value"], "lang": value.get("xml:lang")}


def downloads(kind: str, url: str, params: dict[str, str]) -> list[tuple[str, str]]:
    """(format name, link) for each format an answer of `kind` can be downloaded in, at `url`
    with the request's `params`."""
    formats = {
        "solutions": [("JSON", "json"), ("CSV", "csv"), ("TSV", "tsv"), ("XML", "xml")],
        "boolean": [("JSON", "json"), ("XML", "xml")],
        "graph": [
            ("Turtle", "turtle"),
            ("N-Triples", "ntriples"),
            ("JSON-LD", "jsonld"),
            ("RDF/XML", "rdfxml"),
        ],
    }.get(kind, [("JSON", "json"), ("CSV", "csv"), ("Turtle", "turtle")])
    return [(name, f"{url}?" + urlencode({**params, "format": f})) for name, f in formats]
