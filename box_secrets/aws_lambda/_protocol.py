"""Secrets Manager's four rotation steps, mapped onto the key lifecycle.

The checks before any step are those of AWS's rotation template
(aws-samples/aws-secrets-manager-rotation-lambdas,
``SecretsManagerRotationTemplate/lambda_function.py``): rotation enabled,
the token is a version of the secret, a token already ``AWSCURRENT`` is a
finished rotation (nothing to do), a token not ``AWSPENDING`` is an error.

- ``createSecret`` stages a key under the token's version, or adopts the
  key already waiting for a person (never a second pending key);
- ``setSecret`` asks the person to register it (at most once per reminder
  interval);
- ``testSecret`` verifies it with Box, raising :class:`PersonNeededError`
  ("awaiting registration of key ... in the Box Developer Console") until a
  person has registered it;
- ``finishSecret`` promotes it: ``AWSCURRENT`` moves to the token's version,
  ``AWSPREVIOUS`` follows, and no ``AWSPENDING`` is left behind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from box_secrets.errors import InputError, InvalidTransitionError, PersonNeededError
from box_secrets.rotation import Outcome

if TYPE_CHECKING:
    from box_secrets.aws_lambda._events import RotationEvent
    from box_secrets.rotation import RotationEngine
    from box_secrets.stores._aws_sm import SecretsManagerStore
    from box_secrets.stores._entries import State

__all__ = ["run_step"]

CURRENT, PENDING = "AWSCURRENT", "AWSPENDING"


def run_step(event: RotationEvent, store: SecretsManagerStore, engine: RotationEngine) -> Outcome:
    """Check the event against the secret, then run its step (each step is idempotent)."""
    enabled, labels = store.rotation_state()
    where = f"secret {event.secret_id}"
    labelled = labels.get(event.token) or []
    if (
        event.step == "testSecret"
        and PENDING in labelled
        and CURRENT not in labelled
        and store.load().record.pending is None
    ):
        return _configuration_test(event, engine)
    if not enabled:
        raise InputError(
            f"rotation is not enabled for {where}; enable it with this function, or invoke "
            'the function with {"stores": [...]} for a scheduled run'
        )
    stages = labels.get(event.token)
    if stages is None:
        raise InputError(
            f"version {event.token} is not a version of {where}; Secrets Manager starts a "
            "rotation with a version it created, so start one with RotateSecret"
        )
    if CURRENT in stages:
        return Outcome("nothing", f"version {event.token} is already AWSCURRENT", _state(store))
    if PENDING not in stages:
        raise InputError(
            f"version {event.token} of {where} is not AWSPENDING, so this rotation attempt was "
            "superseded; start a new rotation (RotateSecret) if one is still needed"
        )
    return _STEPS[event.step](event, store, engine)


def _configuration_test(event: RotationEvent, engine: RotationEngine) -> Outcome:
    """Secrets Manager testing the rotation set-up, not a rotation: a health check.

    RotateSecret with ``RotateImmediately=false`` (what the Terraform module
    sends) "tests the rotation configuration by running the testSecret step of
    the Lambda rotation function. The test creates an AWSPENDING version of the
    secret and then removes it" (Secrets Manager API reference, RotateSecret).
    No createSecret ran, so no key is pending: the answer is whether this
    function can read the secret and Box accepts its active key. Nothing is
    written, nothing is counted as a failure.
    """
    checked = engine.check_active()
    return Outcome(
        "tested",
        f"rotation configuration test for {event.secret_id}: the function read the secret "
        f"and {checked.message[0].lower()}{checked.message[1:]}; nothing was changed",
        checked.state,
    )


def _state(store: SecretsManagerStore) -> State:
    return store.load().record.state


def _create(event: RotationEvent, store: SecretsManagerStore, engine: RotationEngine) -> Outcome:
    record = store.load().record  # a secret that is not a Box config fails here, unchanged
    if record.auth != "jwt":
        raise InputError(
            f"secret {event.secret_id} holds a Client Credentials app, which has no key pair "
            "to rotate; disable rotation for it"
        )
    if record.pending is None and record.previous is not None:
        retired = engine.retire()
        if retired.action != "retired":
            raise PersonNeededError(
                f"the previous key {record.previous.key_id} is still registered at Box; remove "
                "it in the Box Developer Console, then rotation can stage a new key"
            )
    return engine.stage(ref=event.token, notify=False)


def _set(event: RotationEvent, store: SecretsManagerStore, engine: RotationEngine) -> Outcome:
    return engine.remind()


def _test(event: RotationEvent, store: SecretsManagerStore, engine: RotationEngine) -> Outcome:
    outcome = engine.verify_pending()
    if outcome.action == "nothing":
        raise InvalidTransitionError(
            f"no key is pending for {event.secret_id}, so this rotation has nothing to test; "
            "it was abandoned: start a new rotation"
        )
    if outcome.waiting:
        raise PersonNeededError(outcome.message)
    return outcome


def _finish(event: RotationEvent, store: SecretsManagerStore, engine: RotationEngine) -> Outcome:
    snap = store.load()
    active = snap.record.active
    if snap.record.pending is None and active is not None and active.ref == event.token:
        # Promoted by an earlier attempt that stopped before the labels moved.
        store.repair(snap)
        return Outcome("promoted", f"key {active.key_id} is active", snap.record.state)
    if snap.record.pending is None:
        store.drop_pending_label(event.token)  # never leave a stale AWSPENDING behind
        raise InvalidTransitionError(
            f"no key is pending for {event.secret_id}, so this rotation has nothing to "
            "finish; it was abandoned: start a new rotation"
        )
    try:
        outcome = engine.promote()
    except InvalidTransitionError as exc:  # no key ID yet
        raise PersonNeededError(
            f"awaiting registration of key {snap.record.pending.fingerprint} in the Box "
            "Developer Console"
        ) from exc
    if outcome.waiting:
        raise PersonNeededError(outcome.message)
    return outcome


_STEPS = {
    "createSecret": _create,
    "setSecret": _set,
    "testSecret": _test,
    "finishSecret": _finish,
}
