"""Synthetic kg graphs of a chosen size, as N-Quads laid out the way the kg store keeps them.

The data mimics what `kg load` writes (see src/kg/rdfize.py and src/kg/load.py): one named graph
per entry page (`graph/file/A<id>.txt`) holding the page's mitigation, its document (title, year,
abstract, ordered authors), the entries its list names (with their heading hierarchy, `skos:broader`
between headings), its children and the file's provenance; the ontology and the real taxonomies of
ontology/ in `graph/vocabulary/<name>`; an `owl:sameAs` per document in
`graph/derived/same-entry/<document>`; and the default graph as the distinct union of all of them
(as `kg.store._replace_graphs` keeps it). Categories are the real taxonomy concepts, so
`kg:category/skos:broader*` paths reach the real top concepts.

Documents have about 50 pages each (as real sources do) and repeat their description on every
page, so named graphs hold about three quads for each triple of the merged default graph, as in
stores built from the corpus. The size asked for is the number of distinct triples of the default
graph (what a query sees); generation stops at the first page that reaches it. The output depends
only on the size and the seed.

    python bench/synth.py --triples 100000 -o bench/work/synth-100000.nq
"""

import argparse
import hashlib
import json
import random
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ONTOLOGY = ROOT / "ontology"
BASE = "https://w3id.org/airm-kg/"
KG_NS = "https://w3id.org/airm-kg/ontology#"
NAVIGATOR_PAGE = "https://www.airi-navigator.com/mitigations-v2/"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD_NS = "http://www.w3.org/2001/XMLSchema#"


def _iri(value: str) -> str:
    return f"<{value}>"


def _kg(name: str) -> str:
    return _iri(KG_NS + name)


# Terms, written as they appear in N-Quads.
TYPE = _iri(RDF_NS + "type")
SEQ = _iri(RDF_NS + "Seq")
MITIGATION, SOURCE_DOCUMENT, AUTHOR = _kg("Mitigation"), _kg("SourceDocument"), _kg("Author")
HEADING, HEADING_SCHEME = _kg("Heading"), _kg("HeadingScheme")
CATEGORY, STAGE, ACTOR, RMF = (
    _kg("category"),
    _kg("lifecycleStage"),
    _kg("actor"),
    _kg("rmfFunction"),
)
SOURCE_DOC, SOURCE_HEADING, PARENT, PARENT_LABEL = (
    _kg("sourceDocument"),
    _kg("sourceHeading"),
    _kg("parentMitigation"),
    _kg("parentLabel"),
)
QUOTATION, RATIONALE, NAVIGATOR_ID = _kg("quotation"), _kg("rationale"), _kg("navigatorId")
HEADING_PATH, IN_DOCUMENT = _kg("headingPath"), _kg("inDocument")
SOURCE_FILE, CONTENT_HASH, LOADER_VERSION = (
    _kg("sourceFile"),
    _kg("contentHash"),
    _kg("loaderVersion"),
)
LABEL = _iri("http://www.w3.org/2000/01/rdf-schema#label")
SEE_ALSO = _iri("http://www.w3.org/2000/01/rdf-schema#seeAlso")
PREF_LABEL = _iri("http://www.w3.org/2004/02/skos/core#prefLabel")
BROADER = _iri("http://www.w3.org/2004/02/skos/core#broader")
IN_SCHEME = _iri("http://www.w3.org/2004/02/skos/core#inScheme")
TITLE = _iri("http://purl.org/dc/terms/title")
CREATOR = _iri("http://purl.org/dc/terms/creator")
ISSUED = _iri("http://purl.org/dc/terms/issued")
ABSTRACT = _iri("http://purl.org/dc/terms/abstract")
AUTHOR_LIST = _iri("http://purl.org/ontology/bibo/authorList")
FOAF_NAME = _iri("http://xmlns.com/foaf/0.1/name")
FAMILY_NAME = _iri("http://xmlns.com/foaf/0.1/familyName")
GIVEN_NAME = _iri("http://xmlns.com/foaf/0.1/givenName")
PROV_ENTITY = _iri("http://www.w3.org/ns/prov#Entity")
GENERATED_AT = _iri("http://www.w3.org/ns/prov#generatedAtTime")
SAME_AS = _iri("http://www.w3.org/2002/07/owl#sameAs")
LOADER = '"kg 0.1.0"'
LOADED_AT = f'"2026-11-23T00:00:00Z"^^<{XSD_NS}dateTime>'

