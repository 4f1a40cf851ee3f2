"""Crash points: where a test may kill a rotation step to prove it converges.

Every store write, Box call and notification passes a named point, before and
after. Tests either install a hook (in-process) or set ``BOX_SECRETS_CRASH_AT``
for a child process, e.g. ``store.commit:after#2`` exits the process with code
75 the second time a store commit has finished. Nothing happens otherwise; the
cost is one global lookup.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable

__all__ = ["SimulatedCrash", "crashpoint", "install", "uninstall"]

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


def _from_env(spec: str) -> Callable[[str], None]:
    targets: dict[str, int] = {}
    for item in spec.split(","):
        point, _, nth = item.strip().partition("#")
        targets[point] = int(nth or 1)
    seen: dict[str, int] = {}
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


_spec = os.environ.get("BOX_SECRETS_CRASH_AT")
if _spec:
    _hook = _from_env(_spec)
