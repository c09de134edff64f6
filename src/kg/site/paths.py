"""Where IRIs live on this server: the URL space maps onto the base IRI (setting `KG_BASE_IRI`).

A request for `/mitigation/A2205` names `<base>mitigation/A2205`, with the default base as with a
base that is the server's own address. When the base has a path (`https://w3id.org/airm-kg/`), the
same request with that path (`/airm-kg/mitigation/A2205`) names the same IRI too, so an IRI whose
host is this server dereferences as it is. The path is used as the client sent it, percent-escapes
kept: IRIs are looked up in the graph, never in the file system, so `..`, encoded slashes and the
like can only name IRIs the graph does not have.
"""

from urllib.parse import urlsplit

from kg.vocab import ONTOLOGY_IRI

#: Format suffixes a resource URL may end with, and the view each names.
SUFFIXES = {
    ".html": "html",
    ".ttl": "turtle",
    ".jsonld": "jsonld",
    ".nt": "ntriples",
    ".rdf": "rdfxml",
}
ONTOLOGY_PATH = "/ontology"


class Paths:
    def __init__(self, base_iri: str) -> None:
        self.base = base_iri
        self._base_path = urlsplit(base_iri).path or "/"

    def iri(self, raw_path: str) -> str:
        """The IRI a request path names (the path as sent: percent-escapes kept)."""
        if self._base_path != "/" and raw_path.startswith(self._base_path):
            return self.base + raw_path[len(self._base_path) :]
        return self.base + raw_path.removeprefix("/")

    def candidates(self, raw_path: str) -> list[tuple[str, str | None]]:
        """(IRI, view) pairs a path may name, most specific first: the IRI as it is, then without
        a format suffix (an IRI may itself end with `.ttl`)."""
        found = [(self.iri(raw_path), None)]
        for suffix, view in SUFFIXES.items():
            if raw_path.endswith(suffix) and len(raw_path) > len(suffix) + 1:
                found.append((self.iri(raw_path[: -len(suffix)]), view))
        return found

    def local(self, iri: str) -> str | None:
        """The path of this server where `iri` is served, or None for an IRI of elsewhere."""
        if iri == ONTOLOGY_IRI or iri.startswith(ONTOLOGY_IRI + "#"):
            return ONTOLOGY_PATH + iri[len(ONTOLOGY_IRI) :]
        if iri.startswith(self.base):
            return "/" + iri[len(self.base) :]
        return None

    def href(self, iri: str) -> str:
        """Where a link to `iri` points: its page here, or the IRI itself."""
        return self.local(iri) or iri
