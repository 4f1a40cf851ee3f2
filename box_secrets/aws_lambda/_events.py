"""What a Lambda invocation asks for, parsed and checked before anything is touched.

Four kinds of event reach :func:`box_secrets.aws_lambda.handler`:

- Secrets Manager rotation (``Step``, ``SecretId``, ``ClientRequestToken``,
  optional ``RotationToken``), as the rotation protocol sends it
  (https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda-functions.html);
- a schedule (EventBridge Scheduler's input ``{"stores": [...]}``, an
  EventBridge rule's ``Scheduled Event``, or ``{}``): advance each store;
- ``{"action": "register", "public_key_id": ..., "store": ...}``: a person
  finishes a rotation without the CLI;
- ``{"action": "status"}`` (optionally with ``store`` or ``stores``);
- ``{"action": "remind", "stores": [...]}``: remind a person if one is needed
  and retire an old key Box already refuses, never staging one (the daily
  companion of Secrets Manager's own rotation schedule).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Literal

from box_secrets.errors import InputError

__all__ = [
    "STEPS",
    "STORES_ENV",
    "JobEvent",
    "RotationEvent",
    "configured_stores",
    "parse_event",
    "resolve_store",
]

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
Action = Literal["advance", "register", "remind", "status"]

#: Secrets Manager's ClientRequestToken: 32 to 64 characters (its API reference).
_TOKEN = re.compile(r"^[A-Za-z0-9-]{32,64}$")
#: A Box key ID as the Developer Console shows it (digits; letters allowed, to be lenient).
_KEY_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")
_MAX_STORES = 50


@dataclass(frozen=True)
class RotationEvent:
    step: str
    secret_id: str
    token: str
    rotation_token: str | None = None

    def __repr__(self) -> str:  # the RotationToken is a credential: never shown
        return f"RotationEvent(step={self.step!r}, secret_id={self.secret_id!r})"


@dataclass(frozen=True)
class JobEvent:
    action: Action
    stores: tuple[str, ...]
    public_key_id: str | None = None


def _text(event: dict[str, Any], name: str, what: str) -> str:
    value = event.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"the {what} event has no {name}; {_EXPECTED}")
    return value.strip()


_EXPECTED = (
    'expected a Secrets Manager rotation event, {"stores": [...]}, '
    '{"action": "register", "public_key_id": "..."} or {"action": "status"}'
)


#: The stores this function serves, one URI per line or space (beside BOX_SECRETS_STORE).
STORES_ENV = "BOX_SECRETS_STORES"


def configured_stores() -> tuple[str, ...]:
    """The store URIs this function serves: ``BOX_SECRETS_STORE`` and ``BOX_SECRETS_STORES``.

    These come from the function's own configuration, which only its deployer
    can change; an event can only choose among them.
    """
    uris = os.environ.get(STORES_ENV, "").split()
    single = os.environ.get("BOX_SECRETS_STORE", "").strip()
    if single and single not in uris:
        uris.insert(0, single)
    return tuple(uris)


def _aws_name(location: str) -> str:
    """A secret's name, from its name or its ARN (``...:secret:NAME-AbCdEf``)."""
    if location.startswith("arn:") and ":secret:" in location:
        name = location.split(":secret:", 1)[1]
        return re.sub(r"-[A-Za-z0-9]{6}$", "", name)
    return location


