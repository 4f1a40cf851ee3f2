"""The lifecycle's decisions and transitions: pure functions over a snapshot.

No I/O, no clock, no text for people: each function takes the time it
needs and returns a new :class:`~box_secrets.stores._document.Snapshot` (or a
decision); the engine commits, notifies and asks Box. Tests and the coming
Lambda can reason about a transition without a store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from box_secrets.rotation._views import DAY
from box_secrets.signers._material import KeyMaterial, NewKey
from box_secrets.stores._record import KeyInfo

if TYPE_CHECKING:
    from box_secrets.signers._keys import GeneratedKey
    from box_secrets.stores._document import Snapshot
    from box_secrets.stores._record import Policy, RotationRecord

__all__ = [
    "Decision",
    "back_to_staged",
    "decide",
    "due",
    "marked_notified",
    "promoted",
    "registered",
    "remind_due",
    "reslotted",
    "retired",
    "staged",
    "unstaged",
]

#: What ``advance`` does next.
Decision = Literal["no-keys", "await-registration", "verify", "overlap", "stage", "nothing"]


def due(record: RotationRecord, now: float) -> bool:
    """True when the active key has reached the policy's maximum age."""
    assert record.active is not None
    started = record.active.activated_at or record.active.created_at
    return now - started >= record.policy.max_age_days * DAY


def decide(record: RotationRecord, now: float, force: bool) -> Decision:
    """The next safe step for ``advance`` (a forced run never replaces a pending key)."""
    if record.auth != "jwt":
        return "no-keys"
    if record.pending is not None:
        return "await-registration" if record.pending.key_id is None else "verify"
    if record.previous is not None:
        return "overlap"
    if record.active is None or force or due(record, now):
        return "stage"
    return "nothing"


def remind_due(key: KeyInfo, policy: Policy, now: float) -> bool:
    """True when a person was never told about ``key``, or was told long enough ago."""
    return key.notified_at is None or now - key.notified_at >= policy.renotify_hours * 3600


def staged(
    snap: Snapshot,
    key: GeneratedKey | NewKey,
    *,
    now: float,
    forced: bool,
    slot: str | None = None,
) -> tuple[Snapshot, KeyInfo]:
    """A copy with ``key`` pending (its private key stored before anyone sees it).

    ``slot`` reserves a backend version for the key's complete config (a
    Secrets Manager rotation's token).
    """
    new = snap.copy()
    material = (
        key.material
        if isinstance(key, NewKey)
        else KeyMaterial(key.private_key_pem, key.passphrase, key=key.key)
    )
    info = KeyInfo(
        fingerprint=key.fingerprint,
        public_key_pem=key.public_key_pem,
        bits=key.bits,
        origin="generated",
        created_at=now,
        slot=slot,
        signer_kind=material.kind,
    )
    new.record.pending = info
    new.materials[info.fingerprint] = material
    reason = (
        "forced"
        if forced
        else ("first key" if snap.record.active is None else "maximum age reached")
    )
    new.record.log("staged", key=info, old=snap.record.active, at=now, detail=reason)
    return new, info


def registered(new: Snapshot, old: Snapshot, key_id: str, now: float) -> Snapshot:
    """``new`` with the pending key's ID recorded (logged only when it changed)."""
    pending = new.record.pending
    assert pending is not None
    changed = old.record.pending is None or old.record.pending.key_id != key_id
    pending.key_id = key_id
    if changed:
        pending.ref = None  # a stored version holds the old ID; the store writes a new one
        pending.registered_at = now
        new.record.log("registered", key=pending, at=now, detail="a person supplied Box's key ID")
    return new


def back_to_staged(snap: Snapshot, key_id: str, reason: str, now: float) -> Snapshot:
    """A copy where the pending key is staged again, with Box's refusal of ``key_id`` logged."""
    new = snap.copy()
    pending = new.record.pending
    assert pending is not None
    pending.key_id = None
    pending.registered_at = None
    pending.ref = None
    if key_id not in pending.refused_key_ids:
        pending.refused_key_ids.append(key_id)
    new.record.log(
        "refused",
        key=pending,
        at=now,
        detail=f"Box refused key ID {key_id} for this key: {reason}",
    )
    return new


def reslotted(snap: Snapshot, slot: str) -> Snapshot | None:
    """A copy where the pending key moves to the reserved version ``slot``, or None if it is there.

    A rotation attempt that finds a key already waiting reuses it: the key's
    config is written again under the new attempt's version.
    """
    pending = snap.record.pending
    assert pending is not None
    if slot in (pending.ref, pending.slot):
        return None
    new = snap.copy()
    moved = new.record.pending
    assert moved is not None
    moved.slot, moved.ref = slot, None
    return new


def promoted(snap: Snapshot, now: float) -> Snapshot:
    """A copy where the (verified) pending key is active and the active key is previous."""
    new = snap.copy()
    r = new.record
    incoming, outgoing = r.pending, r.active
    assert incoming is not None
    incoming.verified_at = now
    incoming.activated_at = now
    incoming.notified_at = None
    r.log("verified", key=incoming, at=now, detail="Box accepted a token signed with this key")
    r.active, r.pending = incoming, None
    if outgoing is not None:
        outgoing.superseded_at = now
        outgoing.notified_at = None
        r.previous = outgoing
    r.log("promoted", key=incoming, old=outgoing, at=now)
    return new


def retired(snap: Snapshot, now: float, detail: str) -> Snapshot:
    """A copy where the previous key waits in ``destroying`` for its material to go."""
    new = snap.copy()
    previous = new.record.previous
    assert previous is not None
    new.record.previous = None
    new.record.destroying.append(previous)
    new.record.log("retired", key=previous, at=now, detail=detail)
    return new


def unstaged(snap: Snapshot, now: float) -> Snapshot:
    """A copy where the pending key is abandoned and waits in ``destroying``."""
    new = snap.copy()
    pending = new.record.pending
    assert pending is not None
    new.record.pending = None
    new.record.destroying.append(pending)
    new.record.log("abandoned", key=pending, at=now)
    return new


def marked_notified(
    snap: Snapshot, role: str, fingerprint: str, now: float, detail: str
) -> Snapshot | None:
    """A copy recording that a person was told about the ``role`` key, or None if it moved on."""
    key = getattr(snap.record, role)
    if key is None or key.fingerprint != fingerprint:
        return None
    new = snap.copy()
    marked = getattr(new.record, role)
    marked.notified_at = now
    new.record.log("notified", key=marked, at=now, detail=detail)
    return new
