"""Scheduled runs, the register action and the status action: any store, any number."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from box_secrets.aws_lambda._log import emit as log_line
from box_secrets.aws_lambda._log import metrics as log_metrics
from box_secrets.errors import BoxSecretsError, PersonNeededError

if TYPE_CHECKING:
    from box_secrets.aws_lambda._events import JobEvent
    from box_secrets.rotation import Notification, Notifier, RotationEngine
    from box_secrets.stores import Store

__all__ = ["engine_for", "run_job"]


class JsonLineNotifier:
    """Tells a person through CloudWatch Logs: one JSON line per notice (the default here)."""

    def send(self, notification: Notification) -> None:
        log_line("WARNING", event="notification", notice=notification.to_json())


def _notifier() -> Notifier:
    spec = os.environ.get("BOX_SECRETS_NOTIFY", "")
    if spec in ("", "log", "log:", "stdout"):
        return JsonLineNotifier()
    from box_secrets.rotation import open_notifier

    return open_notifier(spec)


def engine_for(store: Store) -> RotationEngine:
    """The engine a Lambda runs (Box: ``BOX_API_BASE_URL``; people: ``BOX_SECRETS_NOTIFY``)."""
    from box_secrets.rotation import RotationEngine

    return RotationEngine(store, base_url=os.environ.get("BOX_API_BASE_URL"), notifier=_notifier())


def _one(action: str, uri: str, key_id: str | None) -> dict[str, Any]:
    from box_secrets.stores import open_store

    engine = engine_for(open_store(uri))
    if action == "status":
        view = engine.status()
        return {
            "store": uri,
            "ok": True,
            "status": view,
            "message": f"{view['state']}: {view['next_action']}",
            "active_fingerprint": view["active"]["fingerprint_sha256"] if view["active"] else None,
            "pending_fingerprint": (
                view["pending"]["fingerprint_sha256"] if view["pending"] else None
            ),
        }
    if action == "register":
        assert key_id is not None
        outcome = engine.register(key_id, verify=True)
        if outcome.waiting:
            raise PersonNeededError(outcome.message)
    elif action == "remind":
        outcome = engine.remind(retire_refused=True)
    else:
        outcome = engine.advance()
    view = engine.status()
    return {
        "store": uri,
        "ok": True,
        "action": outcome.action,
        "message": outcome.message,
        "state": view["state"],
        "next_action": view["next_action"],
        "person_needed": view["person_needed"],
        "key_age_days": view["key_age_days"],
        "active_fingerprint": view["active"]["fingerprint_sha256"] if view["active"] else None,
        "pending_fingerprint": view["pending"]["fingerprint_sha256"] if view["pending"] else None,
    }


def run_job(event: JobEvent, request_id: str | None) -> dict[str, Any]:
    """Run the action on every store; one failing store does not stop the others."""
    results: list[dict[str, Any]] = []
    for uri in event.stores:
        started = time.monotonic()
        try:
            result = _one(event.action, uri, event.public_key_id)
        except BoxSecretsError as exc:
            result = {"store": uri, "ok": False, "error": str(exc)}
            result["person_needed"] = isinstance(exc, PersonNeededError)
        except Exception as exc:  # reported per store, then the invocation fails
            result = {"store": uri, "ok": False, "error": f"unexpected {type(exc).__name__}"}
        from box_secrets._urls import redact_uri

        result["store"] = redact_uri(uri)  # returned to the invoker: no password
        level = "INFO" if result["ok"] else "ERROR"
        if result.get("person_needed") and result["ok"] is not True:
            level = "WARNING"
        log_line(
            level,
            request_id=request_id,
            step=event.action,
            store=uri,
            outcome=result.get("action") or ("ok" if result["ok"] else "failed"),
            duration_ms=round((time.monotonic() - started) * 1000),
            fingerprints={
                "active": result.get("active_fingerprint"),
                "pending": result.get("pending_fingerprint"),
            },
            message=result.get("message") or result.get("error") or "",
        )
        status = result.get("status") or result
        log_metrics(
            uri,
            person_needed=bool(status.get("person_needed")),
            key_age_days=status.get("key_age_days"),
            failed=not result["ok"] and not result.get("person_needed"),
        )
        results.append(result)
    failed = [r for r in results if not r["ok"]]
    if failed:
        raise BoxSecretsError(
            f"{len(failed)} of {len(results)} store(s) failed; first: {failed[0]['store']}: "
            f"{failed[0]['error']}"
        )
    return {"action": event.action, "stores": results}
