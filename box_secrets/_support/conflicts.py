"""The one conflict loop: read, decide, commit; on a conflict, pause a little and do it again.

Every writer uses it (the rotation engine's commands, recording a
notification, ``store import``), so the attempts and the pause are decided
once. A commit based on a stale read changes nothing, so another attempt is
always safe.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from box_secrets.errors import ConflictError

__all__ = ["ATTEMPTS", "retry_conflicts"]

T = TypeVar("T")

#: Attempts before giving up: enough for a handful of concurrent writers.
ATTEMPTS = 12


def retry_conflicts(
    attempt: Callable[[], T],
    *,
    where: str,
    attempts: int = ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``attempt()`` until it commits without a :class:`ConflictError`.

    Raises:
        ConflictError: ``where`` kept changing for ``attempts`` tries (run it again).
    """
    for n in range(attempts):
        try:
            return attempt()
        except ConflictError:
            # Another writer got there first: look again after a short, random pause.
            sleep(random.uniform(0, 0.05 * (n + 1)))  # noqa: S311 - jitter, not crypto
    raise ConflictError(f"{where} kept changing under this command; run it again")
