"""What kg's readers ask of a store, answered by a remote engine's query service.

`RemoteReader` has the read methods of a pyoxigraph store that kg uses (query, quad patterns,
graphs, length, dump), so the pages, exports, checks and validation run on it unchanged. Each
call is one request: a page's reads are not isolated from a commit that lands between them, as
they are on the embedded store (its ETag still names the version read first).
"""

import io
import re
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from typing import IO

from pyoxigraph import (
    DefaultGraph,
    NamedNode,
    Quad,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    Triple,
    Variable,
    parse,
    parse_query_results,
    serialize,
)

from kg.remote.client import post
from kg.remote.endpoints import JSON, TSV, Endpoints
from kg.remote.terms import Skolem
from kg.remote.version import NO_GRAPH, STAGING, graphs_query, version_graph
from kg.sparql_lexer import Lexeme, lex

NTRIPLES = RdfFormat.N_TRIPLES.media_type
#: What kg accepts when it cannot tell a query's form (Virtuoso, which ignores q-values, never
#: gets this: kg always tells its own queries' form).
ANY = f"{TSV}, {JSON};q=0.9, {NTRIPLES};q=0.8"
FORM = "application/x-www-form-urlencoded"
#: The variable Virtuoso answers an ASK in, as a one-row result set instead of a boolean.
VIRTUOSO_ASK = "__ASK_RETVAL"
QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
RESULT_FORMATS = {TSV: QueryResultsFormat.TSV, JSON: QueryResultsFormat.JSON}


class RemoteTriples:
    """The triples a CONSTRUCT or DESCRIBE returned, read as they arrive."""

    def __init__(self, source: IO[bytes], rdf_format: RdfFormat, skolem: Skolem) -> None:
        self._quads = parse(source, rdf_format)
        self.skolem = skolem

    def __iter__(self) -> Iterator[Triple]:
        for quad in self._quads:
            unterm = self.skolem.unterm
            yield Triple(unterm(quad.subject), quad.predicate, unterm(quad.object))

    def serialize(self, output=None, format=RdfFormat.N_TRIPLES):
        return serialize(iter(self), output, format)


class _Unskolemized(io.RawIOBase):
    """A TSV or JSON answer read line by line (a row each), skolem IRIs written back as blank
    nodes: kg's readers and the endpoint's clients see the blank nodes the embedded store
    would give."""

    def __init__(self, source: IO[bytes], skolem: Skolem, media_type: str) -> None:
        self.source = source
        prefix = re.escape(skolem.prefix.encode())
        if media_type == TSV:
            self.skolem_iri = re.compile(b"<" + prefix + b"([^>]+)>")
            self.blank_node = rb"_:\1"
        else:
            term = rb'"type"\s*:\s*"uri"\s*,\s*"value"\s*:\s*"'
            self.skolem_iri = re.compile(term + prefix + rb'([^"\\]+)"')
            self.blank_node = rb'"type": "bnode", "value": "\1"'
        self.marker = skolem.prefix.encode()
        self.pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        while not self.pending:
            line = self.source.readline()
            if not line:
                return 0
            if self.marker in line:
                line = self.skolem_iri.sub(self.blank_node, line)
            self.pending = line
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size

    def close(self) -> None:
        self.source.close()
        super().close()


def _in_callers_lines(message: str, start: int, text: str) -> str:
    """An engine's line number ("error at LINE:COLUMN" of Oxigraph, "SPARQL compiler, line
    LINE" of Virtuoso) counted in the caller's query, not in the text kg sent, which starts
    with kg's prologue."""
    lines_before = text.count("\n", 0, start)

    def moved(match: re.Match) -> str:
        return f"{match[1]}{max(1, int(match[2]) - lines_before)}"

    return re.sub(r"(error at |SPARQL compiler, line )(\d+)", moved, message)


