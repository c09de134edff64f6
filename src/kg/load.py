"""Loading files into the store: find them, skip unchanged ones, parse, map, commit once."""

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from pathlib import Path

from pyoxigraph import NamedNode, Quad, RdfFormat, Store, parse

from kg.errors import InputError, KgError
from kg.identity import same_entry_graphs
from kg.inputs import check_xml_entities, find_input_files, read_input
from kg.locate import locate
from kg.navigator import PageParser
from kg.nexus.derived import nexus_link_graphs
from kg.nexus.links import profile_links
from kg.nexus.package import NexusSource
from kg.nexus.rdfize import nexus_quads
from kg.nexus.read import parse_nexus
from kg.nexus.records import NexusData, summarise
from kg.nexus.schema import SCHEMA_GRAPH, read_schema
from kg.provenance import LOADER_VERSION, graph_provenance
from kg.rdfize import entry_quads
from kg.reasoning import Regime, inference_graphs, regime_quads
from kg.settings import Settings
from kg.sparql_values import values_block
from kg.store import Changeset, GraphStore
from kg.taxonomy import load_vocabulary
from kg.validation import ValidationReport, Validator
from kg.vocab import KG, KG_NS, RDF, Iris

ENTRY_SUFFIXES = {".txt"}
#: RDF documents kg loads, by suffix: formats of triples, since each file is one named graph.
RDF_SUFFIXES = {".ttl", ".nt", ".rdf", ".jsonld"}
#: What `kg import-ontology` reads: those, and RDF/XML as ontologies publish it.
ONTOLOGY_SUFFIXES = RDF_SUFFIXES | {".owl", ".xml"}
#: The ontology, its taxonomies, and its alignments (axioms; SKOS mappings in a graph of their own).
VOCABULARY_FILES = ("kg.ttl", "taxonomies/*.ttl", "alignment.ttl", "alignment-mappings.ttl")


@dataclass
class LoadReport:
    files: int = 0
    entries: int = 0
    unchanged: int = 0
    quads: int = 0
    graphs: int = 0
    warnings: dict[str, list[str]] = field(default_factory=dict)
    errors: list[InputError] = field(default_factory=list)
    #: The SHACL report on the dataset as the load would leave it (None when nothing changed).
    validation: ValidationReport | None = None
    #: False when nothing was written: a file failed, or the data would not conform.
    committed: bool = False
    #: The Nexus records an import read (None for other loads).
    nexus: NexusData | None = None

    @property
    def warning_count(self) -> int:
        return sum(len(w) for w in self.warnings.values())


class Kind(StrEnum):
    """How a file's bytes become quads."""

    ENTRY = "entry"  # a navigator entry page
    VOCABULARY = "vocabulary"  # the ontology or a taxonomy, written under the default base
    RDF = "rdf"  # an RDF document of triples, taken as it is


@dataclass(frozen=True)
class Source:
    """One file to load: the graph it fills and how to turn its bytes into quads."""

    path: Path
    graph: NamedNode
    kind: Kind