def resolve_store(named: str) -> str:
    """The configured store URI an event's store name stands for.

    Whoever may invoke the function could otherwise name a store whose address,
    auth method or role sends the function's credentials to their own host. So an
    event names a store only as the function is configured for it: the same URI,
    or the same scheme and location with no parameters (``aws-sm://NAME`` also
    matches a configured ARN of that secret). Connection parameters always come
    from the configured URI.

    Raises:
        InputError: the name is malformed or not a configured store.
    """
    from box_secrets.stores._uri import parse_store_uri

    configured = configured_stores()
    if not configured:
        raise InputError(
            "this function has no configured stores, so an event may not name one: set "
            f"{STORES_ENV} (or BOX_SECRETS_STORE) in the function's environment"
        )
    wanted = parse_store_uri(named)
    for uri in configured:
        have = parse_store_uri(uri)
        if wanted == have:
            return uri
        if wanted.params or wanted.scheme != have.scheme:
            continue
        if wanted.location == have.location or (
            have.scheme == "aws-sm" and _aws_name(wanted.location) == _aws_name(have.location)
        ):
            return uri
    if wanted.params:
        raise InputError(
            "an event may not set store parameters (addr, endpoint_url, auth, role, ...): name "
            f"the store without ?parameters, as it appears in {STORES_ENV}"
        )
    raise InputError(
        f"the event names a store this function is not configured for; it serves only the "
        f"stores in {STORES_ENV} and BOX_SECRETS_STORE"
    )


def _stores(event: dict[str, Any]) -> tuple[str, ...]:
    if "stores" in event:
        raw = event["stores"]
        if (
            not isinstance(raw, list)
            or not raw
            or len(raw) > _MAX_STORES
            or not all(isinstance(s, str) and s.strip() for s in raw)
        ):
            raise InputError(
                f'"stores" must be a list of 1 to {_MAX_STORES} store URIs, like '
                '["aws-sm://box/app", "vault://secret/box/app"]'
            )
        return tuple(dict.fromkeys(resolve_store(s.strip()) for s in raw))
    if "store" in event:
        return (resolve_store(_text(event, "store", "Lambda")),)
    default = configured_stores()
    if not default:
        raise InputError(
            f"no store named: set {STORES_ENV} (or BOX_SECRETS_STORE) in the function's environment"
        )
    return default


def parse_event(event: object) -> RotationEvent | JobEvent:
    """The event as one of two shapes; raises :class:`InputError` with one sentence otherwise."""
    if not isinstance(event, dict):
        raise InputError(f"the event must be a JSON object; {_EXPECTED}")
    if "Step" in event:
        step = event.get("Step")
        if step not in STEPS:
            raise InputError(
                f"unknown rotation step {str(step)[:40]!r}; Secrets Manager sends "
                + ", ".join(STEPS)
            )
        secret_id = _text(event, "SecretId", "rotation")
        token = _text(event, "ClientRequestToken", "rotation")
        if not _TOKEN.match(token):
            raise InputError(
                "ClientRequestToken must be 32 to 64 letters, digits or hyphens, as Secrets "
                "Manager sends it"
            )
        rotation_token = event.get("RotationToken")
        if rotation_token is not None and not (
            isinstance(rotation_token, str) and 36 <= len(rotation_token) <= 256
        ):
            # Secrets Manager's API reference: RotationToken is 36 to 256 characters.
            raise InputError("RotationToken must be a string of 36 to 256 characters when present")
        return RotationEvent(step, secret_id, token, rotation_token or None)
    if "action" in event:
        action = event.get("action")
        if action == "register":
            key_id = _text(event, "public_key_id", "register")
            if not _KEY_ID.match(key_id):
                raise InputError(
                    "public_key_id must be the key ID the Box Developer Console shows "
                    "(letters and digits)"
                )
            stores = _stores(event)
            if len(stores) != 1:
                raise InputError(
                    'a register event finishes one rotation: name exactly one store with "store"'
                )
            return JobEvent("register", stores, key_id)
        if action in ("status", "advance", "remind"):
            return JobEvent(action, _stores(event))
        raise InputError(
            f"unknown action {str(action)[:40]!r}; use register, status, remind or advance"
        )
    scheduled_rule = event.get("detail-type") == "Scheduled Event"
    if "stores" in event or scheduled_rule or not event:
        return JobEvent("advance", _stores(event))
    raise InputError(f"this event is not one box-secrets handles; {_EXPECTED}")
