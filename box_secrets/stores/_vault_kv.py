"""The Vault KV v2 store (``pip install 'box-secrets[vault]'``).

One KV v2 path holds the document: the active key's Box config (what
``vault kv get`` shows and Box's SDKs load) plus the ``boxSecrets`` record,
which carries the pending and previous keys. Every write uses ``cas`` with the
version that was read, so a stale writer fails and changes nothing; history is
KV versions; a retired key's versions are destroyed.

Authentication: ``auth=token`` (``VAULT_TOKEN`` or ``~/.vault-token``),
``approle`` (``VAULT_ROLE_ID`` / ``VAULT_SECRET_ID``), ``aws`` (IAM, for
Lambda; ``role=``), ``kubernetes`` (``role=``, service account JWT from its
standard path or ``BOX_SECRETS_VAULT_JWT_PATH``).
``VAULT_ADDR`` and ``VAULT_NAMESPACE`` are honoured unless the URI says otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from box_secrets._support.optional import require
from box_secrets.errors import (
    ConflictError,
    InputError,
    StoreAccessDeniedError,
    StoreCorruptError,
    StoreError,
    StoreNotFoundError,
    StoreUnavailableError,
)
from box_secrets.stores._base import Store, fingerprints_in
from box_secrets.stores._uri import StoreURI

if TYPE_CHECKING:
    from box_secrets.stores._document import Snapshot

if TYPE_CHECKING:
    import hvac
    import hvac.exceptions as hvac_exc
    import requests
else:  # one sentence naming the extra when hvac is missing
    hvac = require("hvac")
    hvac_exc = require("hvac.exceptions")
    requests = require("requests")

__all__ = ["VaultStore"]

T = TypeVar("T")


class VaultStore(Store):
    scheme = "vault"

    def __init__(self, uri: StoreURI) -> None:
        super().__init__(str(uri))
        self.mount, _, self.path = uri.location.partition("/")
        self.params = uri.params
        addr = uri.params.get("addr") or os.environ.get("VAULT_ADDR") or ""
        if not addr:
            raise InputError(
                "the Vault address is unknown; add ?addr=https://vault:8200 or set VAULT_ADDR"
            )
        from box_secrets._urls import check_url
        from box_secrets._vault import ca_bundle, vault_auth

        # The token travels in every request: refuse cleartext to a remote host.
        self.addr = check_url(addr, what="the Vault addr")
        self.ca_cert = ca_bundle(
            uri.params.get("ca_cert") or os.environ.get("VAULT_CACERT") or None
        )
        self.namespace = uri.params.get("namespace") or os.environ.get("VAULT_NAMESPACE") or None
        self.auth, self.role = vault_auth(uri.params)
        self._client: Any = None
        self.where = f"{self.mount}/{self.path}"

    # -- client and errors ------------------------------------------------------------

    def _connect(self) -> Any:
        from box_secrets._vault import connect

        try:
            return connect(self)
        except hvac_exc.VaultError as exc:
            raise self._translate(exc, f"logging in to Vault with auth={self.auth}") from exc
        except requests.RequestException as exc:
            raise StoreUnavailableError(
                f"cannot reach Vault at {self.addr}; check addr and the network"
            ) from exc

    def _call(self, doing: str, fn: Callable[[Any], T]) -> T:
        """Run one hvac call, logging in again once on 403 and retrying 429/5xx.

        Retries follow the one :class:`~box_secrets.RetryPolicy` (attempts,
        back-off, deadline, from the environment), like calls to Box.
        """
        from box_secrets._support import retry as _retry

        policy = _retry.RetryPolicy()
        deadline_at = policy.deadline_at()
        relogged = False
        attempt = 0
        while True:
            if self._client is None:
                self._client = self._connect()
            try:
                return fn(self._client)
            except hvac_exc.Forbidden as exc:
                if self.auth != "token" and not relogged:
                    relogged, self._client = True, None  # the login expired: log in again
                    continue
                raise self._translate(exc, doing) from exc
            except (
                hvac_exc.RateLimitExceeded,
                hvac_exc.InternalServerError,
                hvac_exc.BadGateway,
            ) as exc:
                attempt += 1
                if attempt >= policy.max_attempts:
                    raise self._translate(exc, doing) from exc
                error = self._translate(exc, doing)
                policy.pause(
                    attempt,
                    policy.backoff(attempt),
                    deadline_at=deadline_at,
                    what=doing,
                    last=str(error),
                    error=type(error),
                )
            except hvac_exc.VaultError as exc:
                raise self._translate(exc, doing) from exc
            except requests.RequestException as exc:
                raise StoreUnavailableError(
                    f"cannot reach Vault at {self.addr} while {doing}; check addr and the network"
                ) from exc

    def _translate(self, exc: Exception, doing: str) -> StoreError:
        from box_secrets._vault import error_class

        cls = error_class(exc)
        name = type(exc).__name__
        # The class comes from the one Vault table; the words are this store's.
        if cls is StoreAccessDeniedError:
            if name == "Forbidden":
                return cls(
                    f"Vault denied {doing} (403); the token's policy must allow read, create "
                    f"and update on {self.mount}/data/{self.path} (see `box-secrets help stores`)"
                )
            return cls(f"Vault refused {doing} ({name}); check the auth settings")
        if cls is StoreNotFoundError:
            return cls(
                f"vault://{self.where} holds nothing; import a config with "
                "`box-secrets store import`"
            )
        if cls is ConflictError:
            return cls(f"vault://{self.where} changed since it was read; nothing was written")
        if name == "VaultDown":
            return cls(f"Vault is sealed or down (503) while {doing}; unseal it and retry")
        if name == "RateLimitExceeded":
            return cls(f"Vault is rate limiting (429) while {doing}; retry later")
        return cls(f"Vault failed while {doing} ({name}); retry later")

    # -- reading -------------------------------------------------------------------------

    def _read(self, version: int | None = None) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """(data, metadata) of a version; deleted versions come back with data None."""
        response = self._call(
            f"reading {self.where}",
            lambda c: c.secrets.kv.v2.read_secret_version(
                path=self.path,
                version=version,
                mount_point=self.mount,
                raise_on_deleted_version=False,
            ),
        )
        body = response.get("data") or {}
        return body.get("data"), body.get("metadata") or {}

    def _metadata(self) -> dict[str, Any] | None:
        try:
            response = self._call(
                f"reading metadata of {self.where}",
                lambda c: c.secrets.kv.v2.read_secret_metadata(
                    path=self.path, mount_point=self.mount
                ),
            )
        except StoreNotFoundError:
            return None
        data: dict[str, Any] = response["data"]
        return data

    def _current(self) -> tuple[dict[str, Any], int, float | None]:
        try:
            data, meta = self._read()
        except StoreNotFoundError:
            meta_all = self._metadata()
            if meta_all and meta_all.get("current_version"):
                n = meta_all["current_version"]
                raise StoreNotFoundError(
                    f"the latest version ({n}) of vault://{self.where} is destroyed; import a "
                    "config again with `box-secrets store import`"
                ) from None
            raise
        if data is None:
            raise StoreNotFoundError(
                f"the latest version ({meta.get('version')}) of vault://{self.where} is deleted; "
                f"undelete it (vault kv undelete -versions={meta.get('version')}) or import again"
            )
        if not isinstance(data, dict):
            raise StoreCorruptError(f"vault://{self.where} does not hold a JSON object")
        created = meta.get("created_time")
        from box_secrets._support.times import parse_rfc3339

        when = None
        if isinstance(created, str) and created:
            try:
                when = parse_rfc3339(created[:19] + "Z")
            except ValueError:
                when = None
        return data, int(meta.get("version") or 0), when

    def current_revision(self) -> str | None:
        meta = self._metadata()
        if not meta or not meta.get("current_version"):
            return None
        latest = (meta.get("versions") or {}).get(str(meta["current_version"])) or {}
        if latest.get("destroyed") or latest.get("deletion_time"):
            return None  # a commit with no expected revision writes over it
        return str(meta["current_version"])

    def read_current_data(self) -> dict[str, Any]:
        return self._current()[0]

    def load(self) -> Snapshot:
        from box_secrets.stores._document import Snapshot

        data, version, created = self._current()
        return Snapshot.from_document(
            data, revision=str(version), adopted_at=created, where=f"vault://{self.where}"
        )

    # -- writing ---------------------------------------------------------------------------

    def _commit(self, snapshot: Snapshot, expected: str | None) -> str:
        if expected is None:
            meta = self._metadata()
            cas = 0
            if meta and meta.get("current_version"):
                latest = (meta.get("versions") or {}).get(str(meta["current_version"])) or {}
                if not (latest.get("destroyed") or latest.get("deletion_time")):
                    raise ConflictError(
                        f"vault://{self.where} already holds a config; nothing was written"
                    )
                cas = int(meta["current_version"])  # write over a deleted latest version
        else:
            cas = int(expected)
        document = snapshot.to_document(embed=True)
        response = self._call(
            f"writing {self.where}",
            lambda c: c.secrets.kv.v2.create_or_update_secret(
                path=self.path, secret=document, cas=cas, mount_point=self.mount
            ),
        )
        return str(response["data"]["version"])

    def _purge(self, fingerprint: str) -> None:
        meta = self._metadata()
        if not meta:
            return
        current = int(meta.get("current_version") or 0)
        doomed: list[int] = []
        for number, info in (meta.get("versions") or {}).items():
            n = int(number)
            if n == current or info.get("destroyed"):
                continue
            data, _ = self._read(n)
            # A soft-deleted version cannot be inspected; it may hold the key, so it goes too.
            if data is None or fingerprint in fingerprints_in(data):
                doomed.append(n)
        if doomed:
            self._call(
                f"destroying old versions of {self.where}",
                lambda c: c.secrets.kv.v2.destroy_secret_versions(
                    path=self.path, versions=sorted(doomed), mount_point=self.mount
                ),
            )

    # -- diagnostics -------------------------------------------------------------------------

    def stored_fingerprints(self) -> set[str]:
        meta = self._metadata()
        found: set[str] = set()
        for number, info in ((meta or {}).get("versions") or {}).items():
            if info.get("destroyed"):
                continue
            data, _ = self._read(int(number))
            found |= fingerprints_in(data) if data is not None else {"deleted-version"}
        return found

    def describe(self) -> dict[str, Any]:
        meta = self._metadata() or {}
        return {
            "backend": "vault",
            "addr": self.addr,
            "namespace": self.namespace,
            "path": f"{self.mount}/data/{self.path}",
            "current_version": meta.get("current_version"),
            "versions": {
                n: (
                    "destroyed"
                    if v.get("destroyed")
                    else "deleted"
                    if v.get("deletion_time")
                    else "live"
                )
                for n, v in (meta.get("versions") or {}).items()
            },
        }
