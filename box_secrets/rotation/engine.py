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

import contextlib
import logging
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import _faults
from .._time import rfc3339
from ..config import BoxAppConfig
from ..errors import (
    ConflictError,
    InputError,
    InvalidTransitionError,
    KeyRejectedError,
    StoreNotFoundError,
)
from ..keys import GeneratedKey, generate_key
from ..record import KeyInfo, KeyMaterial, Policy, RotationRecord, Snapshot
from ..stores import Store, open_store
from ..stores.admin import finish_destruction
from .notify import LogNotifier, Notification, Notifier
from .views import StatusView, status_view

__all__ = ["Outcome", "RotationEngine"]

log = logging.getLogger("box_secrets.rotation")

_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_BOX_ID = re.compile(r"^[0-9]{1,20}$")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9]{1,128}$")
_MAX_CONFLICTS = 12
DAY = 86400.0


@dataclass
class Outcome:
    """What a command did. ``waiting`` means a person must act next (CLI exit 3)."""

    action: str
    message: str
    state: str
    waiting: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "message": self.message,
            "state": self.state,
            "waiting": self.waiting,
        }


class RotationEngine:
    """Drives one store's keys through their lifecycle.

    ``base_url`` is Box's API (or the emulator); ``notifier`` tells a person
    what to do; ``clock`` returns the current time in seconds (tests move it);
    ``key_factory(bits)`` makes the key pair a rotation stages (a new RSA key by
    default; tests hand out pre-made keys, later signers make keys elsewhere);
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
        # How Box calls retry (TokenProvider options: max_attempts, deadline, backoff_base).
        self.token_options = {"max_attempts": 4, "deadline": 30.0, **(token_options or {})}

    # -- the loop every command runs in ---------------------------------------

    def _run(self, step: Callable[[Snapshot], Outcome]) -> Outcome:
        for attempt in range(_MAX_CONFLICTS):
            try:
                snap = self.store.load()
            except StoreNotFoundError:
                raise InvalidTransitionError(
                    f"{self.store.uri} is not initialised; run `box-secrets init` first"
                ) from None
            try:
                self.store.repair(snap)
                if snap.record.destroying:
                    snap = finish_destruction(self.store, snap)
                return step(snap)
            except ConflictError:
                # Another writer got there first: look again after a short, random pause.
                self.sleep(random.uniform(0, 0.05 * (attempt + 1)))  # noqa: S311
        raise ConflictError(f"{self.store.uri} kept changing under this command; run it again")

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
        return status_view(snap.record, self._next_action(snap), self.clock())

    def _cmd(self, *args: str) -> str:
        return " ".join(["box-secrets", *args, "--store", _shell_quote(self.store.uri)])

    def _next_action(self, snap: Snapshot) -> str:
        r, now = snap.record, self.clock()
        if r.state == "client-credentials":
            return "nothing: a Client Credentials app has no key pair to rotate"
        if r.destroying:
            return f"run `{self._cmd('rotate')}` to finish destroying retired keys"
        if r.pending is not None and r.pending.key_id is None:
            return (
                f"add the pending public key in the Box Developer Console, then run "
                f"`{self._cmd('register', '--public-key-id', 'ID')}` with the ID Box shows"
            )
        if r.pending is not None:
            return (
                f"run `{self._cmd('rotate')}` to verify key {r.pending.key_id} with Box "
                "and promote it"
            )
        if r.previous is not None:
            return (
                f"remove key {r.previous.key_id} in the Box Developer Console, then run "
                f"`{self._cmd('rotate')}`"
            )
        if r.active is None:
            return f"run `{self._cmd('rotate')}` to stage a first key"
        due = (r.active.activated_at or r.active.created_at) + r.policy.max_age_days * DAY
        if due <= now:
            return f"rotation is due: run `{self._cmd('rotate')}`"
        return (
            f"nothing until {rfc3339(due)}, when key {r.active.key_id} reaches "
            f"{r.policy.max_age_days:g} days"
        )

    # -- init -----------------------------------------------------------------

    def init(
        self,
        *,
        config: BoxAppConfig | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        enterprise_id: str | None = None,
        user_id: str | None = None,
        policy: Policy | None = None,
    ) -> Outcome:
        """Adopt a downloaded config (verified with Box first), or stage a first key."""
        _check_ids(client_id, enterprise_id, user_id)
        try:
            existing = self.store.load()
        except StoreNotFoundError:
            existing = None
        if existing is not None:
            return self._init_again(existing, config, client_id, policy)
        if config is not None:
            if not config.uses_jwt:
                raise InputError(
                    "the config has no key pair (a Client Credentials app): nothing to rotate"
                )
            snap = Snapshot.from_config(config, origin="adopted", at=self.clock())
            assert snap.record.active is not None
            if policy is not None:
                snap.record.policy = policy
            self._verify(snap, snap.record.active)  # invariant 3: only keys Box accepts go active
            snap.record.active.verified_at = self.clock()
            snap.record.log(
                "initialised",
                key=snap.record.active,
                at=self.clock(),
                detail="adopted a config downloaded from the Developer Console",
            )
            try:
                self.store.commit(snap, None)
            except ConflictError:  # a concurrent init won: answer as a re-run would
                return self._init_again(self.store.load(), config, None, policy)
            return Outcome(
                "initialised",
                f"{self.store.uri} now holds key {snap.record.active.key_id} (verified with Box)",
                snap.record.state,
            )
        if not (client_id and client_secret and (enterprise_id or user_id)):
            raise InputError(
                "init needs --config FILE, or --client-id, --client-secret-env and --enterprise-id"
            )

        base: dict[str, Any] = {
            "boxAppSettings": {"clientID": client_id, "clientSecret": client_secret}
        }
        if enterprise_id:
            base["enterpriseID"] = enterprise_id
        if user_id:
            base["userID"] = user_id
        BoxAppConfig.from_dict(base)  # check the fields before generating anything
        snap = Snapshot(base, RotationRecord(policy=policy or Policy()), {})
        snap.record.log(
            "initialised", at=self.clock(), detail="first key to be generated and registered"
        )
        with contextlib.suppress(ConflictError):
            # If another init got there first, fall through to the common path.
            self.store.commit(snap, None)
        return self.advance()

    def _init_again(
        self,
        snap: Snapshot,
        config: BoxAppConfig | None,
        client_id: str | None,
        policy: Policy | None,
    ) -> Outcome:
        if (config and config.client_id != snap.client_id) or (
            client_id and client_id != snap.client_id
        ):
            raise InputError(
                f"{self.store.uri} already holds app {snap.client_id}; use another store "
                "for another app"
            )
        if (
            config is not None
            and snap.record.active is not None
            and config.fingerprint != snap.record.active.fingerprint
        ):
            raise InputError(
                f"{self.store.uri} is initialised with another key; use "
                "`box-secrets rotate import` "
                "to bring in a new key pair"
            )
        if policy is not None and policy != snap.record.policy:

            def change(s: Snapshot) -> Outcome:
                new = s.copy()
                new.record.policy = policy
                new.record.log("policy-changed", at=self.clock(), detail=_policy_text(policy))
                self._commit(s, new)
                return Outcome(
                    "policy-changed", f"policy is now {_policy_text(policy)}", new.record.state
                )

            return self._run(change)
        state = snap.record.state
        return Outcome(
            "nothing",
            f"{self.store.uri} is already initialised ({state})",
            state,
            waiting=snap.record.pending is not None and snap.record.pending.key_id is None,
        )

    # -- advance --------------------------------------------------------------

    def advance(self, *, force: bool = False) -> Outcome:
        """Do the next safe thing (idempotent): what ``box-secrets rotate`` runs."""
        return self._run(lambda snap: self._advance(snap, force))

    def _advance(self, snap: Snapshot, force: bool) -> Outcome:
        r = snap.record
        if r.auth != "jwt":
            return Outcome("nothing", "a Client Credentials app has no key pair to rotate", r.state)
        if r.pending is not None:
            if r.pending.key_id is None:
                if force:
                    return self._staged_waiting(snap, "a rotation is already under way; ")
                return self._staged_waiting(snap)
            return self._verify_and_promote(snap)
        if r.previous is not None:
            return self._overlap(snap, force)
        if r.active is None or force or self._due(r):
            return self._stage(snap, forced=force)
        return Outcome("nothing", self._next_action(snap), r.state)

    def _due(self, r: RotationRecord) -> bool:
        assert r.active is not None
        started = r.active.activated_at or r.active.created_at
        return self.clock() - started >= r.policy.max_age_days * DAY

    def _stage(self, snap: Snapshot, *, forced: bool, ref: str | None = None) -> Outcome:
        key = self.key_factory(snap.record.policy.key_size)
        now = self.clock()
        new = snap.copy()
        info = KeyInfo(
            fingerprint=key.fingerprint,
            public_key_pem=key.public_key_pem,
            bits=snap.record.policy.key_size,
            origin="generated",
            created_at=now,
            ref=ref,
        )
        new.record.pending = info
        new.materials[info.fingerprint] = KeyMaterial(key.private_key_pem, key.passphrase)
        reason = (
            "forced"
            if forced
            else ("first key" if snap.record.active is None else "maximum age reached")
        )
        new.record.log("staged", key=info, old=snap.record.active, at=now, detail=reason)
        # Commit before anyone sees the public key: a key shown to a person
        # always has its private key stored (invariant 4).
        self._commit(snap, new)
        self._notify(
            new,
            self._register_notice(new, info),
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
        now = self.clock()
        renotify = snap.record.policy.renotify_hours * 3600
        if pending.notified_at is None or now - pending.notified_at >= renotify:
            refused = (
                pending.refused_key_ids[-1]
                if pending.refused_key_ids and pending.notified_at is None
                else None
            )
            self._notify(
                snap,
                self._register_notice(snap, pending, refused=refused),
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
            "waiting", f"{prefix}{self._next_action(snap)}", snap.record.state, waiting=True
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
        now = self.clock()
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
        self._commit(snap, new)
        if outgoing is not None:
            self._notify(
                new,
                self._remove_notice(new, outgoing),
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
        new = snap.copy()
        pending = new.record.pending
        assert pending is not None
        pending.key_id = None
        pending.registered_at = None
        if key_id not in pending.refused_key_ids:
            pending.refused_key_ids.append(key_id)
        new.record.log(
            "refused",
            key=pending,
            at=self.clock(),
            detail=f"Box refused key ID {key_id} for this key: {exc.error_description}",
        )
        return new

    def _refused(self, snap: Snapshot, key_id: str, exc: KeyRejectedError) -> Outcome:
        new = self._back_to_staged(snap, key_id, exc)
        pending = new.record.pending
        assert pending is not None
        pending.notified_at = None  # the person must hear about it: notify on this and later runs
        self._commit(snap, new)
        self._notify(
            new,
            self._register_notice(new, pending, refused=key_id),
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
        now = self.clock()
        prefix = (
            "a rotation cannot start while the previous key is still registered at Box; "
            if force
            else ""
        )
        renotify = snap.record.policy.renotify_hours * 3600
        if previous.notified_at is None or now - previous.notified_at >= renotify:
            self._notify(
                snap,
                self._remove_notice(snap, previous),
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
            "waiting", f"{prefix}{self._next_action(snap)}", snap.record.state, waiting=True
        )

    def _retire(self, snap: Snapshot, *, detail: str) -> Outcome:
        new = snap.copy()
        previous = new.record.previous
        assert previous is not None
        new.record.previous = None
        new.record.destroying.append(previous)
        new.record.log("retired", key=previous, at=self.clock(), detail=detail)
        self._commit(snap, new)
        finish_destruction(self.store, new)
        return Outcome("retired", f"retired key {previous.key_id}; {self._gone()}", "active")

    def _gone(self) -> str:
        """What happened to a retired key's private material, as this backend can say."""
        if self.store.destroys_material:
            return "its private key is destroyed in the store"
        return f"its labels are removed, but {self.store.retention_note}"

    # -- single steps (what a Secrets Manager rotation Lambda runs one at a time) -------------

    def stage(self, *, ref: str | None = None) -> Outcome:
        """Stage a new key unless one is already pending (idempotent).

        ``ref`` is a backend reference for the new key's material, such as the
        ``ClientRequestToken`` of a Secrets Manager rotation. Waits for a person.

        Raises:
            InvalidTransitionError: the store is not initialised, or the previous
                key is still held (remove it at Box and retire it first).
        """

        def step(snap: Snapshot) -> Outcome:
            r = snap.record
            if r.auth != "jwt":
                return Outcome("nothing", "a Client Credentials app has no key pair", r.state)
            if r.pending is not None:
                return Outcome(
                    "nothing",
                    f"key {r.pending.fingerprint[:16]}... is already pending",
                    r.state,
                    waiting=r.pending.key_id is None,
                )
            if r.previous is not None:
                raise InvalidTransitionError(
                    f"the previous key {r.previous.key_id} is still held; remove it at Box and "
                    f"run `{self._cmd('rotate')}` before staging another"
                )
            return self._stage(snap, forced=True, ref=ref)

        return self._run(step)

    def verify_pending(self) -> Outcome:
        """Ask Box whether the pending key works, changing nothing (a rotation's test step).

        ``waiting`` is True while the key has no key ID or Box refuses it.
        """
        snap = self.store.load()
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
            self._verify(snap, pending)
        except KeyRejectedError:
            return Outcome(
                "refused",
                f"Box refuses key ID {pending.key_id} for key {pending.fingerprint}; register "
                "the key's public key and record the ID Box shows",
                snap.record.state,
                waiting=True,
            )
        return Outcome("verified", f"Box accepts key {pending.key_id}", snap.record.state)

    def promote(self) -> Outcome:
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
            return self._verify_and_promote(snap)

        return self._run(step)

    # -- commands for the person's side ------------------------------------------------------------

    def register(self, key_id: str, *, verify: bool = False) -> Outcome:
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
                    self._notify(
                        snap,
                        self._remove_notice(snap, r.previous),
                        "previous",
                        "asked a person to remove the old key at Box",
                    )
                return Outcome("nothing", f"key {key_id} is already the active key", r.state)
            if r.pending is None:
                raise InvalidTransitionError(
                    f"no key is waiting for registration in {self.store.uri}; run "
                    f"`{self._cmd('rotate', '--force')}` to start a rotation"
                )
            for role, other in (("active", r.active), ("previous", r.previous)):
                if other is not None and other.key_id == key_id:
                    raise InputError(
                        f"key ID {key_id} belongs to the {role} key; the new key got another "
                        "ID in the Developer Console"
                    )
            if verify:
                candidate = snap.copy()
                assert candidate.record.pending is not None
                candidate.record.pending.key_id = key_id
                try:
                    self._verify(candidate, candidate.record.pending)
                except KeyRejectedError as exc:
                    # The person is at the terminal: no notification, just the answer.
                    staged = self._back_to_staged(snap, key_id, exc)
                    self._commit(snap, staged)
                    return Outcome(
                        "refused",
                        f"Box refused key ID {key_id} for the pending key (fingerprint "
                        f"{r.pending.fingerprint[:16]}...); the key is still staged: find the ID "
                        "Box shows for this key and run register again",
                        staged.record.state,
                        waiting=True,
                    )
                new = self._with_registration(candidate, snap, key_id)
                self._commit(snap, new)
                return self._promote(new)
            if r.pending.key_id == key_id:
                return Outcome(
                    "nothing",
                    f"key ID {key_id} is already recorded; run "
                    f"`{self._cmd('rotate')}` to verify and promote it",
                    r.state,
                )
            new = self._with_registration(snap.copy(), snap, key_id)
            self._commit(snap, new)
            return Outcome(
                "registered",
                f"recorded key ID {key_id}; run `{self._cmd('rotate')}` to verify "
                "it with Box and promote it",
                new.record.state,
            )

        return self._run(step)

    def _with_registration(self, new: Snapshot, old: Snapshot, key_id: str) -> Snapshot:
        pending = new.record.pending
        assert pending is not None
        changed = old.record.pending is None or old.record.pending.key_id != key_id
        pending.key_id = key_id
        if changed:
            pending.registered_at = self.clock()
            new.record.log(
                "registered", key=pending, at=self.clock(), detail="a person supplied Box's key ID"
            )
        return new

    def import_pending(self, config: BoxAppConfig) -> Outcome:
        """Bring in a key pair Box generated (a new config download) as the registered key."""
        if not config.uses_jwt or not config.public_key_id:
            raise InputError(
                "the config has no key pair with a publicKeyID; download it again from the console"
            )

        def step(snap: Snapshot) -> Outcome:
            r = snap.record
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
                        f"this key is already pending; run `{self._cmd('rotate')}`",
                        r.state,
                    )
                raise InvalidTransitionError(
                    "another key is waiting for registration (its public key was shown to "
                    "a person); "
                    f"abandon it first with `{self._cmd('rotate', 'abandon')}`"
                )
            if r.previous is not None:
                raise InvalidTransitionError(
                    f"the previous key {r.previous.key_id} is still held; retire it first "
                    f"(`{self._cmd('retire')}`)"
                )
            new = snap.copy()
            now = self.clock()
            info = KeyInfo.from_config(config, origin="imported", at=now)
            new.record.pending = info
            new.materials[info.fingerprint] = config.key_material()
            new.record.log(
                "imported",
                key=info,
                at=now,
                detail="a key pair Box generated, entering as registered",
            )
            self._commit(snap, new)
            return Outcome(
                "imported",
                f"key {info.key_id} is registered; run `{self._cmd('rotate')}` to "
                "verify and promote it",
                new.record.state,
            )

        return self._run(step)

    def abandon(self) -> Outcome:
        """Destroy the pending key without it ever becoming active."""

        def step(snap: Snapshot) -> Outcome:
            pending = snap.record.pending
            if pending is None:  # idempotent: a re-run after the key is gone is not an error
                return Outcome(
                    "nothing", f"no pending key to abandon in {self.store.uri}", snap.record.state
                )
            new = snap.copy()
            new.record.pending = None
            new.record.destroying.append(pending)
            new.record.log("abandoned", key=pending, at=self.clock())
            self._commit(snap, new)
            finish_destruction(self.store, new)
            note = (
                f"; also delete key {pending.key_id} in the Box Developer Console"
                if pending.key_id
                else ""
            )
            return Outcome(
                "abandoned",
                f"abandoned the pending key; {self._gone()}{note}",
                "active" if new.record.active else "empty",
            )

        return self._run(step)

    def retire(self, *, force: bool = False) -> Outcome:
        """Retire the previous key once Box refuses it, or (``force``) after the grace period."""

        def step(snap: Snapshot) -> Outcome:
            previous = snap.record.previous
            if previous is None:  # idempotent: a re-run after retiring is not an error
                return Outcome(
                    "nothing", f"no previous key to retire in {self.store.uri}", snap.record.state
                )
            if force:
                ends = (previous.superseded_at or 0) + snap.record.policy.grace_days * DAY
                if self.clock() < ends:
                    raise InvalidTransitionError(
                        f"the grace period for key {previous.key_id} ends at {rfc3339(ends)}; "
                        "readers may still use it until then, so retire it after that "
                        "(or remove it at Box first)"
                    )
                return self._retire(snap, detail="forced by an operator after the grace period")
            if self._box_refuses(snap, previous):
                return self._retire(snap, detail="Box refuses the old key: it was removed at Box")
            return Outcome(
                "waiting",
                f"Box still accepts key {previous.key_id}: remove it in the Developer "
                "Console first, or use --force after the grace period",
                snap.record.state,
                waiting=True,
            )

        return self._run(step)

    # -- Box ------------------------------------------------------------------

    def _provider(self, snap: Snapshot, key: KeyInfo) -> Any:
        from ..sources import StaticSource
        from ..tokens import TokenProvider

        return TokenProvider(
            StaticSource(snap.config_for(key), name=f"{self.store.uri} ({key.key_id})"),
            base_url=self.base_url,
            **self.token_options,
        )

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
        for _ in range(_MAX_CONFLICTS):
            current = self.store.load()
            key = getattr(current.record, role)
            if key is None or key.fingerprint != fingerprint:
                return  # the key moved on meanwhile
            new = current.copy()
            marked = getattr(new.record, role)
            marked.notified_at = self.clock()
            new.record.log("notified", key=marked, at=self.clock(), detail=detail)
            try:
                self.store.commit(new, current.revision)
                return
            except ConflictError:
                continue
        log.warning("could not record that a notification was sent; it may be sent again")

    def _register_notice(
        self, snap: Snapshot, key: KeyInfo, refused: str | None = None
    ) -> Notification:
        title = "Box key rotation: register a new public key"
        steps = [
            "Open https://app.box.com/developers/console and choose the app with client ID "
            f"{snap.client_id}.",
            "Go to Configuration, section 'Add and Manage Public Keys'.",
            "Click 'Add a Public Key', paste the public key below, and confirm with 2FA.",
            "Box shows the new key's ID in the list of public keys: copy it.",
        ]
        if refused:
            title = f"Box refused key ID {refused}: register the public key again"
            steps.insert(
                0,
                f"Box refused key ID {refused} for this key: that ID belongs to another key "
                "or was mistyped. Check the fingerprint below against the key you registered.",
            )
        return Notification(
            kind="reregister" if refused else "register",
            title=title,
            client_id=snap.client_id,
            store=self.store.uri,
            steps=steps,
            public_key_pem=key.public_key_pem,
            fingerprint_sha256=key.fingerprint,
            next_command=self._cmd("register", "--public-key-id", "<ID shown by Box>", "--verify"),
        )

    def _remove_notice(self, snap: Snapshot, key: KeyInfo) -> Notification:
        return Notification(
            kind="remove",
            title=f"Box key rotation: remove the old public key {key.key_id}",
            client_id=snap.client_id,
            store=self.store.uri,
            key_id=key.key_id,
            fingerprint_sha256=key.fingerprint,
            steps=[
                "Open https://app.box.com/developers/console and choose the app with client ID "
                f"{snap.client_id}.",
                "Go to Configuration, section 'Add and Manage Public Keys'.",
                f"Delete the public key with ID {key.key_id} (the new key is already in use).",
            ],
            next_command=self._cmd("rotate"),
        )


def _check_ids(client_id: str | None, enterprise_id: str | None, user_id: str | None) -> None:
    """Refuse IDs Box could never have issued, before anything is read or written."""
    for label, value in (("enterprise ID", enterprise_id), ("user ID", user_id)):
        if value is not None and not _BOX_ID.match(value):
            raise InputError(
                f"the {label} must be Box's numeric ID (digits only), as the Admin Console shows it"
            )
    if client_id is not None and not _CLIENT_ID.match(client_id):
        raise InputError(
            "the client ID must be letters and digits, as the Developer Console shows it"
        )


def _policy_text(p: Policy) -> str:
    return (
        f"{p.key_size}-bit keys, rotate after {p.max_age_days:g} days, "
        f"{p.grace_days:g} days of grace, "
        f"re-notify every {p.renotify_hours:g} h"
    )


def _shell_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)
