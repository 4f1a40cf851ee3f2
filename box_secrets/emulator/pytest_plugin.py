"""pytest fixtures for testing against the emulators (installed as a pytest plugin).

``box_emulator`` yields a running :class:`~box_secrets.emulator.BoxEmulator`;
``box_console`` a :class:`~box_secrets.emulator.Console` bound to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from box_secrets.emulator._box import BoxEmulator
    from box_secrets.emulator._console import Console


@pytest.fixture
def box_emulator() -> Iterator[BoxEmulator]:
    from box_secrets.emulator._box import BoxEmulator

    with BoxEmulator() as emulator:
        yield emulator


@pytest.fixture
def box_console(box_emulator: BoxEmulator) -> Console:
    from box_secrets.emulator._console import Console

    return Console(box_emulator.base_url)
