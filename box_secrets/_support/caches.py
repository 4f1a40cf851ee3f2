"""One registry of module-level caches: each joins it where it is defined.

A module that keeps something for the life of the process (built clients, store
reads, providers, a "not here" verdict) registers the function that forgets it,
with ``@cache_reset`` on that function. ``box_secrets.clear_caches()`` calls every
registered one: only modules already imported have registered, so clearing
imports nothing. (Powertools keeps its parameter caches the same way.)
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["cache_reset", "clear_all"]

_RESETS: list[Callable[[], None]] = []


def cache_reset(reset: Callable[[], None]) -> Callable[[], None]:
    """Register ``reset`` (used as a decorator); returns it unchanged."""
    if reset not in _RESETS:
        _RESETS.append(reset)
    return reset


def clear_all() -> None:
    """Forget every registered cache, in the order the modules were imported."""
    for reset in list(_RESETS):
        reset()
