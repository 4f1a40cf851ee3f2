"""Key rotation with a person in the loop: stage, register, verify, promote, retire.

Names load on first use, so a tool that needs only the words or the views
(``box-secrets terraform status``) does not import the engine, the token
module or cryptography.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from box_secrets._support.lazy import lazy_names

if TYPE_CHECKING:
    from box_secrets.rotation._admin import import_config, show
    from box_secrets.rotation._engine import RotationEngine
    from box_secrets.rotation._notify import (
        LogNotifier,
        Notification,
        Notifier,
        SNSNotifier,
        WebhookNotifier,
        open_notifier,
    )
    from box_secrets.rotation._outcome import Outcome

__all__ = [
    "LogNotifier",
    "Notification",
    "Notifier",
    "Outcome",
    "RotationEngine",
    "SNSNotifier",
    "WebhookNotifier",
    "import_config",
    "open_notifier",
    "show",
]

_WHERE = {
    "RotationEngine": "._engine",
    "Outcome": "._outcome",
    "LogNotifier": "._notify",
    "Notification": "._notify",
    "Notifier": "._notify",
    "SNSNotifier": "._notify",
    "WebhookNotifier": "._notify",
    "open_notifier": "._notify",
    "import_config": "._admin",
    "show": "._admin",
}


__getattr__, __dir__ = lazy_names(__name__, _WHERE, __all__)
