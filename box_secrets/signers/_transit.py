"""Vault Transit: a signer whose private key never leaves Vault, and its versions' lifecycle.

RS256 is ``POST /v1/MOUNT/sign/KEY`` with ``hash_algorithm=sha2-256``,
``signature_algorithm=pkcs1v15`` (Transit's default for RSA is PSS, which Box
refuses) and an explicit ``key_version``; the answer ``vault:vN:<base64>`` is
stripped of its prefix and re-encoded by the JWS builder
(https://developer.hashicorp.com/vault/api-docs/secret/transit#sign-data).
A rotation is a new key version; promotion records it; retirement raises
``min_encryption_version`` (which also bounds signing) and trims older versions.

hvac is imported only when a client is built, through ``_vault``.
"""

from __future__ import annotations

import base64
import functools
import os
import re
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from box_secrets.errors import (
    ConfigError,
    InputError,
    SignerError,
    SignerUnavailableError,
    StoreError,
)
from box_secrets.signers._uri import SignerURI, as_signer_uri

__all__ = ["TransitSigner"]

T = TypeVar("T")

HASHES = {"RS256": "sha2-256", "RS384": "sha2-384", "RS512": "sha2-512"}
TYPES = {2048: "rsa-2048", 3072: "rsa-3072", 4096: "rsa-4096"}
BITS = {v: k for k, v in TYPES.items()}
_PREFIX = re.compile(r"^vault:v\d+:")


class _Vault:
    """One Transit key's client settings, a logged-in hvac client, and Vault's errors in words."""

    def __init__(self, uri: SignerURI) -> None:
        from box_secrets._urls import check_url, trusted_endpoint, trusted_setting
        from box_secrets._vault import ca_bundle, vault_auth

        self.uri = uri
        # The token travels in every request: only to the Vault this process is
        # configured for (VAULT_ADDR), or a loopback one when none is set. A signer URI
        # is read from a store, and a store's writer must not be able to redirect it.
        addr = trusted_endpoint(uri.params.get("addr"), env=("VAULT_ADDR",), what="the Vault addr")
        if not addr:
            raise InputError(
                "the Vault address of the Transit signer is unknown; set VAULT_ADDR (or add "
                "?addr= for a local Vault)"
            )
        self.addr = check_url(addr, what="the Vault addr")
        self.namespace = uri.params.get("namespace") or os.environ.get("VAULT_NAMESPACE") or None
        # The CA bundle chooses whom TLS trusts: not the store's choice (see trusted_setting).
        self.ca_cert = ca_bundle(
            trusted_setting(uri.params.get("ca_cert"), env="VAULT_CACERT", what="the Vault ca_cert")
        )
        # A signer URI is read from a store: this process's own auth settings win.
        self.auth, self.role = vault_auth(uri.params, stored=True)
        self.params = uri.params
        self.mount, self.name = uri.mount, uri.name
        self._client: Any = None
        self._lock = threading.Lock()

    def _connect(self) -> Any:
        from box_secrets._vault import connect

        try:
            return connect(self)
        except StoreError as exc:  # a missing credential: same words, the signer's class
            raise SignerError(str(exc)) from exc

    def call(self, doing: str, fn: Callable[[Any], T]) -> T:
        """One hvac call; a 403 after a login (expired) logs in once more."""
        from box_secrets._support.optional import require

        hvac_exc = require("hvac.exceptions")
        requests = require("requests")
        relogged = False
        while True:
            with self._lock:
                if self._client is None:
                    self._client = self._translated(doing, self._connect, hvac_exc, requests)
                client = self._client
            try:
                return self._translated(doing, functools.partial(fn, client), hvac_exc, requests)
            except _Forbidden:
                if self.auth != "token" and not relogged:
                    relogged = True
                    with self._lock:
                        self._client = None
                    continue
                raise

    def _translated(self, doing: str, fn: Callable[[], T], hvac_exc: Any, requests: Any) -> T:
        """``fn()``, with Vault's errors read through the one Vault table (``_vault.KINDS``)
        and said in the signer's words."""
        from box_secrets._vault import kind_of

        key = f"{self.mount}/{self.name}"
        try:
            return fn()
        except hvac_exc.VaultError as exc:
            kind = kind_of(exc)
            if kind == "denied":
                raise _Forbidden(
                    f"Vault denied {doing} with Transit key {key} (403); the token's policy "
                    f"needs update on {self.mount}/sign/{self.name} (and read on "
                    f"{self.mount}/keys/{self.name}; see `box-secrets help signers`)"
                ) from exc
            if kind == "credentials":
                raise SignerError(f"Vault refused the login while {doing} (401)") from exc
            if kind == "sealed":
                raise SignerUnavailableError(
                    f"Vault is sealed or down (503) while {doing}; unseal it, then retry",
                    retry=False,
                ) from exc
            if kind == "not-found":
                raise _NotFound(
                    f"Vault has no Transit key {key} ({doing}); check the mount and key name"
                ) from exc
            if kind in ("invalid", "conflict"):
                raise SignerError(
                    f"Vault refused {doing} with Transit key {key}: {_first_error(exc)}"
                ) from exc
            if kind == "busy":
                raise SignerUnavailableError(
                    f"Vault is rate limiting or failing ({type(exc).__name__}) while {doing}"
                ) from exc
            raise SignerError(f"Vault failed while {doing} ({type(exc).__name__})") from exc
        except requests.RequestException as exc:
            raise SignerUnavailableError(
                f"cannot reach Vault at {self.addr} while {doing}; check addr and the network"
            ) from exc

    def change(self, doing: str, fn: Callable[[Any], T]) -> T:
        """A call that changes the key: a crash point on each side, for the fault matrix."""
        from box_secrets._support import faults as _faults

        _faults.crashpoint("signer.change", "before")
        out = self.call(doing, fn)
        _faults.crashpoint("signer.change", "after")
        return out

    def read_key(self) -> dict[str, Any] | None:
        try:
            out = self.call(
                "reading the Transit key",
                lambda c: c.secrets.transit.read_key(name=self.name, mount_point=self.mount),
            )
        except _NotFound:
            return None
        return dict(out["data"])


