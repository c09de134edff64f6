"""Finding the AI Atlas Nexus data (kg.nexus.package) in a folder, a wheel or an installed package,
without running the package; bad input is an InputError naming the file and what was expected.

Wheels and installs are built here with `zipfile` from tiny inline files, or from ../shared's copies
under the package's real paths: no network.
"""

import base64
import hashlib
import importlib
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from kg.errors import InputError
from kg.nexus.package import NEXUS_FILES, PACKAGE, NexusNotFoundError, locate

VERSION = "1.2.5"
INFO = f"ai_atlas_nexus-{VERSION}.dist-info"
APACHE = b"                                 Apache License\n                           Version 2.0, January 2004\n"
#: The SHA-256 of each file in the pinned wheel (requirements-nexus.txt), equal to ../shared's.
PINNED = {
    "mit_ai_risk_mitigation_data.yaml": "92bdb6e55bedb398861f3135c61be9aaf8efae9ed4960c9228095d7e02b75179",
    "mit_ai_risk_mitigation_mappings.tsv": "5765470eb5f8e891f5953b2f85592b35a8c1a8f297d6e54cddd695af32e8248b",
    "mit_ai_risk_repository_data.yaml": "4c42bcaa442f778747309d4ad676cc7d7144dc9b876244415e1f7f306584c3d4",
    "mit_ai_risk_repository_data_controls.yaml": "ff4d6cbf4daa49d65226a4fb2668f63dd1a6312018c6e8344c70b822ed050621",
    "nist_ai_rmf_actions_data.yaml": "eddbd1f02dc45ee74deb979d530e282cfcbec548fda07a089785279132c26423",
    "nist_ai_rmf_data.yaml": "4ed40465775b21765de8e6f9ced4cab60b9d24d5499f99677c24c5ceff084990",
}
TINY = {name: f"# {name}\n".encode() for name in NEXUS_FILES}


def package_members(files: dict[str, bytes], name: str = PACKAGE) -> dict[str, bytes]:
    """The members of a wheel of the package holding `files` (by NEXUS_FILES name), with a RECORD.

    Its `__init__` raises: finding the data must never run it (the real one imports txtai)."""
    members = {
        "ai_atlas_nexus/__init__.py": b"raise RuntimeError('ai_atlas_nexus/__init__ ran')\n",
        **{NEXUS_FILES[file]: data for file, data in files.items()},
        f"{INFO}/METADATA": (
            f"Metadata-Version: 2.4\nName: {name}\nVersion: {VERSION}\n"
            "Classifier: License :: OSI Approved :: Apache Software License\n"
            "License-File: LICENSE\nRequires-Dist: torch\n"
        ).encode(),
        f"{INFO}/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{INFO}/licenses/LICENSE": APACHE,
    }
    record = [f"{path},sha256={_b64(data)},{len(data)}" for path, data in members.items()]
    members[f"{INFO}/RECORD"] = "\n".join([*record, f"{INFO}/RECORD,,", ""]).encode()
    return members


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def write_tree(root: Path, members: dict[str, bytes]) -> Path:
    """The members unpacked under `root`, as pip installs a wheel into site-packages."""
    for name, data in members.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def write_flat(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def wheel_path(tmp_path: Path) -> Path:
    return tmp_path / f"ai_atlas_nexus-{VERSION}-py3-none-any.whl"


@pytest.fixture(scope="module")
def shared_nexus(shared: Path) -> Path:
    return shared / "data" / "ai-atlas-nexus"


# --- the shared copies: a folder, and the same files in a wheel ------------------------------


@pytest.mark.shared
def test_the_shared_folder_holds_the_pinned_files(shared_nexus: Path) -> None:
    source = locate(shared_nexus)
    assert (source.kind, source.origin) == ("folder", str(shared_nexus))
    assert [file.name for file in source] == list(NEXUS_FILES)
    assert {file.name: file.sha256 for file in source} == PINNED
    for file in source:
        assert file.data == (shared_nexus / file.name).read_bytes()
        assert file.sha256 == hashlib.sha256(file.data).hexdigest()
        assert file.path == NEXUS_FILES[file.name]
        assert file.origin == str(shared_nexus / file.name)
    # Its SOURCE names a commit, not a release; its LICENSE is Apache 2.0.
    assert (source.release.package, source.release.version) == (PACKAGE, "commit a8af9d79")
    assert source["nist_ai_rmf_data.yaml"].licence == "Apache-2.0"


@pytest.mark.shared
def test_a_wheel_gives_the_same_bytes_and_hashes_as_the_folder(
    shared_nexus: Path, tmp_path: Path
) -> None:
    files = {name: (shared_nexus / name).read_bytes() for name in NEXUS_FILES}
    wheel = write_zip(wheel_path(tmp_path), package_members(files))
    from_wheel, from_folder = locate(wheel), locate(shared_nexus)
    assert from_wheel.kind == "wheel"
    assert [(f.name, f.data, f.sha256) for f in from_wheel] == [
        (f.name, f.data, f.sha256) for f in from_folder
    ]
    nist = from_wheel["nist_ai_rmf_data.yaml"]
    assert (nist.package, nist.version, nist.licence) == (PACKAGE, VERSION, "Apache-2.0")
    assert nist.path == "ai_atlas_nexus/data/knowledge_graph/nist_ai_rmf_data.yaml"
    assert nist.origin == f"{wheel}!{nist.path}"
    tsv = from_wheel["mit_ai_risk_mitigation_mappings.tsv"]
    assert tsv.path == "ai_atlas_nexus/data/mappings/mit_ai_risk_mitigation_mappings.tsv"


# --- a folder --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("note", "version", "licence"),
    [
        (None, "unknown", "unknown"),
        (b"IBM/ai-atlas-nexus commit a8af9d79 (Apache-2.0)", "commit a8af9d79", "Apache-2.0"),
        (b"from the wheel ai-atlas-nexus==1.2.5", "1.2.5", "unknown"),
        (b"AI Atlas Nexus, version 1.2.4, MIT", "1.2.4", "MIT"),
    ],
)
def test_a_bare_folder_is_of_unknown_version_unless_its_source_says(
    tmp_path: Path, note: bytes | None, version: str, licence: str
) -> None:
    folder = write_flat(tmp_path / "nexus", TINY)
    if note is not None:
        (folder / "SOURCE").write_bytes(note)
    source = locate(folder)
    assert (source.release.version, source.release.licence) == (version, licence)
    assert [file.data for file in source] == list(TINY.values())


