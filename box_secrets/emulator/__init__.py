"""Local emulators, for box-secrets' own tests and for yours.

- :class:`BoxEmulator`: Box's token endpoint, ``/2.0/users/me`` and a console
  API standing in for the Developer Console (``box-secrets emulator``).
- :class:`Console`: a client for that console API.
- :class:`VaultEmulator`: HashiCorp Vault's KV v2 engine and the auth methods
  box-secrets uses (``box-secrets vault-emulator``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from box_secrets.emulator._box import BoxEmulator
    from box_secrets.emulator._console import Console
    from box_secrets.emulator._vault import VaultEmulator

__all__ = ["BoxEmulator", "Console", "VaultEmulator"]

_WHERE = {"BoxEmulator": "._box", "Console": "._console", "VaultEmulator": "._vault"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
