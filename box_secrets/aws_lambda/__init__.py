"""The AWS Lambda handler: scheduled rotation with a person in the loop.

Configure the function's handler as ``box_secrets.aws_lambda.handler``. One
function serves any number of secrets and stores:

- Secrets Manager rotation events (the rotation protocol's four steps);
- schedules (``{"stores": [URI, ...]}``, or ``BOX_SECRETS_STORE``): advance each;
- ``{"action": "register", "public_key_id": "...", "store": URI}``: a person
  finishes a rotation from the console or ``aws lambda invoke``;
- ``{"action": "status"}``: the typed status view of each store;
- ``{"action": "remind", "stores": [...]}``: remind a person if due, retire an
  old key Box refuses; never stage (beside Secrets Manager's own schedule).

Every step writes one JSON line to CloudWatch Logs and, unless
``BOX_SECRETS_METRICS=0``, one embedded-metric line (``PersonNeeded``,
``RotationErrors``, ``KeyAgeDays`` in namespace ``BoxSecrets``). A failed
step raises, so Lambda and Secrets Manager record it; a step that waits for a
person raises :class:`~box_secrets.PersonNeededError`. See docs/aws-lambda.md.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, cast

from box_secrets.aws_lambda import _log
from box_secrets.aws_lambda._events import JobEvent, RotationEvent, parse_event
from box_secrets.errors import BoxSecretsError, InputError, PersonNeededError

if TYPE_CHECKING:
    from box_secrets.stores._aws_sm import SecretsManagerStore

__all__ = ["handler"]


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """Serve one invocation (see the module docstring for the events)."""
    request_id = getattr(context, "aws_request_id", None)
    _quiet_libraries()
    try:
        parsed = parse_event(event)
    except InputError as exc:
        _log.emit(
            "ERROR", request_id=request_id, step="event", outcome="bad-event", message=str(exc)
        )
        raise exc.with_traceback(None) from None
    if isinstance(parsed, RotationEvent):
        return _rotate(parsed, request_id)
    assert isinstance(parsed, JobEvent)
    from box_secrets.aws_lambda._jobs import run_job

    try:
        return run_job(parsed, request_id)
    except BoxSecretsError as exc:
        raise exc.with_traceback(None) from None


def _quiet_libraries() -> None:
    """Nothing secret in the function's logs at any level: see ``box_secrets._support.redact``.

    Lambda's advanced logging controls set the root logger's level; at DEBUG,
    botocore would log the secret it reads and writes. Its loggers (and the other
    libraries') are held at WARNING, and whatever they still log is redacted.
    """
    import os

    from box_secrets._support.redact import (
        UNSAFE_DEBUG_ENV,
        hold_third_party,
        install_record_redaction,
    )

    hold_third_party(unsafe=os.environ.get(UNSAFE_DEBUG_ENV) == "1")
    install_record_redaction()


def _rotate(event: RotationEvent, request_id: str | None) -> dict[str, Any]:
    from box_secrets.aws_lambda._jobs import engine_for
    from box_secrets.aws_lambda._protocol import run_step
    from box_secrets.stores import open_store
    from box_secrets.stores._uri import secret_uri

    started = time.monotonic()
    line: dict[str, Any] = {"request_id": request_id, "secret": event.secret_id, "step": event.step}
    engine: Any = None
    try:
        store = cast(
            "SecretsManagerStore",
            open_store(secret_uri(event.secret_id), rotation_token=event.rotation_token),
        )
        engine = engine_for(store)
        outcome = run_step(event, store, engine)
    except PersonNeededError as exc:
        _finish(
            line,
            started,
            engine,
            "WARNING",
            outcome="person-needed",
            message=str(exc),
            failed=False,
        )
        raise exc.with_traceback(None) from None
    except BoxSecretsError as exc:
        _finish(line, started, engine, "ERROR", outcome="failed", message=str(exc), failed=True)
        raise exc.with_traceback(None) from None
    except Exception as exc:
        unexpected = f"unexpected {type(exc).__name__}"
        _finish(line, started, engine, "ERROR", outcome="failed", message=unexpected, failed=True)
        raise
    view = _finish(
        line, started, engine, "INFO", outcome=outcome.action, message=outcome.message, failed=False
    )
    return {
        "step": event.step,
        "outcome": outcome.action,
        "state": outcome.state,
        "message": outcome.message,
        "person_needed": bool(view and view["person_needed"]),
    }


def _finish(
    line: dict[str, Any],
    started: float,
    engine: Any,
    level: str,
    *,
    outcome: str,
    message: str,
    failed: bool,
) -> Any:
    """Log the step's line and its store's metrics; return the store's status view (or None)."""
    view = None
    if engine is not None:
        try:
            view = engine.status()
        except Exception:  # the step's own result matters more than its metrics
            view = None
    fingerprints: dict[str, str | None] = {"active": None, "pending": None}
    if view is not None:
        for role in ("active", "pending"):
            key = view[role]
            fingerprints[role] = key["fingerprint_sha256"] if key else None
    _log.emit(
        level,
        **line,
        outcome=outcome,
        duration_ms=round((time.monotonic() - started) * 1000),
        fingerprints=fingerprints,
        message=message,
    )
    if engine is not None:
        _log.metrics(
            engine.store.uri,
            person_needed=bool(view and view["person_needed"]) or outcome == "person-needed",
            key_age_days=view["key_age_days"] if view else None,
            failed=failed,
        )
    return view
