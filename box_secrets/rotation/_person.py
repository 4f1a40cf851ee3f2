"""The person's side of rotation: register a key ID, import a Box-made key, abandon, retire.

Functions over the rotation :class:`~._machine.Machine`; the engine's methods
of the same names call them. They use the machine's conflict loop, Box check
and notifier, and the machine calls none of them back.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import box_secrets.rotation._transitions as transitions
from box_secrets._support.times import rfc3339
from box_secrets.errors import InputError, InvalidTransitionError, KeyRejectedError
from box_secrets.rotation._destroy import finish_destruction
from box_secrets.rotation._outcome import Outcome
from box_secrets.rotation._views import DAY
from box_secrets.stores._document import Snapshot
from box_secrets.stores._record import KeyInfo

if TYPE_CHECKING:
    from box_secrets.rotation._machine import Machine
    from box_secrets.stores._config import BoxAppConfig

__all__ = ["abandon", "import_pending", "register", "retire"]

_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def register(machine: Machine, key_id: str, *, verify: bool = False) -> Outcome:
    """Record the key ID Box showed for the pending key (``verify``: check, promote now)."""
    key_id = key_id.strip()
    if not _KEY_ID.match(key_id):
        raise InputError(
            f"{key_id!r} does not look like a Box public key ID (letters and digits, "
            "as shown in the Developer Console)"
        )

    def step(snap: Snapshot) -> Outcome:
        r = snap.record
        if r.pending is None and r.active is not None and r.active.key_id == key_id:
            # Run again after it already went through (a retry after a crash, say):
            # finish what that run may not have, telling the person about the old key.
            if r.previous is not None and r.previous.notified_at is None:
                machine.notify(
                    snap,
                    machine.words.remove_notice(snap, r.previous),
                    "previous",
                    "asked a person to remove the old key at Box",
                )
            return Outcome("nothing", f"key {key_id} is already the active key", r.state)
        if r.pending is None:
            raise InvalidTransitionError(
                f"no key is waiting for registration in {machine.store.uri}; run "
                f"`{machine.words.cmd('rotate', '--force')}` to start a rotation"
            )
        for role, other in (("active", r.active), ("previous", r.previous)):
            if other is not None and other.key_id == key_id:
                raise InputError(
                    f"key ID {key_id} belongs to the {role} key; the new key got another "
                    "ID in the Developer Console"
                )
        if verify:
            return _verify_and_promote(machine, snap, key_id)
        if r.pending.key_id == key_id:
            return Outcome(
                "nothing",
                f"key ID {key_id} is already recorded; run "
                f"`{machine.words.cmd('rotate')}` to verify and promote it",
                r.state,
            )
        new = transitions.registered(snap.copy(), snap, key_id, machine.clock())
        machine.commit(snap, new)
        return Outcome(
            "registered",
            f"recorded key ID {key_id}; run `{machine.words.cmd('rotate')}` to verify "
            "it with Box and promote it",
            new.record.state,
        )

    return machine.run(step)


def _verify_and_promote(machine: Machine, snap: Snapshot, key_id: str) -> Outcome:
    """``register --verify``: promote the pending key under ``key_id`` if Box accepts it."""
    pending = snap.record.pending
    assert pending is not None
    candidate = snap.copy()
    assert candidate.record.pending is not None
    candidate.record.pending.key_id = key_id
    try:
        machine.verify(candidate, candidate.record.pending)
    except KeyRejectedError as exc:
        # The person is at the terminal: no notification, just the answer.
        staged = machine.back_to_staged(snap, key_id, exc)
        machine.commit(snap, staged)
        return Outcome(
            "refused",
            f"Box refused key ID {key_id} for the pending key (fingerprint "
            f"{pending.fingerprint[:16]}...); the key is still staged: find the ID "
            "Box shows for this key and run register again",
            staged.record.state,
            waiting=True,
        )
    new = transitions.registered(candidate, snap, key_id, machine.clock())
    machine.commit(snap, new)
    return machine.promote(new)


def import_pending(machine: Machine, config: BoxAppConfig) -> Outcome:
    """Bring in a key pair Box generated (a new config download) as the registered key."""
    if not config.uses_jwt or not config.public_key_id:
        raise InputError(
            "the config has no key pair with a publicKeyID; download it again from the console"
        )

    def step(snap: Snapshot) -> Outcome:
        r = snap.record
        if r.signer is not None:
            raise InputError(
                f"{machine.store.uri} keeps its keys in {r.signer.partition('?')[0]}, where they "
                "never leave; a key pair downloaded from the Developer Console cannot join it "
                f"(run `{machine.words.cmd('rotate', '--force')}` to make a new key there)"
            )
        if config.client_id != snap.client_id:
            raise InputError(
                f"the config is for app {config.client_id}, but the store holds app "
                f"{snap.client_id}"
            )
        if r.active is not None and r.active.fingerprint == config.fingerprint:
            return Outcome("nothing", "this key is already the active key", r.state)
        if r.pending is not None:
            if r.pending.fingerprint == config.fingerprint:
                return Outcome(
                    "nothing",
                    f"this key is already pending; run `{machine.words.cmd('rotate')}`",
                    r.state,
                )
            raise InvalidTransitionError(
                "another key is waiting for registration (its public key was shown to "
                "a person); "
                f"abandon it first with `{machine.words.cmd('rotate', 'abandon')}`"
            )
        if r.previous is not None:
            raise InvalidTransitionError(
                f"the previous key {r.previous.key_id} is still held; retire it first "
                f"(`{machine.words.cmd('retire')}`)"
            )
        new = snap.copy()
        now = machine.clock()
        info = KeyInfo.from_config(config, origin="imported", at=now)
        new.record.pending = info
        new.materials[info.fingerprint] = config.key_material()
        new.record.log(
            "imported",
            key=info,
            at=now,
            detail="a key pair Box generated, entering as registered",
        )
        machine.commit(snap, new)
        return Outcome(
            "imported",
            f"key {info.key_id} is registered; run `{machine.words.cmd('rotate')}` to "
            "verify and promote it",
            new.record.state,
        )

    return machine.run(step)


def abandon(machine: Machine) -> Outcome:
    """Destroy the pending key without it ever becoming active."""

    def step(snap: Snapshot) -> Outcome:
        pending = snap.record.pending
        if pending is None:  # idempotent: a re-run after the key is gone is not an error
            return Outcome(
                "nothing", f"no pending key to abandon in {machine.store.uri}", snap.record.state
            )
        new = snap.copy()
        new.record.pending = None
        new.record.destroying.append(pending)
        new.record.log("abandoned", key=pending, at=machine.clock())
        machine.commit(snap, new)
        done = finish_destruction(machine.store, new)
        note = (
            f"; also delete key {pending.key_id} in the Box Developer Console"
            if pending.key_id
            else ""
        )
        return Outcome(
            "abandoned",
            f"abandoned the pending key; {machine.words.gone(done, pending)}{note}",
            "active" if new.record.active else "empty",
        )

    return machine.run(step)


def retire(machine: Machine, *, force: bool = False) -> Outcome:
    """Retire the previous key once Box refuses it, or (``force``) after the grace period."""

    def step(snap: Snapshot) -> Outcome:
        previous = snap.record.previous
        if previous is None:  # idempotent: a re-run after retiring is not an error
            return Outcome(
                "nothing", f"no previous key to retire in {machine.store.uri}", snap.record.state
            )
        if force:
            ends = (previous.superseded_at or 0) + snap.record.policy.grace_days * DAY
            if machine.clock() < ends:
                raise InvalidTransitionError(
                    f"the grace period for key {previous.key_id} ends at {rfc3339(ends)}; "
                    "readers may still use it until then, so retire it after that "
                    "(or remove it at Box first)"
                )
            return machine.retire(snap, detail="forced by an operator after the grace period")
        if machine.box_refuses(snap, previous):
            return machine.retire(snap, detail="Box refuses the old key: it was removed at Box")
        return Outcome(
            "waiting",
            f"Box still accepts key {previous.key_id}: remove it in the Developer "
            "Console first, or use --force after the grace period",
            snap.record.state,
            waiting=True,
        )

    return machine.run(step)
