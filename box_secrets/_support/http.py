"""One pooled HTTP client for the process, over urllib3 (imported on first use).

Retries are not done here: the token module decides, per Box's rules, what to
retry and with which new assertion. Failures are neutral (:class:`TransportError`,
``ValueError`` for a body that is not JSON); each caller says what they mean
for it (Box unavailable, a webhook unreachable).
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
    """A thread-safe connection pool with connect and read timeouts."""

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
        self._direct: Any = None
        self._timeout: Any = None
        self._by_origin: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _manager(self, url: str) -> Any:
        origin = _origin(url)
        manager = self._by_origin.get(origin)
        if manager is not None:
            return manager
        import urllib3

        from box_secrets._support.redact import install_record_redaction

        install_record_redaction()
        with self._lock:
            if self._direct is None:
                self._timeout = urllib3.Timeout(
                    connect=self.connect_timeout, read=self.read_timeout
                )
                self._direct = urllib3.PoolManager(
                    num_pools=8, maxsize=self.max_connections, timeout=self._timeout, retries=False
                )
            proxy = _proxy_for(url)
            if proxy is None:
                manager = self._direct
            else:
                manager = urllib3.ProxyManager(
                    proxy, maxsize=self.max_connections, timeout=self._timeout, retries=False
                )
            self._by_origin[origin] = manager
            return manager

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
        manager = self._manager(url)
        hdrs = {"User-Agent": "box-secrets", "Accept": "application/json"}
        if headers:
            hdrs.update(headers)
        if fields is not None:
            body = urllib.parse.urlencode(fields).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        import urllib3

        try:
            resp = manager.request(
                method, url, body=body, headers=hdrs, redirect=False, preload_content=False
            )
            # A broken or hostile server must not fill memory: Box's answers are small.
            data = resp.read(MAX_RESPONSE_BYTES + 1)
        except urllib3.exceptions.HTTPError as exc:
            from box_secrets._urls import redact_url

            raise TransportError(redact_url(url, keep_path=False), type(exc).__name__) from exc
        if len(data) > MAX_RESPONSE_BYTES:
            resp.close()  # unread bytes remain: never hand this connection back to the pool
            from box_secrets._urls import redact_url

            raise TransportError(
                redact_url(url, keep_path=False),
                f"answer larger than {MAX_RESPONSE_BYTES // 1024} KiB",
            )
        resp.release_conn()
        return HttpResponse(resp.status, resp.headers, data)


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
