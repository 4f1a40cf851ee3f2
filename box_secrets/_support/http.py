"""One pooled HTTP client for the process, on the standard library's ``http.client``.

Retries are not done here: the token module decides, per Box's rules, what to
retry and with which new assertion. Failures are neutral (:class:`TransportError`,
``ValueError`` for a body that is not JSON); each caller says what they mean
for it (Box unavailable, a webhook unreachable).

Why not urllib3: a one-shot process (``box-secrets token``, a Lambda cold
start) paid about 25-55 ms for its import (its HTTP/2 probe reads package
metadata), more than the request. What it gave us is here in a few lines,
with the same rules: TLS verified against the system's trust store
(``ssl.create_default_context``), a connect and a read timeout, a bounded
pool of keep-alive connections per origin, an idle connection the server
closed is never reused (checked before each reuse, as urllib3 does, rather
than by resending a request), no automatic retry, no redirect, and
``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` (an ``http://`` proxy, with
``CONNECT`` for https; credentials in the proxy URL become Basic
``Proxy-Authorization``).
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

from box_secrets._support.caches import cache_reset

__all__ = [
    "HttpClient",
    "HttpResponse",
    "TransportError",
    "default_client",
    "http_date",
    "reset_default_client",
    "retry_after",
]


#: The largest answer read from a server (a token response is under 2 KB).
MAX_RESPONSE_BYTES = 1024 * 1024


class TransportError(Exception):
    """The request did not get an answer (connection, TLS, timeout). Holds no secret."""

    def __init__(self, origin: str, reason: str) -> None:
        super().__init__(f"could not reach {origin} ({reason})")
        self.origin = origin
        self.reason = reason


class HttpResponse:
    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.status = status
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.body = body

    def json(self) -> Any:
        """The body as JSON; ``ValueError`` when it is not JSON."""
        try:
            return json.loads(self.body)
        except RecursionError:
            raise ValueError("the body is nested too deeply") from None

    def __repr__(self) -> str:  # never the body: it may hold a token
        return f"HttpResponse(status={self.status})"


class HttpClient:
    """A thread-safe pool of keep-alive connections with connect and read timeouts."""

    def __init__(
        self,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_connections: int = 16,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_connections = max_connections
        self._idle: dict[tuple[str, str, int, str | None], list[Any]] = {}
        self._lock = threading.Lock()
        self._tls: Any = None

    def _context(self) -> Any:
        if self._tls is None:
            import ssl

            self._tls = ssl.create_default_context()  # verifies the certificate and host name
        return self._tls

    def _connect(self, scheme: str, host: str, port: int, proxy: str | None) -> Any:
        import http.client

        from box_secrets._support.redact import install_record_redaction

        install_record_redaction()
        target_tls = scheme == "https"
        if proxy is None:
            if target_tls:
                return http.client.HTTPSConnection(
                    host, port, timeout=self.connect_timeout, context=self._context()
                )
            return http.client.HTTPConnection(host, port, timeout=self.connect_timeout)
        pparts = urllib.parse.urlsplit(proxy)
        if pparts.scheme != "http" or not pparts.hostname:
            raise TransportError(
                _origin(proxy), "only an http:// proxy is supported (HTTPS_PROXY=http://HOST:PORT)"
            )
        headers = _proxy_auth(pparts)
        if target_tls:  # a CONNECT tunnel, then TLS to the target itself
            conn: Any = http.client.HTTPSConnection(
                pparts.hostname,
                pparts.port or 80,
                timeout=self.connect_timeout,
                context=self._context(),
            )
            conn.set_tunnel(host, port, headers=headers)
            return conn
        return http.client.HTTPConnection(
            pparts.hostname, pparts.port or 80, timeout=self.connect_timeout
        )

    def _take(self, key: tuple[str, str, int, str | None]) -> Any | None:
        """An idle connection for ``key`` the server has not closed meanwhile, if any."""
        with self._lock:
            idle = self._idle.get(key)
            while idle:
                conn = idle.pop()
                if not _dropped(conn):
                    return conn
                conn.close()
        return None

    def _give(self, key: tuple[str, str, int, str | None], conn: Any) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < self.max_connections:
                idle.append(conn)
                return
        conn.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        fields: Mapping[str, str] | None = None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        """Send one request; network failures raise :class:`TransportError`."""
        import http.client

        parts = urllib.parse.urlsplit(url)
        scheme, host = parts.scheme, parts.hostname or ""
        port = parts.port or (443 if scheme == "https" else 80)
        proxy = _proxy_for(url)
        key = (scheme, host, port, proxy)
        hdrs = {"User-Agent": "box-secrets", "Accept": "application/json"}
        if headers:
            hdrs.update(headers)
        if fields is not None:
            body = urllib.parse.urlencode(fields).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        conn = self._take(key)
        try:
            if conn is None:
                conn = self._connect(scheme, host, port, proxy)
            if conn.sock is None:
                conn.connect()
            conn.sock.settimeout(self.read_timeout)  # connected: reads get their own timeout
            if proxy is not None and scheme == "http":  # a plain proxy takes the whole URL
                hdrs.update(_proxy_auth(urllib.parse.urlsplit(proxy)))
                path = url
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            # A broken or hostile server must not fill memory: Box's answers are small.
            data = resp.read(MAX_RESPONSE_BYTES + 1)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            if conn is not None:
                conn.close()
            from box_secrets._urls import redact_url

            raise TransportError(redact_url(url, keep_path=False), type(exc).__name__) from exc
        if len(data) > MAX_RESPONSE_BYTES or not resp.isclosed():
            conn.close()  # unread bytes remain: never hand this connection back to the pool
            if len(data) > MAX_RESPONSE_BYTES:
                from box_secrets._urls import redact_url

                raise TransportError(
                    redact_url(url, keep_path=False),
                    f"answer larger than {MAX_RESPONSE_BYTES // 1024} KiB",
                )
        elif resp.will_close:
            conn.close()
        else:
            self._give(key, conn)
        return HttpResponse(resp.status, _headers(resp), data)


def _headers(resp: Any) -> dict[str, str]:
    """The answer's headers; repeated ones joined with ", " (RFC 9110 section 5.3)."""
    out: dict[str, str] = {}
    for name, value in resp.getheaders():
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def _dropped(conn: Any) -> bool:
    """Whether the server closed (or wrote to) an idle connection: never reuse it then."""
    import select

    sock = conn.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)  # an idle keep-alive socket has nothing to read unless it closed


