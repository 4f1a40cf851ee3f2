"""Crash points: where a test may kill a rotation step to prove it converges.

Every store write, Box call and notification passes a named point, before and
after. Tests either install a hook (in-process) or run the CLI as a child
process with ``BOX_SECRETS_TEST_HOOKS=1`` and ``BOX_SECRETS_CRASH_AT``, e.g.
``store.commit:after#2`` exits the process with code 75 the second time a
store commit has finished. Nothing happens otherwise; the cost is one global
lookup.

Only the CLI's entry point reads those variables, and only with both set: a
library import (a Lambda, a service) never arms a crash point, and a stray
``BOX_SECRETS_CRASH_AT`` in production is ignored with a warning.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from box_secrets.errors import InputError

__all__ = ["SimulatedCrash", "arm_from_env", "crashpoint", "install", "uninstall"]

CRASH_ENV = "BOX_SECRETS_CRASH_AT"
OPT_IN_ENV = "BOX_SECRETS_TEST_HOOKS"
_POINT = r"^[a-z]+(?:\.[a-z]+)?:(?:before|after)$"

CRASH_EXIT_CODE = 75

_hook: Callable[[str], None] | None = None


class SimulatedCrash(BaseException):
    """Raised by a test hook; derives from BaseException so no handler swallows it."""


def crashpoint(name: str, when: str) -> None:
    hook = _hook
    if hook is not None:
        hook(f"{name}:{when}")


def install(hook: Callable[[str], None]) -> None:
    global _hook
    _hook = hook


def uninstall() -> None:
    global _hook
    _hook = None


def _parse(spec: str) -> dict[str, int]:
    import re

    targets: dict[str, int] = {}
    for item in spec.split(","):
        point, sep, nth = item.strip().partition("#")
        if not re.match(_POINT, point) or (sep and not (nth.isdigit() and 0 < int(nth) < 10**6)):
            raise InputError(
                f"{CRASH_ENV} must list points like store.commit:after#2 separated by commas; "
                f"{item.strip()[:60]!r} is not one"
            )
        targets[point] = int(nth or 1)
    return targets


def _from_env(spec: str) -> Callable[[str], None]:
    targets = _parse(spec)
    seen: dict[str, int] = {}
    import threading

    lock = threading.Lock()

    def hook(point: str) -> None:
        if point not in targets:
            return
        with lock:
            seen[point] = seen.get(point, 0) + 1
            hit = seen[point] == targets[point]
        if hit:
            sys.stderr.write(f"box-secrets: simulated crash at {point}\n")
            sys.stderr.flush()
            os._exit(CRASH_EXIT_CODE)

    return hook


def arm_from_env() -> None:
    """Arm the crash points a test asked for (called by the CLI's entry point only)."""
    spec = os.environ.get(CRASH_ENV)
    if not spec:
        return
    if os.environ.get(OPT_IN_ENV) != "1":
        sys.stderr.write(
            f"box-secrets: warning: {CRASH_ENV} is ignored; crash points are a test hook "
            f"armed only with {OPT_IN_ENV}=1\n"
        )
        return
    install(_from_env(spec))
