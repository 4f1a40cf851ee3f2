"""The rotation machine: one store's keys, the Box check, the person, the commit loop.

Every command (``_steps``, ``_person``, ``_setup``) is a function over one
:class:`Machine`, using its public methods; :class:`~._engine.RotationEngine`
is the public front that holds one and forwards to those functions. The
machine calls no command back: the arrows run from the commands to it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Literal

import box_secrets.rotation._transitions as transitions
from box_secrets._support import faults as _faults
from box_secrets._support.conflicts import retry_conflicts
from box_secrets.errors import (
    ConflictError,
    InvalidTransitionError,
    KeyRejectedError,
    StoreNotFoundError,
)
from box_secrets.rotation._destroy import finish_destruction
from box_secrets.rotation._homes import KeyHome, home_for
from box_secrets.rotation._notify import LogNotifier, Notification, Notifier
from box_secrets.rotation._outcome import Outcome
from box_secrets.rotation._words import Words
from box_secrets.signers._keys import GeneratedKey, generate_key
from box_secrets.stores import Store, open_store
from box_secrets.stores._document import Snapshot
from box_secrets.stores._record import KeyInfo

__all__ = ["Machine", "Role"]

log = logging.getLogger("box_secrets.rotation")

#: The key a person is reminded about: the pending one (register) or the previous (remove).
Role = Literal["pending", "previous"]


class Machine:
    """Drives one store's keys through their lifecycle: what every rotation command runs on.

    Its parameters are :class:`~box_secrets.rotation.RotationEngine`'s (the public
    front), documented there once.
    """

    def __init__(
        self,
        store: Store | str,
        *,
        base_url: str | None = None,
        notifier: Notifier | None = None,
        clock: Callable[[], float] = time.time,
        token_options: dict[str, Any] | None = None,
        key_factory: Callable[[int], GeneratedKey] = generate_key,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = open_store(store) if isinstance(store, str) else store
        self.base_url = base_url
        self.notifier: Notifier = notifier or LogNotifier()
        self.clock = clock
        self.key_factory = key_factory
        self.sleep = sleep
        self.words = Words(self.store)
        self._homes: dict[str, KeyHome | None] = {}
        # How Box calls retry (TokenProvider options: max_attempts, deadline, backoff_base).
        self.token_options = {"max_attempts": 4, "deadline": 30.0, **(token_options or {})}

    def run(self, step: Callable[[Snapshot], Outcome]) -> Outcome:
        def attempt() -> Outcome:
            try:
                snap = self.store.load()
            except StoreNotFoundError:
                raise InvalidTransitionError(
                    f"{self.store.uri} is not initialised; run `box-secrets init` first"
                ) from None
            self.store.repair(snap)
            home = self.home(snap)
            if home is not None and snap.record.active is not None:
                home.repair(snap)  # a crash may have cut a promotion short (the alias)
            if snap.record.destroying:
                snap = finish_destruction(self.store, snap)
            log.info("%s: state %s, revision %s", self.store.uri, snap.record.state, snap.revision)
            outcome = step(snap)
            log.info("%s: %s (%s)", self.store.uri, outcome.action, outcome.state)
            return outcome

        return retry_conflicts(attempt, where=self.store.uri, sleep=self.sleep)

    def home(self, snap: Snapshot) -> KeyHome | None:
        """Where the store's keys are made (None: here); one per signer, so one login."""
        signer = snap.record.signer
        if signer is None:
            return None
        home = self._homes.get(signer)
        if home is None:
            home = self._homes[signer] = home_for(signer)
        return home

    def commit(self, snap: Snapshot, new: Snapshot) -> Snapshot:
        self.store.commit(new, snap.revision)
        return new

    def advance(self, *, force: bool = False) -> Outcome:
        """Do the next safe thing (idempotent): what ``box-secrets rotate`` runs.

        ``Outcome.waiting`` is True while a person must act.

        Raises:
            InvalidTransitionError: the store is not initialised.
            ConflictError: the store kept changing under the command (run it again).
            BoxUnavailableError: Box could not be asked; nothing was changed.
            StoreError: the store refused or failed.
            NotifyError: a person could not be told; the next run tells them again.
        """
        return self.run(lambda snap: self.decide(snap, force))

    def decide(self, snap: Snapshot, force: bool) -> Outcome:
        r = snap.record
        decision = transitions.decide(r, self.clock(), force)
        if decision == "no-keys":
            return Outcome("nothing", "a Client Credentials app has no key pair to rotate", r.state)
        if decision == "await-registration":
            prefix = "a rotation is already under way; " if force else ""
            return self.remind_or_wait(snap, "pending", prefix)
        if decision == "verify":
            return self.verify_and_promote(snap)
        if decision == "overlap":
            return self.overlap(snap, force)
        if decision == "stage":
            return self.stage(snap, forced=force)
        return Outcome("nothing", self.words.next_action(r, self.clock()), r.state)

    def stage(
        self, snap: Snapshot, *, forced: bool, ref: str | None = None, notify: bool = True
    ) -> Outcome:
        home = self.home(snap)
        key = home.new_key(snap) if home else self.key_factory(snap.record.policy.key_size)
        new, info = transitions.staged(snap, key, now=self.clock(), forced=forced, slot=ref)
        # Commit before anyone sees the public key: a key shown to a person
        # always has its private key stored (invariant 4).
        self.commit(snap, new)
        if notify:
            self.notify(
                new,
                self.words.register_notice(new, info),
                "pending",
                "asked a person to register the key at Box",
            )
        return Outcome(
            "staged",
            f"staged key {info.fingerprint[:16]}... for registration at Box; "
            "a person must register it",
            new.record.state,
            waiting=True,
        )

    def verify_and_promote(self, snap: Snapshot) -> Outcome:
        pending = snap.record.pending
        assert pending is not None and pending.key_id is not None
        try:
            self.verify(snap, pending)
        except KeyRejectedError as exc:
            return self.refused(snap, pending.key_id, exc)
        return self.promote(snap)

    def promote(self, snap: Snapshot) -> Outcome:
        new = transitions.promoted(snap, self.clock())
        r = new.record
        incoming, outgoing = r.active, r.previous
        assert incoming is not None
        self.commit(snap, new)
        home = self.home(new)
        if home is not None:
            home.promoted(new)  # after the commit: the record is the truth, the alias follows
        if outgoing is not None:
            self.notify(
                new,
                self.words.remove_notice(new, outgoing),
                "previous",
                "asked a person to remove the old key at Box",
            )
            return Outcome(
                "promoted",
                f"key {incoming.key_id} is active; key {outgoing.key_id} stays "
                "valid until a person removes it at Box",
                r.state,
            )
        return Outcome("promoted", f"key {incoming.key_id} is active", r.state)

    def back_to_staged(self, snap: Snapshot, key_id: str, exc: KeyRejectedError) -> Snapshot:
        """A copy where the pending key is staged again, with Box's refusal of ``key_id`` logged."""
        return transitions.back_to_staged(snap, key_id, exc.error_description, self.clock())

    def refused(self, snap: Snapshot, key_id: str, exc: KeyRejectedError) -> Outcome:
        new = self.back_to_staged(snap, key_id, exc)
        pending = new.record.pending
        assert pending is not None
        pending.notified_at = None  # the person must hear about it: notify on this and later runs
        self.commit(snap, new)
        self.notify(
            new,
            self.words.register_notice(new, pending, refused=key_id),
            "pending",
            f"told a person that Box refused key ID {key_id}",
        )
        return Outcome(
            "refused",
            f"Box refused key ID {key_id} for the pending key, which is staged "
            "again; register it with the ID Box shows for it",
            new.record.state,
            waiting=True,
        )

    def overlap(self, snap: Snapshot, force: bool) -> Outcome:
        previous = snap.record.previous
        assert previous is not None
        if self.box_refuses(snap, previous):
            return self.retire(snap, detail="Box refuses the old key: it was removed at Box")
        prefix = (
            "a rotation cannot start while the previous key is still registered at Box; "
            if force
            else ""
        )
        return self.remind_or_wait(snap, "previous", prefix)

    def retire(self, snap: Snapshot, *, detail: str) -> Outcome:
        new = transitions.retired(snap, self.clock(), detail)
        previous = new.record.destroying[-1]
        self.commit(snap, new)
        done = finish_destruction(self.store, new)
        gone = self.words.gone(done, previous)
        return Outcome("retired", f"retired key {previous.key_id}; {gone}", "active")

    def provider(self, snap: Snapshot, key: KeyInfo) -> Any:
        from box_secrets.tokens import TokenProvider
        from box_secrets.tokens._sources import StaticSource

        # Never a shared token cache: a token minted with this very key is the proof
        # that Box accepts it, and a cached one (whatever key minted it) proves nothing.
        return TokenProvider(
            StaticSource(snap.config_for(key), name=f"{self.store.uri} ({key.key_id})"),
            base_url=self.base_url,
            **{**self.token_options, "token_cache": None},
        )

    def check_active(self) -> Outcome:
        """A health check: Box accepts the active key (one token is minted); nothing changes.

        Raises:
            KeyRejectedError: Box refuses the active key.
            BoxError, StoreError: Box or the store cannot be reached.
        """
        snap = self.store.load()
        active = snap.record.active
        if active is None:
            return Outcome("nothing", "no active key yet: nothing to check", snap.record.state)
        self.verify(snap, active)
        return Outcome("tested", f"Box accepts the active key {active.key_id}", snap.record.state)

    def verify(self, snap: Snapshot, key: KeyInfo) -> None:
        """Raise :class:`KeyRejectedError` unless Box accepts a token signed with ``key``."""
        self.provider(snap, key).refresh()

    def box_refuses(self, snap: Snapshot, key: KeyInfo) -> bool:
        """True when Box no longer accepts ``key`` (removed in the console)."""
        try:
            self.verify(snap, key)
        except KeyRejectedError:
            return True
        return False

    def notify(self, snap: Snapshot, notice: Notification, role: str, detail: str) -> None:
        """Send, then record that it was sent.

        At least once: a crash between the two sends the message again on the
        next run, which beats a person never hearing about a key.
        """
        _faults.crashpoint("notify", "before")
        self.notifier.send(notice)
        _faults.crashpoint("notify", "after")
        fingerprint = notice.fingerprint_sha256

        def record() -> None:
            current = self.store.load()
            new = transitions.marked_notified(current, role, fingerprint, self.clock(), detail)
            if new is not None:  # None: the key moved on meanwhile
                self.store.commit(new, current.revision)

        try:
            retry_conflicts(record, where=self.store.uri, sleep=self.sleep)
            return
        except ConflictError:
            pass
        log.warning("could not record that a notification was sent; it may be sent again")

    def remind_or_wait(self, snap: Snapshot, role: Role, prefix: str = "") -> Outcome:
        """Ask a person to act on the pending or previous key if the interval has passed,
        else say what is awaited: the one reminder for both (register, remove)."""
        key = snap.record.pending if role == "pending" else snap.record.previous
        assert key is not None
        waiting = Outcome(
            "waiting",
            f"{prefix}{self.words.next_action(snap.record, self.clock())}",
            snap.record.state,
            waiting=True,
        )
        if not transitions.remind_due(key, snap.record.policy, self.clock()):
            return waiting
        if role == "pending":
            refused = (
                key.refused_key_ids[-1] if key.refused_key_ids and key.notified_at is None else None
            )
            self.notify(
                snap,
                self.words.register_notice(snap, key, refused=refused),
                "pending",
                "asked a person to register the key at Box",
            )
            return Outcome(
                "notified",
                f"{prefix}asked a person to register the pending key",
                snap.record.state,
                waiting=True,
            )
        self.notify(
            snap,
            self.words.remove_notice(snap, key),
            "previous",
            "asked a person to remove the old key at Box",
        )
        return Outcome(
            "reminded",
            f"{prefix}asked a person to remove key {key.key_id} at Box",
            snap.record.state,
            waiting=True,
        )
