"""Single steps, each idempotent: what a Secrets Manager rotation Lambda runs one at a time."""

from __future__ import annotations

from typing import TYPE_CHECKING

import box_secrets.rotation._transitions as transitions
from box_secrets.errors import InvalidTransitionError, KeyRejectedError
from box_secrets.rotation._outcome import Outcome
from box_secrets.stores._document import Snapshot

if TYPE_CHECKING:
    from box_secrets.rotation._machine import Machine

__all__ = ["promote", "remind", "stage", "verify_pending"]


def stage(machine: Machine, *, ref: str | None = None, notify: bool = True) -> Outcome:
    """Stage a new key unless one is already pending (idempotent).

    ``ref`` reserves a backend version for the key's complete config, such as
    the ``ClientRequestToken`` of a Secrets Manager rotation. A key already
    pending is reused, never replaced: with ``ref`` it moves to that version
    (a new rotation attempt adopts the waiting key). Waits for a person;
    ``notify=False`` leaves telling them to :func:`remind` (a rotation's
    setSecret step).

    Raises:
        InvalidTransitionError: the store is not initialised, or the previous
            key is still held (remove it at Box and retire it first).
    """

    def step(snap: Snapshot) -> Outcome:
        r = snap.record
        if r.auth != "jwt":
            return Outcome("nothing", "a Client Credentials app has no key pair", r.state)
        if r.pending is not None:
            moved = transitions.reslotted(snap, ref) if ref is not None else None
            if moved is not None:
                machine.commit(snap, moved)
                return Outcome(
                    "reused",
                    f"key {r.pending.fingerprint[:16]}... is already pending; this attempt "
                    "reuses it",
                    r.state,
                    waiting=r.pending.key_id is None,
                )
            return Outcome(
                "nothing",
                f"key {r.pending.fingerprint[:16]}... is already pending",
                r.state,
                waiting=r.pending.key_id is None,
            )
        if r.previous is not None:
            raise InvalidTransitionError(
                f"the previous key {r.previous.key_id} is still held; remove it at Box and "
                f"run `{machine.words.cmd('rotate')}` before staging another"
            )
        return machine.stage(snap, forced=True, ref=ref, notify=notify)

    return machine.run(step)


def verify_pending(machine: Machine) -> Outcome:
    """Ask Box whether the pending key works, changing nothing (a rotation's test step).

    ``waiting`` is True while the key has no key ID or Box refuses it.
    """
    snap = machine.store.load()
    pending = snap.record.pending
    if pending is None:
        return Outcome("nothing", "no key is pending", snap.record.state)
    if pending.key_id is None:
        return Outcome(
            "waiting",
            f"awaiting registration of key {pending.fingerprint} in the Box Developer Console",
            snap.record.state,
            waiting=True,
        )
    try:
        machine.verify(snap, pending)
    except KeyRejectedError:
        return Outcome(
            "refused",
            f"Box refuses key ID {pending.key_id} for key {pending.fingerprint}; register "
            "the key's public key and record the ID Box shows",
            snap.record.state,
            waiting=True,
        )
    return Outcome("verified", f"Box accepts key {pending.key_id}", snap.record.state)


def promote(machine: Machine) -> Outcome:
    """Verify the pending key with Box and make it the active key (idempotent).

    Raises:
        InvalidTransitionError: the pending key has no key ID yet.
    """

    def step(snap: Snapshot) -> Outcome:
        r = snap.record
        if r.pending is None:
            return Outcome("nothing", "no key is pending", r.state)
        if r.pending.key_id is None:
            raise InvalidTransitionError(
                "the pending key has no key ID yet; a person must register it at Box first"
            )
        return machine.verify_and_promote(snap)

    return machine.run(step)


def remind(machine: Machine, *, retire_refused: bool = False) -> Outcome:
    """Ask a person to register the pending key or remove the old one, if due (idempotent).

    Sends at most one message per reminder interval (``renotify_hours``) and
    changes nothing else: no key is staged, verified or promoted. With
    ``retire_refused``, an old key Box already refuses is retired instead of
    asked about (what ``advance`` does in the overlap).
    """

    def step(snap: Snapshot) -> Outcome:
        r = snap.record
        if r.pending is not None and r.pending.key_id is None:
            return machine.remind_or_wait(snap, "pending")
        if r.pending is None and r.previous is not None:
            if retire_refused:
                return machine.overlap(snap, force=False)
            return machine.remind_or_wait(snap, "previous")
        return Outcome("nothing", "no person is needed", r.state)

    return machine.run(step)
