"""What a rotation command did: the value every command returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from box_secrets.stores._entries import State

__all__ = ["Action", "Outcome"]

#: What a command did (``Outcome.action``; ``--json`` prints it).
Action = Literal[
    "nothing",
    "initialised",
    "policy-changed",
    "staged",
    "reused",
    "notified",
    "waiting",
    "registered",
    "imported",
    "verified",
    "refused",
    "promoted",
    "reminded",
    "retired",
    "abandoned",
    "tested",
]


@dataclass
class Outcome:
    """What a command did. ``waiting`` means a person must act next (CLI exit 3)."""

    action: Action
    message: str
    state: State
    waiting: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "message": self.message,
            "state": self.state,
            "waiting": self.waiting,
        }