_WORDS = (
    "model training data safety evaluation red teaming audit access control monitoring "
    "incident response disclosure governance policy oversight risk assessment threshold "
    "capability alignment robustness interpretability fine-tuning deployment release "
    "staged rollout watermarking provenance filtering classifier refusal sandbox "
    "containment logging reporting accountability board review third-party external "
    "internal benchmark adversarial jailbreak misuse cyber biological chemical "
    "autonomy replication deception manipulation privacy security weights encryption "
    "hardware compute licensing registration standards certification transparency "
    "documentation model-card system-card whistleblower liability insurance "
    "international cooperation commitments voluntary regulator enforcement penalties "
    "human oversight escalation shutdown rollback patching vulnerability bounty "
    "uplift study elicitation scaffolding agents tools plugins retrieval dataset "
    "curation deduplication toxicity bias fairness harms societal labour market "
    "critical infrastructure election integrity content moderation user reporting"
)
_FAMILY_NAMES = (
    "Smith Chen Garcia Okafor Novak Tanaka Rossi Muller Kowalski Dubois Silva Khan Ivanova "
    "Larsen Haddad Nguyen Brown Schmidt Park Moreau Costa Fischer Yilmaz Andersen Patel"
)
_GIVEN_NAMES = (
    "Alex Maria Wei Sofia Daniel Aisha Lukas Elena Kenji Fatima Jonas Priya Omar Julia "
    "Mateo Ingrid Samuel Leila Noah Chiara"
)
WORDS, FAMILY_NAMES, GIVEN_NAMES = (_WORDS.split(), _FAMILY_NAMES.split(), _GIVEN_NAMES.split())


def _text(words: list[str]) -> str:
    return '"' + " ".join(words) + '"@en'


def _plain(value: str) -> str:
    return '"' + value + '"'


def _slug(text: str) -> str:
    """kg.vocab.slug for the lower-case ASCII words and digits this generator writes."""
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


@dataclass
class Vocabulary:
    """The real ontology and taxonomies, and the concepts a mitigation points to."""

    graphs: dict[str, list[str]]  # vocabulary graph IRI -> triples ("s p o")
    categories: list[str]  # leaf and middle mitigation categories, as N-Quads IRIs
    stages: list[str]
    actors: list[str]
    functions: list[str]


def read_vocabulary(ontology_dir: Path = ONTOLOGY) -> Vocabulary:
    from pyoxigraph import BlankNode, NamedNode, RdfFormat, parse

    files = [ontology_dir / "kg.ttl", *sorted((ontology_dir / "taxonomies").glob("*.ttl"))]
    graphs: dict[str, list[str]] = {}
    concepts: dict[str, list[str]] = {}
    broader: set[str] = set()
    blank: dict[BlankNode, str] = {}  # the parser's blank node labels are random: relabel them

    def term(node) -> str:
        if isinstance(node, BlankNode):
            return blank.setdefault(node, f"_:b{len(blank) + 1}")
        return str(node)

    for path in files:
        triples = list(parse(path=str(path), format=RdfFormat.TURTLE))
        graphs[_iri(f"{BASE}graph/vocabulary/{path.stem}")] = list(
            dict.fromkeys(f"{term(t.subject)} {t.predicate} {term(t.object)}" for t in triples)
        )
        for t in triples:
            if t.predicate.value == RDF_NS + "type" and isinstance(t.object, NamedNode):
                concepts.setdefault(t.object.value.removeprefix(KG_NS), []).append(str(t.subject))
            if t.predicate.value.endswith("core#broader"):
                broader.add(str(t.subject))
    # Entries are classified at the second and third level (x.y, x.y.z), mostly the third.
    categories = sorted(c for c in concepts["MitigationCategory"] if c in broader)
    return Vocabulary(
        graphs=graphs,
        categories=categories,
        stages=sorted(concepts["LifecycleStage"]),
        actors=sorted(concepts["Actor"]),
        functions=sorted(concepts["RmfFunction"]),
    )


