"""The lifecycle's pure core: decisions and transitions, with no store, clock or Box."""

from __future__ import annotations

import pytest

from box_secrets.rotation import _transitions as transitions
from box_secrets.rotation._views import DAY
from box_secrets.stores._document import Snapshot
from box_secrets.stores._record import KeyInfo, RotationRecord

from .helpers import _POOL

NOW = 1_800_000_000.0


def _snapshot(**roles: KeyInfo | None) -> Snapshot:
    base = {"boxAppSettings": {"clientID": "abc", "clientSecret": "s"}, "enterpriseID": "1"}
    return Snapshot(base, RotationRecord(**roles), {})  # type: ignore[arg-type]


def _key(name: str, **fields: object) -> KeyInfo:
    return KeyInfo(fingerprint=name * 8, public_key_pem="PEM", created_at=NOW - DAY, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("roles", "force", "now", "decision"),
    [
        ({}, False, NOW, "stage"),
        ({"active": _key("a", activated_at=NOW - DAY)}, False, NOW, "nothing"),
        ({"active": _key("a", activated_at=NOW - DAY)}, True, NOW, "stage"),
        ({"active": _key("a", activated_at=NOW - 91 * DAY)}, False, NOW, "stage"),
        ({"active": _key("a"), "pending": _key("p")}, True, NOW, "await-registration"),
        ({"active": _key("a"), "pending": _key("p", key_id="k")}, False, NOW, "verify"),
        ({"active": _key("a"), "previous": _key("o")}, True, NOW, "overlap"),
    ],
)
def test_decide(roles: dict[str, KeyInfo], force: bool, now: float, decision: str) -> None:
    assert transitions.decide(_snapshot(**roles).record, now, force) == decision


def test_stage_promote_retire_keep_history_and_never_touch_the_input() -> None:
    start = _snapshot(active=_key("a", key_id="ka", activated_at=NOW - DAY))
    staged, info = transitions.staged(start, _POOL.other, now=NOW, forced=True)
    assert start.record.pending is None  # pure: the input is unchanged
    assert staged.record.pending is info and info.fingerprint in staged.materials
    registered = transitions.registered(staged.copy(), staged, "kb", NOW + 1)
    promoted = transitions.promoted(registered, NOW + 2)
    assert promoted.record.active is not None and promoted.record.active.key_id == "kb"
    assert promoted.record.previous is not None and promoted.record.previous.key_id == "ka"
    retired = transitions.retired(promoted, NOW + 3, "removed at Box")
    assert retired.record.previous is None and retired.record.destroying[0].key_id == "ka"
    actions = [e.action for e in retired.record.history]
    assert actions == ["staged", "registered", "verified", "promoted", "retired"]


def test_reminders_follow_the_policy() -> None:
    snap = _snapshot()
    key = _key("p", notified_at=NOW - 3600)
    assert not transitions.remind_due(key, snap.record.policy, NOW)
    assert transitions.remind_due(key, snap.record.policy, NOW + 24 * 3600)
    assert transitions.remind_due(_key("q"), snap.record.policy, NOW)
