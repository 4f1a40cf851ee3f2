"""The rotation engine: every key's lifecycle, with a person in the loop.

::

    staged --register--> registered --Box accepts--> active --promotion--> previous
       |                     |  (Box refuses the ID:                         |
       |                     |   back to staged)          Box refuses it, or forced after grace
       +------abandon--------+--> abandoned                                   +--> retired

Each command reads the store, decides the next safe step, does it, and
commits against the revision it read. A crash anywhere leaves the store in a
state from which running the same command again converges; a concurrent
writer makes the commit fail with a conflict, after which the engine reads
again and decides again (so two runs never stage two keys).

Invariants (checked after every step of every test, see ``invariants.py``):

1. once initialised there is exactly one active key;
2. at most one key is staged or registered;
3. a key becomes active only after Box accepted a token signed with it;
4. a key shown to a person keeps its private key until retired or abandoned;
5. a retired key's private material is destroyed in the store (file, Vault);
   Secrets Manager cannot delete a version, so there it is only unlabelled:
   no staging label reaches it, and readers limited to ``AWSCURRENT`` by
   policy cannot read it (see ``Store.destroys_material``);
6. every transition is appended to the history.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from .. import _faults
from .._config import BoxAppConfig
from .._conflicts import retry_conflicts
from .._document import Snapshot
from .._homes import KeyHome, home_for
from .._keys import GeneratedKey, generate_key
from .._record import KeyInfo, Policy
from ..errors import (
    ConflictError,
    InvalidTransitionError,
    KeyRejectedError,
    StoreNotFoundError,
)
from ..stores import Store, open_store
from . import _transitions as transitions
from ._destroy import finish_destruction
from ._notify import LogNotifier, Notification, Notifier
from ._outcome import Outcome
from ._views import StatusView, status_view
from ._words import Words

__all__ = ["Outcome", "RotationEngine"]

log = logging.getLogger("box_secrets.rotation")


class RotationEngine:
    """Drives one store's keys through their lifecycle.

    ``base_url`` is Box's API (or the emulator); ``notifier`` tells a person
    what to do; ``clock`` returns the current time in seconds (tests move it);
    ``key_factory(bits)`` makes the key pair a rotation stages (a new RSA key by
    default; tests hand out pre-made keys); a store whose record names a signer
    (AWS KMS, Vault Transit) makes its keys there instead (``_homes``);
    ``sleep`` is how the engine pauses between conflicting writes.
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

    # -- the loop every command runs in ---------------------------------------

    def _run(self, step: Callable[[Snapshot], Outcome]) -> Outcome:
        def attempt() -> Outcome:
            try:
                snap = self.store.load()
            except StoreNotFoundError:
                raise InvalidTransitionError(
                    f"{self.store.uri} is not initialised; run `box-secrets init` first"
                ) from None
            self.store.repair(snap)
            home = self._home(snap)
            if home is not None and snap.record.active is not None:
                home.repair(snap)  # a crash may have cut a promotion short (the alias)
            if snap.record.destroying:
                snap = finish_destruction(self.store, snap)
            log.info("%s: state %s, revision %s", self.store.uri, snap.record.state, snap.revision)
            outcome = step(snap)
            log.info("%s: %s (%s)", self.store.uri, outcome.action, outcome.state)
            return outcome

        return retry_conflicts(attempt, where=self.store.uri, sleep=self.sleep)

    def _home(self, snap: Snapshot) -> KeyHome | None:
        """Where the store's keys are made (None: here); one per signer, so one login."""
        signer = snap.record.signer
        if signer is None:
            return None
        home = self._homes.get(signer)
        if home is None:
            home = self._homes[signer] = home_for(signer)
        return home

    def _commit(self, snap: Snapshot, new: Snapshot) -> Snapshot:
        self.store.commit(new, snap.revision)
        return new

    # -- status ---------------------------------------------------------------

    def status(self) -> StatusView:
        """The shape other tools rely on (``box-secrets status --json``, Terraform, Lambda).

        Raises:
            StoreNotFoundError: the store holds nothing yet.
            StoreError: the store could not be read.
        """
        snap = self.store.load()
        return status_view(
            snap.record, self.words.next_action(snap.record, self.clock()), self.clock()
        )

    # -- commands (their bodies live in _setup, _steps and _person) -----------------------

    def init(
        self,
        *,
        config: BoxAppConfig | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        enterprise_id: str | None = None,
        user_id: str | None = None,
        policy: Policy | None = None,
        signer: str | None = None,
    ) -> Outcome:
        """Adopt a downloaded config (verified with Box first), or stage a first key.

        ``signer`` (``aws-kms://alias/NAME?...`` or ``vault-transit://MOUNT/KEY?...``)
        keeps every key of this store in AWS KMS or Vault Transit: the key behind
        it is used if it exists, else created, and staged like any new key.

        Raises:
            InputError: bad IDs, a config without a key pair, a store holding another
                app, or a malformed or unusable signer.
            SignerError: KMS or Vault refused or failed.
            KeyRejectedError: Box does not accept the downloaded config's key.
            BoxUnavailableError, StoreError, NotifyError: as for :meth:`advance`.
        """
        from . import _setup

        return _setup.init(
            self,
            config=config,
            client_id=client_id,
            client_secret=client_secret,
            enterprise_id=enterprise_id,
            user_id=user_id,
            policy=policy,
            signer=signer,
        )

    def stage(self, *, ref: str | None = None, notify: bool = True) -> Outcome:
        """Stage a new key unless one is pending (see :func:`._steps.stage`)."""
        from . import _steps

        return _steps.stage(self, ref=ref, notify=notify)

    def remind(self, *, retire_refused: bool = False) -> Outcome:
        """Ask a person to act if one must and the interval has passed (see ``_steps.remind``)."""
        from . import _steps

        return _steps.remind(self, retire_refused=retire_refused)

    def verify_pending(self) -> Outcome:
        """Ask Box whether the pending key works, changing nothing."""
        from . import _steps

        return _steps.verify_pending(self)

    def promote(self) -> Outcome:
        """Verify the pending key with Box and make it the active key (idempotent)."""
        from . import _steps

        return _steps.promote(self)

    def register(self, key_id: str, *, verify: bool = False) -> Outcome:
        """Record the key ID Box showed for the pending key (``verify``: check, promote now).

        Raises:
            InputError: the ID does not look like a Box key ID, or belongs to another key.
            InvalidTransitionError: no key is waiting for registration.
            BoxUnavailableError, StoreError, NotifyError: as for :meth:`advance`.
        """
        from . import _person

        return _person.register(self, key_id, verify=verify)

    def import_pending(self, config: BoxAppConfig) -> Outcome:
        """Bring in a key pair Box generated (a new config download) as the registered key.

        Raises:
            InputError: the config has no key ID, or is for another app.
            InvalidTransitionError: another key is pending, or the previous key is still held.
        """
        from . import _person

        return _person.import_pending(self, config)

    def abandon(self) -> Outcome:
        """Destroy the pending key without it ever becoming active."""
        from . import _person

        return _person.abandon(self)

    def retire(self, *, force: bool = False) -> Outcome:
        """Retire the previous key once Box refuses it, or (``force``) after the grace period.

        Raises:
            InvalidTransitionError: ``force`` before the grace period ends.
            BoxUnavailableError, StoreError: as for :meth:`advance`.
        """
        from . import _person

        return _person.retire(self, force=force)

    # -- advance --------------------------------------------------------------

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
        return self._run(lambda snap: self._advance(snap, force))

    def _advance(self, snap: Snapshot, force: bool) -> Outcome:
        r = snap.record
        decision = transitions.decide(r, self.clock(), force)
        if decision == "no-keys":
            return Outcome("nothing", "a Client Credentials app has no key pair to rotate", r.state)
        if decision == "await-registration":
            prefix = "a rotation is already under way; " if force else ""
            return self._staged_waiting(snap, prefix)
        if decision == "verify":
            return self._verify_and_promote(snap)
        if decision == "overlap":
            return self._overlap(snap, force)
        if decision == "stage":
            return self._stage(snap, forced=force)
        return Outcome("nothing", self.words.next_action(r, self.clock()), r.state)

    def _stage(
        self, snap: Snapshot, *, forced: bool, ref: str | None = None, notify: bool = True
    ) -> Outcome:
        home = self._home(snap)
        key = home.new_key(snap) if home else self.key_factory(snap.record.policy.key_size)
        new, info = transitions.staged(snap, key, now=self.clock(), forced=forced, slot=ref)
        # Commit before anyone sees the public key: a key shown to a person
        # always has its private key stored (invariant 4).
        self._commit(snap, new)
        if notify:
            self._notify(
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

    def _staged_waiting(self, snap: Snapshot, prefix: str = "") -> Outcome:
        pending = snap.record.pending
        assert pending is not None
        if transitions.remind_due(pending, snap.record.policy, self.clock()):
            refused = (
                pending.refused_key_ids[-1]
                if pending.refused_key_ids and pending.notified_at is None
                else None
            )
            self._notify(
                snap,
                self.words.register_notice(snap, pending, refused=refused),
                "pending",
                "asked a person to register the key at Box",
            )
            return Outcome(
                "notified",
                f"{prefix}asked a person to register the pending key",
                snap.record.state,
                waiting=True,
            )
        return Outcome(
            "waiting",
            f"{prefix}{self.words.next_action(snap.record, self.clock())}",
            snap.record.state,
            waiting=True,
        )

    def _verify_and_promote(self, snap: Snapshot) -> Outcome:
        pending = snap.record.pending
        assert pending is not None and pending.key_id is not None
        try:
            self._verify(snap, pending)
        except KeyRejectedError as exc:
            return self._refused(snap, pending.key_id, exc)
        return self._promote(snap)

    def _promote(self, snap: Snapshot) -> Outcome:
        new = transitions.promoted(snap, self.clock())
        r = new.record
        incoming, outgoing = r.active, r.previous
        assert incoming is not None
        self._commit(snap, new)
        home = self._home(new)
        if home is not None:
            home.promoted(new)  # after the commit: the record is the truth, the alias follows
        if outgoing is not None:
            self._notify(
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

    def _back_to_staged(self, snap: Snapshot, key_id: str, exc: KeyRejectedError) -> Snapshot:
        """A copy where the pending key is staged again, with Box's refusal of ``key_id`` logged."""
        return transitions.back_to_staged(snap, key_id, exc.error_description, self.clock())

    def _refused(self, snap: Snapshot, key_id: str, exc: KeyRejectedError) -> Outcome:
        new = self._back_to_staged(snap, key_id, exc)
        pending = new.record.pending
        assert pending is not None
        pending.notified_at = None  # the person must hear about it: notify on this and later runs
        self._commit(snap, new)
        self._notify(
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

    def _overlap(self, snap: Snapshot, force: bool) -> Outcome:
        previous = snap.record.previous
        assert previous is not None
        if self._box_refuses(snap, previous):
            return self._retire(snap, detail="Box refuses the old key: it was removed at Box")
        prefix = (
            "a rotation cannot start while the previous key is still registered at Box; "
            if force
            else ""
        )
        return self._remind_removal(snap, prefix)

    def _remind_removal(self, snap: Snapshot, prefix: str = "") -> Outcome:
        """Ask a person to remove the previous key at Box, at most once per interval."""
        previous = snap.record.previous
        assert previous is not None
        if transitions.remind_due(previous, snap.record.policy, self.clock()):
            self._notify(
                snap,
                self.words.remove_notice(snap, previous),
                "previous",
                "asked a person to remove the old key at Box",
            )
            return Outcome(
                "reminded",
                f"{prefix}asked a person to remove key {previous.key_id} at Box",
                snap.record.state,
                waiting=True,
            )
        return Outcome(
            "waiting",
            f"{prefix}{self.words.next_action(snap.record, self.clock())}",
            snap.record.state,
            waiting=True,
        )

    def _retire(self, snap: Snapshot, *, detail: str) -> Outcome:
        new = transitions.retired(snap, self.clock(), detail)
        previous = new.record.destroying[-1]
        self._commit(snap, new)
        done = finish_destruction(self.store, new)
        gone = self.words.gone(done, previous)
        return Outcome("retired", f"retired key {previous.key_id}; {gone}", "active")

    # -- Box ------------------------------------------------------------------

    def _provider(self, snap: Snapshot, key: KeyInfo) -> Any:
        from .._sources import StaticSource
        from ..tokens import TokenProvider

        return TokenProvider(
            StaticSource(snap.config_for(key), name=f"{self.store.uri} ({key.key_id})"),
            base_url=self.base_url,
            **self.token_options,
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
        self._verify(snap, active)
        return Outcome("tested", f"Box accepts the active key {active.key_id}", snap.record.state)

    def _verify(self, snap: Snapshot, key: KeyInfo) -> None:
        """Raise :class:`KeyRejectedError` unless Box accepts a token signed with ``key``."""
        self._provider(snap, key).refresh()

    def _box_refuses(self, snap: Snapshot, key: KeyInfo) -> bool:
        """True when Box no longer accepts ``key`` (removed in the console)."""
        try:
            self._verify(snap, key)
        except KeyRejectedError:
            return True
        return False

    # -- notifications --------------------------------------------------------

    def _notify(self, snap: Snapshot, notice: Notification, role: str, detail: str) -> None:
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
