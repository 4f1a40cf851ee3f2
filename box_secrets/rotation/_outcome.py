"""What a rotation command did: the value every command returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Outcome"]


@dataclass
class Outcome:
    """What a command did. ``waiting`` means a person must act next (CLI exit 3)."""

    action: str
    message: str
    state: str
    waiting: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "message": self.message,
            "state": self.state,
            "waiting": self.waiting,
        }
