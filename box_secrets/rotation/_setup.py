"""``init``: adopt a downloaded config (verified with Box first), or stage a first key."""

from __future__ import annotations

import contextlib
import re
from typing import TYPE_CHECKING, Any

from box_secrets.errors import ConflictError, InputError, StoreNotFoundError
from box_secrets.rotation._outcome import Outcome
from box_secrets.rotation._words import policy_text
from box_secrets.stores._config import BoxAppConfig
from box_secrets.stores._document import Snapshot
from box_secrets.stores._record import Policy, RotationRecord

if TYPE_CHECKING:
    from box_secrets.rotation._homes import KeyHome
    from box_secrets.rotation._machine import Machine

__all__ = ["init"]

_BOX_ID = re.compile(r"^[0-9]{1,20}$")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9]{1,128}$")


def init(
    machine: Machine,
    *,
    config: BoxAppConfig | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    enterprise_id: str | None = None,
    user_id: str | None = None,
    policy: Policy | None = None,
    signer: str | None = None,
) -> Outcome:
    """Adopt a downloaded config (verified with Box first), or stage a first key."""
    _check_ids(client_id, enterprise_id, user_id)
    home = _home(signer, config)
    signer = str(home.uri) if home is not None else None
    try:
        existing = machine.store.load()
    except StoreNotFoundError:
        existing = None
    if existing is not None:
        if signer is not None and signer != existing.record.signer:
            held = existing.record.signer or "keys kept in the store"
            raise InputError(
                f"{machine.store.uri} is already initialised with {held}; a store's signer "
                "cannot change (use another store)"
            )
        return _init_again(machine, existing, config, client_id, policy)
    if config is not None:
        return _adopt(machine, config, policy)
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
    if home is not None:
        home.check()  # a key there that could never sign: refused before anything is written
    snap = Snapshot(base, RotationRecord(policy=policy or Policy(), signer=signer), {})
    snap.record.log(
        "initialised", at=machine.clock(), detail="first key to be generated and registered"
    )
    with contextlib.suppress(ConflictError):
        # If another init got there first, fall through to the common path.
        machine.store.commit(snap, None)
    return machine.advance()


def _home(signer: str | None, config: BoxAppConfig | None) -> KeyHome | None:
    """The home ``--signer`` names, checked before anything is read (None: keys kept here)."""
    if signer is None:
        return None
    from box_secrets.rotation._homes import home_for

    home = home_for(signer)  # refuse a malformed signer before anything is read
    assert home is not None
    if config is not None:
        raise InputError(
            "give --config or --signer, not both: a downloaded config holds a private key "
            "that already left its signer"
        )
    return home


def _adopt(machine: Machine, config: BoxAppConfig, policy: Policy | None) -> Outcome:
    """A downloaded config becomes the store's active key, once Box accepts it."""
    if not config.uses_jwt:
        raise InputError("the config has no key pair (a Client Credentials app): nothing to rotate")
    snap = Snapshot.from_config(config, origin="adopted", at=machine.clock())
    assert snap.record.active is not None
    if policy is not None:
        snap.record.policy = policy
    machine.verify(snap, snap.record.active)  # invariant 3: only keys Box accepts go active
    snap.record.active.verified_at = machine.clock()
    snap.record.log(
        "initialised",
        key=snap.record.active,
        at=machine.clock(),
        detail="adopted a config downloaded from the Developer Console",
    )
    try:
        machine.store.commit(snap, None)
    except ConflictError:  # a concurrent init won: answer as a re-run would
        return _init_again(machine, machine.store.load(), config, None, policy)
    return Outcome(
        "initialised",
        f"{machine.store.uri} now holds key {snap.record.active.key_id} (verified with Box)",
        snap.record.state,
    )


def _init_again(
    machine: Machine,
    snap: Snapshot,
    config: BoxAppConfig | None,
    client_id: str | None,
    policy: Policy | None,
) -> Outcome:
    if (config and config.client_id != snap.client_id) or (
        client_id and client_id != snap.client_id
    ):
        raise InputError(
            f"{machine.store.uri} already holds app {snap.client_id}; use another store "
            "for another app"
        )
    if (
        config is not None
        and snap.record.active is not None
        and config.fingerprint != snap.record.active.fingerprint
    ):
        raise InputError(
            f"{machine.store.uri} is initialised with another key; use "
            "`box-secrets rotate import` "
            "to bring in a new key pair"
        )
    if policy is not None and policy != snap.record.policy:

        def change(s: Snapshot) -> Outcome:
            new = s.copy()
            new.record.policy = policy
            new.record.log("policy-changed", at=machine.clock(), detail=policy_text(policy))
            machine.commit(s, new)
            return Outcome(
                "policy-changed", f"policy is now {policy_text(policy)}", new.record.state
            )

        return machine.run(change)
    if snap.record.state == "empty":
        # A first key was never staged (the signer refused or failed last time): stage it now.
        return machine.advance()
    state = snap.record.state
    return Outcome(
        "nothing",
        f"{machine.store.uri} is already initialised ({state})",
        state,
        waiting=snap.record.pending is not None and snap.record.pending.key_id is None,
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
