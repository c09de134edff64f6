"""Which Nexus record a navigator entry quotes, and which NIST action a profile record quotes.

Pure functions over parsed entries and `NexusData`; no RDF. Records are joined by the text they
quote, never by number: the number in a Nexus id (`A1030_Uuk2024`) is not a navigator ID (page
A1421 quotes `A1030_Uuk2024`).

Texts are compared by `key`: NFKC, bracketed citation numbers ("[20]", "[9, 22]") dropped, then
only letters and digits, casefolded. That one rule absorbs every difference seen between the
navigator's copy and Nexus's: whitespace and line breaks, curly or straight quotes, dashes, a
final full stop the navigator drops, PDF hyphenation ("in- stances", "time-con- suming", which
the navigator prints "instances", "time-consuming"), and citations one side omits.
"""

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher

from kg.entry import Entry
from kg.nexus.records import NexusData

CITATION = re.compile(r"\s*\[\d+(?:\s*[,\u2013-]\s*\d+)*\]")
NOT_ALNUM = re.compile(r"[\W_]+")
WORD = re.compile(r"[^\W_]{3,}")

#: The shortest cut body (in `key` characters, about ten words) matched as a prefix of a record's
#: text. Openings such as "Does your organization …" or "AGI labs should …" are shared: of the
#: 814 distinct record texts, half share at most 8 leading key characters with another, 95% at
#: most 31, and only 11 share 60 or more (near-duplicates, up to 254). A cut body of 60 thus
#: rarely fits a record by chance, and one that fits several is reported ambiguous, not linked.
MIN_PREFIX = 60


def key(text: str) -> str:
    """What two copies of one quote have in common: letters and digits, casefolded, without
    citation numbers (see the module docstring)."""
    text = CITATION.sub("", unicodedata.normalize("NFKC", text))
    return NOT_ALNUM.sub("", text.casefold())


# --- navigator entries ↔ Nexus records ------------------------------------------------------


@dataclass(frozen=True)
class NavigatorLink:
    """An entry that quotes a Nexus record. `how` tells how the texts met: "exact" (same key),
    "leading" (the record's text is the body's first lines; the page goes on with commentary,
    as the Uuk2024 pages do), "prefix" (the page is cut inside the quote: its body is the start
    of the record's text). `by_document` is set when the text is in records of several documents
    and the page's source document chose this one."""

    entry: str
    record: str
    how: str
    by_document: bool = False


@dataclass(frozen=True)
class Unlinked:
    """An entry linked to nothing, why, and the records its text fits (if any)."""

    entry: str
    reason: str
    candidates: tuple[str, ...] = ()


@dataclass(frozen=True)
class LinkReport:
    links: tuple[NavigatorLink, ...]
    ambiguous: tuple[Unlinked, ...]  #: its text fits several records and nothing tells which
    unmatched: tuple[Unlinked, ...]  #: its text fits no record (or none of its source)

    def counts(self) -> dict[str, int]:
        counted = {"exact": 0, "leading": 0, "prefix": 0, "by document": 0}
        for link in self.links:
            counted[link.how] += 1
            counted["by document"] += link.by_document
        return counted | {"ambiguous": len(self.ambiguous), "unmatched": len(self.unmatched)}


@dataclass(frozen=True)
class Quote:
    """What the join needs of a navigator entry: read from a parsed page (`of`) or the store."""

    entry: str  #: the navigator ID
    body: str | None
    source_title: str | None  #: its paper's title, when the page prints it
    cut_in_body: bool  #: the page stops inside its body: nothing of a later block was read

    @classmethod
    def of(cls, entry: Entry) -> "Quote":
        later = (entry.reasoning, entry.parent_label, entry.paper, entry.lifecycle_stage)
        cut = not entry.complete and not entry.children and not entry.related
        title = entry.paper.title if entry.paper else None
        return cls(entry.id, entry.body, title, cut and later == (None,) * 4)


@dataclass(frozen=True)
class Quoted:
    """A Nexus record as the join sees it."""

    record: str  #: its Nexus id
    text: str | None
    document: str  #: its document's Nexus id
    document_name: str