def _configure(client: Any, *, settings: dict[str, Any]) -> Any:
    return client.secrets.transit.update_key_configuration(**settings)


class _NotFound(SignerError):
    """No such Transit key."""


class _Forbidden(SignerError):
    """403: the policy does not allow it, or a login expired (logged in again once)."""


def _first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    text = str(errors[0]) if isinstance(errors, list) and errors else "invalid request"
    from box_secrets._urls import clean_text

    return clean_text(text, limit=200)


class TransitSigner:
    """Signs with one version of a Vault Transit RSA key (``vault-transit://MOUNT/KEY?...``)."""

    __slots__ = ("_kid", "_vault", "_version")

    def __init__(self, uri: str | SignerURI, key_id: str) -> None:
        parsed = as_signer_uri(uri)
        if parsed.kind != "vault-transit":
            raise ConfigError("TransitSigner needs a vault-transit:// signer URI")
        self._vault = _Vault(parsed)
        self._kid = key_id
        # A stored key always pins its version; a URI without one pins the latest, once.
        self._version = parsed.version

    @property
    def key_id(self) -> str:
        return self._kid

    def _pinned(self, data: dict[str, Any] | None = None) -> int:
        """The version to sign with (``data``: a key read the caller already made)."""
        if self._version is None:
            data = data or self._vault.read_key()
            if data is None:
                raise SignerError(
                    f"Vault has no Transit key {self._vault.mount}/{self._vault.name}"
                )
            self._version = int(data["latest_version"])
        return self._version

    def sign(self, message: bytes, algorithm: str) -> bytes:
        """The RSASSA-PKCS1-v1_5 signature of ``message`` by the pinned version.

        Raises:
            SignerUnavailableError: rate limited, failing, sealed or unreachable.
            SignerError: denied, no such key, or the version was retired.
        """
        version = self._pinned()
        v = self._vault
        out = v.call(
            "signing a Box assertion",
            lambda c: c.secrets.transit.sign_data(
                name=v.name,
                hash_input=base64.b64encode(message).decode("ascii"),
                key_version=version,
                hash_algorithm=HASHES[algorithm],
                signature_algorithm="pkcs1v15",
                mount_point=v.mount,
            ),
        )
        signature = str(out["data"]["signature"])
        if not _PREFIX.match(signature):
            raise SignerError("Vault answered a signature without the vault:vN: prefix")
        return base64.b64decode(_PREFIX.sub("", signature, count=1), validate=True)

    def public_key_pem(self) -> str:
        data = self._vault.read_key()
        version = self._pinned(data)
        keys = (data or {}).get("keys") or {}
        entry = keys.get(str(version))
        if not isinstance(entry, dict) or not entry.get("public_key"):
            raise SignerError(f"Transit key version {version} no longer exists (it was trimmed)")
        return str(entry["public_key"])

    def __repr__(self) -> str:
        return (
            f"TransitSigner('{self._vault.mount}/{self._vault.name}', version={self._version}, "
            f"key_id={self._kid!r})"
        )
