"""Where the AI Atlas Nexus data comes from: its six files, read without importing the package.

IBM's `ai-atlas-nexus` (Apache-2.0) ships its data under `ai_atlas_nexus/data/`. Installing it
normally pulls in about 185 packages (torch and CUDA among them), so kg reads the data from one of:

- a folder holding the six files side by side (as `../shared/data/ai-atlas-nexus`), or a folder
  laid out like the package (an unpacked wheel, `pip install --no-deps --target DIR`);
- the wheel itself (`pip download --no-deps --require-hashes -r requirements-nexus.txt`): the
  files are read from the zip, nothing is extracted;
- an installed distribution, found through its metadata and `importlib.util.find_spec`, which
  finds the package without running its `__init__` (that imports txtai and more).

Every file read from disk goes through `kg.inputs.read_input`, and every member of a zip is read
with the same size limit. A file whose hash differs from the package's RECORD is refused.
"""

import base64
import csv
import hashlib
import importlib.metadata
import importlib.util
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import message_from_string
from email.message import Message
from pathlib import Path, PurePosixPath
from typing import Protocol

from kg.errors import InputError
from kg.inputs import read_input
from kg.settings import DEFAULT_MAX_FILE_BYTES

PACKAGE = "ai-atlas-nexus"
MODULE = "ai_atlas_nexus"
_GRAPH = f"{MODULE}/data/knowledge_graph"

#: The files kg reads, by name, with where each lives in the package (relative to site-packages).
NEXUS_FILES: dict[str, str] = {
    "mit_ai_risk_mitigation_data.yaml": f"{_GRAPH}/mit_ai_risk_mitigation_data.yaml",
    "mit_ai_risk_mitigation_mappings.tsv": f"{MODULE}/data/mappings/"
    "mit_ai_risk_mitigation_mappings.tsv",
    "mit_ai_risk_repository_data.yaml": f"{_GRAPH}/mit_ai_risk_repository_data.yaml",
    "mit_ai_risk_repository_data_controls.yaml": f"{_GRAPH}/"
    "mit_ai_risk_repository_data_controls.yaml",
    "nist_ai_rmf_actions_data.yaml": f"{_GRAPH}/nist_ai_rmf_actions_data.yaml",
    "nist_ai_rmf_data.yaml": f"{_GRAPH}/nist_ai_rmf_data.yaml",
}

#: The LinkML schema (Nexus's AI risk ontology) whose classes the records' `type`s name; a wheel,
#: an unpacked or installed package has it, a folder of the six files does not.
SCHEMA_FOLDER = f"{MODULE}/ai_risk_ontology/schema"

HOW_TO_GET = (
    "get the pinned wheel without its dependencies with `pip download --no-deps "
    "--require-hashes -r requirements-nexus.txt -d .kg/nexus` and give the .whl file, or give a "
    f"folder holding the files {', '.join(NEXUS_FILES)}"
)


class NexusNotFoundError(InputError):
    """No path was given and no `ai-atlas-nexus` is installed."""


@dataclass(frozen=True)
class Release:
    """The package the files come from: `version` and `licence` are "unknown" when not stated."""

    package: str
    version: str
    licence: str

    @property
    def iri(self) -> str | None:
        """Where this release is published: its PyPI page, or the upstream commit."""
        if re.fullmatch(r"\d+(\.\d+)+", self.version):
            return f"https://pypi.org/project/{self.package}/{self.version}/"
        if commit := re.fullmatch(r"commit ([0-9a-f]{7,40})", self.version):
            return f"https://github.com/IBM/{self.package}/commit/{commit[1]}"
        return None


@dataclass(frozen=True)
class NexusFile:
    """One data file: its bytes and where they come from."""

    name: str  #: as in NEXUS_FILES; a schema file's name in SCHEMA_FOLDER
    path: str  #: inside the package, e.g. ai_atlas_nexus/data/knowledge_graph/nist_ai_rmf_data.yaml
    origin: str  #: where it was read: a file, or `wheel.whl!member`
    data: bytes
    sha256: str  #: hex digest of `data`
    release: Release

    @property
    def package(self) -> str:
        return self.release.package

    @property
    def version(self) -> str:
        return self.release.version

    @property
    def licence(self) -> str:
        return self.release.licence


