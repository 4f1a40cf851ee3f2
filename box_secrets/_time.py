"""Time formatting: RFC 3339 in UTC, the one format every output uses."""

from __future__ import annotations

import datetime as _dt
import time

__all__ = ["now", "parse_rfc3339", "rfc3339"]


def now() -> float:
    return time.time()


def rfc3339(ts: float) -> str:
    """``2026-11-28T12:00:00Z`` (whole seconds, UTC)."""
    return _dt.datetime.fromtimestamp(int(ts), _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str) -> float:
    """Parse what :func:`rfc3339` writes (and any ISO 8601 time with an offset)."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    parsed = _dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.timezone.utc)
    return parsed.timestamp()
