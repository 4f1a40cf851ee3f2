"""A small threaded HTTP/1.1 server shared by the Box and Vault emulators.

Keep-alive is on (clients pool connections as they would against the real
service); every response carries a ``Date`` from the emulator's own clock, so
clock-skew handling can be tested by moving that clock.

Users run the emulators in CI next to other software, so the server defends
itself: a socket read timeout (a silent client cannot pin a thread), a body
limit answered with 413 before the body is read, 400 for a missing, negative
or non-numeric ``Content-Length`` on a request with a body, and control routes
(``/_console/``, ``/_emulator/``) that answer only requests with a loopback
``Host`` and, for writes, ``Content-Type: application/json``: a web page can
send neither a JSON content type without a CORS preflight nor a loopback Host
through DNS rebinding, so a browser cannot drive them.
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
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

from box_secrets._urls import is_loopback

__all__ = [
    "MAX_BODY_BYTES",
    "EmulatorServer",
    "Fault",
    "FaultQueue",
    "Request",
    "Response",
    "ServedEmulator",
    "drop_connection",
    "json_object",
]

log = logging.getLogger("box_secrets.emulator")

#: The largest request body the emulators read (a token request is under 2 KB).
MAX_BODY_BYTES = 1024 * 1024
#: Seconds a connection may stay silent before the server closes it.
READ_TIMEOUT = 30.0
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


def json_object(req: Request) -> dict[str, Any] | None:
    """The request body as a JSON object ({} when empty); None when it is anything else."""
    try:
        data = req.json()
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


class Fault:
    """An injected failure for the next ``remaining`` requests under ``route``.

    ``when`` is ``"before"`` (the service does nothing) or ``"after"`` (it does
    the work and the answer is lost or replaced). Emulators subclass it with
    the details of their answer.
    """

    __slots__ = ("remaining", "route", "status", "when")

    def __init__(self, status: int, count: int, route: str, when: str) -> None:
        self.status = status
        self.remaining = count
        self.route = route
        self.when = when


_F = TypeVar("_F", bound=Fault)


class FaultQueue(Generic[_F]):
    """Faults in the order they were added; the first that matches a path is spent."""

    def __init__(self) -> None:
        self._faults: list[_F] = []
        self._lock = threading.Lock()

    def add(self, fault: _F) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, path: str) -> _F | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and path.startswith(fault.route):
                    fault.remaining -= 1
                    return fault
            self._faults = [f for f in self._faults if f.remaining > 0]
            return None


App = Callable[[Request], Response]
ErrorBody = Callable[[int, str], Response]


def _plain_error(status: int, message: str) -> Response:
    return Response.json(status, {"error": message})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle and the
    # client's delayed ACK add ~40 ms to every keep-alive request.
    disable_nagle_algorithm = True
    server_version = "box-secrets-emulator"
    sys_version = ""
    timeout = READ_TIMEOUT  # socket read timeout, applied by StreamRequestHandler.setup
    server: EmulatorServer

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def date_time_string(self, timestamp: float | None = None) -> str:
        return formatdate(self.server.clock(), usegmt=True)

    def _refuse(self, status: int, message: str) -> None:
        """Answer without reading the body, and close: the stream position is unknown."""
        self.close_connection = True
        self._send(self.server.error_body(status, message), close=True)

    def _guard(self, path: str) -> tuple[int, str] | None:
        """Why a request must be refused before it is read, if it must."""
        if self.headers.get("Transfer-Encoding"):
            return 411, "send a Content-Length; chunked bodies are not accepted"
        for name in ("Host", "Content-Length"):
            if len(self.headers.get_all(name) or []) > 1:
                # Two answers to "which?" (RFC 9110 section 7.2, RFC 9112 section 6.3): refuse.
                return 400, f"the request has more than one {name} header"
        raw = self.headers.get("Content-Length")
        if raw is not None:
            # ASCII digits only: str.isdigit() also accepts '²', which int() refuses.
            if not (raw.strip().isascii() and raw.strip().isdigit()):
                return 400, "Content-Length must be a non-negative whole number"
            if int(raw) > MAX_BODY_BYTES:
                return 413, f"the body is over {MAX_BODY_BYTES} bytes"
        if any(path.startswith(p) for p in self.server.control_prefixes):
            host = (self.headers.get("Host") or "").strip()
            name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0][1:]
            if not is_loopback(name):
                return 403, "control routes answer only requests to a loopback Host"
            # Only where a body is read: a cross-site page can POST a text/plain body
            # without a CORS preflight, but cannot send DELETE at all without one (and
            # the Host check above stops DNS rebinding), so DELETE needs no body type.
            if self.command in ("POST", "PUT", "PATCH"):
                ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
                if ctype != "application/json":
                    return 415, "control routes take Content-Type: application/json"
        return None

    def _handle(self) -> None:
        path = urlsplit(self.path).path
        refusal = self._guard(path)
        if refusal is not None:
            self._refuse(*refusal)
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = self.rfile.read(length) if length else b""
        except OSError:  # the read timed out or the client went away
            self.close_connection = True
            return
        if len(body) < length:
            self.close_connection = True
            return
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
        self._send(response)

    def _send(self, response: Response, *, close: bool = False) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        if response.body and self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_LIST = _handle


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(
        self,
        address: tuple[str, int],
        app: App,
        clock: Callable[[], float],
        *,
        control_prefixes: tuple[str, ...] = (),
        error_body: ErrorBody = _plain_error,
    ) -> None:
        self.app = app
        self.clock = clock
        self.control_prefixes = control_prefixes
        self.error_body = error_body
        host = address[0].strip("[]")
        address = (host, address[1])
        if ":" in host:  # an IPv6 literal such as ::1
            self.address_family = socket.AF_INET6
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