def records_of(nexus: NexusData) -> list[Quoted]:
    documents = nexus.documents
    return [
        Quoted(r.id, r.text, r.document, documents[r.document].name)
        for r in nexus.mitigations.values()
    ]


def navigator_links(quotes: Iterable[Quote], records: Iterable[Quoted]) -> LinkReport:
    """Links each entry to the Nexus record whose text its body quotes, and to no other.

    The body must equal a record's text (exact), or its first lines must (leading, MIN_PREFIX key
    characters at least), or, on a page cut inside its body, be the first MIN_PREFIX or more key
    characters of it (prefix); the first of these that fits decides. When several records fit,
    only those of the page's source document are kept (its paper title against the documents'
    names, by `key`); one left is linked "by document", several (or an untold source) make the
    entry ambiguous. A page whose source is a Nexus document is never linked to another
    document's record. One whose source is not printed (a cut page) or is no Nexus document is
    linked by its text alone when exactly one record fits. A record that several entries quote is
    linked to none of them: they are ambiguous.
    """
    by_key: dict[str, list[str]] = defaultdict(list)
    document_of: dict[str, str] = {}
    documents: dict[str, str] = {}
    for record in records:
        document_of[record.record] = record.document
        documents[key(record.document_name)] = record.document
        if record.text and (text := key(record.text)):
            by_key[text].append(record.record)
    links, ambiguous, unmatched = [], [], []
    for quote in quotes:
        how, fits = _fitting(quote, by_key)
        if not fits:
            unmatched.append(Unlinked(quote.entry, how))
            continue
        source = documents.get(key(quote.source_title)) if quote.source_title else None
        kept = [r for r in fits if document_of[r] == source] if source else fits
        if source and not kept:
            reason = f"quotes records of other documents than its source {source}"
            unmatched.append(Unlinked(quote.entry, reason, tuple(fits)))
        elif len(kept) == 1:
            links.append(NavigatorLink(quote.entry, kept[0], how, len(fits) > 1))
        else:
            if source:
                told = f"{len(kept)} records of its source {source} have this text"
            else:
                count = len({document_of[r] for r in kept})
                told = f"its source is not told; {len(kept)} records of {count} document(s) fit"
            ambiguous.append(Unlinked(quote.entry, f"{how}: {told}", tuple(kept)))
    # A record is one entry: when several entries quote it, nothing tells which one it is.
    claims = Counter(link.record for link in links)
    for link in (link for link in links if claims[link.record] > 1):
        told = f"{link.how}: {claims[link.record]} entries quote {link.record}"
        ambiguous.append(Unlinked(link.entry, told, (link.record,)))
    links = [link for link in links if claims[link.record] == 1]
    return LinkReport(tuple(links), tuple(ambiguous), tuple(unmatched))


def _fitting(quote: Quote, by_key: dict[str, list[str]]) -> tuple[str, list[str]]:
    """How the body meets records' texts and which records; or why none, and no records."""
    body = key(quote.body or "")
    if not body:
        return "no body text", []
    if body in by_key:
        return "exact", by_key[body]
    lines = (quote.body or "").split("\n")
    for count in range(len(lines) - 1, 0, -1):  # the longest leading run of lines first
        lead = key("\n".join(lines[:count]))
        if len(lead) < MIN_PREFIX:  # a short first line ("Evaluate models.") fits by chance
            break
        if lead in by_key:
            return "leading", by_key[lead]
    if not quote.cut_in_body:
        return "quotes no Nexus record", []
    if len(body) < MIN_PREFIX:
        return f"cut body of {len(body)} key characters, fewer than {MIN_PREFIX}", []
    fits = [record for text, ids in by_key.items() if text.startswith(body) for record in ids]
    return ("prefix", fits) if fits else ("quotes no Nexus record", [])


# --- NIST AI 600-1 records ↔ NIST AI RMF actions -------------------------------------------

#: The least similarity (difflib ratio of the normalised texts) at which a record is linked to
#: the action it does not equal by `key`. Measured on the 203 records: 197 equal their action by
#: key; five are at 0.964-0.990, their action's text followed by words spilt from the next table
#: cell upstream ("Human-", "Property"); A0524_NIST2024 is at 0.867 against MS-2.7-009, whose
#: text lost "effective and have not" upstream. No record's second-best action scores above
#: 0.58. 0.80 links the garbled quote and is 0.22 above any wrong candidate.
LINK = 0.80
#: Links scoring below this are listed in `ProfileReport.doubtful` for a reader to look at.
CLEAN = 0.95
#: The best action must beat the runner-up by this much, or the record is left unlinked.
MARGIN = 0.10
#: How many actions, those sharing the rarest words with the record, difflib compares it with.
CANDIDATES = 3