def content_hash(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class DataRejected(KgError):
    """The changed dataset does not conform to the shapes: the commit is abandoned."""


class Loader:
    """Loads entry pages and the vocabulary into a store in one atomic commit, validated against
    the shapes before it goes live when given a validator."""

    def __init__(
        self,
        settings: Settings,
        store: GraphStore,
        validator: Validator | None = None,
        *,
        max_results: int | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.iris = Iris(settings.base_iri)
        self.parser = PageParser(load_vocabulary(settings.ontology_dir))
        self.validator = validator
        self.max_results = max_results
        #: Lines of each entry field, per file name of the pages parsed (for validation reports).
        self.field_lines: dict[str, dict[str, int]] = {}

    def vocabulary_sources(self) -> list[Source]:
        files = []
        for pattern in VOCABULARY_FILES:
            files.extend(sorted(self.settings.ontology_dir.glob(pattern)))
        return [
            Source(path, self.iris.vocabulary_graph(path.stem), Kind.VOCABULARY) for path in files
        ]

    def entry_sources(self, paths: Iterable[Path]) -> list[Source | InputError]:
        """Sources of the files given and found in folders; what cannot be found or named (a
        folder that cannot be listed, a name that is not UTF-8) stays in its place as an error."""
        return [
            found
            if isinstance(found, InputError)
            else Source(
                found,
                self.iris.file_graph(found.name),
                Kind.RDF if found.suffix in RDF_SUFFIXES else Kind.ENTRY,
            )
            for found in find_input_files(paths, ENTRY_SUFFIXES | RDF_SUFFIXES)
        ]

    def load(
        self,
        sources: list[Source | InputError],
        *,
        skip_invalid: bool = False,
        progress: Callable[[Iterable[Source | InputError]], Iterator[Source | InputError]] = iter,
    ) -> LoadReport:
        """Commits every changed source, or nothing when one fails (unless skip_invalid)."""
        report = LoadReport(files=len(sources))
        loaded = self.loaded_hashes()
        changes = Changeset()
        seen: dict[NamedNode, Path] = {}
        for source in progress(sources):
            if isinstance(source, InputError):
                report.errors.append(source)
                continue
            if source.graph in seen:
                message = f"same file name as {seen[source.graph]}: each file name is one graph"
                report.errors.append(InputError(str(source.path), message))
                continue
            seen[source.graph] = source.path
            try:
                quads = self._changed_quads(source, loaded, report)
            except InputError as error:
                report.errors.append(error)
                continue
            if quads is not None:
                changes.graphs[source.graph] = quads
        if report.errors and not skip_invalid:
            return report  # nothing written: the store stays exactly as it was
        if changes:
            documents = self._documents_of(changes, replaced=set(loaded))
            changes.derivations.append(
                partial(same_entry_graphs, documents=documents, graph_of=self._same_entry_graph)
            )
        return self._commit(changes, report)

    def import_nexus(self, source: NexusSource) -> LoadReport:
        """Sets the Nexus graphs to the files of `source` in one validated commit, with the
        vocabulary they refer to; when the store holds these very files, nothing is written."""
        report = LoadReport(files=len(source.files))
        loaded = self.loaded_hashes()
        changes = Changeset()
        try:
            for vocabulary in self.vocabulary_sources():
                if (quads := self._changed_quads(vocabulary, loaded, report)) is not None:
                    changes.graphs[vocabulary.graph] = quads
        except InputError as error:
            report.errors.append(error)
            return report
        report.unchanged = 0  # count the Nexus files only
        expected = {self.iris.nexus_graph(f.name).value: "sha256:" + f.sha256 for f in source}
        schema = source.schema_sha256  # without a schema, no schema graph is expected
        expected[self.iris.nexus_graph(SCHEMA_GRAPH).value] = schema and "sha256:" + schema
        if all(loaded.get(graph) == value for graph, value in expected.items()):
            report.unchanged = len(source.files)
            return self._commit(changes, report)
        try:
            data = parse_nexus({f.name: f.data for f in source}, {f.name: f.origin for f in source})
            schema = read_schema(source.schema)
        except InputError as error:
            report.errors.append(error)
            return report
        if data.warnings:
            report.warnings[source.origin] = summarise(data.warnings)
        report.nexus = data
        report.entries = len(data.mitigations)
        # The files are one release: they refer to each other, so all are written together.
        changes.graphs |= nexus_quads(data, source, self.iris, profile_links(data), schema)
        return self._commit(changes, report)

    def import_ontology(self, path: Path, graph: NamedNode) -> LoadReport:
        """Loads an external ontology file, as it is, into `graph` (a kg:ImportedGraph, whose
        content kg's shapes leave alone), in one commit; unchanged content writes nothing.
        Refused, naming what is wrong: a graph under kg's base, a file of another format, and
        statements about kg's own resources or terms (kg's data is loaded, and checked, by
        `kg load`)."""
        report = LoadReport(files=1)
        try:
            self._check_imported_graph(graph)
            if path.suffix.lower() not in ONTOLOGY_SUFFIXES:
                expected = ", ".join(sorted(ONTOLOGY_SUFFIXES))
                raise InputError(str(path), f"expected an RDF file ({expected})")
            quads = self._changed_quads(Source(path, graph, Kind.RDF), self.loaded_hashes(), report)
            if quads is not None:
                self._check_foreign(path, quads)
        except InputError as error:
            report.errors.append(error)
            return report
        changes = Changeset()
        if quads is not None:
            changes.graphs[graph] = [*quads, Quad(graph, RDF.type, KG.ImportedGraph, graph)]
        return self._commit(changes, report)

    def _check_imported_graph(self, graph: NamedNode) -> None:
        if self.iris.is_own(graph.value):
            message = f"expected a graph IRI outside kg's base {self.iris.base} (its own graphs)"
            raise InputError(graph.value, message)

    def _check_foreign(self, path: Path, quads: list[Quad]) -> None:
        own = (self.iris.base, KG_NS)
        for quad in quads:
            if quad.subject != quad.graph_name and str(quad.subject.value).startswith(own):
                message = (
                    f"states {quad.subject.value} {quad.predicate.value}: an imported ontology "
                    "may not describe kg's resources or terms (load kg data with `kg load`)"
                )
                raise InputError(str(path), message)

    def remove_ontology(self, graph: NamedNode) -> LoadReport:
        """Removes an imported ontology's graph; any other graph is an InputError."""
        rows = self.store.query(
            f"ASK {{ GRAPH <{graph.value}> {{ <{graph.value}> a kg:ImportedGraph }} }}"
        )
        if not bool(rows):
            message = "no imported ontology has this graph (see `kg stats` for the graphs)"
            return LoadReport(errors=[InputError(graph.value, message)])
        return self._commit(Changeset({graph: []}), LoadReport(files=1))

    def reason(self, regime: Regime) -> LoadReport:
        """Sets the store's entailment regime and materializes what it entails (or, for none,
        removes the inference graph); later commits reason again in the same regime."""
        return self._commit(Changeset(regime_quads(self.iris, regime)), LoadReport())

    def remove_nexus(self) -> LoadReport:
        """Removes every Nexus graph (and so what the commit derives from them)."""
        prefix = self.iris.nexus_graph("").value
        graphs = [NamedNode(graph) for graph in self.loaded_hashes() if graph.startswith(prefix)]
        report = LoadReport(files=len(graphs))
        return self._commit(Changeset({graph: [] for graph in graphs}), report)

    def _commit(self, changes: Changeset, report: LoadReport) -> LoadReport:
        """Commits the changed graphs with what they derive, validated when given a validator;
        on rejection the store stays exactly as it was."""
        graphs = len(changes.graphs)
        if changes:
            # Emptied first, so that no derivation reads the last commit's inferences.
            changes.graphs.setdefault(self.iris.inference_graph(), [])
            changes.derivations.append(partial(nexus_link_graphs, iris=self.iris))
            # Last: what is inferred comes from everything, the derived graphs included.
            changes.derivations.append(partial(inference_graphs, iris=self.iris))
            if self.validator is not None:
                changes.checks.append(partial(self._validate, report=report))
        try:
            self.store.commit(changes)
        except DataRejected:
            return report  # the generation was dropped: the store stays exactly as it was
        report.committed = True
        report.quads = changes.quad_count
        report.graphs = graphs
        return report

    def _validate(self, dataset: Store, report: LoadReport) -> None:
        """Validates the dataset the commit would make live; located here, while it exists."""
        assert self.validator is not None
        validation = self.validator.validate_store(dataset).capped(self.max_results)
        validation.results = locate(validation.results, dataset, self.field_lines)
        report.validation = validation
        if not validation.conforms:
            raise DataRejected("the loaded data does not conform to the shapes")

    def _changed_quads(
        self, source: Source, loaded: dict[str, str], report: LoadReport
    ) -> list[Quad] | None:
        """The source's quads with provenance, or None when the store already has this content."""
        data = read_input(source.path, self.settings.max_file_bytes)
        digest = content_hash(data)
        if loaded.get(source.graph.value) == digest:
            report.unchanged += 1
            return None
        to_quads = self._entry_quads if source.kind is Kind.ENTRY else self._rdf_quads
        quads, warnings = to_quads(source, data)
        report.entries += source.kind is Kind.ENTRY
        if warnings:
            report.warnings[str(source.path)] = warnings
        return quads + self._provenance(source, digest)

    def _documents_of(self, changes: Changeset, replaced: set[str]) -> set[NamedNode]:
        """Documents the new graphs describe, and those the graphs they replace described."""
        documents = {
            quad.object
            for quads in changes.graphs.values()
            for quad in quads
            if quad.predicate == KG.sourceDocument and isinstance(quad.object, NamedNode)
        }
        old = [[graph] for graph in changes.graphs if graph.value in replaced]
        if old:
            values = values_block(["page"], old)
            rows = self.store.query(
                f"SELECT DISTINCT ?document WHERE {{ {values} "
                "GRAPH ?page { ?m kg:sourceDocument ?document } }"
            )
            documents.update(row["document"] for row in rows)
        return documents

    def _same_entry_graph(self, document: NamedNode) -> NamedNode:
        return self.iris.derived_graph("same-entry/" + document.value.rsplit("/", 1)[1])

    def loaded_hashes(self) -> dict[str, str]:
        """Each loaded graph's content hash; "" for a graph another kg version wrote, as it may
        have made other triples of the same file."""
        rows = self.store.query(
            "SELECT ?g ?hash ?version WHERE { GRAPH ?g { ?g kg:contentHash ?hash ; "
            "kg:loaderVersion ?version } }"
        )
        return {
            row["g"].value: row["hash"].value if row["version"].value == LOADER_VERSION else ""
            for row in rows
        }

    # --- source kinds -------------------------------------------------------------------------

    def _entry_quads(self, source: Source, data: bytes) -> tuple[list[Quad], list[str]]:
        entry = self.parser.parse_bytes(data, source.path.name)
        self.field_lines[source.path.name] = entry.lines
        return entry_quads(entry, self.iris, source.graph), entry.warnings

    def _rdf_quads(self, source: Source, data: bytes) -> tuple[list[Quad], list[str]]:
        suffix = source.path.suffix.lower().removeprefix(".")
        # Ontologies published as `.owl` are RDF/XML; other suffixes name their format.
        rdf_format = RdfFormat.RDF_XML if suffix == "owl" else RdfFormat.from_extension(suffix)
        if rdf_format == RdfFormat.RDF_XML:
            check_xml_entities(data, str(source.path), self.settings.max_file_bytes)
        try:
            triples = list(parse(data, format=rdf_format or RdfFormat.TURTLE))
        except SyntaxError as error:
            # pyoxigraph's message gives the line and column of the fault.
            raise InputError(str(source.path), f"invalid {rdf_format}: {error}") from None
        graph = source.graph
        if source.kind is Kind.RDF:
            return [Quad(t.subject, t.predicate, t.object, graph) for t in triples], []
        rebase = self.iris.rebase
        return [
            Quad(_rebased(t.subject, rebase), t.predicate, _rebased(t.object, rebase), graph)
            for t in triples
        ], []

    def _provenance(self, source: Source, digest: str) -> list[Quad]:
        return graph_provenance(source.graph, source.path.name, digest.removeprefix("sha256:"))


def _rebased(term, rebase):
    if isinstance(term, NamedNode):
        moved = rebase(term.value)
        return term if moved == term.value else NamedNode(moved)
    return term
