"""The rotation record: which key is active, pending and previous, and what happened.

(The store document that carries it, :class:`~box_secrets.stores._document.Snapshot`,
is in ``_document.py``.)

Stores serialize it beside the Box config (never instead of it); the rotation
engine edits it. Everything here is non-secret except :class:`KeyMaterial`.
"""

from __future__ import annotations

import copy
import math
import os
from typing import Any, Literal

from box_secrets._support.times import now, parse_rfc3339, rfc3339
from box_secrets.errors import InputError, StoreCorruptError
from box_secrets.signers._material import KeyMaterial, Material, material_from_auth
from box_secrets.stores._config import BoxAppConfig

__all__ = [
    "RECORD_KEY",
    "Event",
    "KeyInfo",
    "KeyMaterial",
    "Material",
    "Policy",
    "RotationRecord",
    "actor",
]

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

#: The top-level key of a Box config JSON under which box-secrets keeps its record.
RECORD_KEY = "boxSecrets"
FORMAT = 1


def actor() -> str:
    """Who is acting: ``user@host`` (or the Lambda function name)."""
    fn = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
    if fn:
        return f"lambda:{fn}"
    try:
        import getpass

        user = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        user = str(os.getuid())
    import socket  # here, not at import: readers never need it

    return f"{user}@{socket.gethostname()}"


def _ts(value: float | None) -> str | None:
    return rfc3339(value) if value is not None else None


def _parse_ts(value: Any, where: str) -> float | None:
    if value is None:
        return None
    try:
        return parse_rfc3339(str(value))
    except ValueError:
        raise StoreCorruptError(f"the record's {where} is not a valid time") from None


#: What the history says a key home did with a retired key: gone, unusable, or not yet.
RetireAction = Literal["destroyed", "disabled", "kept"]


class _Fields:
    """A plain record class: ``==`` and ``repr`` over the names in ``_FIELDS``.

    Not ``dataclasses``: importing it (and ``inspect``, ``ast``, ``dis``) costs
    more than the rest of the read path, and ``box-secrets terraform status``
    runs at every Terraform plan. Each subclass's ``__init__`` holds the
    defaults and passes every field here by name.
    """

    _FIELDS: tuple[str, ...] = ()

    def __init__(self, **values: Any) -> None:
        for name in self._FIELDS:
            setattr(self, name, values[name])
        self._check()

    def _check(self) -> None:
        """Validation after ``__init__`` (a subclass's hook)."""

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._FIELDS)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, _Fields)
            and type(other) is type(self)
            and self._values() == other._values()
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._FIELDS)
        return f"{type(self).__name__}({inner})"


#: Inclusive bounds of each policy value; a value outside (or nan, inf) is refused.
POLICY_BOUNDS: dict[str, tuple[float, float]] = {
    "max_age_days": (1.0, 3650.0),
    "grace_days": (0.0, 365.0),
    "renotify_hours": (0.01, 8760.0),
}
KEY_SIZES = (2048, 3072, 4096)


class Policy(_Fields):
    """When to rotate and how often to remind; checked on creation and on every read."""

    key_size: int
    max_age_days: float
    grace_days: float
    renotify_hours: float
    _FIELDS = (
        "key_size",
        "max_age_days",
        "grace_days",
        "renotify_hours",
    )

    def __init__(
        self,
        key_size: int = 2048,
        max_age_days: float = 90.0,
        grace_days: float = 7.0,
        renotify_hours: float = 24.0,
    ) -> None:
        super().__init__(
            key_size=key_size,
            max_age_days=max_age_days,
            grace_days=grace_days,
            renotify_hours=renotify_hours,
        )

    def _check(self) -> None:
        if isinstance(self.key_size, bool) or self.key_size not in KEY_SIZES:
            raise InputError(f"key size must be one of {', '.join(map(str, KEY_SIZES))} bits")
        for name, (low, high) in POLICY_BOUNDS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InputError(f"{name} must be a number")
            # nan fails every comparison, so it fails this one too.
            if not (math.isfinite(value) and low <= value <= high):
                raise InputError(f"{name} must be a finite number from {low:g} to {high:g}")
            setattr(self, name, float(value))

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._FIELDS}

    @classmethod
    def from_json(cls, data: Any) -> Policy:
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise StoreCorruptError("the record's policy is not an object")
        known = set(cls._FIELDS)
        try:
            policy = cls(**{k: v for k, v in data.items() if k in known})
        except TypeError:
            raise StoreCorruptError("the record's policy is malformed") from None
        except InputError as exc:
            raise StoreCorruptError(
                f"the record's policy is invalid ({exc}); restore boxSecrets.policy from an "
                "earlier version of the store"
            ) from None
        return policy


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


