"""The Vault emulator's KV v2 state: versions, secrets, mounts, and Vault's value formats.

Each rule cites the Vault source file it follows (github.com/hashicorp/
vault-plugin-secrets-kv: path_data.go, path_metadata.go, path_config.go).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

__all__ = [
    "CAS_MISMATCH",
    "CAS_REQUIRED",
    "CAS_UNPARSABLE",
    "KVMount",
    "Secret",
    "Version",
    "go_duration",
    "merge_patch",
    "parse_duration",
    "uint",
    "vault_time",
]

CAS_MISMATCH = "check-and-set parameter did not match the current version"
CAS_REQUIRED = "check-and-set parameter required for this call"
CAS_UNPARSABLE = "error parsing check-and-set parameter"
DEFAULT_MAX_VERSIONS = 10  # path_data.go: defaultMaxVersions
MAX_CUSTOM_KEYS, MAX_CUSTOM_KEY_LEN, MAX_CUSTOM_VALUE_LEN = 64, 128, 512  # path_metadata.go
MERGE_PATCH = "application/merge-patch+json"

Allows = Callable[[str, str], bool]  # (path, capability) -> allowed


def vault_time(ts: float | None) -> str:
    """Go's RFC3339Nano as ``ptypes.TimestampString`` writes it (zeros trimmed); "" for none."""
    if ts is None:
        return ""
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts))
    nanos = f"{round((ts % 1) * 1e9):09d}"[:9].rstrip("0")
    return f"{whole}.{nanos}Z" if nanos else f"{whole}Z"


# -- durations (TypeDurationSecond in, Go's time.Duration.String() out) --------------------

_UNIT = {"s": 1, "m": 60, "h": 3600}
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_duration(value: Any) -> int | None:
    """Seconds from 30, "30", "30s", "1h30m"; None when it is not a duration."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    match = _DURATION.match(text)
    if not text or match is None:
        return None
    h, m, s = (int(g or 0) for g in match.groups())
    return h * 3600 + m * 60 + s


def go_duration(seconds: int) -> str:
    if seconds == 0:
        return "0s"
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{h}h{m}m{s}s"
    return f"{m}m{s}s" if m else f"{s}s"


# -- state --------------------------------------------------------------------------------


class Version:
    __slots__ = ("created", "data", "deletion", "destroyed")

    def __init__(self, data: dict[str, Any], created: float, deletion: float | None) -> None:
        self.data: dict[str, Any] | None = data
        self.created = created
        self.deletion = deletion  # a future deletion_time comes from delete_version_after
        self.destroyed = False

    def deleted(self, now: float) -> bool:
        # path_data.go pathDataRead: deleted once deletion_time is in the past.
        return self.deletion is not None and self.deletion <= now

    def meta(self) -> dict[str, Any]:
        return {
            "created_time": vault_time(self.created),
            "deletion_time": vault_time(self.deletion),
            "destroyed": self.destroyed,
        }


class Secret:
    def __init__(self, now: float) -> None:
        self.versions: dict[int, Version] = {}
        self.current = 0
        self.oldest = 0  # path_data.go KeyMetadata.AddVersion: 0 until the window moves
        self.max_versions = 0  # 0: the mount's setting, else the default
        self.cas_required = False
        self.custom_metadata: dict[str, str] | None = None
        self.delete_version_after = 0
        self.created = now
        self.updated = now

    def add_version(self, data: dict[str, Any], mount: KVMount, now: float) -> Version:
        """path_data.go ``KeyMetadata.AddVersion``: append, then slide the max_versions window."""
        after = self.delete_version_after or mount.delete_version_after
        version = Version(data, now, now + after if after > 0 else None)
        self.current += 1
        self.versions[self.current] = version
        self.updated = now
        limit = max(self.max_versions, mount.max_versions) or DEFAULT_MAX_VERSIONS
        if self.current - self.oldest >= limit:
            doomed = self.current - limit
            for n in range(self.oldest, doomed + 1):
                self.versions.pop(n, None)
            self.oldest = doomed + 1
        return version

    def metadata(self) -> dict[str, Any]:
        # path_metadata.go pathMetadataRead
        return {
            "cas_required": self.cas_required,
            "created_time": vault_time(self.created),
            "current_version": self.current,
            "custom_metadata": self.custom_metadata,
            "delete_version_after": go_duration(self.delete_version_after),
            "max_versions": self.max_versions,
            "oldest_version": self.oldest,
            "updated_time": vault_time(self.updated),
            "versions": {str(n): v.meta() for n, v in sorted(self.versions.items())},
        }


class KVMount:
    """One KV v2 mount; its config starts at zeros, as ``vault read secret/config`` shows."""

    def __init__(self, max_versions: int = 0, cas_required: bool = False) -> None:
        self.max_versions = max_versions
        self.cas_required = cas_required
        self.delete_version_after = 0
        self.secrets: dict[str, dict[str, Secret]] = {}  # namespace -> path -> secret


def uint(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        number = int(str(value))
    except ValueError:
        return None
    return number if 0 <= number < 2**32 else None


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            out.pop(name, None)
        else:
            out[name] = merge_patch(out.get(name), value)
    return out
