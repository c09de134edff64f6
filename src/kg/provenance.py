"""What every loaded graph states about itself: where it was read, its hash, by what, when."""

from datetime import UTC, datetime

from pyoxigraph import Literal, NamedNode, Quad

from kg import __version__
from kg.vocab import KG, PROV, RDF, XSD

#: What a graph's kg:loaderVersion says: a change of kg may change the triples of the same file.
LOADER_VERSION = f"kg {__version__}"


def graph_provenance(graph: NamedNode, source_file: str, sha256: str) -> list[Quad]:
    """The provenance quads of `graph`, in itself (`sha256` as hex digits)."""
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return [
        Quad(graph, RDF.type, PROV.Entity, graph),
        Quad(graph, KG.sourceFile, Literal(source_file), graph),
        Quad(graph, KG.contentHash, Literal("sha256:" + sha256), graph),
        Quad(graph, KG.loaderVersion, Literal(LOADER_VERSION), graph),
        Quad(graph, PROV.generatedAtTime, Literal(now, datatype=XSD.dateTime), graph),
    ]