@dataclass(frozen=True)
class NexusSource:
    """The six files, in the order of NEXUS_FILES, found in `origin`: a folder, wheel or install;
    with the schema's files, by name, where the source has them."""

    kind: str  #: "folder", "wheel" or "installed"
    origin: str
    release: Release
    files: tuple[NexusFile, ...]
    schema: tuple[NexusFile, ...] = ()

    @property
    def schema_sha256(self) -> str | None:
        """One digest of the schema's files (their paths and hashes), None without a schema."""
        if not self.schema:
            return None
        listing = "".join(f"{file.path} {file.sha256}\n" for file in self.schema)
        return hashlib.sha256(listing.encode()).hexdigest()

    def __getitem__(self, name: str) -> NexusFile:
        return next(file for file in self.files if file.name == name)

    def __iter__(self) -> Iterator[NexusFile]:
        return iter(self.files)


class _Metadata(Protocol):
    def get(self, name: str, failobj: None = None) -> str | None: ...
    def get_all(self, name: str, failobj: None = None) -> list[str] | None: ...


def locate(path: Path | None = None, limit: int = DEFAULT_MAX_FILE_BYTES) -> NexusSource:
    """The Nexus data in `path` (a folder or a wheel), or in the installed package when None.

    Raises InputError naming the file and what was expected (NexusNotFoundError when nothing is
    installed); a file larger than `limit` bytes is one.
    """
    if path is None:
        return _installed(limit)
    if path.is_dir():
        if (path / MODULE).is_dir():
            return _package_folder(path, limit)
        return _flat_folder(path, limit)
    if path.exists():
        return _wheel(path, limit)
    raise InputError(str(path), f"no such file or folder; expected an {PACKAGE} wheel or a folder")


def _flat_folder(folder: Path, limit: int) -> NexusSource:
    missing = [name for name in NEXUS_FILES if not (folder / name).exists()]
    if missing:
        raise InputError(str(folder), f"missing {', '.join(missing)}; {HOW_TO_GET}")
    source = folder / "SOURCE"
    note = read_input(source, limit).decode("utf-8", "replace") if source.exists() else ""
    licence = folder / "LICENSE"
    text = read_input(licence, limit) if licence.exists() else None
    release = Release(PACKAGE, _version_in_note(note), _licence(Message(), text, note))
    files = []
    for name in NEXUS_FILES:
        data = read_input(folder / name, limit)
        files.append(_file(name, NEXUS_FILES[name], folder / name, data, release))
    return NexusSource("folder", str(folder), release, tuple(files))


def _package_folder(root: Path, limit: int) -> NexusSource:
    """A folder laid out like site-packages: an unpacked wheel, or `pip install --target`."""
    found = list(importlib.metadata.distributions(name=PACKAGE, path=[str(root)]))
    return _from_root(root, found[0] if found else None, "folder", limit)


