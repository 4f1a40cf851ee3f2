"""The rotation invariants, checked against a live store.

Tests run :class:`InvariantChecker` after every step; operators can run it
with ``box-secrets status --check``. It reads the store the way readers and
writers do, and asks the backend which private keys it can still recover.
"""

from __future__ import annotations

from box_secrets.errors import NoActiveKeyError, StoreNotFoundError
from box_secrets.signers._material import RemoteKey
from box_secrets.stores import Store
from box_secrets.stores._document import Snapshot
from box_secrets.stores._record import Event, RotationRecord

__all__ = ["InvariantChecker"]

_BECAME_ACTIVE = ("promoted", "initialised", "adopted", "imported")


class InvariantChecker:
    """Checks one store; remembers the history it saw, to check history only grows."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._seen: list[dict[str, object]] = []

    def check(self) -> list[str]:
        """Every violated invariant, as one sentence each (empty when all hold)."""
        try:
            snap = self.store.load()
        except StoreNotFoundError:
            return []
        r = snap.record
        history = [e.to_json() for e in r.history]
        # 6. The history is append-only (the rest of 6 is below, with the others).
        bad = (
            []
            if history[: len(self._seen)] == self._seen
            else ["6: the history was rewritten, not appended to"]
        )
        self._seen = history
        events_for = _index(r.history)
        held = {k.fingerprint for _, k in r.roles()} | {k.fingerprint for k in r.destroying}
        bad += _each_role_has_an_event(r, events_for)
        bad += self._one_active_key(snap)
        bad += _one_role_each(r)
        bad += _verified_before_active(r)
        bad += _shown_keys_kept(snap, events_for, held)
        bad += _retired_keys_gone(events_for, held, self.store.stored_fingerprints())
        return bad

    def _one_active_key(self, snap: Snapshot) -> list[str]:
        """1. Exactly one active key once initialised (readers always get a working one)."""
        r = snap.record
        bad = []
        became_active = [e for e in r.history if e.action in _BECAME_ACTIVE and e.new_fingerprint]
        if became_active and r.active is None:
            bad.append("1: the store had an active key and now has none")
        try:
            reader = self.store.read_current()
            allowed = {k.fingerprint for k in (r.active, r.previous) if k is not None}
            # A key held by KMS or Transit is known by its signer URI, not a fingerprint.
            named = {m.uri for fp in allowed if isinstance(m := snap.materials.get(fp), RemoteKey)}
            if not (reader.fingerprint in allowed or reader.signer_uri in named):
                bad.append("1: readers get a key that is neither active nor previous")
        except NoActiveKeyError:
            if len(became_active) > 1:
                bad.append("1: readers find no active key although one was active before")
        return bad

    def assert_ok(self) -> None:
        problems = self.check()
        if problems:
            raise AssertionError("rotation invariants violated: " + "; ".join(problems))


_ENTRIES = ("staged", "imported", "adopted", "initialised")


def _since_last_entry(actions: list[str]) -> list[str]:
    last = max((i for i, a in enumerate(actions) if a in _ENTRIES), default=-1)
    return actions[last + 1 :]


def _index(history: list[Event]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in history:
        if e.new_fingerprint:
            out.setdefault(e.new_fingerprint, []).append(e.action)
    return out


def _each_role_has_an_event(r: RotationRecord, events_for: dict[str, list[str]]) -> list[str]:
    """6. Every key in a role got there by an event."""
    return [
        f"6: the {role} key {key.fingerprint[:12]} has no history entry"
        for role, key in r.roles()
        if not events_for.get(key.fingerprint)
    ]


def _one_role_each(r: RotationRecord) -> list[str]:
    """2. At most one staged or registered key, distinct from the others."""
    fingerprints = [k.fingerprint for _, k in r.roles()] + [k.fingerprint for k in r.destroying]
    return ["2: one key holds two roles"] if len(fingerprints) != len(set(fingerprints)) else []


def _verified_before_active(r: RotationRecord) -> list[str]:
    """3. A key becomes active only after Box accepted it."""
    bad = []
    if (
        r.active is not None
        and r.active.verified_at is None
        and r.active.origin not in ("adopted", "imported")
    ):
        bad.append("3: the active key was never verified with Box")
    verified: set[str] = set()
    for e in r.history:
        if e.action in ("verified", "initialised") and e.new_fingerprint:
            verified.add(e.new_fingerprint)
        if e.action == "promoted" and e.new_fingerprint not in verified:
            bad.append(
                f"3: key {(e.new_fingerprint or '')[:12]} was promoted before Box accepted it"
            )
    return bad


def _shown_keys_kept(snap: Snapshot, events_for: dict[str, list[str]], held: set[str]) -> list[str]:
    """4. A key shown to a person keeps its private key until retired or abandoned."""
    bad = [
        f"4: key {fp[:12]} was shown to a person and then lost"
        for fp, actions in events_for.items()
        if "notified" in actions and fp not in held and not {"retired", "abandoned"} & set(actions)
    ]
    bad += [
        f"4: the {role} key has no private key in the store"
        for role, key in snap.record.roles()
        if key.fingerprint not in snap.materials
    ]
    return bad


def _retired_keys_gone(
    events_for: dict[str, list[str]], held: set[str], stored: set[str]
) -> list[str]:
    """5. A retired key's private material is destroyed in the store (file, Vault), or
    reachable through no staging label (Secrets Manager, which cannot delete a version).
    Judged on each key's events since it last entered the store: a key imported again
    after being destroyed is legitimately held."""
    return [
        f"5: key {fp[:12]} is marked {word} but the store still holds it"
        for fp, actions in events_for.items()
        for word in ("destroyed", "unlabelled")
        if word in _since_last_entry(actions) and (fp in stored or fp in held)
    ]
