"""Connections to a real `kg serve` on 127.0.0.1: clients that leave, idle or slow connections,
the connection limit, error answers that stay short, and the update token given in a file.

Server T has short time limits (keep-alive, headers, body) and takes its update token from a
file; server L serves at most two connections at once. Sockets are driven by hand where a client
library would hide what is measured (when the server closes a connection)."""

import contextlib
import json
import os
import select
import socket
import subprocess
import sys
import time
from http.client import HTTPConnection

import psutil
import pytest
from served import client, copy_store, kg_server

HOST = "127.0.0.1"
TOKEN = "token-from-a-file-0123"
KEEP_ALIVE, HEADER_TIMEOUT, BODY_TIMEOUT = 1.0, 2.0, 1.5
#: Slack for the server to act after a time limit, and for the test machine to notice.
LATE = 1.5
MAX_CONNECTIONS = 2
INSERT = "INSERT DATA { GRAPH <http://example.org/g> { <http://example.org/s> <http://example.org/p> 1 } }"


@pytest.fixture(scope="module")
def token_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("secrets") / "update-token"
    path.write_text(TOKEN + "\n", encoding="utf-8")  # the newline is not part of the token
    path.chmod(0o600)
    return path


@pytest.fixture(scope="module")
def server_t(sample_store, token_file, tmp_path_factory):
    store = copy_store(sample_store, tmp_path_factory.mktemp("t") / "store")
    env = {
        "KG_KEEP_ALIVE": str(KEEP_ALIVE),
        "KG_HEADER_TIMEOUT": str(HEADER_TIMEOUT),
        "KG_BODY_TIMEOUT": str(BODY_TIMEOUT),
    }
    with kg_server(store, "--update-token-file", str(token_file), env=env) as running:
        yield running


@pytest.fixture(scope="module")
def server_l(sample_store):
    env = {"KG_MAX_CONNECTIONS": str(MAX_CONNECTIONS), "KG_KEEP_ALIVE": "30"}
    with kg_server(sample_store, env=env) as running:
        yield running


def connect(server) -> socket.socket:
    return socket.create_connection((HOST, server.port), timeout=5)


def seconds_until_closed(sock: socket.socket, limit: float) -> float | None:
    """Seconds until the server closes `sock` (reading and dropping what it sends), or None if
    it is still open after `limit` seconds."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        readable, _, _ = select.select([sock], [], [], 0.1)
        if readable:
            try:
                if sock.recv(65536) == b"":
                    return time.monotonic() - started
            except ConnectionResetError:
                return time.monotonic() - started
    return None


def parse_answer(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names) and body of one HTTP/1.1 answer read off a socket."""
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


def get(connection: HTTPConnection, path: str = "/health") -> int:
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    return response.status


def access_lines(stderr: str) -> list[dict]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


# --- clients that leave ------------------------------------------------------------------------


def test_a_client_leaving_during_its_body_is_one_access_line_without_traceback(server_t):
    """The body announces 1000 bytes, 6 come, then the client closes: one line, status 499."""
    before = len(server_t.stderr())
    with connect(server_t) as sock:
        sock.sendall(
            b"POST /sparql HTTP/1.1\r\nHost: kg\r\nContent-Type: application/sparql-query\r\n"
            b"Content-Length: 1000\r\n\r\nASK {}"
        )
        time.sleep(0.3)  # the request has reached the handler, which waits for the body
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and '"POST"' not in server_t.stderr()[before:]:
        time.sleep(0.1)
    time.sleep(0.3)  # anything else the server would log about it
    logged = server_t.stderr()[before:]
    assert "Traceback" not in logged
    posts = [e for e in access_lines(logged) if e["method"] == "POST"]  # not the readiness GETs
    assert [(e["path"], e["status"]) for e in posts] == [("/sparql", 499)]


# --- idle and slow connections -----------------------------------------------------------------


