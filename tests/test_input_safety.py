"""Hostile input files: each is an error naming its path (exit 1), never a hang, a traceback, an
unbounded read or a partial load. The `kg` command runs as a real process, with a time limit (a
hang fails the test) and a memory limit (a blow-up fails it instead of the machine)."""

import errno
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SAMPLE
from pyoxigraph import Literal, NamedNode

from kg.errors import InputError
from kg.inputs import read_input
from kg.load import Loader
from kg.settings import DEFAULT_MAX_FILE_BYTES, Settings
from kg.store import OxigraphStore

KG = [sys.executable, "-m", "kg"]
SEED = SAMPLE / "001_af4fa749e00a25f6.txt"
#: Seconds a command may take: kg answers in a few; a hang waits for ever.
TIMEOUT = 60
#: Bytes of data a command may allocate: kg needs about 120 MiB; an entity bomb many GiB.
MEMORY = 2 * 1024**3


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_DATA, (MEMORY, MEMORY))


def kg(*args: str, store: Path, **env: str) -> tuple[int, str]:
    """Runs kg; returns its exit code and stderr, after checking it printed no traceback."""
    done = subprocess.run(
        [*KG, *args],
        capture_output=True,
        env={**os.environ, "KG_STORE": str(store), **env},
        timeout=TIMEOUT,
        preexec_fn=_limit_memory,
        check=False,
    )
    stderr = done.stderr.decode("utf-8", "backslashreplace")
    assert "Traceback" not in stderr, stderr
    return done.returncode, stderr


@pytest.fixture
def loaded(tmp_path: Path) -> Path:
    """A store holding the sample pages, to show a failed load leaves it as it was."""
    directory = tmp_path / "store"
    loader = Loader(Settings(store=directory), OxigraphStore(directory))
    assert loader.load(loader.vocabulary_sources() + loader.entry_sources([SAMPLE])).committed
    return directory


def state(store: Path) -> tuple[set[str], Path | None]:
    handle = OxigraphStore(store)
    quads = {str(q) for q in handle.reader().quads_for_pattern(None, None, None, None)}
    return quads, handle.live_directory


@pytest.fixture
def pages(tmp_path: Path) -> Path:
    """A folder with one good entry page, beside which each test puts a hostile file."""
    folder = tmp_path / "pages"
    folder.mkdir()
    shutil.copy(SEED, folder / "A0002.txt")
    return folder


def assert_refused(store: Path, pages: Path, hostile: Path, expected: str) -> None:
    """`kg parse`, `load` and `validate` each refuse the file, naming it; a load of its folder
    commits nothing, and with --skip-invalid commits the good page."""
    before = state(store)
    for command in (["parse", str(hostile)], ["load", str(pages)], ["validate", str(pages)]):
        code, stderr = kg(*command, store=store)
        assert code == 1, (command, stderr)
        assert f"error: {hostile}: {expected}" in stderr, (command, stderr)
    assert state(store) == before
    code, stderr = kg("load", "--skip-invalid", str(pages), store=store)
    assert code == 0, stderr
    assert f"error: {hostile}: {expected}" in stderr
    assert "1 entries loaded" in stderr


def test_fifo_is_refused_without_waiting_for_a_writer(loaded, pages):
    fifo = pages / "A0003.txt"
    os.mkfifo(fifo)
    assert_refused(loaded, pages, fifo, "a FIFO (named pipe), expected a regular file")


def test_link_to_a_device_is_refused_without_reading_it(loaded, pages):
    link = pages / "A0004.txt"
    link.symlink_to("/dev/zero")
    assert_refused(loaded, pages, link, "a character device, expected a regular file")


def test_file_over_the_size_limit_is_refused_before_reading(loaded, pages):
    sparse = pages / "A0005.txt"
    with sparse.open("wb") as output:
        output.truncate(DEFAULT_MAX_FILE_BYTES + 1)  # sparse: takes no disk space
    expected = (
        f"{DEFAULT_MAX_FILE_BYTES + 1} bytes, expected a file of at most "
        f"{DEFAULT_MAX_FILE_BYTES} bytes (KG_MAX_FILE_BYTES)"
    )
    assert_refused(loaded, pages, sparse, expected)


def test_size_limit_is_a_setting(tmp_path):
    code, stderr = kg("parse", str(SEED), store=tmp_path, KG_MAX_FILE_BYTES="1000")
    assert code == 1
    assert f"error: {SEED}: {SEED.stat().st_size} bytes, expected a file of at most 1000" in stderr


def test_file_larger_than_it_says_is_read_no_further():
    # /proc files are regular files of size 0 that hold text: the read itself must stop.
    status = Path("/proc/self/status")
    if not status.is_file():
        pytest.skip("no /proc")
    assert status.stat().st_size == 0
    assert b"Pid:" in read_input(status)
    with pytest.raises(InputError, match="more than 16 bytes, expected a file of at most 16"):
        read_input(status, 16)