def _installed(limit: int) -> NexusSource:
    try:
        distribution = importlib.metadata.distribution(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        distribution = None
    # find_spec of a top-level name finds the package without importing it (its __init__ is
    # heavy); a sub-package such as ai_atlas_nexus.data would run it.
    spec = importlib.util.find_spec(MODULE)
    if spec is not None and spec.submodule_search_locations:
        root = Path(next(iter(spec.submodule_search_locations))).parent
    elif distribution is not None:
        root = Path(str(distribution.locate_file("")))
    else:
        raise NexusNotFoundError(
            PACKAGE,
            f"not installed here (looked for the distribution {PACKAGE!r} and the module "
            f"{MODULE!r}); {HOW_TO_GET}",
        )
    return _from_root(root, distribution, "installed", limit)


def _from_root(
    root: Path, distribution: importlib.metadata.Distribution | None, kind: str, limit: int
) -> NexusSource:
    missing = [path for path in NEXUS_FILES.values() if not (root / path).exists()]
    if missing:
        raise InputError(str(root), f"missing {', '.join(missing)}; {HOW_TO_GET}")
    metadata: _Metadata = distribution.metadata if distribution else Message()  # type: ignore[assignment]
    licence_files = metadata.get_all("License-File") or []
    hashes: dict[Path, str] = {}  # by where the file is: the RECORD may be another copy's
    text = None
    for record in (distribution.files or []) if distribution else []:
        located = Path(str(record.locate()))
        if record.hash and record.hash.mode == "sha256":
            hashes[located] = _hex(record.hash.value)
        licence_file = record.parts[0].endswith(".dist-info") and record.name in licence_files
        if licence_file and located.is_file():
            text = read_input(located, limit)
    release = Release(PACKAGE, metadata.get("Version") or "unknown", _licence(metadata, text))

    def read(name: str, path: str) -> NexusFile:
        file = _file(name, path, root / path, read_input(root / path, limit), release)
        return _checked(file, hashes.get(root / path))

    files = [read(name, path) for name, path in NEXUS_FILES.items()]
    schema = [
        read(found.name, f"{SCHEMA_FOLDER}/{found.name}")
        for found in sorted((root / SCHEMA_FOLDER).glob("*.yaml"))
    ]
    return NexusSource(kind, str(root), release, tuple(files), tuple(schema))


#: What zipfile raises on a damaged zip: bad structure or CRC, bad deflate data, an unknown
#: version or compression method, an encrypted member, a name not UTF-8, a truncated file.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    NotImplementedError,
    RuntimeError,
    ValueError,
    EOFError,
    OSError,
)


def _wheel(wheel: Path, limit: int) -> NexusSource:
    try:
        archive = zipfile.ZipFile(io.BytesIO(read_input(wheel, limit)))
    except _ZIP_ERRORS:
        raise InputError(str(wheel), f"not a zip file; expected an {PACKAGE} wheel") from None
    with archive:
        names = set(archive.namelist())
        infos = sorted(
            PurePosixPath(name).parent
            for name in names
            if re.fullmatch(r"[^/]+\.dist-info/METADATA", name)
        )
        if len(infos) != 1 or f"{infos[0]}/WHEEL" not in names:
            expected = f"one *.dist-info folder with METADATA and WHEEL, as in a wheel of {PACKAGE}"
            raise InputError(str(wheel), f"a zip file but not a wheel; expected {expected}")
        info = infos[0]

        def member(path: str) -> bytes:
            return _member(archive, wheel, path, limit)

        metadata = message_from_string(member(f"{info}/METADATA").decode("utf-8", "replace"))
        name = re.sub(r"[-_.]+", "-", metadata.get("Name", "")).lower()
        if name != PACKAGE:
            raise InputError(str(wheel), f"a wheel of {name or 'no name'!r}; expected {PACKAGE}")
        text = next(
            (
                member(path)
                for licence_file in metadata.get_all("License-File") or []
                for path in (f"{info}/licenses/{licence_file}", f"{info}/{licence_file}")
                if path in names
            ),
            None,
        )
        release = Release(PACKAGE, metadata.get("Version", "unknown"), _licence(metadata, text))
        hashes = _record(member(f"{info}/RECORD")) if f"{info}/RECORD" in names else {}
        missing = [path for path in NEXUS_FILES.values() if path not in names]
        if missing:
            raise InputError(str(wheel), f"no {', '.join(missing)} in this wheel; {HOW_TO_GET}")

        def read(name: str, path: str) -> NexusFile:
            file = _file(name, path, f"{wheel}!{path}", member(path), release)
            return _checked(file, hashes.get(path))

        files = [read(name, path) for name, path in NEXUS_FILES.items()]
        schema = [
            read(PurePosixPath(path).name, path)
            for path in sorted(names)
            if re.fullmatch(re.escape(SCHEMA_FOLDER) + r"/[^/]+\.yaml", path)
        ]
    return NexusSource("wheel", str(wheel), release, tuple(files), tuple(schema))


