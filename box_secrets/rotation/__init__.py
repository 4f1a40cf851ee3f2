"""Key rotation with a person in the loop: stage, register, verify, promote, retire."""

from __future__ import annotations

from ._outcome import Outcome
from .engine import RotationEngine
from .notify import LogNotifier, Notification, Notifier, SNSNotifier, WebhookNotifier, open_notifier

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
