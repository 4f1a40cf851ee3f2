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

import time
from collections.abc import Callable
from typing import Any

from box_secrets.rotation._machine import Machine
from box_secrets.rotation._notify import Notifier
from box_secrets.rotation._outcome import Outcome
from box_secrets.rotation._person import abandon as _abandon
from box_secrets.rotation._person import import_pending as _import_pending
from box_secrets.rotation._person import register as _register
from box_secrets.rotation._person import retire as _retire
from box_secrets.rotation._setup import init as _init
from box_secrets.rotation._steps import promote as _promote
from box_secrets.rotation._steps import remind as _remind
from box_secrets.rotation._steps import stage as _stage
from box_secrets.rotation._steps import verify_pending as _verify_pending
from box_secrets.rotation._views import StatusView, status_view
from box_secrets.rotation._words import Words
from box_secrets.signers._keys import GeneratedKey, generate_key
from box_secrets.stores import Store
from box_secrets.stores._config import BoxAppConfig
from box_secrets.stores._record import Policy

__all__ = ["Outcome", "RotationEngine"]


class RotationEngine:
    """Drives one store's keys through their lifecycle: the public front of :class:`Machine`.

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
        self.machine = Machine(
            store,
            base_url=base_url,
            notifier=notifier,
            clock=clock,
            token_options=token_options,
            key_factory=key_factory,
            sleep=sleep,
        )

    @property
    def store(self) -> Store:
        return self.machine.store

    @property
    def clock(self) -> Callable[[], float]:
        return self.machine.clock

    @property
    def words(self) -> Words:
        return self.machine.words

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

        return _init(
            self.machine,
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

        return _stage(self.machine, ref=ref, notify=notify)

    def remind(self, *, retire_refused: bool = False) -> Outcome:
        """Ask a person to act if one must and the interval has passed (see ``_steps.remind``)."""

        return _remind(self.machine, retire_refused=retire_refused)

    def verify_pending(self) -> Outcome:
        """Ask Box whether the pending key works, changing nothing."""

        return _verify_pending(self.machine)

    def promote(self) -> Outcome:
        """Verify the pending key with Box and make it the active key (idempotent)."""

        return _promote(self.machine)

    def register(self, key_id: str, *, verify: bool = False) -> Outcome:
        """Record the key ID Box showed for the pending key (``verify``: check, promote now).

        Raises:
            InputError: the ID does not look like a Box key ID, or belongs to another key.
            InvalidTransitionError: no key is waiting for registration.
            BoxUnavailableError, StoreError, NotifyError: as for :meth:`advance`.
        """

        return _register(self.machine, key_id, verify=verify)

    def import_pending(self, config: BoxAppConfig) -> Outcome:
        """Bring in a key pair Box generated (a new config download) as the registered key.

        Raises:
            InputError: the config has no key ID, or is for another app.
            InvalidTransitionError: another key is pending, or the previous key is still held.
        """

        return _import_pending(self.machine, config)

    def abandon(self) -> Outcome:
        """Destroy the pending key without it ever becoming active."""

        return _abandon(self.machine)

    def retire(self, *, force: bool = False) -> Outcome:
        """Retire the previous key once Box refuses it, or (``force``) after the grace period.

        Raises:
            InvalidTransitionError: ``force`` before the grace period ends.
            BoxUnavailableError, StoreError: as for :meth:`advance`.
        """

        return _retire(self.machine, force=force)

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
        return self.machine.advance(force=force)

    def check_active(self) -> Outcome:
        """A health check: Box accepts the active key (one token is minted); nothing changes.

        Raises:
            KeyRejectedError: Box refuses the active key.
            BoxError, StoreError: Box or the store cannot be reached.
        """
        return self.machine.check_active()
