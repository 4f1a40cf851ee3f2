"""What rotation tests share: a store with a live app behind it, and a person's hands."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from box_secrets.emulator._console import Console, ConsoleError
from box_secrets.rotation import Notification, RotationEngine
from box_secrets.rotation._invariants import InvariantChecker
from box_secrets.stores import Store, open_store
from box_secrets.stores._document import Snapshot
from box_secrets.stores._reader import clear_cache
from box_secrets.tokens import TokenProvider


class Collecting:
    """A notifier that keeps what it was given (a real Notifier, for inspection)."""

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    def send(self, notification: Notification) -> None:
        self.sent.append(notification)


class Clock:
    def __init__(self) -> None:
        import time

        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Rig:
    uri: str
    console: Console
    base_url: str
    client_id: str
    notes: Collecting = field(default_factory=Collecting)
    clock: Clock = field(default_factory=Clock)

    def __post_init__(self) -> None:
        self.store: Store = open_store(self.uri)
        from .helpers import _POOL

        self.engine = RotationEngine(
            self.store,
            base_url=self.base_url,
            notifier=self.notes,
            clock=self.clock,
            token_options={"backoff_base": 0.01},
            key_factory=_POOL.staging(self.held),
        )
        self.checker = InvariantChecker(open_store(self.uri))

    def snap(self) -> Snapshot:
        return self.store.load()

    def held(self) -> set[str]:
        """Fingerprints the store holds in any role (a staged key must be new)."""
        from box_secrets.errors import StoreNotFoundError

        try:
            r = self.store.load().record
        except StoreNotFoundError:  # before init: nothing is held yet
            return set()
        return {k.fingerprint for _, k in r.roles()} | {k.fingerprint for k in r.destroying}

    def check(self) -> None:
        self.checker.assert_ok()

    def person_registers_pending(self) -> str:
        """What a person does in the console: paste the pending public key, read the ID."""
        pending = self.snap().record.pending
        assert pending is not None, "nothing pending"
        for entry in self.console.list_keys(self.client_id):
            if entry["fingerprint_sha256"] == pending.fingerprint:
                return str(entry["id"])
        return self.console.add_key(self.client_id, pending.public_key_pem)

    def person_removes(self, key_id: str | None) -> None:
        if key_id is None:
            return
        try:
            self.console.delete_key(self.client_id, key_id)
        except ConsoleError as exc:
            if exc.status != 404:
                raise

    def box_keys(self) -> list[str]:
        return [e["id"] for e in self.console.list_keys(self.client_id)]

    def active_works_with_box_sdk_gen(self) -> None:
        """The stored active config loads in Box's own SDK and gets a token from Box.

        A key held in KMS or Transit cannot be loaded by Box's SDKs (they need the
        private key); box-secrets' own reader stands in for them there.
        """
        if self.snap().record.signer is not None:
            assert self.reader_token().access_token
            return
        from box_sdk_gen import BaseUrls, BoxClient, BoxJWTAuth, JWTConfig, NetworkSession

        text = json.dumps(self.store.read_current_data())
        auth = BoxJWTAuth(config=JWTConfig.from_config_json_string(text))
        client = BoxClient(
            auth=auth, network_session=NetworkSession(base_urls=BaseUrls(base_url=self.base_url))
        )
        assert client.users.get_user_me().type == "user"

    def reader_token(self) -> Any:
        clear_cache()
        return TokenProvider(self.uri, base_url=self.base_url).get_token()


def new_rig(uri: str, make_app: Any, **app_options: Any) -> Rig:
    """An app whose first key is registered at Box, and a store initialised with it."""
    app = make_app(**app_options)
    from box_secrets.rotation import import_config

    rig = Rig(uri, app.console, app.base_url, app.client_id)
    rig.engine.init(config=app.config)
    rig.check()
    _ = import_config  # the store was initialised through the engine (verified with Box)
    return rig


def new_signer_rig(uri: str, signer: str, make_app: Any, **app_options: Any) -> Rig:
    """A store whose keys live in ``signer``, its first key registered at Box and active."""
    app = make_app(**app_options)
    app.console.delete_key(app.client_id, app.kid)  # this app's keys live in the signer only
    rig = Rig(uri, app.console, app.base_url, app.client_id)
    outcome = rig.engine.init(
        client_id=app.client_id,
        client_secret=app.client_secret,
        enterprise_id=app.enterprise_id,
        signer=signer,
    )
    assert outcome.action == "staged", outcome
    rig.engine.register(rig.person_registers_pending(), verify=True)
    rig.check()
    return rig