@dataclass(frozen=True)
class ProfileLink:
    """A profile record and the action it quotes: "exact" (same `key`) or "similar" (difflib
    ratio `score` ≥ LINK), `differs` saying in words where the texts part."""

    record: str
    action: str
    how: str
    score: float
    differs: str | None = None


@dataclass(frozen=True)
class ProfileMiss:
    """A profile record linked to no action: its best candidate, that score, and why."""

    record: str
    best: str | None
    score: float
    reason: str


@dataclass(frozen=True)
class ProfileReport:
    links: tuple[ProfileLink, ...]
    unlinked: tuple[ProfileMiss, ...]

    @property
    def doubtful(self) -> tuple[ProfileLink, ...]:
        return tuple(link for link in self.links if link.score < CLEAN)


def profile_links(nexus: NexusData) -> ProfileReport:
    """Links each NIST AI 600-1 record to the RMF action whose text it quotes (see LINK).

    Equal keys are looked up; the rest are compared with difflib only against the CANDIDATES
    actions that share the most rare words with them (words weighted by 1 / the number of actions
    holding them), which keeps the run to milliseconds where comparing with every action takes
    seconds.
    """
    actions = {action.id: action.text for action in nexus.actions.values()}
    by_key = {key(text): action for action, text in actions.items()}
    holding: dict[str, set[str]] = defaultdict(set)
    for action, text in actions.items():
        for word in _words(text):
            holding[word].add(action)
    links, unlinked = [], []
    for record in nexus.profile_records.values():
        if (action := by_key.get(key(record.text))) is not None:
            links.append(ProfileLink(record.id, action, "exact", 1.0))
            continue
        weight: dict[str, float] = defaultdict(float)
        for word in _words(record.text):
            for holder in holding.get(word, ()):
                weight[holder] += 1 / len(holding[word])
        shortlist = sorted(weight, key=lambda a: (-weight[a], a))[:CANDIDATES]
        mine = _normal(record.text)
        scored = sorted(
            ((SequenceMatcher(None, mine, _normal(actions[a]), autojunk=False).ratio(), a)
             for a in shortlist),
            key=lambda pair: (-pair[0], pair[1]),
        )  # fmt: skip
        score, best = scored[0] if scored else (0.0, None)
        runner_up = scored[1][0] if len(scored) > 1 else 0.0
        if best is None or score < LINK:
            reason = f"no action's text is {LINK} similar to it"
            unlinked.append(ProfileMiss(record.id, best, round(score, 3), reason))
        elif score - runner_up < MARGIN:
            reason = f"{scored[1][1]} scores {runner_up:.3f}, within {MARGIN} of the best"
            unlinked.append(ProfileMiss(record.id, best, round(score, 3), reason))
        else:
            differs = _difference(record.text, actions[best])
            links.append(ProfileLink(record.id, best, "similar", round(score, 3), differs))
    return ProfileReport(tuple(links), tuple(unlinked))


def _normal(text: str) -> str:
    """Casefolded, with one space between words and the dashes and quotes of NFKC."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _words(text: str) -> set[str]:
    return set(WORD.findall(_normal(text)))


def _difference(record: str, action: str) -> str:
    """Where the action's text departs from the record's, word by word: "lacks 'x'", "adds 'y'",
    "'x' → 'y'"."""
    mine, theirs = record.split(), action.split()
    parts = []
    matcher = SequenceMatcher(None, [w.casefold() for w in mine], [w.casefold() for w in theirs])
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        old, new = " ".join(mine[i1:i2]), " ".join(theirs[j1:j2])
        if tag == "delete":
            parts.append(f"lacks {old!r}")
        elif tag == "insert":
            parts.append(f"adds {new!r}")
        elif tag == "replace":
            parts.append(f"{old!r} → {new!r}")
    return "; ".join(parts)
