"""A small threaded HTTP/1.1 server shared by the Box and Vault emulators.

Keep-alive is on (clients pool connections as they would against the real
service); every response carries a ``Date`` from the emulator's own clock, so
clock-skew handling can be tested by moving that clock.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
from collections.abc import Callable, Mapping
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import urlsplit

__all__ = ["EmulatorServer", "Request", "Response", "ServedEmulator", "drop_connection"]

log = logging.getLogger("box_secrets.emulator")
_E = TypeVar("_E", bound="ServedEmulator")


class Request:
    """What a route handler sees."""

    __slots__ = ("body", "headers", "method", "path", "query")

    def __init__(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> None:
        parts = urlsplit(target)
        self.method = method
        self.path = parts.path
        self.query = parts.query
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.body = body

    def json(self) -> Any:
        if not self.body:
            return {}
        return json.loads(self.body)


class Response:
    """What a route handler returns; ``drop=True`` closes the socket without answering."""

    __slots__ = ("body", "drop", "headers", "status")

    def __init__(
        self,
        status: int,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        *,
        drop: bool = False,
    ) -> None:
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        self.drop = drop

    @classmethod
    def json(cls, status: int, data: Any, headers: Mapping[str, str] | None = None) -> Response:
        hdrs = {"Content-Type": "application/json"}
        hdrs.update(headers or {})
        return cls(status, json.dumps(data).encode(), hdrs)


drop_connection = Response(0, drop=True)

App = Callable[[Request], Response]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle and the
    # client's delayed ACK add ~40 ms to every keep-alive request.
    disable_nagle_algorithm = True
    server_version = "box-secrets-emulator"
    sys_version = ""
    server: EmulatorServer

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def date_time_string(self, timestamp: float | None = None) -> str:
        return formatdate(self.server.clock(), usegmt=True)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(self.command, self.path, dict(self.headers.items()), body)
        try:
            response = self.server.app(request)
        except Exception:  # an emulator bug must not kill the connection silently
            log.exception("emulator error on %s %s", self.command, request.path)
            response = Response.json(
                500, {"error": "internal_error", "error_description": "emulator error"}
            )
        if response.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.body and self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_LIST = _handle


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], app: App, clock: Callable[[], float]) -> None:
        self.app = app
        self.clock = clock
        super().__init__(address, _Handler)

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{_url_host(str(host))}:{port}"


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class ServedEmulator:
    """Runs an emulator's server: start()/stop(), a context manager, or in the foreground."""

    def __init__(self, server: EmulatorServer) -> None:
        self._server = server
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return self._server.base_url

    def start(self: _E) -> _E:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="emulator",
                daemon=True,
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self: _E) -> _E:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
