"""The rotation record: which key is active, pending and previous, and what happened.

(The store document that carries it, :class:`~box_secrets.stores._document.Snapshot`,
is in ``_document.py``.)

Stores serialize it beside the Box config (never instead of it); the rotation
engine edits it. Everything here is non-secret except :class:`KeyMaterial`.
"""

from __future__ import annotations

from typing import Any

from box_secrets._support.actor import actor
from box_secrets._support.times import now
from box_secrets.errors import InputError, StoreCorruptError
from box_secrets.signers._material import KeyMaterial, Material
from box_secrets.stores._entries import (
    Event,
    EventAction,
    KeyInfo,
    State,
)
from box_secrets.stores._fields import _Fields
from box_secrets.stores._policy import Policy

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

#: The top-level key of a Box config JSON under which box-secrets keeps its record.
RECORD_KEY = "boxSecrets"
FORMAT = 1


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

    def to_json(self) -> dict[str, Any]:
        """Serialize the record alone (the document adds key material: ``_document``)."""
        out = {
            "format": FORMAT,
            "seq": self.seq,
            "auth": self.auth,
            "policy": self.policy.to_json(),
            "active": self.active.to_json() if self.active else None,
            "pending": self.pending.to_json() if self.pending else None,
            "previous": self.previous.to_json() if self.previous else None,
            "destroying": [k.to_json() for k in self.destroying],
            "history": [e.to_json() for e in self.history],
        }
        if self.signer is not None:
            out["signer"] = self.signer
        return out

    @classmethod
    def from_json(cls, data: Any) -> RotationRecord:
        """Parse the record (the key material some entries carry is the document's)."""
        if not isinstance(data, dict):
            raise StoreCorruptError(f"the {RECORD_KEY} record is not an object")
        fmt = data.get("format")
        if fmt != FORMAT:
            raise StoreCorruptError(
                f"the {RECORD_KEY} record has format {fmt!r}; this box-secrets reads format "
                f"{FORMAT}, so upgrade box-secrets"
            )

        def key(name: str) -> KeyInfo | None:
            raw = data.get(name)
            return None if raw is None else KeyInfo.from_json(raw, name)

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
        return record


def _signer_of(value: Any) -> str | None:
    if value is None:
        return None
    from box_secrets.signers._uri import parse_signer_uri

    try:
        return str(parse_signer_uri(value))
    except InputError:
        raise StoreCorruptError("the record's signer is not a valid signer URI") from None
