"""The emulators defend themselves: timeouts, body limits, bad lengths, CSRF, rebinding, IPv6."""

from __future__ import annotations

import http.client
import json
import socket
import time

import hvac
import pytest

from box_secrets.emulator._box import BoxEmulator
from box_secrets.emulator._vault import VaultEmulator


@pytest.fixture(params=["box", "vault"])
def served(request):  # type: ignore[no-untyped-def]
    emulator = BoxEmulator() if request.param == "box" else VaultEmulator()
    with emulator:
        control = "/_console/apps" if request.param == "box" else "/_emulator/tokens"
        yield emulator, control


def _raw(url: str, payload: bytes, timeout: float = 5) -> bytes:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout) as sock:
        sock.sendall(payload)
        chunks = []
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except TimeoutError:
            pass
        return b"".join(chunks)


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


@pytest.mark.parametrize("length", ["abc", "-5", "1e3", ""])
def test_a_bad_content_length_is_400(served, length: str) -> None:
    emulator, _ = served
    answer = _raw(
        emulator.base_url,
        f"POST /oauth2/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {length}\r\n\r\n".encode(),
    )
    assert _status(answer) == 400


def test_a_huge_body_is_413_before_it_is_read(served) -> None:
    emulator, _ = served
    started = time.monotonic()
    answer = _raw(
        emulator.base_url,
        b"POST /oauth2/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10000000000\r\n\r\n",
    )
    assert _status(answer) == 413 and time.monotonic() - started < 5


def test_a_silent_client_is_dropped(served, monkeypatch) -> None:
    from box_secrets.emulator import _httpd

    emulator, _ = served
    assert _httpd._Handler.timeout is not None and _httpd._Handler.timeout <= 60
    monkeypatch.setattr(_httpd._Handler, "timeout", 0.3)  # the same mechanism, faster
    host, port = emulator.base_url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"POST /oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab")
        started = time.monotonic()
        assert sock.recv(100) == b""  # the server closed the connection
        assert time.monotonic() - started < 4


def test_control_routes_refuse_a_foreign_host(served) -> None:
    emulator, route = served
    host, port = emulator.base_url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    conn.request(
        "POST",
        route,
        body=b"{}",
        headers={"Host": "evil.example:80", "Content-Type": "application/json"},
    )
    assert conn.getresponse().status == 403


@pytest.mark.parametrize("ctype", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_control_writes_need_a_json_content_type(served, ctype: str | None) -> None:
    emulator, route = served
    host, port = emulator.base_url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    headers = {"Content-Type": ctype} if ctype else {}
    conn.request("POST", route, body=b"{}", headers=headers)
    assert conn.getresponse().status == 415


@pytest.mark.parametrize("offset", [1e300, -1e300, float("nan"), 10 * 366 * 86400])
def test_clock_offsets_are_bounded(box_console, box_emulator, offset: float) -> None:
    from box_secrets.emulator._console import ConsoleError

    with pytest.raises(ConsoleError) as exc:
        box_console.set_clock(offset)
    assert exc.value.status == 400
    box_console.set_clock(3600)  # a sane offset still works, and later responses too
    assert box_console.create_app()["client_id"]


def test_ipv6_loopback_works() -> None:
    with BoxEmulator("::1") as box:
        assert box.base_url.startswith("http://[::1]:")
        from box_secrets.emulator._console import Console

        assert Console(box.base_url).create_app()["client_id"]
    with VaultEmulator("::1") as vault:
        client = hvac.Client(url=vault.addr, token=vault.root_token)
        client.secrets.kv.v2.create_or_update_secret(path="a", secret={"k": "v"})
        assert client.secrets.kv.v2.read_secret_version(path="a", raise_on_deleted_version=False)[
            "data"
        ]["data"] == {"k": "v"}


def test_the_cli_serves_on_ipv6(tmp_path) -> None:
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "box_secrets", "emulator", "--host", "::1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        assert json.loads(line)["base_url"].startswith("http://[::1]:")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_bare_delete_removes_a_key_as_the_docs_show(box_console, box_emulator) -> None:
    """docs/emulators.md: `curl -X DELETE .../_console/apps/ID/keys/KID`, no body, no type."""
    app = box_console.create_app()
    kid = box_console.add_key(app["client_id"], _public_pem())
    host, port = box_emulator.base_url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    conn.request("DELETE", f"/_console/apps/{app['client_id']}/keys/{kid}")
    assert conn.getresponse().status in (200, 204)


def _public_pem() -> str:
    from box_secrets.signers._keys import generate_key

    return generate_key(2048).public_key_pem


@pytest.mark.parametrize(
    "headers",
    [
        [("Content-Length", "\u00b2")],
        [("Content-Length", "1\u00b3")],
        [("Content-Length", "2"), ("Content-Length", "2")],
        [("Host", "127.0.0.1"), ("Host", "evil.example")],
    ],
)
def test_odd_headers_get_a_400_not_a_traceback(box_emulator, vault, headers) -> None:
    for base in (box_emulator.base_url, vault.addr):
        host, port = base.removeprefix("http://").rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=5)
        conn.putrequest("POST", "/_console/apps", skip_host=True)
        if not any(name == "Host" for name, _ in headers):
            conn.putheader("Host", f"{host}:{port}")
        for name, value in headers:
            conn.putheader(name, value)
        conn.putheader("Content-Type", "application/json")
        conn.endheaders(b"{}")
        assert conn.getresponse().status == 400
