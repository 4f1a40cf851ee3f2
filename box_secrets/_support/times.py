"""Time formatting: RFC 3339 in UTC, the one format every output uses.

Without ``datetime`` for the format box-secrets itself writes: this module is
on the path of ``box-secrets terraform status``, which runs at every plan.
"""

from __future__ import annotations

import time

__all__ = ["now", "parse_rfc3339", "rfc3339"]


def now() -> float:
    return time.time()


def rfc3339(ts: float) -> str:
    """``2026-11-28T12:00:00Z`` (whole seconds, UTC)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(ts)))


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


_DIGITS = ((0, 4), (5, 7), (8, 10), (11, 13), (14, 16), (17, 19))


def _month_days(y: int, m: int) -> int:
    if m == 2:
        return 29 if (y % 4 == 0 and y % 100 != 0) or y % 400 == 0 else 28
    return 30 if m in (4, 6, 9, 11) else 31


def parse_rfc3339(text: str) -> float:
    """Parse what :func:`rfc3339` writes (and any ISO 8601 time with an offset)."""
    value = text.strip()
    if (
        len(value) == 20
        and value[4] == value[7] == "-"
        and value[10] == "T"
        and value[13] == value[16] == ":"
        and value[19] == "Z"
        and all(value[i:j].isdigit() for i, j in _DIGITS)
    ):
        y, mo, d = int(value[:4]), int(value[5:7]), int(value[8:10])
        h, mi, s = int(value[11:13]), int(value[14:16]), int(value[17:19])
        if 1 <= mo <= 12 and 1 <= d <= _month_days(y, mo) and h < 24 and mi < 60 and s < 60:
            return float(_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s)
    import datetime as _dt  # any other ISO 8601 form (and the errors for bad ones)

    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    parsed = _dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.timezone.utc)
    return parsed.timestamp()
