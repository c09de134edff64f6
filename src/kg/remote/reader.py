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
from kg.remote.endpoints import Endpoints
from kg.remote.terms import Skolem
from kg.remote.version import STAGING, version_graph

RESULTS = QueryResultsFormat.JSON
#: Results as TSV (one line a row, terms as in N-Triples: skolem IRIs are turned back into blank
#: nodes line by line), JSON for engines without it, N-Triples for CONSTRUCT and DESCRIBE.
TSV = "text/tab-separated-values"
ACCEPT = f"{TSV}, {RESULTS.media_type};q=0.9, {RdfFormat.N_TRIPLES.media_type};q=0.8"
FORM = "application/x-www-form-urlencoded"
#: The variable Virtuoso answers an ASK in, as a one-row result set instead of a boolean.
VIRTUOSO_ASK = "__ASK_RETVAL"


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
    """A TSV answer read line by line, skolem IRIs written back as blank nodes: kg's readers
    and the endpoint's clients see the blank nodes the embedded store would give."""

    def __init__(self, source: IO[bytes], skolem: Skolem) -> None:
        self.source = source
        prefix = re.escape(skolem.prefix.encode())
        self.skolem_iri = re.compile(b"<" + prefix + b"([^>]+)>")
        self.marker = skolem.prefix.encode()
        self.pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        while not self.pending:
            line = self.source.readline(1 << 20)
            if not line:
                return 0
            if self.marker in line:
                line = self.skolem_iri.sub(rb"_:\1", line)
            self.pending = line
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size

    def close(self) -> None:
        self.source.close()
        super().close()


class RemoteReader:
    def __init__(self, endpoints: Endpoints) -> None:
        self.endpoints = endpoints
        self.skolem = Skolem(endpoints.base_iri)
        #: kg's own record of the data version: in the engine, hidden from kg's reads.
        self.version_graph = version_graph(endpoints.base_iri)
        #: Graphs a change sent in several requests waits in (kg.remote.store.Staging).
        self.staging = endpoints.base_iri + STAGING
        self._unstaged = f'!STRSTARTS(STR(?g), "{self.staging}")'

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
        form = [("query", prologue + query + values)]
        form += [("default-graph-uri", _graph_iri(g)) for g in default_graph or ()]
        form += [("named-graph-uri", _graph_iri(g)) for g in named_graphs or ()]
        body = urllib.parse.urlencode(form).encode()
        response = post(self.endpoints, self.endpoints.query, body, FORM, ACCEPT)
        media_type = response.headers.get_content_type()
        if media_type == TSV:
            return parse_query_results(_Unskolemized(response, self.skolem), QueryResultsFormat.TSV)
        if media_type == RESULTS.media_type:
            result = parse_query_results(response, RESULTS)
            if isinstance(result, QuerySolutions) and [v.value for v in result.variables] == [
                VIRTUOSO_ASK
            ]:
                answer = any(row[0] is not None and row[0].value == "1" for row in result)
                return parse_query_results(f'{{"boolean": {str(answer).lower()}}}', RESULTS)
            return result
        rdf_format = RdfFormat.from_media_type(media_type)
        if rdf_format is None:
            response.close()
            raise OSError(f"the SPARQL engine answered in {media_type}, not {ACCEPT}")
        return RemoteTriples(response, rdf_format, self.skolem)

    def _rows(self, query: str) -> QuerySolutions:
        result = self.query(query)
        assert isinstance(result, QuerySolutions)
        return result

    # --- what kg reads as quads ---------------------------------------------------------------

    def quads_for_pattern(self, subject, predicate, obj, graph_name=None) -> Iterator[Quad]:
        """The quads matching a pattern, as a pyoxigraph store gives them (blank nodes too);
        graph None: the default graph's and every named graph's."""
        pattern = " ".join(
            str(self.skolem.term(term)) if term is not None else variable
            for term, variable in ((subject, "?s"), (predicate, "?p"), (obj, "?o"))
        )
        if graph_name is None:
            where = f"{{ {pattern} }} UNION {{ {self._named(pattern)} }}"
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

    def _named(self, pattern: str) -> str:
        return f"GRAPH ?g {{ {pattern} }} FILTER(?g != {self.version_graph} && {self._unstaged})"

    def named_graphs(self) -> Iterator[NamedNode]:
        for row in self._rows("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"):
            if self._is_data(row["g"]):
                yield row["g"]

    def _is_data(self, graph: NamedNode) -> bool:
        """Not one of kg's own graphs in the engine (the version, staged changes)."""
        return graph != self.version_graph and not graph.value.startswith(self.staging)

    def contains_named_graph(self, graph: NamedNode) -> bool:
        if not self._is_data(graph):
            return False
        result = self.query(f"ASK {{ GRAPH {graph} {{ ?s ?p ?o }} }}")
        return bool(result)

    def __len__(self) -> int:
        every = f"{{ ?s ?p ?o }} UNION {{ {self._named('?s ?p ?o')} }}"
        query = f"SELECT (COUNT(*) AS ?n) WHERE {{ {every} }}"
        return int(next(iter(self._rows(query)))["n"].value)

    def dump(self, output=None, format=None, *, from_graph=None, prefixes=None):
        """One graph's triples (from_graph) or the dataset's quads, in `format`."""
        if from_graph is not None:
            data = (q.triple for q in self.quads_for_pattern(None, None, None, from_graph))
        else:
            data = self.quads_for_pattern(None, None, None, None)
        return serialize(data, output, format, prefixes=prefixes)


def _graph_iri(graph: object) -> str:
    if not isinstance(graph, NamedNode):
        raise ValueError(f"a remote engine takes graphs by IRI, not {graph}")
    return graph.value