class RemoteReader:
    def __init__(self, endpoints: Endpoints) -> None:
        self.endpoints = endpoints
        self.skolem = Skolem(endpoints.base_iri)
        #: kg's own record of the data version: in the engine, hidden from kg's reads.
        self.version_graph = version_graph(endpoints.base_iri)
        #: Graphs a change sent in several requests waits in (kg.remote.store.Staging).
        self.staging = endpoints.base_iri + STAGING
        self._unstaged = f'!STRSTARTS(STR(?g), "{self.staging}")'
        #: kg's default graph where the engine's default graph is the union of all its graphs.
        self.union_graph = NamedNode(endpoints.union_graph) if endpoints.union_graph else None
        self.no_graph = NamedNode(endpoints.base_iri + NO_GRAPH)
        self._graphs: list[NamedNode] | None = None
        #: Each subject's statements in the default graph, read once per reader: pages walk
        #: the graph a property at a time (cheap on the embedded store's indexes), which would
        #: be a request per property here.
        self._described: dict[object, list[tuple[object, object]]] = {}

    # --- SPARQL -------------------------------------------------------------------------------

    def query(
        self,
        query: str,
        *,
        base_iri: str | None = None,
        prefixes: Mapping[str, str] | None = None,
        default_graph: Sequence[NamedNode] | None = None,
        named_graphs: Sequence[NamedNode] | None = None,
        substitutions: Mapping[Variable, object] | None = None,
    ) -> QuerySolutions | QueryBoolean | RemoteTriples:
        """Runs a query on the engine; the prefixes and base become the query's prologue, the
        substitutions a trailing VALUES (joined with the answer, as pyoxigraph applies them)."""
        prologue = f"BASE <{base_iri}>\n" if base_iri else ""
        prologue += "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in (prefixes or {}).items())
        values = "".join(
            f"\nVALUES ?{variable.value} {{ {self.skolem.term(term)} }}"
            for variable, term in (substitutions or {}).items()
        )
        text = prologue + query + values
        lexemes = lex(text)
        default_graph, named_graphs = self._dataset(lexemes, default_graph, named_graphs)
        dataset = [("default-graph-uri", self._graph_iri(g)) for g in default_graph or ()]
        dataset += [("named-graph-uri", self._graph_iri(g)) for g in named_graphs or ()]
        if self.endpoints.engine.dataset_pragmas:
            text = "".join(f"define input:{key} <{iri}>\n" for key, iri in dataset) + text
            dataset = []
        body = urllib.parse.urlencode([("query", text), *dataset]).encode()
        accept = self._accept(lexemes)
        try:
            response = post(self.endpoints, self.endpoints.query, body, FORM, accept)
        except SyntaxError as error:
            start = len(text) - len(query) - len(values)  # after kg's prologue
            raise SyntaxError(_in_callers_lines(str(error), start, text)) from None
        media_type = response.headers.get_content_type()
        if media_type in RESULT_FORMATS:
            answer = _Unskolemized(response, self.skolem, media_type)
            result = parse_query_results(answer, RESULT_FORMATS[media_type])
            if isinstance(result, QuerySolutions) and [v.value for v in result.variables] == [
                VIRTUOSO_ASK
            ]:
                found = any(row[0] is not None and row[0].value == "1" for row in result)
                return parse_query_results(
                    f'{{"boolean": {str(found).lower()}}}', RESULT_FORMATS[JSON]
                )
            return result
        rdf_format = RdfFormat.from_media_type(media_type)
        if rdf_format is None:
            response.close()
            raise OSError(f"the SPARQL engine answered in {media_type}, not {accept}")
        return RemoteTriples(response, rdf_format, self.skolem)

    def _accept(self, lexemes: list[Lexeme]) -> str:
        """The media type the query's answer is asked in."""
        form = next((x.text.upper() for x in lexemes if x.is_keyword(*QUERY_FORMS)), None)
        if form in ("CONSTRUCT", "DESCRIBE"):
            return NTRIPLES
        if form in ("SELECT", "ASK"):
            results = self.endpoints.engine.results
            return results if results == JSON else f"{results}, {JSON};q=0.9"
        return ANY

    def _dataset(
        self,
        lexemes: list[Lexeme],
        default_graph: Sequence[object] | None,
        named_graphs: Sequence[object] | None,
    ) -> tuple[Sequence[object] | None, Sequence[object] | None]:
        """The dataset the query runs on. On a union default graph, a query that names no
        dataset runs on kg's: its default graph and its named graphs."""
        if self.union_graph is None:
            return default_graph, named_graphs
        if default_graph is None and named_graphs is None:
            if any(x.is_keyword("FROM") for x in lexemes):
                return None, None
            # A query without GRAPH reads no named graph: kg's may be thousands, which costs
            # Virtuoso half a second to compile into each query that names them.
            uses_graphs = any(x.is_keyword("GRAPH") for x in lexemes)
            default_graph = [self.union_graph]
            named_graphs = self.kg_graphs() if uses_graphs else []
        # An empty list would name every graph of the engine, its own included.
        return default_graph or [self.no_graph], named_graphs or [self.no_graph]

    def _graph_iri(self, graph: object) -> str:
        if isinstance(graph, DefaultGraph) and self.union_graph is not None:
            return self.union_graph.value
        if not isinstance(graph, NamedNode):
            raise ValueError(f"a remote engine takes graphs by IRI, not {graph}")
        return graph.value

    def kg_graphs(self) -> list[NamedNode]:
        """kg's named graphs, as the version graph lists them (read once per reader)."""
        if self._graphs is None:
            rows = self._rows(graphs_query(self.endpoints.base_iri))
            self._graphs = [row["graph"] for row in rows]
        return self._graphs

    def _rows(self, query: str) -> QuerySolutions:
        result = self.query(query)
        assert isinstance(result, QuerySolutions)
        return result

    # --- what kg reads as quads ---------------------------------------------------------------

    def quads_for_pattern(self, subject, predicate, obj, graph_name=None) -> Iterator[Quad]:
        """The quads matching a pattern, as a pyoxigraph store gives them (blank nodes too);
        graph None: the default graph's, then every named graph's (two queries: Virtuoso 7.2
        drops the GRAPH branch of a UNION with the default graph once the dataset names more
        than 20 graphs)."""
        pattern = " ".join(
            str(self.skolem.term(term)) if term is not None else variable
            for term, variable in ((subject, "?s"), (predicate, "?p"), (obj, "?o"))
        )
        if isinstance(graph_name, DefaultGraph) and subject is not None and obj is None:
            for found, value in self._description(subject):
                if predicate is None or found == predicate:
                    yield Quad(subject, found, value, graph_name)
            return
        if graph_name is None:
            yield from self.quads_for_pattern(subject, predicate, obj, DefaultGraph())
            where = self._named(pattern)
        elif isinstance(graph_name, DefaultGraph):
            where = pattern
        else:
            where = f"GRAPH {self.skolem.term(graph_name)} {{ {pattern} }}"
        for row in self._rows(f"SELECT ?s ?p ?o ?g WHERE {{ {where} }}"):
            yield self.skolem.quad(
                subject or row["s"],
                predicate or row["p"],
                obj or row["o"],
                graph_name if graph_name is not None else row["g"],
            )

    def _description(self, subject) -> list[tuple[object, object]]:
        if subject not in self._described:
            query = f"SELECT ?p ?o WHERE {{ {self.skolem.term(subject)} ?p ?o }}"
            unterm = self.skolem.unterm
            self._described[subject] = [(row["p"], unterm(row["o"])) for row in self._rows(query)]
        return self._described[subject]

    def _named(self, pattern: str) -> str:
        return f"GRAPH ?g {{ {pattern} }} FILTER(?g != {self.version_graph} && {self._unstaged})"

    def named_graphs(self) -> Iterator[NamedNode]:
        # GROUP BY, not DISTINCT: Virtuoso 7.2 takes a minute over DISTINCT ?g of a few graphs.
        for row in self._rows("SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"):
            if self._is_data(row["g"]):
                yield row["g"]

    def _is_data(self, graph: NamedNode) -> bool:
        """Not one of kg's own graphs in the engine (the version, staged changes)."""
        return graph != self.version_graph and not graph.value.startswith(self.staging)

    def contains_named_graph(self, graph: NamedNode) -> bool:
        if not self._is_data(graph):
            return False
        # Not an ASK: Virtuoso 7.2 answers true for a graph outside the dataset.
        rows = self._rows(f"SELECT ?s WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }} LIMIT 1")
        return any(True for _ in rows)

    def __len__(self) -> int:
        return sum(
            int(next(iter(self._rows(f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}")))["n"].value)
            for where in ("?s ?p ?o", self._named("?s ?p ?o"))
        )

    def dump(self, output=None, format=None, *, from_graph=None, prefixes=None):
        """One graph's triples (from_graph) or the dataset's quads, in `format`."""
        if from_graph is not None:
            data = (q.triple for q in self.quads_for_pattern(None, None, None, from_graph))
        else:
            data = self.quads_for_pattern(None, None, None, None)
        return serialize(data, output, format, prefixes=prefixes)
