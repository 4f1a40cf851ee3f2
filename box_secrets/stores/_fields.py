"""The plain record class every part of the rotation record builds on, and its times."""

from __future__ import annotations

from typing import Any

from box_secrets._support.times import parse_rfc3339, rfc3339
from box_secrets.errors import StoreCorruptError

__all__ = ["_Fields", "_parse_ts", "_ts"]


def _ts(value: float | None) -> str | None:
    return rfc3339(value) if value is not None else None


def _parse_ts(value: Any, where: str) -> float | None:
    if value is None:
        return None
    try:
        return parse_rfc3339(str(value))
    except ValueError:
        raise StoreCorruptError(f"the record's {where} is not a valid time") from None


class _Fields:
    """A plain record class: ``==`` and ``repr`` over the names in ``_FIELDS``.

    Not ``dataclasses``: importing it (and ``inspect``, ``ast``, ``dis``) costs
    more than the rest of the read path, and ``box-secrets terraform status``
    runs at every Terraform plan. Each subclass's ``__init__`` holds the
    defaults and passes every field here by name.
    """

    _FIELDS: tuple[str, ...] = ()

    def __init__(self, **values: Any) -> None:
        for name in self._FIELDS:
            setattr(self, name, values[name])
        self._check()

    def _check(self) -> None:
        """Validation after ``__init__`` (a subclass's hook)."""

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._FIELDS)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, _Fields)
            and type(other) is type(self)
            and self._values() == other._values()
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._FIELDS)
        return f"{type(self).__name__}({inner})"
