"""The one HTTP client (``_support/http.py``, on ``http.client``): TLS, proxies, the pool, limits.

A real TLS server with a certificate from a test CA, trusted through
``SSL_CERT_FILE`` as OpenSSL reads it, and a real CONNECT proxy, both on
loopback; names resolve to them through the proxy, so no DNS is needed.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from box_secrets._support.http import MAX_RESPONSE_BYTES, HttpClient, TransportError

from .services import make_tls_files


class _Origin:
    """A TLS server answering JSON; counts its connections; ``/big`` answers over the limit."""

    def __init__(self, cert: Path, key: Path) -> None:
        origin = self
        self.connections = 0

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                origin.connections += 1
                super().setup()

            def do_GET(self) -> None:
                body = (
                    b"x" * (MAX_RESPONSE_BYTES + 10)
                    if self.path == "/big"
                    else json.dumps({"path": self.path}).encode()
                )
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Proxy:
    """A CONNECT proxy that tunnels every target to one loopback port, and answers plain
    requests itself; it records what it was asked."""

    def __init__(self, tunnel_to: int) -> None:
        self.seen: list[tuple[str, str | None]] = []  # (request line, Proxy-Authorization)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.tunnel_to = tunnel_to
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(client,), daemon=True).start()

    def _one(self, client: socket.socket) -> None:
        reader = client.makefile("rb")
        line = reader.readline().decode().strip()
        auth = None
        while True:
            header = reader.readline().decode()
            if header in ("\r\n", "\n", ""):
                break
            if header.lower().startswith("proxy-authorization:"):
                auth = header.split(":", 1)[1].strip()
        self.seen.append((line, auth))
        if not line.startswith("CONNECT "):
            body = json.dumps({"proxied": line}).encode()
            client.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                % (len(body), body)
            )
            client.close()
            return
        upstream = socket.create_connection(("127.0.0.1", self.tunnel_to))
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")

        def pipe(src: socket.socket, dst: socket.socket) -> None:
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
        pipe(upstream, client)

    def stop(self) -> None:
        self.sock.close()


@pytest.fixture
def tls(tmp_path: Path) -> Iterator[tuple[_Origin, _Proxy, Path]]:
    ca, cert, key = make_tls_files(tmp_path, "box.test")
    origin = _Origin(cert, key)
    proxy = _Proxy(origin.port)
    yield origin, proxy, ca
    proxy.stop()
    origin.stop()


def test_https_through_a_proxy_verifies_the_target(tls, monkeypatch) -> None:
    origin, proxy, ca = tls
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    monkeypatch.setenv("HTTPS_PROXY", f"http://ops:p%40ss@127.0.0.1:{proxy.port}")
    client = HttpClient(connect_timeout=5, read_timeout=5)
    for path in ("/a", "/b", "/c"):
        resp = client.request("GET", f"https://box.test:443{path}")
        assert resp.status == 200 and resp.json() == {"path": path}
    assert origin.connections == 1  # one tunnel, kept alive for all three
    (line, auth), *_ = proxy.seen
    assert line.startswith("CONNECT box.test:443 ")
    import base64

    assert auth == "Basic " + base64.b64encode(b"ops:p@ss").decode()


def test_an_untrusted_or_misnamed_certificate_is_refused(tls, tmp_path, monkeypatch) -> None:
    _, proxy, ca = tls
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.port}")
    other_ca, _, _ = make_tls_files(tmp_path, "elsewhere.test")
    monkeypatch.setenv("SSL_CERT_FILE", str(other_ca))  # trusts another CA only
    with pytest.raises(TransportError, match="SSLCertVerificationError"):
        HttpClient().request("GET", "https://box.test/x")
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    with pytest.raises(TransportError, match="SSLCertVerificationError"):
        HttpClient().request("GET", "https://not-box.test/x")  # the certificate names box.test


def test_plain_http_through_a_proxy_sends_the_whole_url(tls, monkeypatch) -> None:
    _, proxy, _ = tls
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
    resp = HttpClient().request("GET", "http://box.test/x?y=1")
    assert resp.json() == {"proxied": "GET http://box.test/x?y=1 HTTP/1.1"}
    monkeypatch.setenv("NO_PROXY", ".box.test")
    with pytest.raises(TransportError):  # no proxy now, and box.test resolves nowhere
        HttpClient(connect_timeout=2).request("GET", "http://box.test/x")


def test_an_https_proxy_is_refused_in_one_sentence(monkeypatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "https://proxy.example:3128")
    with pytest.raises(TransportError, match="only an http:// proxy"):
        HttpClient().request("GET", "https://box.test/x")


def test_an_answer_over_the_limit_is_refused_and_its_connection_dropped(tls, monkeypatch) -> None:
    origin, proxy, ca = tls
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.port}")
    client = HttpClient()
    with pytest.raises(TransportError, match="larger than"):
        client.request("GET", "https://box.test/big")
    assert client.request("GET", "https://box.test/ok").status == 200
    assert origin.connections == 2  # the unread connection was not reused


def test_a_connection_the_server_closed_is_not_reused(app) -> None:
    """Against the Box emulator: its idle timeout closes keep-alive connections."""
    from box_secrets._support.http import _dropped

    client = HttpClient()
    url = f"{app.base_url}/_console/stats"
    assert client.request("GET", url).status == 200
    (idle,) = client._idle.values()
    assert len(idle) == 1 and not _dropped(idle[0])
    idle[0].sock.shutdown(socket.SHUT_RD)  # as if the server had closed it
    assert _dropped(idle[0])
    assert client.request("GET", url).status == 200  # a new connection, no error