def test_a_licence_file_beside_the_files_names_the_licence(tmp_path: Path) -> None:
    folder = write_flat(tmp_path / "nexus", {**TINY, "LICENSE": APACHE})
    assert locate(folder).release.licence == "Apache-2.0"


def test_a_folder_laid_out_like_the_package_reads_its_metadata(tmp_path: Path) -> None:
    """An unpacked wheel, or `pip install --no-deps --target DIR`."""
    root = write_tree(tmp_path / "target", package_members(TINY))
    source = locate(root)
    assert (source.kind, source.release.version, source.release.licence) == (
        "folder",
        VERSION,
        "Apache-2.0",
    )
    assert source["nist_ai_rmf_data.yaml"].origin == str(
        root / NEXUS_FILES["nist_ai_rmf_data.yaml"]
    )
    assert "ai_atlas_nexus" not in sys.modules


def test_a_folder_missing_files_names_them(tmp_path: Path) -> None:
    files = dict(TINY)
    del files["nist_ai_rmf_data.yaml"], files["mit_ai_risk_mitigation_mappings.tsv"]
    folder = write_flat(tmp_path / "nexus", files)
    with pytest.raises(InputError) as raised:
        locate(folder)
    assert raised.value.source == str(folder)
    assert raised.value.reason.startswith(
        "missing mit_ai_risk_mitigation_mappings.tsv, nist_ai_rmf_data.yaml;"
    )
    assert "requirements-nexus.txt" in raised.value.reason


def test_a_file_over_the_size_limit_is_named(tmp_path: Path) -> None:
    folder = write_flat(tmp_path / "nexus", {**TINY, "nist_ai_rmf_data.yaml": b"x" * 101})
    with pytest.raises(InputError) as raised:
        locate(folder, limit=100)
    assert raised.value.source == str(folder / "nist_ai_rmf_data.yaml")
    assert "expected a file of at most 100 bytes (KG_MAX_FILE_BYTES)" in raised.value.reason


def test_a_folder_in_place_of_a_file_is_named(tmp_path: Path) -> None:
    folder = write_flat(
        tmp_path / "nexus", {k: v for k, v in TINY.items() if k != "nist_ai_rmf_data.yaml"}
    )
    (folder / "nist_ai_rmf_data.yaml").mkdir()
    with pytest.raises(InputError, match="a folder, expected a regular file") as raised:
        locate(folder)
    assert raised.value.source == str(folder / "nist_ai_rmf_data.yaml")


def test_a_missing_path_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or folder") as raised:
        locate(tmp_path / "absent.whl")
    assert raised.value.source == str(tmp_path / "absent.whl")


# --- a wheel ---------------------------------------------------------------------------------


def test_a_file_that_is_not_a_zip(tmp_path: Path) -> None:
    wheel = wheel_path(tmp_path)
    wheel.write_bytes(b"<html>not found</html>")
    with pytest.raises(
        InputError, match="not a zip file; expected an ai-atlas-nexus wheel"
    ) as raised:
        locate(wheel)
    assert raised.value.source == str(wheel)


def test_a_zip_that_is_not_a_wheel(tmp_path: Path) -> None:
    """The six files zipped flat: no *.dist-info, so no version or licence to record."""
    wheel = write_zip(tmp_path / "nexus.zip", TINY)
    with pytest.raises(InputError, match="a zip file but not a wheel; expected one") as raised:
        locate(wheel)
    assert raised.value.source == str(wheel)