def test_file_name_that_is_not_utf8_is_an_error_naming_its_folder(loaded, pages):
    with open(os.fsencode(pages) + b"/A0006\xff.txt", "wb") as output:
        output.write(SEED.read_bytes())
    expected = f"error: {pages}: file name 'A0006\\udcff.txt' is not UTF-8, expected a UTF-8"
    before = state(loaded)
    for command in ("load", "validate"):
        code, stderr = kg(command, str(pages), store=loaded)
        assert code == 1, stderr
        assert expected in stderr, stderr
    assert state(loaded) == before
    code, stderr = kg("parse", str(pages / os.fsdecode(b"A0006\xff.txt")), store=loaded)
    assert (code, expected in stderr) == (1, True), stderr
    code, stderr = kg("load", "--skip-invalid", str(pages), store=loaded)
    assert (code, expected in stderr, "1 entries loaded" in stderr) == (0, True, True), stderr


def test_unreadable_subfolder_is_an_error_not_skipped(loaded, pages, monkeypatch, capsys):
    """In process, so that as root (whom chmod 000 does not stop) listing the folder can fail
    as it would for anyone else; kg.cli.main is the `kg` command itself."""
    from kg.cli import main

    locked = pages / "more"
    locked.mkdir()
    shutil.copy(SEED, locked / "A0007.txt")
    locked.chmod(0)
    if os.geteuid() == 0:
        scandir = os.scandir

        def refusing(path="."):
            if path in (str(locked), locked):  # os.walk passes str; others may pass a fd
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(locked))
            return scandir(path)

        monkeypatch.setattr(os, "scandir", refusing)
    monkeypatch.setenv("KG_STORE", str(loaded))
    expected = f"error: {locked}: cannot list this folder (Permission denied), expected a readable"
    before = state(loaded)
    runs = [(["load"], 1), (["validate"], 1), (["load", "--skip-invalid"], 0)]
    try:
        for args, code in runs:
            monkeypatch.setattr(sys, "argv", ["kg", *args, str(pages)])
            with pytest.raises(SystemExit) as exit_code:
                main()
            stderr = capsys.readouterr().err
            assert (exit_code.value.code, expected in stderr) == (code, True), stderr
            if code == 1:
                assert state(loaded) == before
    finally:
        locked.chmod(0o755)
    assert "1 entries loaded" in stderr


def rdf_xml(entities: list[str], text: str) -> bytes:
    """An RDF/XML document stating one literal, with `ex` and the given entities declared."""
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n<!ENTITY ex "http://example.org/">\n'
        + "\n".join(entities)
        + ']>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        ' xmlns:ex="http://example.org/">\n'
        f'<rdf:Description rdf:about="&ex;a"><ex:p>{text}</ex:p></rdf:Description>\n'
        "</rdf:RDF>\n"
    ).encode()


def test_billion_laughs_is_refused_before_parsing(loaded, tmp_path):
    # Ten levels of ten references: "lol" 10**10 times, 30 GB once expanded.
    laughs = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 11)
    ]
    bomb = tmp_path / "bomb.rdf"
    bomb.write_bytes(rdf_xml(laughs, "&lol10;"))
    before = state(loaded)
    for command in ("load", "validate"):
        code, stderr = kg(command, str(bomb), store=loaded)
        assert code == 1, stderr
        assert f"error: {bomb}: an XML entity that refers to other entities" in stderr, stderr
    assert state(loaded) == before
    # Entities of plain text, as ontology editors write for namespaces, are still read.
    plain = tmp_path / "plain.rdf"
    plain.write_bytes(rdf_xml([], "&ex;"))
    code, stderr = kg("load", str(plain), store=loaded)
    assert code == 0, stderr
    quads = (
        OxigraphStore(loaded)
        .reader()
        .quads_for_pattern(NamedNode("http://example.org/a"), None, None, None)
    )
    assert {q.object for q in quads} == {Literal("http://example.org/")}


def test_quadratic_entity_expansion_is_bounded(loaded, tmp_path):
    """Plain entities cannot nest, but a long one referenced often still multiplies."""
    blowup = tmp_path / "blowup.rdf"
    blowup.write_bytes(rdf_xml([f'<!ENTITY big "{"x" * 65536}">'], "&big;" * 100))
    before = state(loaded)
    code, stderr = kg("load", str(blowup), store=loaded, KG_MAX_FILE_BYTES=str(2**20))
    assert code == 1, stderr
    assert f"error: {blowup}: XML entities that may expand to " in stderr, stderr
    assert f"expected at most {2**20} (KG_MAX_FILE_BYTES)" in stderr
    assert state(loaded) == before


def test_a_missing_path_that_looks_like_markup_is_named_as_it_is(tmp_path):
    """Rich would read `[/x]` as a closing markup tag and fail with a traceback."""
    code, stderr = kg("load", "[/x]", store=tmp_path / "store")
    assert code == 1 and "[/x]: no such file or folder" in stderr
