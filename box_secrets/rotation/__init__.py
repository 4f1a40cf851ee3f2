"""Key rotation with a person in the loop: stage, register, verify, promote, retire."""

from __future__ import annotations

from ._engine import RotationEngine
from ._notify import (
    LogNotifier,
    Notification,
    Notifier,
    SNSNotifier,
    WebhookNotifier,
    open_notifier,
)
from ._outcome import Outcome

__all__ = [
    "LogNotifier",
    "Notification",
    "Notifier",
    "Outcome",
    "RotationEngine",
    "SNSNotifier",
    "WebhookNotifier",
    "open_notifier",
]
