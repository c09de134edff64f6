"""Parses the text of a navigator mitigation entry page into an `Entry`.

The rules that shape this module: a taxonomy code ends the list item *before* it and is glued to
the start of the next line; a code is only a notation followed by its category's exact name
(section numbers in names look the same); and a page may stop anywhere.
"""

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from kg.entry import CategoryRef, Classification, Entry, ListItem, Paper
from kg.errors import NotAnEntryError
from kg.inputs import read_input
from kg.settings import DEFAULT_MAX_FILE_BYTES
from kg.taxonomy import Category, ClassificationValue, Vocabulary

BANNERS = (
    "This page is still being polished.",
    "Data on this page is preliminary and may change.",
)
REASONING = "Reasoning"
ALSO_IN = "Also in "
#: A related list shows at most this many other entries of the document.
RELATED_MAX = 6
NAVIGATOR_ID = re.compile(r"A\d+")
AUTHORS_LINE = re.compile(r"^(?P<authors>.*?)\s*\((?P<year>\d{4})\)$")
_AUTHOR = r"[^\s,;()][^,;()]{0,40}, [^,;()]{1,40}"
#: "Surname, Given; Surname, Given; … (2024)" cut anywhere after the first author's comma.
PARTIAL_AUTHORS = re.compile(
    rf"^(?:{_AUTHOR}; )*(?:{_AUTHOR}(?: \(\d{{0,4}})?|[^\s,;()][^,;()]{{0,40}},?)$"
)


@dataclass
class _Line:
    number: int
    text: str


@dataclass
class _Group:
    """Lines ended by a taxonomy code: an item's name, maybe its description (and a label first)."""

    lines: list[_Line]
    category: Category


def entry_id(file_name: str, text: str) -> str:
    """The navigator ID when the file is named after it, else a digest of the page text."""
    stem = Path(file_name).stem
    if NAVIGATOR_ID.fullmatch(stem):
        return stem
    normalized = "\n".join(line.rstrip() for line in text.strip().splitlines())
    return "c" + hashlib.sha256(normalized.encode()).hexdigest()[:12]


def decode(data: bytes, source: str) -> tuple[str, list[str]]:
    """UTF-8 text of a page; a character cut by truncation at the very end is dropped."""
    if not data.strip():
        raise NotAnEntryError(source, "empty file, expected the text of a navigator entry page")
    if b"\x00" in data:
        raise NotAnEntryError(source, "binary file (NUL bytes), expected UTF-8 text")
    try:
        return data.decode("utf-8").removeprefix("\ufeff"), []
    except UnicodeDecodeError as error:
        if error.reason == "unexpected end of data" and error.end == len(data):
            return data[: error.start].decode("utf-8"), ["last character cut mid-way, dropped"]
        line = data[: error.start].count(b"\n") + 1
        raise NotAnEntryError(
            source, f"not UTF-8 text (byte {error.start}), expected UTF-8", line
        ) from None


