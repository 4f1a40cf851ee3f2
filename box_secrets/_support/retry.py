"""One retry policy for every remote call: attempts, back-off, a deadline, Retry-After.

Box's token endpoint and the Vault store both retry through it. Settable from
the environment, so the CLI, Terraform runs and a Lambda can bound how long a
call may take without code: ``BOX_SECRETS_MAX_ATTEMPTS``
(default 5) and ``BOX_SECRETS_DEADLINE`` (seconds, default 60). Arguments
given in code win over the environment.
"""

from __future__ import annotations

import logging
import math
import os
import random
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from box_secrets.errors import BoxSecretsError, BoxUnavailableError, InputError

if TYPE_CHECKING:
    from box_secrets._support.http import HttpClient, HttpResponse

__all__ = ["ATTEMPTS_ENV", "DEADLINE_ENV", "RetryPolicy"]

ATTEMPTS_ENV = "BOX_SECRETS_MAX_ATTEMPTS"
DEADLINE_ENV = "BOX_SECRETS_DEADLINE"

log = logging.getLogger("box_secrets.retry")

#: Tests replace these to move time instead of waiting for it.
_monotonic = time.monotonic
_sleep = time.sleep


def _from_env(name: str, default: float, low: float, high: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and low <= value <= high):
        raise InputError(f"{name} must be a number from {low:g} to {high:g}")
    return value


def _real(value: object) -> bool:
    """A finite int or float (not a bool, not a string, not nan)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class RetryPolicy:
    """How one remote request is retried: 429 (after Retry-After), 5xx and network errors."""

    __slots__ = ("backoff_base", "backoff_cap", "deadline", "max_attempts")

    def __init__(
        self,
        *,
        max_attempts: int | None = None,
        deadline: float | None = None,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
    ) -> None:
        if max_attempts is None:
            max_attempts = int(_from_env(ATTEMPTS_ENV, 5, 1, 20))
        if deadline is None:
            deadline = _from_env(DEADLINE_ENV, 60.0, 1, 3600)
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise InputError(
                f"max_attempts must be a whole number of at least 1, not {max_attempts!r}"
            )
        if not (_real(deadline) and deadline > 0):
            raise InputError("deadline must be a positive number of seconds")
        if not (_real(backoff_base) and _real(backoff_cap) and 0 <= backoff_base <= backoff_cap):
            raise InputError("backoff_base and backoff_cap must be numbers with 0 <= base <= cap")
        self.max_attempts = int(max_attempts)
        self.deadline = float(deadline)
        self.backoff_base = float(backoff_base)
        self.backoff_cap = float(backoff_cap)

    def deadline_at(self) -> float:
        return _monotonic() + self.deadline

    def backoff(self, attempt: int) -> float:
        ceiling = min(self.backoff_cap, self.backoff_base * 2.0 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not crypto

    def send(
        self,
        http: HttpClient,
        url: str,
        build: Callable[[], Mapping[str, str]],
        deadline_at: float,
        what: str,
    ) -> HttpResponse:
        """POST ``build()``'s fields, retrying; ``build`` runs per attempt (a new assertion)."""
        import box_secrets._support.faults as _faults
        from box_secrets._support.http import TransportError, retry_after

        last = "no attempt"
        for attempt in range(1, self.max_attempts + 1):
            fields = dict(build())
            _faults.crashpoint("box.call", "before")
            try:
                resp = http.request("POST", url, fields=fields)
            except TransportError as exc:
                last = f"{exc}; check the network and the URL"
                wait = self.backoff(attempt)
            else:
                _faults.crashpoint("box.call", "after")
                if resp.status == 429:
                    last = "HTTP 429 (rate limited)"
                    wait = retry_after(resp) or self.backoff(attempt)
                elif resp.status >= 500:
                    last = f"HTTP {resp.status}"
                    wait = self.backoff(attempt)
                else:
                    return resp
            self.pause(
                attempt,
                wait,
                deadline_at=deadline_at,
                what=what,
                last=last,
                error=BoxUnavailableError,
            )
        raise AssertionError("unreachable")  # pause raises after the last attempt

    def pause(
        self,
        attempt: int,
        wait: float,
        *,
        deadline_at: float,
        what: str,
        last: str,
        error: type[BoxSecretsError],
    ) -> None:
        """Sleep before attempt ``attempt + 1``; raise ``error`` once attempts or time run out."""
        if attempt >= self.max_attempts:
            raise error(f"gave up {what} after {attempt} attempts: {last}; try again later")
        if _monotonic() + wait > deadline_at:
            raise error(
                f"gave up {what} after {attempt} attempt(s): {last}, and waiting "
                f"{wait:.1f} s more would pass the {self.deadline:.0f} s deadline; "
                "try again later"
            )
        # INFO, not WARNING: a retry that then succeeds is not the caller's problem.
        log.info(
            "%s: %s; retrying in %.2f s (attempt %d of %d)",
            what,
            last,
            wait,
            attempt + 1,
            self.max_attempts,
        )
        _sleep(wait)

    def __repr__(self) -> str:
        return f"RetryPolicy(max_attempts={self.max_attempts}, deadline={self.deadline:g})"
