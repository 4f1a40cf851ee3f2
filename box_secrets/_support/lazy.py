"""Names a package loads on first use (PEP 562), so importing it costs almost nothing.

``__getattr__, __dir__ = lazy_names(__name__, {"Name": ".module"}, __all__)`` in a
package's ``__init__``: the first lookup of ``Name`` imports ``.module`` (relative to
the package, or an absolute name) and stores the value, so later lookups never come
back here.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(
    package: str, homes: Mapping[str, str], public: Iterable[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    shown = sorted(public)

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home, package), name)
        setattr(sys.modules[package], name, value)  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return shown

    return __getattr__, __dir__