class PageParser:
    """Turns page text into an `Entry`, resolving codes and values against the vocabulary."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self._code = vocabulary.code_prefix
        self._by_definition = vocabulary.category_by_definition

    def parse_file(self, path: Path, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Entry:
        return self.parse_bytes(read_input(path, max_bytes), path.name)

    def parse_bytes(self, data: bytes, source_file: str) -> Entry:
        text, warnings = decode(data, source_file)
        return self.parse_text(text, source_file, warnings)

    def parse_text(self, text: str, source_file: str, warnings: list[str] | None = None) -> Entry:
        warnings = list(warnings or [])
        lines = [
            _Line(number, raw.rstrip())
            for number, raw in enumerate(text.replace("\r\n", "\n").split("\n"), 1)
        ]
        lines = [line for line in lines if line.text]
        position = self._skip_banners(lines, warnings)
        field_lines = {"category": lines[position].number} if position < len(lines) else {}
        category, position = self._category(lines, position, source_file, warnings)
        if position < len(lines):
            field_lines["body"] = lines[position].number
        body, reasoning, rest = self._body(lines, position, warnings)
        groups, tail = self._groups(rest)
        parent_label, items = self._items(groups)
        source_lines, stage, actor, function, complete = self._classification(tail, warnings)
        paper, extra = _paper(source_lines)
        if paper is not None and paper.abstract and stage is None:
            # The abstract runs to the end of a page cut before its classification: it is cut too,
            # and a partial abstract would contradict the whole one other pages print.
            paper.abstract = None
            warnings.append("abstract cut short with the page, not kept")
        list_complete = paper is not None or stage is not None
        if extra and list_complete and not groups and parent_label is None and len(extra) == 1:
            parent_label, extra = extra[0].text, []
        if extra and list_complete:
            warnings.append(f"line {extra[0].number}: unexpected text before the source title")
        elif extra:
            warnings.append(f"line {extra[0].number}: text cut inside the entry list, not parsed")
        children, related = _split_children(items, parent_label, list_complete)
        field_lines |= _field_lines(
            lines,
            reasoning=REASONING if reasoning else None,
            paper=paper.title if paper else None,
            lifecycle_stage=stage.name if stage else None,
            actor=actor.name if actor else None,
            rmf_function=function.name if function else None,
        )
        if complete and paper is None:
            warnings.append("no source document block")
        if not complete:
            missing = _missing_blocks(reasoning, paper, stage, actor, function)
            warnings.append("page is truncated; missing: " + ", ".join(missing))
        return Entry(
            id=entry_id(source_file, text),
            source_file=source_file,
            complete=complete,
            category=CategoryRef(
                category.code,
                category.name,
                self.vocabulary.parent_name(category),
                category.definition,
            ),
            body="\n".join(body),
            reasoning=reasoning,
            parent_label=parent_label,
            children=children,
            related=related,
            paper=paper,
            lifecycle_stage=stage,
            actor=actor,
            rmf_function=function,
            warnings=warnings,
            lines=field_lines,
        )

    # --- blocks 1-4: banners, category definition, "Also in" ---------------------------------

    def _skip_banners(self, lines: list[_Line], warnings: list[str]) -> int:
        position = 0
        for banner in BANNERS:
            if position < len(lines) and lines[position].text.startswith(banner):
                position += 1
        if position < len(BANNERS):
            warnings.append("navigator banner lines missing")
        return position

    def _category(
        self, lines: list[_Line], position: int, source: str, warnings: list[str]
    ) -> tuple[Category, int]:
        if position >= len(lines):
            raise NotAnEntryError(source, "no text after the banner lines")
        line = lines[position]
        category = self._by_definition.get(line.text)
        if category is None and position == len(lines) - 1 and len(line.text) >= 20:
            cut = [c for d, c in self._by_definition.items() if d.startswith(line.text)]
            category = cut[0] if len(cut) == 1 else None
        if category is None:
            raise NotAnEntryError(
                source,
                "expected the definition of a mitigation category from the taxonomy, found "
                f"{_excerpt(line.text)!r}: not a mitigation entry page",
                line.number,
            )
        position += 1
        parent_name = self.vocabulary.parent_name(category)
        if position < len(lines) and lines[position].text.startswith(ALSO_IN):
            printed = lines[position].text.removeprefix(ALSO_IN)
            if printed != parent_name:
                warnings.append(
                    f"line {lines[position].number}: 'Also in {printed}' but category "
                    f"{category.code} is under {parent_name!r}"
                )
            position += 1
        elif parent_name and position < len(lines):
            warnings.append(f"line {lines[position].number}: no 'Also in {parent_name}' line")
        return category, position

    # --- blocks 5-7: body and rationale -----------------------------------------------------

    def _body(
        self, lines: list[_Line], position: int, warnings: list[str]
    ) -> tuple[list[str], str | None, list[_Line]]:
        for index in range(position, len(lines)):
            if lines[index].text == REASONING:
                body = [line.text for line in lines[position:index]]
                reasoning = lines[index + 1].text if index + 1 < len(lines) else None
                return body, reasoning, lines[index + 2 :]
        # No "Reasoning" header: the body runs until the first list item (or to the end).
        for index in range(position, len(lines)):
            if self._code.match(lines[index].text) and index > position:
                start = index - 1
                if start > position and _looks_like_description(lines[start].text):
                    start -= 1
                warnings.append("no Reasoning block")
                return [line.text for line in lines[position:start]], None, lines[start:]
        return [line.text for line in lines[position:]], None, []

    # --- blocks 8-10: parent label, children, related entries -----------------------------------

    def _groups(self, lines: list[_Line]) -> tuple[list[_Group], list[_Line]]:
        """Splits lines at each code; what follows the last code is the tail (source, values)."""
        groups: list[_Group] = []
        pending: list[_Line] = []
        for line in lines:
            match = self._code.match(line.text)
            if match and pending:
                code = match.group().split(" ", 1)[0]
                groups.append(_Group(pending, self.vocabulary.categories[code]))
                rest = line.text[match.end() :].strip()
                pending = [_Line(line.number, rest)] if rest else []
            else:
                pending.append(line)
        return groups, pending

    def _items(self, groups: list[_Group]) -> tuple[str | None, list[ListItem]]:
        names = [group.lines[0].text for group in groups[1:]]
        parent_label = None
        items = []
        for index, group in enumerate(groups):
            texts = [line.text for line in group.lines]
            if index == 0 and len(texts) >= 2 and _is_parent_label(texts[0], texts[1], names):
                parent_label, texts = texts[0], texts[1:]
            items.append(
                ListItem(
                    name=texts[0],
                    description="\n".join(texts[1:]) or None,
                    code=group.category.code,
                    category_name=group.category.name,
                )
            )
        return parent_label, items

    # --- blocks 11-16: source, stage, actor, function -----------------------------------------

    def _classification(
        self, tail: list[_Line], warnings: list[str]
    ) -> tuple[
        list[_Line],
        Classification | None,
        Classification | None,
        Classification | None,
        bool,
    ]:
        """Finds stage, actor and function (two lines each) at the end of the page."""
        dimensions = (self.vocabulary.stages, self.vocabulary.actors, self.vocabulary.rmf_functions)
        for start in range(len(tail)):
            if tail[start].text not in self.vocabulary.stages:
                continue
            values: list[Classification | None] = []
            for offset, known in enumerate(dimensions):
                name_at, definition_at = start + 2 * offset, start + 2 * offset + 1
                if name_at >= len(tail) or tail[name_at].text not in known:
                    values.append(None)
                    continue
                value = known[tail[name_at].text]
                printed = tail[definition_at].text if definition_at < len(tail) else None
                values.append(Classification(value.name, printed))
                _check_definition(printed, value, tail, definition_at, warnings)
            if len(tail) > start + 6:
                warnings.append(
                    f"line {tail[start + 6].number}: unexpected text after the page end"
                )
            # The page is complete when it reaches its last block, the function's definition.
            complete = values[2] is not None and values[2].definition is not None
            return tail[:start], values[0], values[1], values[2], complete
        return tail, None, None, None, False


def _field_lines(lines: list[_Line], **printed: str | None) -> dict[str, int]:
    """The line of each field: the last line ending with the text that opens its block (those
    blocks follow the entry list, which may repeat a name; a title is glued to a list code)."""
    found = {}
    for name, text in printed.items():
        numbers = [line.number for line in lines if text is not None and line.text.endswith(text)]
        if numbers:
            found[name] = numbers[-1]
    return found


def _check_definition(
    printed: str | None,
    value: ClassificationValue,
    tail: list[_Line],
    at: int,
    warnings: list[str],
) -> None:
    if printed is None or value.definition is None or printed == value.definition:
        return
    if at == len(tail) - 1 and value.definition.startswith(printed):
        warnings.append(f"line {tail[at].number}: page cut inside the definition of {value.name!r}")
        return
    warnings.append(f"line {tail[at].number}: definition of {value.name!r} differs from taxonomy")


def _paper(lines: list[_Line]) -> tuple[Paper | None, list[_Line]]:
    """Title, authors (year) and abstract; returns lines before the title it could not place."""
    for index, line in enumerate(lines):
        match = AUTHORS_LINE.match(line.text)
        if match and index >= 1:
            authors = [a.strip() for a in match.group("authors").split(";") if a.strip()]
            abstract = "\n".join(line.text for line in lines[index + 1 :]) or None
            paper = Paper(lines[index - 1].text, authors, int(match.group("year")), abstract)
            return paper, lines[: index - 1]
    if len(lines) == 2 and ", " in lines[1].text[:45] and PARTIAL_AUTHORS.match(lines[1].text):
        # Cut inside the authors line: the title above it is whole.
        return Paper(lines[0].text, [], None, None), []
    # Without an authors line, trailing text may as well be an unfinished list item: keep no title.
    return None, lines


def _missing_blocks(
    reasoning: str | None,
    paper: Paper | None,
    stage: Classification | None,
    actor: Classification | None,
    function: Classification | None,
) -> list[str]:
    missing = []
    if reasoning is None:
        missing.append("reasoning")
    if paper is None:
        missing.append("source document")
    else:
        if not paper.authors:
            missing.append("authors and year")
        if paper.abstract is None:
            missing.append("abstract")
    for label, value in (
        ("lifecycle stage", stage),
        ("actor", actor),
        ("AI RMF function", function),
    ):
        if value is None:
            missing.append(label)
        elif value.definition is None:
            missing.append(f"{label} definition")
    return missing


def _looks_like_description(text: str) -> bool:
    """Descriptions are running text; names are short headings."""
    first = text[:1]
    if len(text) > 90 or first.islower() or first in ".,;:)":
        return True
    return text.endswith(".") and len(text.split()) >= 5


def _is_parent_label(first: str, second: str, later_names: list[str]) -> bool:
    """Whether the first line of the first list group is the entry's parent label.

    The alternative is an item name followed by its description. A second line that is a path, or
    the root of a later path, is a name; running text is a description; two short lines are a
    label and a name.
    """
    if " > " in second or any(name.startswith(second + " > ") for name in later_names):
        return True
    return not _looks_like_description(second)


def _split_children(
    items: list[ListItem], parent_label: str | None, list_complete: bool
) -> tuple[list[ListItem], list[ListItem]]:
    """Children (short names) come first; the related list starts at the first heading path,
    the first root of a later path, or the parent itself, and holds at most RELATED_MAX items
    (which only tells where it starts when the page shows the whole list)."""
    boundary = len(items)
    for index, item in enumerate(items):
        later = items[index + 1 :]
        if (
            " > " in item.name
            or item.name == parent_label
            or any(other.name.startswith(item.name + " > ") for other in later)
        ):
            boundary = index
            break
    if boundary == len(items):
        boundary = max(0, len(items) - RELATED_MAX) if list_complete else 0
    return items[:boundary], items[boundary:]


def _excerpt(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
