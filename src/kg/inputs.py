"""Input files people hand to kg, found and read so that a hostile one is an error naming it.

Whatever a folder holds — a name that is not UTF-8, a sub-folder kg may not list, a FIFO or a
device named `*.txt`, a file larger than memory, an XML entity bomb — becomes an `InputError`:
never a hang, an unbounded read or a traceback.
"""

import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path

from kg.errors import InputError
from kg.settings import DEFAULT_MAX_FILE_BYTES

#: Bytes read at a time: a file whose size is unknown or wrong costs at most this much extra.
CHUNK = 1024 * 1024


def find_input_files(paths: Iterable[Path], suffixes: set[str]) -> list[Path | InputError]:
    """Files as given, and files with one of the suffixes under folders, in a stable order.

    A folder that cannot be listed, or a file name that is not UTF-8 (it becomes the name of the
    file's graph), takes the file's place as an error, so a load can report it and stop or skip.
    """
    found: list[Path | InputError] = []
    for path in paths:
        if path.is_dir():
            found.extend(_walk(path, suffixes))
        elif os.path.lexists(path):
            found.append(name_error(path) or path)
        else:
            raise InputError(str(path), "no such file or folder")
    seen: set[Path] = set()
    unique = []
    for item in found:
        if isinstance(item, Path):
            if item in seen:
                continue
            seen.add(item)
        unique.append(item)
    return unique


def _walk(folder: Path, suffixes: set[str]) -> list[Path | InputError]:
    unlisted: list[Path | InputError] = []

    def record(error: OSError) -> None:
        # Path.rglob skips such folders silently; their files would go missing from a load.
        reason = f"cannot list this folder ({error.strerror}), expected a readable folder"
        unlisted.append(InputError(str(error.filename), reason))

    files = [
        Path(directory, name)
        for directory, _, names in os.walk(folder, onerror=record)
        for name in names
        if Path(name).suffix in suffixes
    ]
    return unlisted + [name_error(path) or path for path in sorted(files)]


def name_error(path: Path) -> InputError | None:
    """The error for a file whose name is not UTF-8 (Python holds its bytes as surrogates)."""
    try:
        path.name.encode("utf-8")
    except UnicodeEncodeError:
        reason = f"file name {path.name!r} is not UTF-8, expected a UTF-8 file name"
        return InputError(str(path.parent), reason)
    return None


def read_input(path: Path, limit: int = DEFAULT_MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file (or a link to one) of at most `limit` bytes."""
    if error := name_error(path):
        raise error
    try:
        # Checked before opening: opening a FIFO waits for a writer, a device may never end.
        _check_regular(path, os.stat(path), limit)
        # O_NONBLOCK: should the path turn into a FIFO after the check, open does not wait.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as error:
        raise InputError(str(path), f"cannot read: {error.strerror}") from None
    try:
        _check_regular(path, os.fstat(descriptor), limit)  # what was opened, not what was checked
        return _read_at_most(path, descriptor, limit)
    except OSError as error:
        raise InputError(str(path), f"cannot read: {error.strerror}") from None
    finally:
        os.close(descriptor)


def _check_regular(path: Path, status: os.stat_result, limit: int) -> None:
    if not stat.S_ISREG(status.st_mode):
        raise InputError(str(path), f"{_kind(status.st_mode)}, expected a regular file")
    if status.st_size > limit:
        raise InputError(str(path), _too_large(f"{status.st_size} bytes", limit))


def _read_at_most(path: Path, descriptor: int, limit: int) -> bytes:
    """Reads limit + 1 bytes at most: a file that grows, or whose size is wrong (as in /proc),
    cannot make kg read without end."""
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = os.read(descriptor, min(CHUNK, limit + 1 - size))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
    raise InputError(str(path), _too_large(f"more than {limit} bytes", limit))


def _too_large(size: str, limit: int) -> str:
    return f"{size}, expected a file of at most {limit} bytes (KG_MAX_FILE_BYTES)"


def _kind(mode: int) -> str:
    kinds = {
        stat.S_ISDIR: "a folder",
        stat.S_ISFIFO: "a FIFO (named pipe)",
        stat.S_ISCHR: "a character device",
        stat.S_ISBLK: "a block device",
        stat.S_ISSOCK: "a socket",
    }
    return next((name for test, name in kinds.items() if test(mode)), "not a regular file")


# --- XML entities -----------------------------------------------------------------------------

#: A declaration pyoxigraph reads (name, then a double-quoted value) whose value is plain text.
_PLAIN_ENTITY = re.compile(rb'<!ENTITY\s+[^\s%"]+\s+"([^"&%<]*)"\s*>')


def check_xml_entities(data: bytes, source: str, limit: int = DEFAULT_MAX_FILE_BYTES) -> None:
    """Refuses RDF/XML whose entities could expand without bound ("billion laughs").

    pyoxigraph expands entities declared in the DOCTYPE, nested ones included, before it could
    stop; it reads UTF-8 only, so a declaration is always the bytes `<!ENTITY`. Entities of plain
    text (such as namespace abbreviations, `<!ENTITY owl "http://www.w3.org/2002/07/owl#">`) are
    kept; each reference needs an `&`, which bounds what they can add.
    """
    declared = data.count(b"<!ENTITY")
    if not declared:
        return
    values = _PLAIN_ENTITY.findall(data)
    if len(values) != declared:
        raise InputError(
            source,
            "an XML entity that refers to other entities, or a parameter or external one, "
            "refused: expanding it could fill memory; expected entities of plain text "
            '(<!ENTITY name "value">), or none',
        )
    expansion = data.count(b"&") * max(len(value) for value in values)
    if expansion > limit:
        raise InputError(
            source,
            f"XML entities that may expand to {expansion} bytes, expected at most {limit} "
            "(KG_MAX_FILE_BYTES)",
        )
