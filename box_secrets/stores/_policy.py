"""A store's rotation policy: key size, maximum age, grace, reminder interval."""

from __future__ import annotations

import math
from typing import Any

from box_secrets.errors import InputError, StoreCorruptError
from box_secrets.signers._keys import ALLOWED_KEY_SIZES
from box_secrets.stores._fields import _Fields

__all__ = ["KEY_SIZES", "POLICY_BOUNDS", "Policy"]


#: Inclusive bounds of each policy value; a value outside (or nan, inf) is refused.
POLICY_BOUNDS: dict[str, tuple[float, float]] = {
    "max_age_days": (1.0, 3650.0),
    "grace_days": (0.0, 365.0),
    "renotify_hours": (0.01, 8760.0),
}
#: The key sizes a policy may ask for: the ones key generation makes (one list).
KEY_SIZES = ALLOWED_KEY_SIZES


class Policy(_Fields):
    """When to rotate and how often to remind; checked on creation and on every read."""

    key_size: int
    max_age_days: float
    grace_days: float
    renotify_hours: float
    _FIELDS = (
        "key_size",
        "max_age_days",
        "grace_days",
        "renotify_hours",
    )

    def __init__(
        self,
        key_size: int = 2048,
        max_age_days: float = 90.0,
        grace_days: float = 7.0,
        renotify_hours: float = 24.0,
    ) -> None:
        super().__init__(
            key_size=key_size,
            max_age_days=max_age_days,
            grace_days=grace_days,
            renotify_hours=renotify_hours,
        )

    def _check(self) -> None:
        if isinstance(self.key_size, bool) or self.key_size not in KEY_SIZES:
            raise InputError(f"key size must be one of {', '.join(map(str, KEY_SIZES))} bits")
        for name, (low, high) in POLICY_BOUNDS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InputError(f"{name} must be a number")
            # nan fails every comparison, so it fails this one too.
            if not (math.isfinite(value) and low <= value <= high):
                raise InputError(f"{name} must be a finite number from {low:g} to {high:g}")
            setattr(self, name, float(value))

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._FIELDS}

    @classmethod
    def from_json(cls, data: Any) -> Policy:
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise StoreCorruptError("the record's policy is not an object")
        known = set(cls._FIELDS)
        try:
            policy = cls(**{k: v for k, v in data.items() if k in known})
        except TypeError:
            raise StoreCorruptError("the record's policy is malformed") from None
        except InputError as exc:
            raise StoreCorruptError(
                f"the record's policy is invalid ({exc}); restore boxSecrets.policy from an "
                "earlier version of the store"
            ) from None
        return policy