class RotationRecord(_Fields):
    policy: Policy
    active: KeyInfo | None
    pending: KeyInfo | None
    previous: KeyInfo | None
    destroying: list[KeyInfo]
    history: list[Event]
    seq: int
    auth: str  # "ccg" for Client Credentials apps (no keys to rotate)
    # Where new keys are made: a signer URI (a KMS alias, a Transit key), or None
    # for RSA keys generated here and kept in the store.
    signer: str | None
    _FIELDS = (
        "policy",
        "active",
        "pending",
        "previous",
        "destroying",
        "history",
        "seq",
        "auth",
        "signer",
    )

    def __init__(
        self,
        *,
        policy: Policy | None = None,
        active: KeyInfo | None = None,
        pending: KeyInfo | None = None,
        previous: KeyInfo | None = None,
        destroying: list[KeyInfo] | None = None,
        history: list[Event] | None = None,
        seq: int = 0,
        auth: str = "jwt",
        signer: str | None = None,
    ) -> None:
        super().__init__(
            policy=Policy() if policy is None else policy,
            active=active,
            pending=pending,
            previous=previous,
            destroying=[] if destroying is None else destroying,
            history=[] if history is None else history,
            seq=seq,
            auth=auth,
            signer=signer,
        )

    @property
    def state(self) -> State:
        """One word for where the lifecycle stands."""
        if self.auth != "jwt":
            return "client-credentials"
        if self.destroying:
            return "retiring"
        if self.active is None:
            if self.pending is None:
                return "empty"
            return (
                "awaiting-first-verification"
                if self.pending.key_id
                else "awaiting-first-registration"
            )
        if self.pending is not None:
            return "registered" if self.pending.key_id else "staged"
        if self.previous is not None:
            return "overlap"
        return "active"

    def spent(self) -> set[str]:
        """Fingerprints a newly staged key must not have: keys in use, retired or abandoned."""
        out = {e.new_fingerprint for e in self.history if e.action in ("abandoned", "retired")}
        out |= {k.fingerprint for k in (self.active, self.previous, *self.destroying) if k}
        return {fp for fp in out if fp}

    def roles(self) -> list[tuple[str, KeyInfo]]:
        out = [
            (role, k)
            for role, k in (
                ("active", self.active),
                ("pending", self.pending),
                ("previous", self.previous),
            )
            if k is not None
        ]
        return out

    def log(
        self,
        action: EventAction,
        *,
        key: KeyInfo | None = None,
        old: KeyInfo | None = None,
        detail: str | None = None,
        at: float | None = None,
    ) -> None:
        self.history.append(
            Event(
                at=now() if at is None else at,
                action=action,
                actor=actor(),
                key_id=key.key_id if key else None,
                old_fingerprint=old.fingerprint if old else None,
                new_fingerprint=key.fingerprint if key else None,
                detail=detail,
            )
        )

    def to_json(self, materials: dict[str, Material] | None = None) -> dict[str, Any]:
        """Serialize; pending/previous carry their key material when it is in ``materials``."""

        def entry(k: KeyInfo | None) -> dict[str, Any] | None:
            if k is None:
                return None
            out = k.to_json()
            m = materials.get(k.fingerprint) if materials is not None else None
            if m is not None:
                out.update(m.auth_fields())
            return out

        out = {
            "format": FORMAT,
            "seq": self.seq,
            "auth": self.auth,
            "policy": self.policy.to_json(),
            "active": self.active.to_json() if self.active else None,
            "pending": entry(self.pending),
            "previous": entry(self.previous),
            "destroying": [k.to_json() for k in self.destroying],
            "history": [e.to_json() for e in self.history],
        }
        if self.signer is not None:
            out["signer"] = self.signer
        return out

    @classmethod
    def from_json(cls, data: Any) -> tuple[RotationRecord, dict[str, Material]]:
        """Parse; returns the record and any pending/previous material it carries."""
        if not isinstance(data, dict):
            raise StoreCorruptError(f"the {RECORD_KEY} record is not an object")
        fmt = data.get("format")
        if fmt != FORMAT:
            raise StoreCorruptError(
                f"the {RECORD_KEY} record has format {fmt!r}; this box-secrets reads format "
                f"{FORMAT}, so upgrade box-secrets"
            )
        materials: dict[str, Material] = {}

        def key(name: str) -> KeyInfo | None:
            raw = data.get(name)
            if raw is None:
                return None
            info = KeyInfo.from_json(raw, name)
            try:
                material = material_from_auth(raw)
            except InputError:
                raise StoreCorruptError(
                    f"the record's {name} key names a malformed signer"
                ) from None
            if material is not None:
                materials[info.fingerprint] = material
            return info

        history = data.get("history") or []
        destroying = data.get("destroying") or []
        if not isinstance(history, list) or not isinstance(destroying, list):
            raise StoreCorruptError(f"the {RECORD_KEY} record's lists are malformed")
        record = cls(
            policy=Policy.from_json(data.get("policy")),
            active=key("active"),
            pending=key("pending"),
            previous=key("previous"),
            destroying=[KeyInfo.from_json(k, "destroying") for k in destroying],
            history=[Event.from_json(e) for e in history],
            seq=int(data.get("seq") or 0),
            auth=str(data.get("auth") or "jwt"),
            signer=_signer_of(data.get("signer")),
        )
        return record, materials


def _signer_of(value: Any) -> str | None:
    if value is None:
        return None
    from box_secrets.signers._uri import parse_signer_uri

    try:
        return str(parse_signer_uri(value))
    except InputError:
        raise StoreCorruptError("the record's signer is not a valid signer URI") from None