@dataclass
class SynthStats:
    target_triples: int
    seed: int
    default_triples: int = 0
    quads: int = 0
    named_graphs: int = 0
    pages: int = 0
    documents: int = 0
    authors: int = 0
    seconds: float = 0.0
    #: A page's own mitigation in the middle of the data (the benchmark DESCRIBEs it).
    sample_mitigation: str = ""
    #: An author of many documents, a stage and a year that select a small share of entries.
    sample_author: str = ""
    sample_stage: str = ""
    sample_year: int = 0


class _Writer:
    """Buffers N-Quads lines; counts quads and the default graph's triples."""

    def __init__(self, output, stats: SynthStats) -> None:
        self.output = output
        self.stats = stats
        self.buffer: list[str] = []

    def graph(self, graph: str, triples: list[str]) -> None:
        self.buffer.append("".join(f"{t} {graph} .\n" for t in triples))
        self.stats.quads += len(triples)
        self.stats.named_graphs += 1

    def default(self, triples: list[str]) -> None:
        """Triples new to the default graph (the caller knows they are new)."""
        self.buffer.append("".join(f"{t} .\n" for t in triples))
        self.stats.quads += len(triples)
        self.stats.default_triples += len(triples)
        if len(self.buffer) > 2000:
            self.flush()

    def flush(self) -> None:
        self.output.write("".join(self.buffer).encode())
        self.buffer.clear()


class _Document:
    """A source document: its description and its heading tree of listed entries."""

    def __init__(self, number: int, rng: random.Random, vocab: Vocabulary, authors: list) -> None:
        title_words = rng.sample(WORDS, rng.randint(4, 9))
        title = " ".join(title_words).capitalize() + f" {number}"
        self.key = _slug(title)
        self.node = _iri(f"{BASE}document/{self.key}")
        self.year = rng.randint(2015, 2026)
        self.scheme = _iri(f"{BASE}heading/{self.key}")
        self._nodes: dict[tuple[str, ...], list[str]] = {}
        #: Triples of the lists already in the default graph.
        self.written: set[str] = set()
        d = self.node
        paper = [
            f"{d} {TYPE} {SOURCE_DOCUMENT}",
            f"{d} {TITLE} {_text([title])}",
            f'{d} {ISSUED} "{self.year}"^^<{XSD_NS}gYear>',
        ]
        if rng.random() < 0.45:
            paper.append(f"{d} {ABSTRACT} {_text(rng.choices(WORDS, k=rng.randint(20, 50)))}")
        chosen = {node: (node, triples) for node, triples in authors[: rng.randint(1, 6)]}
        self.authors = list(chosen.values())
        sequence = _iri(f"{BASE}document/{self.key}/authors")
        paper += [f"{d} {AUTHOR_LIST} {sequence}", f"{sequence} {TYPE} {SEQ}"]
        for position, (author, _) in enumerate(self.authors, 1):
            paper += [f"{d} {CREATOR} {author}", f"{sequence} <{RDF_NS}_{position}> {author}"]
        self.paper = paper
        # Heading tree: sections > subsections > listed entries. A page is an entry of one
        # subsection and lists that subsection's entries (with the sections above them).
        self.sections: list[tuple[list[str], list[str]]] = []  # (triples, own-entry parent)
        for s in range(rng.randint(2, 5)):
            section = f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} {s + 1}"
            for u in range(rng.randint(2, 4)):
                subsection = f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} {u + 1}"
                leaves = [
                    f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} {n + 1}"
                    for n in range(rng.randint(1, 3))
                ]
                self.sections.append(self._listing(rng, vocab, section, subsection, leaves))

    def _listing(self, rng, vocab: Vocabulary, section: str, subsection: str, leaves: list[str]):
        """Triples of one page's list (rdfize._listed) and the own entry's parent node."""
        triples: list[str] = []
        paths = [[section], [section, subsection]] + [[section, subsection, x] for x in leaves]
        for path in paths:
            if tuple(path) not in self._nodes:
                node = self._listed(path)
                described = [
                    f"{node} {TYPE} {MITIGATION}",
                    f"{node} {LABEL} {_text([path[-1]])}",
                    f"{node} {CATEGORY} {rng.choice(vocab.categories)}",
                ]
                if rng.random() < 0.6:
                    words = rng.choices(WORDS, k=rng.randint(8, 25))
                    described.append(f"{node} {QUOTATION} {_text(words)}")
                described.append(f"{node} {SOURCE_DOC} {self.node}")
                if len(path) > 1:
                    described.append(f"{node} {PARENT} {self._listed(path[:-1])}")
                    described += self._heading(node, path[:-1])
                self._nodes[tuple(path)] = described
            triples += self._nodes[tuple(path)]
        return list(dict.fromkeys(triples)), [section, subsection]

    def _listed(self, path: list[str]) -> str:
        return _iri(f"{BASE}mitigation/{self.key}/" + "/".join(_slug(s) for s in path))

    def heading(self, path: list[str]) -> str:
        return _iri(f"{BASE}heading/{self.key}/" + "/".join(_slug(s) for s in path))

    def _heading(self, mitigation: str, path: list[str]) -> list[str]:
        triples = [
            f"{mitigation} {SOURCE_HEADING} {self.heading(path)}",
            f"{self.scheme} {TYPE} {HEADING_SCHEME}",
            f"{self.scheme} {IN_DOCUMENT} {self.node}",
        ]
        for depth in range(1, len(path) + 1):
            heading = self.heading(path[:depth])
            triples += [
                f"{heading} {TYPE} {HEADING}",
                f"{heading} {PREF_LABEL} {_text([path[depth - 1]])}",
                f"{heading} {HEADING_PATH} {_plain(' > '.join(path[:depth]))}",
                f"{heading} {IN_SCHEME} {self.scheme}",
                f"{heading} {IN_DOCUMENT} {self.node}",
            ]
            if depth > 1:
                triples.append(f"{heading} {BROADER} {self.heading(path[: depth - 1])}")
        return triples