def _proxy_auth(parts: urllib.parse.SplitResult) -> dict[str, str]:
    if parts.username is None:
        return {}
    import base64

    user = urllib.parse.unquote(parts.username)
    password = urllib.parse.unquote(parts.password or "")
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Proxy-Authorization": f"Basic {token}"}


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _proxy_for(url: str) -> str | None:
    """Honour HTTPS_PROXY / HTTP_PROXY / NO_PROXY like curl and requests do.

    Read here rather than through urllib.request, whose import costs more than
    the rest of the first request.
    """
    parts = urllib.parse.urlsplit(url)
    env = os.environ
    proxy = env.get(f"{parts.scheme}_proxy") or env.get(f"{parts.scheme.upper()}_PROXY")
    if not proxy:
        return None
    host = (parts.hostname or "").lower()
    if host in ("localhost", "127.0.0.1", "::1"):
        return None  # loopback never goes through a proxy (the emulator, the secrets extension)
    for raw in (env.get("no_proxy") or env.get("NO_PROXY") or "").split(","):
        entry = raw.strip().lower().lstrip(".")
        if entry == "*" or (entry and (host == entry or host.endswith("." + entry))):
            return None
    return proxy


_default: HttpClient | None = None
_default_lock = threading.Lock()


def default_client() -> HttpClient:
    """The process-wide client, so every provider shares one pool."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = HttpClient()
    return _default


@cache_reset
def reset_default_client() -> None:
    """Drop the process-wide client (its pools close when garbage-collected)."""
    global _default
    with _default_lock:
        _default = None


def http_date(value: str) -> float | None:
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def retry_after(resp: HttpResponse) -> float | None:
    """Seconds ``Retry-After`` asks for (delta-seconds or an HTTP date), if any."""
    value = resp.headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        when = http_date(value)
        return None if when is None else max(0.0, when - time.time())
    return max(0.0, seconds) if math.isfinite(seconds) else None  # nan is not a delay
