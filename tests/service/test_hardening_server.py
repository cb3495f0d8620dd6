"""The guard against a real server: a body is not read before the caller is known, and a failure
leaves the connection usable."""

import socket

import pytest

from service.main import create_app
from service.reports import router as reports_router
from tests.service.conftest import KEYS, live_server, make_settings, migrated_database


@pytest.fixture(scope="module")
def server(scorer, tmp_path_factory):
    url = migrated_database("sqlite", tmp_path_factory)
    app = create_app(make_settings(url, tmp_path_factory.mktemp("data")), scorer=scorer)
    with live_server(app) as base:
        yield int(base.rsplit(":", 1)[1])


def _read_response(sock: socket.socket) -> bytes:
    sock.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    while len(rest) < length:
        rest += sock.recv(65536)
    return head + b"\r\n\r\n" + rest[:length]


def test_an_unknown_caller_is_answered_before_its_chunked_body_is_sent(server):
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.sendall(
            b"POST /v1/claims HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + b"10000\r\n" + b" " * 0x10000 + b"\r\n"
        )
        # Only 64 KB of a body that could go on for ever: the answer comes without the rest.
        response = _read_response(sock)
    assert response.startswith(b"HTTP/1.1 401") and b"application/problem+json" in response


def test_a_failure_answers_a_problem_and_the_connection_serves_the_next_request(server, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(reports_router, "reserves_report", broken)
    request = (
        b"GET /v1/reports/reserves HTTP/1.1\r\nHost: x\r\nX-API-Key: "
        + KEYS["analyst"].encode()
        + b"\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.sendall(request)
        first = _read_response(sock)
        monkeypatch.undo()
        sock.sendall(request)  # the same connection, kept alive
        second = _read_response(sock)
    assert first.startswith(b"HTTP/1.1 500") and b"application/problem+json" in first
    assert b'"code":"internal_error"' in first and b"a bug" not in first
    assert second.startswith(b"HTTP/1.1 200") and b'"outstanding_reserve"' in second