def generate(target_triples: int, output: Path, seed: int = 1) -> SynthStats:
    """Writes about `target_triples` distinct default-graph triples (and their named graphs)."""
    start = time.perf_counter()
    rng = random.Random(seed)
    vocab = read_vocabulary()
    stats = SynthStats(target_triples=target_triples, seed=seed)
    pages_expected = max(20, target_triples // 24)
    documents_expected = max(2, pages_expected // 50)
    author_pool = []
    for n in range(max(30, documents_expected * 2)):
        family, given = rng.choice(FAMILY_NAMES), rng.choice(GIVEN_NAMES)
        family = f"{family}{n}"
        node = _iri(f"{BASE}author/{_slug(f'{family}, {given}')}")
        author_pool.append(
            (
                node,
                [
                    f"{node} {TYPE} {AUTHOR}",
                    f"{node} {FOAF_NAME} {_plain(f'{given} {family}')}",
                    f"{node} {FAMILY_NAME} {_plain(family)}",
                    f"{node} {GIVEN_NAME} {_plain(given)}",
                ],
            )
        )
    # A few prolific authors, as in real corpora.
    weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(author_pool))]
    authors_written: set[str] = set()
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("wb") as handle:
        writer = _Writer(handle, stats)
        vocabulary_triples: set[str] = set()
        for graph, triples in vocab.graphs.items():
            writer.graph(graph, triples)
            writer.default([t for t in triples if t not in vocabulary_triples])
            vocabulary_triples.update(triples)
        page_number = 0
        while stats.default_triples < target_triples:
            document_rng = random.Random(rng.random())
            picks = document_rng.choices(range(len(author_pool)), weights=weights, k=8)
            document = _Document(
                stats.documents + 1,
                document_rng,
                vocab,
                [author_pool[i] for i in picks],
            )
            stats.documents += 1
            paper_quads = list(document.paper)
            for author, author_triples in document.authors:
                paper_quads += author_triples
                if author not in authors_written:
                    authors_written.add(author)
                    writer.default(author_triples)
            writer.default(document.paper)
            first_own = None
            for _ in range(document_rng.randint(10, 90)):
                page_number += 1
                entry_id = f"A{100000 + page_number}"
                own = _iri(f"{BASE}mitigation/{entry_id}")
                first_own = first_own or own
                graph = _iri(f"{BASE}graph/file/{entry_id}.txt")
                listed, parent_path = document_rng.choice(document.sections)
                triples = [
                    f"{own} {TYPE} {MITIGATION}",
                    f"{own} {NAVIGATOR_ID} {_plain(entry_id)}",
                    f"{own} {SEE_ALSO} <{NAVIGATOR_PAGE}{entry_id}>",
                    f"{own} {CATEGORY} {document_rng.choice(vocab.categories)}",
                    f"{own} {QUOTATION} "
                    + _text(document_rng.choices(WORDS, k=document_rng.randint(12, 60))),
                ]
                if document_rng.random() < 0.5:
                    words = document_rng.choices(WORDS, k=document_rng.randint(10, 40))
                    triples.append(f"{own} {RATIONALE} {_text(words)}")
                for predicate, values, share in (
                    (STAGE, vocab.stages, 0.3),
                    (ACTOR, vocab.actors, 0.25),
                    (RMF, vocab.functions, 0.2),
                ):
                    if document_rng.random() < share:
                        triples.append(f"{own} {predicate} {document_rng.choice(values)}")
                triples.append(f"{own} {SOURCE_DOC} {document.node}")
                if document_rng.random() < 0.45:  # the page lists its neighbours
                    triples += [
                        f"{own} {PARENT} {document._listed(parent_path)}",
                        f"{own} {SOURCE_HEADING} {document.heading(parent_path)}",
                    ]
                else:
                    triples.append(f"{own} {PARENT_LABEL} {_text([parent_path[-1] + ' area'])}")
                    listed = []
                if document_rng.random() < 0.3:
                    for n in range(document_rng.randint(1, 4)):
                        child = _iri(f"{BASE}mitigation/{entry_id}/child-{n + 1}")
                        triples += [
                            f"{child} {TYPE} {MITIGATION}",
                            f"{child} {LABEL} {_text([f'Child {n + 1} of {entry_id}'])}",
                            f"{child} {CATEGORY} {document_rng.choice(vocab.categories)}",
                            f"{child} {QUOTATION} "
                            + _text(document_rng.choices(WORDS, k=document_rng.randint(6, 20))),
                            f"{child} {SOURCE_DOC} {document.node}",
                            f"{child} {PARENT} {own}",
                        ]
                digest = hashlib.sha256(f"{seed}:{entry_id}".encode()).hexdigest()
                provenance = [
                    f"{graph} {TYPE} {PROV_ENTITY}",
                    f"{graph} {SOURCE_FILE} {_plain(entry_id + '.txt')}",
                    f"{graph} {CONTENT_HASH} {_plain('sha256:' + digest)}",
                    f"{graph} {LOADER_VERSION} {LOADER}",
                    f"{graph} {GENERATED_AT} {LOADED_AT}",
                ]
                # The page graph: its entry, the document, the list, then the provenance.
                writer.graph(graph, triples + paper_quads + listed + provenance)
                writer.default(triples + provenance)
                new = [t for t in listed if t not in document.written]
                if new:
                    document.written.update(new)
                    writer.default(new)
                stats.pages += 1
                if stats.pages == max(1, pages_expected // 2):
                    stats.sample_mitigation = own[1:-1]
                if stats.default_triples >= target_triples:
                    break
            # The derived identity graph: the first page is one of the entries it lists.
            same = [f"{first_own} {SAME_AS} {document._listed(document.sections[0][1])}"]
            writer.graph(_iri(f"{BASE}graph/derived/same-entry/{document.key}"), same)
            writer.default(same)
        writer.flush()
    if not stats.sample_mitigation:
        stats.sample_mitigation = f"{BASE}mitigation/A100001"
    stats.authors = len(authors_written)
    stats.sample_author = author_pool[0][0][1:-1]  # the most prolific
    stats.sample_stage = vocab.stages[0][1:-1]
    stats.sample_year = 2020
    stats.seconds = round(time.perf_counter() - start, 2)
    return stats


def main() -> int:
    arguments = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    arguments.add_argument("--triples", type=int, default=100_000)
    arguments.add_argument("--seed", type=int, default=1)
    arguments.add_argument("-o", "--output", type=Path, required=True)
    options = arguments.parse_args()
    stats = generate(options.triples, options.output, options.seed)
    print(json.dumps(asdict(stats), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
