"""How the CLI words an error: one line, no control characters, ending in a full stop.

Without click, so the before-click paths (``token``'s) print errors the same way.
"""

from __future__ import annotations

__all__ = ["error_line"]


def error_line(message: str) -> str:
    from box_secrets._urls import clean_text

    # Messages may quote a server's words: one line, no control characters.
    text = clean_text(message, limit=2000)
    if text and text[-1] not in ".!?":
        text += "."
    return f"error: {text}"
