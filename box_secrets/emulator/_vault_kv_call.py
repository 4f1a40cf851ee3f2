"""One request to a KV v2 mount, with what every route needs (the KV routes share it)."""

from __future__ import annotations

import time
from typing import Any

from box_secrets.emulator._httpd import Request
from box_secrets.emulator._vault_kv_state import Allows, KVMount, Secret

__all__ = ["_Call"]


class _Call:
    """One request to a KV mount, with what every route needs."""

    __slots__ = ("allows", "body", "full", "key", "method", "mount", "now", "req", "store")

    def __init__(
        self, allows: Allows, req: Request, *, mount: KVMount, namespace: str, full: str,
        key: str, method: str,
    ) -> None:  # fmt: skip
        self.allows = allows
        self.mount = mount
        self.store = mount.secrets.setdefault(namespace, {})
        self.full = full
        self.key = key
        self.method = method
        self.req = req
        self.body: dict[str, Any] = {}
        self.now = time.time()

    @property
    def secret(self) -> Secret | None:
        return self.store.get(self.key)