def test_a_wheel_of_another_package(tmp_path: Path) -> None:
    wheel = write_zip(wheel_path(tmp_path), package_members(TINY, name="ai_atlas_other"))
    with pytest.raises(InputError, match="a wheel of 'ai-atlas-other'; expected ai-atlas-nexus"):
        locate(wheel)


@pytest.mark.parametrize("missing", list(NEXUS_FILES))
def test_a_wheel_missing_a_file_names_it(tmp_path: Path, missing: str) -> None:
    files = {name: data for name, data in TINY.items() if name != missing}
    wheel = write_zip(wheel_path(tmp_path), package_members(files))
    with pytest.raises(InputError) as raised:
        locate(wheel)
    assert raised.value.source == str(wheel)
    assert raised.value.reason.startswith(f"no {NEXUS_FILES[missing]} in this wheel;")


def test_a_wheel_member_over_the_size_limit_is_named(tmp_path: Path) -> None:
    # Deflated, the member is small: its declared size is what counts.
    big = {**TINY, "nist_ai_rmf_actions_data.yaml": b"x" * 5000}
    wheel = write_zip(wheel_path(tmp_path), package_members(big))
    assert wheel.stat().st_size < 4000
    with pytest.raises(InputError) as raised:
        locate(wheel, limit=4000)
    path = NEXUS_FILES["nist_ai_rmf_actions_data.yaml"]
    assert raised.value.source == f"{wheel}!{path}"
    assert raised.value.reason.startswith("5000 bytes, expected a file of at most 4000 bytes")


def test_a_wheel_over_the_size_limit_is_named(tmp_path: Path) -> None:
    wheel = write_zip(wheel_path(tmp_path), package_members(TINY))
    with pytest.raises(InputError, match="expected a file of at most 100 bytes") as raised:
        locate(wheel, limit=100)
    assert raised.value.source == str(wheel)


def test_a_member_unlike_the_wheels_record_is_refused(tmp_path: Path) -> None:
    members = package_members(TINY)
    path = NEXUS_FILES["nist_ai_rmf_data.yaml"]
    members[path] = b"# edited after the wheel was built\n"
    wheel = write_zip(wheel_path(tmp_path), members)
    with pytest.raises(InputError, match="differs from .* in the package's RECORD") as raised:
        locate(wheel)
    assert raised.value.source == f"{wheel}!{path}"


def test_a_damaged_wheel_is_an_input_error(tmp_path: Path) -> None:
    """Every cut and every flipped byte: an InputError naming the wheel or a member, or (for a
    byte zip does not check, such as a timestamp) the same data as before."""
    good = write_zip(wheel_path(tmp_path), package_members(TINY))
    expected = [file.data for file in locate(good)]
    data = good.read_bytes()
    damaged = tmp_path / "damaged.whl"
    for offset in range(0, len(data), 7):
        for variant in (
            data[:offset],
            data[:offset] + bytes([data[offset] ^ 0xFF]) + data[offset + 1 :],
        ):
            damaged.write_bytes(variant)
            try:
                source = locate(damaged)
            except InputError as error:
                assert error.source.startswith(str(damaged)), error
            else:
                assert [file.data for file in source] == expected


# --- an installed package --------------------------------------------------------------------


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A site-packages folder on sys.path, empty until a test installs into it."""
    folder = tmp_path / "site-packages"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    sys.modules.pop("ai_atlas_nexus", None)
    importlib.invalidate_caches()


def test_the_installed_package_is_found_without_running_it(site: Path) -> None:
    write_tree(site, package_members(TINY))
    importlib.invalidate_caches()
    source = locate(None)
    assert "ai_atlas_nexus" not in sys.modules  # its __init__ raises: it did not run
    assert (source.kind, source.origin) == ("installed", str(site))
    assert (source.release.version, source.release.licence) == (VERSION, "Apache-2.0")
    assert [(file.name, file.data) for file in source] == list(TINY.items())
    nist = source["nist_ai_rmf_data.yaml"]
    assert nist.origin == str(site / NEXUS_FILES["nist_ai_rmf_data.yaml"])
    with pytest.raises(RuntimeError, match="__init__ ran"):
        importlib.import_module("ai_atlas_nexus")  # the fake is live: finding it did not import


def test_an_installed_file_unlike_its_record_is_refused(site: Path) -> None:
    write_tree(site, package_members(TINY))
    edited = site / NEXUS_FILES["mit_ai_risk_repository_data.yaml"]
    edited.write_bytes(b"# edited in site-packages\n")
    importlib.invalidate_caches()
    with pytest.raises(InputError, match="in the package's RECORD") as raised:
        locate(None)
    assert raised.value.source == str(edited)


def test_nothing_installed_says_what_was_looked_for_and_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "path", [str(tmp_path)])
    importlib.invalidate_caches()
    with pytest.raises(NexusNotFoundError) as raised:
        locate(None)
    assert raised.value.source == PACKAGE
    reason = raised.value.reason
    assert "distribution 'ai-atlas-nexus' and the module 'ai_atlas_nexus'" in reason
    assert "pip download --no-deps --require-hashes -r requirements-nexus.txt" in reason
    assert all(name in reason for name in NEXUS_FILES)
