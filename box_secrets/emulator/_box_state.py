"""The Box emulator's state: apps, keys, users, tokens, spent jtis, faults, the clock.

The routes (``_box.py``, ``_box_oauth.py``, ``_box_console.py``) read and change
it; it knows nothing of HTTP, so they import it and it imports none of them.
"""

from __future__ import annotations

import string
import threading
import time
from collections import Counter
from typing import Any

from box_secrets.emulator._box_model import (
    _ALNUM,
    MAX_KEYS_PER_APP,
    _App,
    _digits,
    _Fault,
    _Key,
    _rand,
    _Token,
)
from box_secrets.emulator._httpd import FaultQueue
from box_secrets.errors import ConfigError, InputError
from box_secrets.stores._config import BoxAppConfig

__all__ = ["BoxState"]


class BoxState:
    """Everything the emulator knows; every method holds the lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.apps: dict[str, _App] = {}
        self.users: dict[str, tuple[str, str]] = {}  # user id -> (client id, name)
        self.tokens: dict[str, _Token] = {}
        self.jtis: dict[str, float] = {}
        self.faults: FaultQueue[_Fault] = FaultQueue()
        self.offset = 0.0
        self.latency = 0.0  # seconds each /oauth2/ request takes (a slow Box, a far region)
        self.stats: Counter[str] = Counter()

    def clock(self) -> float:
        return time.time() + self.offset

    # -- console -----------------------------------------------------------------

    def create_app(
        self,
        *,
        enterprise_id: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        auth_method: str = "jwt",
        authorized: bool = True,
        token_ttl: int | None = None,
        name: str | None = None,
    ) -> _App:
        with self.lock:
            cid = client_id or _rand(_ALNUM, 32)
            if cid in self.apps:
                raise ValueError(f"an app with client ID {cid} exists already")
            app = _App(
                cid,
                client_secret or _rand(string.ascii_letters + string.digits, 32),
                enterprise_id or _digits(9),
                auth_method=auth_method,
                authorized=authorized,
                token_ttl=token_ttl,
                name=name or f"App {cid[:6]}",
            )
            self.apps[cid] = app
            return app

    def add_key(self, client_id: str, public_key: Any, key_id: str | None = None) -> _Key:
        with self.lock:
            app = self.apps[client_id]
            if len(app.keys) >= MAX_KEYS_PER_APP:
                raise OverflowError
            kid = key_id or _rand(_ALNUM, 8)
            key = _Key(kid, public_key, self.clock())
            if any(k.fingerprint == key.fingerprint for k in app.keys.values()):
                raise FileExistsError
            app.keys[kid] = key
            return key

    def add_user(self, client_id: str, name: str, user_id: str | None = None) -> str:
        with self.lock:
            uid = user_id or _digits(11)
            self.users[uid] = (client_id, name)
            self.apps[client_id].users.add(uid)
            return uid

    def add_app_from_config(self, config: BoxAppConfig) -> _App:
        """Preload an app from a Developer Console config (``--app-config``)."""
        with self.lock:
            if config.client_id in self.apps:
                raise InputError(
                    f"app {config.client_id} is preloaded twice; give each app's config once"
                )
            app = self.create_app(
                client_id=config.client_id,
                client_secret=config.client_secret,
                enterprise_id=config.enterprise_id or _digits(9),
                auth_method="jwt" if config.uses_jwt else "ccg",
            )
            if config.uses_jwt:
                if not config.public_key_id:
                    raise ConfigError(
                        "boxAppSettings.appAuth.publicKeyID is empty; the emulator needs "
                        "the key ID to register the key under",
                        field="boxAppSettings.appAuth.publicKeyID",
                    )
                self.add_key(app.client_id, config.private_key.public_key(), config.public_key_id)
            if config.user_id:
                self.add_user(app.client_id, "Preloaded user", config.user_id)
            return app
