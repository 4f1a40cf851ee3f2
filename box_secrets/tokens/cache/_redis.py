"""A token cache on Redis (Valkey, ElastiCache, MemoryDB): ``redis://`` or ``rediss://``.

Commands, all from Redis's public command reference (https://redis.io/docs/latest/commands/):

- an entry is a string key set with ``SET name value PX ms``, so it vanishes
  when its token expires; a read is ``GETRANGE`` (at most 64 KiB, so a
  planted giant value cannot fill our memory) plus ``PTTL`` in one round trip,
  so a reader learns the time left by the server's clock, not its own;
- the lease is ``SET lock fence NX PX ms`` with a random fencing value; it is
  released, and a refused token dropped, only by a compare-and-delete script
  (``EVAL``), so nobody deletes what another process wrote since.

redis-py (the ``redis`` extra) is imported only here. The client keeps a
bounded, blocking connection pool; every socket operation and the wait for a
pooled connection are bounded by the URI's ``timeout`` (default 0.5 s), and
redis-py's own retries are off: the caller falls back to minting.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from box_secrets._support.optional import require

__all__ = ["RedisLease", "RedisTokenCache"]

_COMPARE_DELETE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

_CAP = 64 * 1024  # a sealed entry is a few hundred bytes

USERNAME_ENV = "BOX_SECRETS_REDIS_USERNAME"
PASSWORD_ENV = "BOX_SECRETS_REDIS_PASSWORD"  # noqa: S105 - the variable's name, not a password


class RedisLease:
    __slots__ = ("fence", "name")

    def __init__(self, name: str, fence: bytes) -> None:
        self.name = name
        self.fence = fence


class RedisTokenCache:
    """One Redis database as a token cache (entries sealed by the caller)."""

    kind = "redis"
    sealed = True

    def __init__(self, target: str, *, timeout: float, ca_cert: str | None = None) -> None:
        redis = require("redis", extra="redis")
        from urllib.parse import urlsplit

        parts = urlsplit(target)
        options: dict[str, Any] = {
            "host": parts.hostname,
            "port": parts.port or 6379,
            "db": int(parts.path.strip("/") or 0),
            "username": os.environ.get(USERNAME_ENV) or None,
            "password": os.environ.get(PASSWORD_ENV) or None,
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
            "retry_on_timeout": False,
            "retry": None,
            "health_check_interval": 0,
            "max_connections": 16,
            "timeout": timeout,  # the wait for a pooled connection
        }
        if parts.scheme == "rediss":
            options["connection_class"] = redis.SSLConnection
            options["ssl_cert_reqs"] = "required"
            options["ssl_check_hostname"] = True
            if ca_cert:
                options["ssl_ca_certs"] = ca_cert
        self._target = target
        self._client = redis.Redis(connection_pool=redis.BlockingConnectionPool(**options))
        self._compare_delete = self._client.register_script(_COMPARE_DELETE)

    @property
    def name(self) -> str:
        return self._target

    def get(self, name: str) -> tuple[bytes, float | None] | None:
        pipe = self._client.pipeline(transaction=False)
        pipe.getrange(name, 0, _CAP)  # inclusive: one byte over the cap shows it is too big
        pipe.pttl(name)
        value, pttl = pipe.execute()
        # PTTL is -2 for a missing key (GETRANGE then gives b"") and -1 for a key without
        # an expiry, which box-secrets never writes.
        if pttl == -2 or value is None:
            return None
        return bytes(value), (pttl / 1000.0 if isinstance(pttl, int) and pttl > 0 else 0.0)

    def put(self, name: str, data: bytes, ttl: float) -> None:
        ms = int(ttl * 1000)
        if ms > 0:
            self._client.set(name, data, px=ms)

    def delete(self, name: str, data: bytes) -> None:
        self._compare_delete(keys=[name], args=[data])

    def lease(self, name: str, ttl: float) -> RedisLease | None:
        fence = secrets.token_hex(16).encode()
        if self._client.set(f"{name}:lease", fence, nx=True, px=max(1, int(ttl * 1000))):
            return RedisLease(f"{name}:lease", fence)
        return None

    def release(self, lease: object) -> None:
        if isinstance(lease, RedisLease):
            self._compare_delete(keys=[lease.name], args=[lease.fence])

    def __repr__(self) -> str:
        return f"RedisTokenCache({self._target!r})"
