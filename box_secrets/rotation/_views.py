"""Typed, secret-free views of a store's keys: one key view under every consumer.

``box-secrets status --json``, ``box-secrets store show --json`` and the coming
Terraform and Lambda results are all built from :func:`key_view` and
:func:`status_view`, so a field means the same everywhere. No view ever holds
a private key, passphrase, client secret or token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from box_secrets._support.times import rfc3339

if TYPE_CHECKING:
    from typing import TypedDict

    from box_secrets.stores._entries import KeyInfo, State
    from box_secrets.stores._record import RotationRecord

__all__ = ["DAY", "KeyView", "StatusView", "key_view", "status_view"]

DAY = 86400.0

if TYPE_CHECKING:

    class KeyView(TypedDict):
        """One key's public facts."""

        key_id: str | None
        fingerprint_sha256: str
        public_key_pem: str
        origin: str
        created_at: str | None
        activated_at: str | None
        signer: str

    class StatusView(TypedDict):
        """Where a store stands and what happens next (``status --json``)."""

        state: State
        active: KeyView | None
        pending: KeyView | None
        previous: KeyView | None
        next_action: str
        person_needed: bool
        key_age_days: float | None

else:
    # At run time both are plain dicts; building TypedDict classes costs import
    # time on the path of `box-secrets terraform status` (every Terraform plan).
    KeyView = StatusView = dict


def _ts(value: float | None) -> str | None:
    return rfc3339(value) if value else None


def key_view(key: KeyInfo | None) -> KeyView | None:
    if key is None:
        return None
    return {
        "key_id": key.key_id,
        "fingerprint_sha256": key.fingerprint,
        "public_key_pem": key.public_key_pem,
        "origin": key.origin,
        "created_at": _ts(key.created_at),
        "activated_at": _ts(key.activated_at),
        "signer": key.signer_kind,
    }


def person_needed(record: RotationRecord) -> bool:
    """True while the next step is a person's: register a key, or remove an old one at Box."""
    if record.auth != "jwt" or record.destroying:
        return False
    if record.pending is not None:
        return record.pending.key_id is None
    return record.previous is not None


def status_view(record: RotationRecord, next_action: str, now: float) -> StatusView:
    active = record.active
    age = None
    if active is not None:
        started = active.activated_at or active.created_at
        age = round(max(0.0, now - started) / DAY, 3)
    return {
        "state": record.state,
        "active": key_view(active),
        "pending": key_view(record.pending),
        "previous": key_view(record.previous),
        "next_action": next_action,
        "person_needed": person_needed(record),
        "key_age_days": age,
    }
