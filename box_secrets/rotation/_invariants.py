"""The rotation invariants, checked against a live store.

Tests run :class:`InvariantChecker` after every step; operators can run it
with ``box-secrets status --check``. It reads the store the way readers and
writers do, and asks the backend which private keys it can still recover.
"""

from __future__ import annotations

from box_secrets.errors import NoActiveKeyError, StoreNotFoundError
from box_secrets.signers._material import RemoteKey
from box_secrets.stores import Store
from box_secrets.stores._record import Event

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
        bad: list[str] = []
        history = [e.to_json() for e in r.history]

        # 6. The history is append-only, and every key in a role got there by an event.
        if history[: len(self._seen)] != self._seen:
            bad.append("6: the history was rewritten, not appended to")
        self._seen = history
        events_for = _index(r.history)
        for role, key in r.roles():
            if not events_for.get(key.fingerprint):
                bad.append(f"6: the {role} key {key.fingerprint[:12]} has no history entry")

        # 1. Exactly one active key once initialised (readers always get a working one).
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

        # 2. At most one staged or registered key, distinct from the others.
        fingerprints = [k.fingerprint for _, k in r.roles()] + [k.fingerprint for k in r.destroying]
        if len(fingerprints) != len(set(fingerprints)):
            bad.append("2: one key holds two roles")

        # 3. A key becomes active only after Box accepted it.
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

        # 4. A key shown to a person keeps its private key until retired or abandoned.
        held = {k.fingerprint for _, k in r.roles()} | {k.fingerprint for k in r.destroying}
        for fp, actions in events_for.items():
            if (
                "notified" in actions
                and fp not in held
                and not {"retired", "abandoned"} & set(actions)
            ):
                bad.append(f"4: key {fp[:12]} was shown to a person and then lost")
        for role, key in r.roles():
            if key.fingerprint not in snap.materials:
                bad.append(f"4: the {role} key has no private key in the store")

        # 5. A retired key's private material is destroyed in the store (file, Vault),
        # or reachable through no staging label (Secrets Manager, which cannot delete a
        # version). Judged on each key's events since it last entered the store: a key
        # imported again after being destroyed is legitimately held.
        stored = self.store.stored_fingerprints()
        for fp, actions in events_for.items():
            since = _since_last_entry(actions)
            for word in ("destroyed", "unlabelled"):
                if word in since and (fp in stored or fp in held):
                    bad.append(f"5: key {fp[:12]} is marked {word} but the store still holds it")
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