def _member(archive: zipfile.ZipFile, wheel: Path, path: str, limit: int) -> bytes:
    """A zip member's bytes, refused when larger than `limit` (however its size is declared)."""
    where = f"{wheel}!{path}"
    size = archive.getinfo(path).file_size
    if size > limit:
        raise InputError(where, _too_large(f"{size} bytes", limit))
    try:
        with archive.open(path) as opened:
            data = opened.read(limit + 1)
    except _ZIP_ERRORS as error:
        reason = f"cannot read from the wheel ({error}); expected a valid zip member"
        raise InputError(where, reason) from None
    if len(data) > limit:
        raise InputError(where, _too_large(f"more than {limit} bytes", limit))
    return data


def _too_large(size: str, limit: int) -> str:
    return f"{size}, expected a file of at most {limit} bytes (KG_MAX_FILE_BYTES)"


def _file(name: str, path: str, origin: Path | str, data: bytes, release: Release) -> NexusFile:
    digest = hashlib.sha256(data).hexdigest()
    return NexusFile(name, path, str(origin), data, digest, release)


def _checked(file: NexusFile, recorded: str | None) -> NexusFile:
    if recorded is not None and recorded != file.sha256:
        raise InputError(
            file.origin,
            f"sha256 {file.sha256} differs from {recorded} in the package's RECORD; expected the "
            "file as the package ships it",
        )
    return file


def _record(data: bytes) -> dict[str, str]:
    """Path → hex sha256 from a wheel's RECORD (`path,sha256=<urlsafe base64>,size`)."""
    rows = csv.reader(io.StringIO(data.decode("utf-8", "replace")))
    return {
        row[0]: _hex(row[1].removeprefix("sha256="))
        for row in rows
        if len(row) >= 2 and row[1].startswith("sha256=")
    }


def _hex(urlsafe: str) -> str:
    return base64.urlsafe_b64decode(urlsafe + "=" * (-len(urlsafe) % 4)).hex()


def _version_in_note(note: str) -> str:
    """The version a SOURCE note states (`ai-atlas-nexus==1.2.5`, `version 1.2.5` or a commit)."""
    patterns: list[tuple[str, Callable[[re.Match[str]], str]]] = [
        (r"ai[-_]atlas[-_]nexus\s*(?:==|-|\s)\s*v?(\d+(?:\.\d+)+)", lambda m: m[1]),
        (r"\bversion\s+v?(\d+(?:\.\d+)+)", lambda m: m[1]),
        (r"\bcommit\s+([0-9a-f]{7,40})\b", lambda m: f"commit {m[1]}"),
    ]
    for pattern, version in patterns:
        if match := re.search(pattern, note, re.IGNORECASE):
            return version(match)
    return "unknown"


#: Licence classifiers kg can name as an SPDX identifier.
_CLASSIFIERS = {
    "License :: OSI Approved :: Apache Software License": "Apache-2.0",
    "License :: OSI Approved :: MIT License": "MIT",
}


def _licence(metadata: _Metadata, text: bytes | None, note: str = "") -> str:
    """An SPDX identifier from the metadata, the LICENSE text or a SOURCE note; else "unknown"."""
    for field in ("License-Expression", "License"):
        value = (metadata.get(field) or "").strip()
        if value and "\n" not in value and len(value) <= 60 and value.upper() != "UNKNOWN":
            return value
    if text and b"Apache License" in text[:400] and b"Version 2.0" in text[:400]:
        return "Apache-2.0"
    for classifier in metadata.get_all("Classifier") or []:
        if classifier in _CLASSIFIERS:
            return _CLASSIFIERS[classifier]
    if match := re.search(r"\b(Apache-2\.0|MIT|BSD-[23]-Clause|CC-BY-4\.0|CC0-1\.0)\b", note):
        return match[1]
    return "unknown"