def test_an_idle_kept_alive_connection_is_closed_after_the_keep_alive_time(server_t):
    connection = HTTPConnection(HOST, server_t.port, timeout=5)
    assert get(connection) == 200
    closed_after = seconds_until_closed(connection.sock, limit=KEEP_ALIVE + 5)
    connection.close()
    assert closed_after is not None and KEEP_ALIVE - 0.3 < closed_after < KEEP_ALIVE + LATE


def test_a_connection_that_sends_nothing_is_closed_after_the_header_timeout(server_t):
    with connect(server_t) as sock:
        closed_after = seconds_until_closed(sock, limit=HEADER_TIMEOUT + 5)
    assert closed_after is not None and HEADER_TIMEOUT - 0.3 < closed_after < HEADER_TIMEOUT + LATE


def test_headers_sent_a_byte_at_a_time_are_cut_at_the_header_timeout(server_t):
    """Slowloris: a header byte every 0.5 s keeps the connection busy but never completes it."""
    with connect(server_t) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: kg\r\nX-Slow: ")
        closed_after = None
        while closed_after is None and time.monotonic() - started < HEADER_TIMEOUT + 5:
            try:
                sock.sendall(b"x")
            except (BrokenPipeError, ConnectionResetError):
                closed_after = time.monotonic() - started
                break
            if seconds_until_closed(sock, limit=0.5) is not None:
                closed_after = time.monotonic() - started
    assert closed_after is not None and HEADER_TIMEOUT - 0.3 < closed_after < HEADER_TIMEOUT + LATE


def test_a_body_sent_too_slowly_gets_408_and_the_connection_closes(server_t):
    """100 bytes announced, one sent every 0.3 s: the body would take 30 s."""
    received = b""
    with connect(server_t) as sock:
        started = time.monotonic()
        sock.sendall(
            b"POST /sparql HTTP/1.1\r\nHost: kg\r\nContent-Type: application/sparql-query\r\n"
            b"Content-Length: 100\r\n\r\n"
        )
        closed_after = None
        while closed_after is None and time.monotonic() - started < BODY_TIMEOUT + 5:
            try:
                sock.sendall(b" ")
                readable, _, _ = select.select([sock], [], [], 0.3)
                if readable:
                    chunk = sock.recv(65536)
                    received += chunk
                    if not chunk:
                        closed_after = time.monotonic() - started
            except (BrokenPipeError, ConnectionResetError):  # closed: seen when writing first
                closed_after = time.monotonic() - started
                with contextlib.suppress(OSError):
                    received += sock.recv(65536)
    assert received, "no answer: the server still waits for the body"
    status, headers, body = parse_answer(received)
    assert status == 408 and headers["connection"] == "close"
    assert body.decode() == f"the request body did not arrive within {BODY_TIMEOUT:g} s\n"
    assert closed_after is not None and closed_after < BODY_TIMEOUT + LATE


# --- the connection limit ----------------------------------------------------------------------


def test_a_request_over_the_connection_limit_gets_503_while_the_others_are_served(server_l):
    held = [HTTPConnection(HOST, server_l.port, timeout=5) for _ in range(MAX_CONNECTIONS)]
    try:
        assert [get(connection) for connection in held] == [200] * MAX_CONNECTIONS
        extra = HTTPConnection(HOST, server_l.port, timeout=5)
        assert get(extra) == 503
        extra.close()
        time.sleep(0.2)  # the server closed the refused connection; it counts until then
        assert [get(connection) for connection in held] == [200] * MAX_CONNECTIONS
        held.pop().close()  # one place is free again once the server sees the close
        statuses = []
        deadline = time.monotonic() + 3
        while 200 not in statuses and time.monotonic() < deadline:
            time.sleep(0.1)
            later = HTTPConnection(HOST, server_l.port, timeout=5)
            statuses.append(get(later))
            later.close()
        assert statuses[-1] == 200, statuses
    finally:
        for connection in held:
            connection.close()


# --- short error answers -----------------------------------------------------------------------


