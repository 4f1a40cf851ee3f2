"""The rotation record's entries: one key pair's facts (:class:`KeyInfo`) and one history
event (:class:`Event`), with the words both use (origins, states, actions)."""

from __future__ import annotations

import copy
from typing import Any, Literal

from box_secrets._support.times import now, rfc3339
from box_secrets.errors import StoreCorruptError
from box_secrets.stores._config import BoxAppConfig
from box_secrets.stores._fields import _Fields, _parse_ts, _ts

__all__ = ["Event", "EventAction", "KeyInfo", "Origin", "RetireAction", "State"]

#: Where a key came from: made by box-secrets, imported from a console download, or
#: adopted from a config found in the store.
Origin = Literal["generated", "imported", "adopted"]
#: Where a store's lifecycle stands (``RotationRecord.state``).
State = Literal[
    "client-credentials",
    "retiring",
    "empty",
    "awaiting-first-registration",
    "awaiting-first-verification",
    "staged",
    "registered",
    "overlap",
    "active",
]

#: What the history records.
EventAction = Literal[
    "initialised",
    "adopted",
    "imported",
    "policy-changed",
    "staged",
    "notified",
    "registered",
    "refused",
    "verified",
    "promoted",
    "retired",
    "abandoned",
    "destroyed",
    "disabled",
    "kept",
    "unlabelled",
]

#: What the history says a key home did with a retired key: gone, unusable, or not yet.
RetireAction = Literal["destroyed", "disabled", "kept"]


class KeyInfo(_Fields):
    """Non-secret facts about one key pair."""

    fingerprint: str
    public_key_pem: str
    key_id: str | None
    bits: int
    origin: Origin
    created_at: float
    registered_at: float | None
    verified_at: float | None  # Box accepted a token signed with this key
    activated_at: float | None
    superseded_at: float | None  # became the previous key
    notified_at: float | None  # a person was last asked to act on it
    refused_key_ids: list[str]
    ref: str | None  # backend reference (a Secrets Manager version id)
    # A version reserved by the caller for this key's complete config (the
    # ClientRequestToken of a Secrets Manager rotation); the store fills it.
    slot: str | None
    signer_kind: str  # the key material's kind: pem, aws-kms or vault-transit
    _FIELDS = (
        "fingerprint",
        "public_key_pem",
        "key_id",
        "bits",
        "origin",
        "created_at",
        "registered_at",
        "verified_at",
        "activated_at",
        "superseded_at",
        "notified_at",
        "refused_key_ids",
        "ref",
        "slot",
        "signer_kind",
    )

    def __init__(
        self,
        fingerprint: str,
        public_key_pem: str,
        *,
        key_id: str | None = None,
        bits: int = 2048,
        origin: Origin = "generated",
        created_at: float | None = None,
        registered_at: float | None = None,
        verified_at: float | None = None,
        activated_at: float | None = None,
        superseded_at: float | None = None,
        notified_at: float | None = None,
        refused_key_ids: list[str] | None = None,
        ref: str | None = None,
        slot: str | None = None,
        signer_kind: str = "pem",
    ) -> None:
        super().__init__(
            fingerprint=fingerprint,
            public_key_pem=public_key_pem,
            key_id=key_id,
            bits=bits,
            origin=origin,
            created_at=now() if created_at is None else created_at,
            registered_at=registered_at,
            verified_at=verified_at,
            activated_at=activated_at,
            superseded_at=superseded_at,
            notified_at=notified_at,
            refused_key_ids=[] if refused_key_ids is None else refused_key_ids,
            ref=ref,
            slot=slot,
            signer_kind=signer_kind,
        )

    _TIMES = (
        "created_at",
        "registered_at",
        "verified_at",
        "activated_at",
        "superseded_at",
        "notified_at",
    )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self._FIELDS:
            value = getattr(self, name)
            out[name] = _ts(value) if name in self._TIMES else copy.copy(value)
        return out

    @classmethod
    def from_json(cls, data: Any, where: str) -> KeyInfo:
        if not isinstance(data, dict) or not isinstance(data.get("fingerprint"), str):
            raise StoreCorruptError(f"the record's {where} key is malformed")
        known = set(cls._FIELDS)
        values = {k: v for k, v in data.items() if k in known}
        for name in cls._TIMES:
            if name in values:
                values[name] = _parse_ts(values[name], f"{where}.{name}")
        if values.get("created_at") is None:
            values["created_at"] = 0.0
        try:
            return cls(**values)
        except TypeError:
            raise StoreCorruptError(f"the record's {where} key is malformed") from None

    @classmethod
    def from_config(cls, config: BoxAppConfig, *, origin: Origin, at: float) -> KeyInfo:
        """Facts about the key pair in a Box config (one Box already issued or registered)."""
        from box_secrets.signers._keys import public_pem_of

        if config.signer_uri is not None:
            from box_secrets.errors import ConfigError

            raise ConfigError(
                "this config names a signer, not a key pair box-secrets can take in; run "
                "`box-secrets init --signer URI` to keep keys in AWS KMS or Vault Transit"
            )
        assert config.fingerprint is not None
        return cls(
            fingerprint=config.fingerprint,
            public_key_pem=public_pem_of(config.private_key),
            key_id=config.public_key_id,
            bits=config.private_key.key_size,
            origin=origin,
            created_at=at,
            registered_at=at,
        )


class Event(_Fields):
    """One transition in the append-only history."""

    at: float
    action: str
    actor: str
    key_id: str | None
    old_fingerprint: str | None
    new_fingerprint: str | None
    detail: str | None
    _FIELDS = (
        "at",
        "action",
        "actor",
        "key_id",
        "old_fingerprint",
        "new_fingerprint",
        "detail",
    )

    def __init__(
        self,
        *,
        at: float,
        action: str,
        actor: str,
        key_id: str | None = None,
        old_fingerprint: str | None = None,
        new_fingerprint: str | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(
            at=at,
            action=action,
            actor=actor,
            key_id=key_id,
            old_fingerprint=old_fingerprint,
            new_fingerprint=new_fingerprint,
            detail=detail,
        )

    def to_json(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in self._FIELDS}
        out["at"] = rfc3339(self.at)
        return {k: v for k, v in out.items() if v is not None}

    @classmethod
    def from_json(cls, data: Any) -> Event:
        if not isinstance(data, dict) or "action" not in data:
            raise StoreCorruptError("the record's history holds a malformed entry")
        at = _parse_ts(data.get("at"), "history time") or 0.0
        known = set(cls._FIELDS) - {"at"}
        return cls(at=at, **{k: v for k, v in data.items() if k in known})
