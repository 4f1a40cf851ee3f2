"""Where a rotation keeps key versions in Vault Transit: a version per rotation, trimmed."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from box_secrets.errors import ConfigError, SignerError
from box_secrets.signers._material import NewKey, RemoteKey, pem_fingerprint
from box_secrets.signers._transit import BITS, TYPES, _configure, _Vault
from box_secrets.signers._uri import SignerURI, as_signer_uri, parse_signer_uri

if TYPE_CHECKING:
    from box_secrets.stores._document import Snapshot
    from box_secrets.stores._entries import RetireAction

__all__ = ["TransitHome"]


class TransitHome:
    """Where a rotation keeps its key versions: ``vault-transit://MOUNT/KEY`` at VAULT_ADDR."""

    kind = "vault-transit"

    def __init__(self, uri: str | SignerURI) -> None:
        parsed = as_signer_uri(uri, field="the signer")
        if parsed.version is not None:
            raise ConfigError(
                "a rotated Transit signer names the key, not a version: drop version= from it",
                field="signer",
            )
        self.uri = parsed
        self.vault = _Vault(parsed)

    def _new_key(self, data: dict[str, Any], version: int) -> NewKey:
        entry = (data.get("keys") or {}).get(str(version)) or {}
        if not entry.get("public_key"):
            raise SignerError(f"Transit key version {version} has no public key")
        return NewKey(
            RemoteKey(str(self.uri.with_key(version=str(version)))),
            str(entry["public_key"]),
            bits=BITS.get(str(data.get("type")), 2048),
        )

    def check(self) -> None:
        """An existing key must be a non-exportable RSA key.

        Raises:
            ConfigError: it is not.
            SignerError: Vault refused or failed.
        """
        data = self.vault.read_key()
        if data is not None:
            self._check(data)

    def _check(self, data: dict[str, Any]) -> None:
        v = self.vault
        if data.get("type") not in BITS:
            raise ConfigError(
                f"Transit key {v.mount}/{v.name} is of type {data.get('type')}; Box needs an "
                "RSA key: name a new key and box-secrets creates an rsa-2048 one",
                field="signer",
            )
        if data.get("exportable") or data.get("allow_plaintext_backup"):
            raise ConfigError(
                f"Transit key {v.mount}/{v.name} is exportable, so its private key can leave "
                "Vault; use a key created with exportable=false and allow_plaintext_backup=false",
                field="signer",
            )

    def new_key(self, snap: Snapshot) -> NewKey:
        """The version to stage: the latest of a new or unused key, else a new version.

        Raises:
            ConfigError: the key exists but is not a non-exportable RSA key.
            SignerError: Vault refused or failed.
        """
        v = self.vault
        data = v.read_key()
        if data is None:
            bits = snap.record.policy.key_size
            v.change(
                "creating the Transit key",
                lambda c: c.secrets.transit.create_key(
                    name=v.name,
                    key_type=TYPES[bits],
                    exportable=False,
                    allow_plaintext_backup=False,
                    mount_point=v.mount,
                ),
            )
            data = v.read_key() or {}
            return self._new_key(data, int(data["latest_version"]))
        self._check(data)
        if snap.record.active is None:
            candidate = self._new_key(data, int(data["latest_version"]))
            if candidate.fingerprint not in snap.record.spent():
                return candidate
        v.change(
            "rotating the Transit key",
            lambda c: c.secrets.transit.rotate_key(name=v.name, mount_point=v.mount),
        )
        data = v.read_key() or {}
        return self._new_key(data, int(data["latest_version"]))

    def promoted(self, snap: Snapshot) -> None:
        """Nothing to move: the record names the active version."""

    repair = promoted

    def _ours(
        self, material: RemoteKey, version: int, data: dict[str, Any], snap: Snapshot
    ) -> None:
        """Refuse to trim a key, or a version, that is not the one the record holds.

        The record is data: whoever can write the store could point the home at
        another Transit key, whose versions a trim would remove for good. So the
        key retired must be the home's key, every key in use must be too, and the
        version's public key (while Vault still has it) must be the one recorded.
        """
        refusal = (
            "the store names {what}; box-secrets trims only the Transit key the record's "
            "keys live in, so nothing was changed: restore the store from its history, or "
            "trim the key by hand"
        )
        keys = [material] + [
            m
            for k in (snap.record.active, snap.record.pending, snap.record.previous)
            if k is not None
            for m in [snap.materials.get(k.fingerprint)]
            if isinstance(m, RemoteKey)
        ]
        for m in keys:
            parsed = parse_signer_uri(m.uri)
            if parsed.kind != self.kind or parsed.key != self.uri.key:
                raise SignerError(
                    refusal.format(
                        what=f"{self.uri.key} as its Transit key, but one of its keys lives in "
                        f"{parsed.key}"
                    )
                )
        entry = ((data.get("keys") or {}).get(str(version))) or {}
        public = entry.get("public_key")
        if public and pem_fingerprint(str(public)) != snap.fingerprint_of(material):
            raise SignerError(
                refusal.format(
                    what=f"version {version} of {self.uri.key} as a retired key, but its "
                    "public key is not the one the record holds"
                )
            )

    def retire(self, material: RemoteKey, snap: Snapshot) -> tuple[RetireAction, str]:
        """Trim every version below the oldest one in use (idempotent): (action, detail).

        Raises:
            SignerError: the version is not one of this home's (see :meth:`_ours`).
        """
        version = parse_signer_uri(material.uri).version or 0
        in_use = [
            parse_signer_uri(m.uri).version or 0
            for k in (snap.record.active, snap.record.pending, snap.record.previous)
            if k is not None
            for m in [snap.materials.get(k.fingerprint)]
            if isinstance(m, RemoteKey) and m.kind == self.kind
        ]
        keep = min(in_use) if in_use else 0
        if version >= keep:
            return "kept", (
                f"Transit version {version} stays in Vault until a later retirement trims it "
                "(Vault trims only versions below the oldest one in use)"
            )
        v = self.vault
        data = v.read_key() or {}
        self._ours(material, version, data, snap)
        # Two calls, encryption first: Vault refuses a decryption minimum above the
        # encryption one, and hvac refuses both in one call unless encryption > decryption.
        for field in ("min_encryption_version", "min_decryption_version"):
            if int(data.get(field) or 0) < keep:
                settings: dict[str, Any] = {"name": v.name, "mount_point": v.mount, field: keep}
                v.change(f"raising {field}", functools.partial(_configure, settings=settings))
        if int(data.get("min_available_version") or 0) < keep:
            v.change(
                "trimming old key versions",
                lambda c: c.secrets.transit.trim_key(
                    name=v.name, min_version=keep, mount_point=v.mount
                ),
            )
        return "destroyed", f"Transit versions below {keep} trimmed: version {version} is gone"