def test_a_406_answer_does_not_repeat_a_huge_accept_header(server_t):
    accept = "text/" + "x" * 50_000
    with client(server_t) as http:
        response = http.get("/sparql", params={"query": "SELECT * {}"}, headers={"Accept": accept})
    assert response.status_code == 406
    assert len(response.content) < 500
    assert response.text.startswith("cannot answer this solutions result as 'text/xxx")
    assert f"({len(accept)} characters)" in response.text


def test_headers_over_the_limit_get_431_and_the_connection_closes(server_t):
    with client(server_t) as http:
        response = http.get("/health", headers={"Accept": "text/" + "x" * 100_000})
        assert response.status_code == 431 and len(response.content) < 200
        assert http.get("/health").status_code == 200  # a new connection is served


def test_a_body_read_with_its_headers_does_not_count_as_headers(server_t):
    """Headers and a 200 KB body in one write: the body is no header (no 431)."""
    query = b"ASK {} #" + b"a" * 200_000
    head = (
        b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
        b"Accept: application/sparql-results+json\r\nConnection: close\r\n"
        b"Content-Length: %d\r\n\r\n" % len(query)
    )
    with socket.create_connection(("127.0.0.1", server_t.port), timeout=10) as connection:
        connection.sendall(head + query)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    status, _, body = answer.partition(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 200") and json.loads(body)["boolean"] is True


def test_a_form_with_too_many_parameters_is_refused_before_it_is_parsed(server_t):
    with client(server_t) as http:
        response = http.post(
            "/sparql",
            content=b"query=ASK%7B%7D&" + b"a=&" * 300_000,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 400 and "more than 1000 parameters" in response.text


# --- the update token in a file ----------------------------------------------------------------


def test_the_token_of_the_token_file_enables_updates(server_t):
    ask = {"query": "ASK { <http://example.org/s> <http://example.org/p> 1 }"}
    with client(server_t) as http:
        denied = http.post(
            "/sparql",
            content=INSERT,
            headers={"Content-Type": "application/sparql-update", "Authorization": "Bearer x"},
        )
        assert denied.status_code == 401
        assert http.get("/sparql", params=ask).json()["boolean"] is False
        written = http.post(
            "/sparql",
            content=INSERT,
            headers={
                "Content-Type": "application/sparql-update",
                "Authorization": f"Bearer {TOKEN}",
            },
        )
        assert written.status_code == 204, written.text
        assert http.get("/sparql", params=ask).json()["boolean"] is True


def test_the_token_is_not_in_any_server_process_command_line(server_t, token_file):
    root = psutil.Process(server_t.pid)
    command_lines = [p.cmdline() for p in [root, *root.children(recursive=True)]]
    assert str(token_file) in root.cmdline()
    assert not [line for line in command_lines if any(TOKEN in arg for arg in line)]


@pytest.mark.parametrize(
    "problem", ["missing", "empty", "short", "directory", "fifo", "device", "and a token"]
)
def test_an_unusable_token_file_is_a_usage_error_naming_it(tmp_path, problem):
    path = tmp_path / "token"
    if problem == "empty":
        path.write_text("\n", encoding="utf-8")
    elif problem == "short":
        path.write_text("short\n", encoding="utf-8")
    elif problem == "directory":
        path.mkdir()
    elif problem == "fifo":  # reading it would wait for a writer for ever
        os.mkfifo(path)
    elif problem == "device":  # reading it would never end
        path.symlink_to("/dev/zero")
    elif problem == "and a token":
        path.write_text(TOKEN, encoding="utf-8")
    options = ["--update-token-file", str(path)]
    if problem == "and a token":
        options += ["--update-token", "another-token-0123"]
    done = subprocess.run(
        [sys.executable, "-m", "kg", "--store", str(tmp_path / "store"), "serve", *options],
        capture_output=True,
        timeout=60,
        check=False,
    )
    message = done.stderr.decode()
    assert done.returncode == 2, message
    assert TOKEN not in message and "another-token-0123" not in message
    if problem == "and a token":
        assert "not both" in message and "--update-token-file" in message
    else:
        assert str(path) in message
