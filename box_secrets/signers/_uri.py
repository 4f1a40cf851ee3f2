"""Signer URIs: one string names a key that signs outside this process.

::

    aws-kms://alias/NAME?region=eu-west-1            a KMS alias (init, rotation)
    aws-kms://1234abcd-...?region=eu-west-1          one KMS key (what a store records)
    vault-transit://MOUNT/KEY                         a Transit key (Vault at VAULT_ADDR)
    vault-transit://MOUNT/KEY?version=3               one version of it

A stored ``addr`` or ``endpoint_url`` is used only if it is the address the
process is configured for (see ``_urls.trusted_endpoint``).

The stored form always names one key (a KMS key ID, a Transit version), so a
reader signs with exactly the key whose Box key ID sits beside it. Parsing is
pure and cheap: readers parse a signer URI on every config load.
"""

from __future__ import annotations

import re

from box_secrets.errors import ConfigError

__all__ = ["KINDS", "SignerURI", "as_signer_uri", "parse_signer_uri"]

#: Signer kinds and the query parameters each accepts.
KINDS: dict[str, frozenset[str]] = {
    "aws-kms": frozenset({"region", "endpoint_url", "profile", "deletion_days"}),
    "vault-transit": frozenset(
        {"addr", "namespace", "auth", "role", "auth_mount", "aws_header", "ca_cert", "version"}
    ),
}
_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$")
# KMS: a key ID (UUID, or mrk-...), a key ARN, an alias name or an alias ARN.
_KMS_KEY = re.compile(
    r"^(?:alias/[A-Za-z0-9/_-]{1,250}|(?:mrk-)?[0-9a-f-]{32,36}"
    r"|arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(?:key/(?:mrk-)?[0-9a-f-]{32,36}|alias/[A-Za-z0-9/_-]{1,250}))$"
)
# Transit key names: Vault's GenericNameRegex (letters, digits, - _ . @ inside).
_TRANSIT_NAME = re.compile(r"^\w(?:[\w.@-]*\w)?$")
_MOUNT = re.compile(r"^[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_EXAMPLES = "aws-kms://alias/box-app?region=eu-west-1 or vault-transit://transit/box-app"


class SignerURI:
    """A parsed signer URI (a plain class: readers parse these on the hot path)."""

    __slots__ = ("key", "kind", "params")

    def __init__(self, kind: str, key: str, params: dict[str, str] | None = None) -> None:
        self.kind = kind
        self.key = key  # KMS key ID, ARN or alias; Transit "mount/name"
        self.params = dict(params or {})

    @property
    def is_alias(self) -> bool:
        """True for a KMS alias (which moves on promotion), False for one key."""
        return self.kind == "aws-kms" and (self.key.startswith("alias/") or ":alias/" in self.key)

    @property
    def version(self) -> int | None:
        """The Transit key version this URI pins, if any."""
        raw = self.params.get("version")
        return int(raw) if raw is not None else None

    @property
    def mount(self) -> str:
        return self.key.rpartition("/")[0]

    @property
    def name(self) -> str:
        return self.key.rpartition("/")[2]

    def with_key(self, key: str | None = None, **params: str | None) -> SignerURI:
        """A copy naming another key, with parameters added (``None`` removes one)."""
        merged = dict(self.params)
        for k, v in params.items():
            if v is None:
                merged.pop(k, None)
            else:
                merged[k] = v
        return SignerURI(self.kind, key if key is not None else self.key, merged)

    def __str__(self) -> str:
        if not self.params:
            return f"{self.kind}://{self.key}"
        from urllib.parse import quote

        query = "&".join(f"{k}={quote(v, safe='/:')}" for k, v in sorted(self.params.items()))
        return f"{self.kind}://{self.key}?{query}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SignerURI) and str(self) == str(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"SignerURI({str(self)!r})"


def as_signer_uri(uri: SignerURI | str, *, field: str = "signer") -> SignerURI:
    """``uri`` parsed (once: a :class:`SignerURI` is used as it is)."""
    return uri if isinstance(uri, SignerURI) else parse_signer_uri(uri, field=field)


def parse_signer_uri(uri: object, *, field: str = "signer") -> SignerURI:
    """Parse and check a signer URI; errors name the field and show a valid example.

    Raises:
        ConfigError: the URI is malformed, names an unknown kind, or has a bad parameter.
    """
    if not isinstance(uri, str) or not uri.strip():
        raise ConfigError(f"{field} must be a signer URI such as {_EXAMPLES}", field=field)
    text = uri.strip()
    if _CONTROL.search(text):
        raise ConfigError(f"{field} holds a control character; remove it", field=field)
    kind, sep, rest = text.partition("://")
    if not sep or kind not in KINDS:
        raise ConfigError(
            f"{field} must start with aws-kms:// or vault-transit:// (for example {_EXAMPLES})",
            field=field,
        )
    key, _, query = rest.partition("?")
    params = _params(query, kind, field)
    check = _KINDS_CHECK[kind]
    return SignerURI(kind, check(key, params, field), params)


def _params(query: str, kind: str, field: str) -> dict[str, str]:
    """The query's parameters: each known for ``kind``, given once, not empty."""
    params: dict[str, str] = {}
    if not query:
        return params
    from urllib.parse import parse_qsl

    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise ConfigError(f"{field} has a malformed query string", field=field) from None
    for name, value in pairs:
        if name not in KINDS[kind]:
            known = ", ".join(sorted(KINDS[kind]))
            raise ConfigError(
                f"{field} parameter {name!r} is not known for {kind} (known: {known})",
                field=field,
            )
        if name in params:
            raise ConfigError(f"{field} parameter {name!r} is given twice", field=field)
        if _CONTROL.search(value) or not value:
            raise ConfigError(f"{field} parameter {name!r} is empty or malformed", field=field)
        params[name] = value
    return params


def _kms_key(key: str, params: dict[str, str], field: str) -> str:
    """An ``aws-kms://`` key: a key ID, key ARN or alias; its region and deletion window."""
    if not _KMS_KEY.match(key):
        raise ConfigError(
            f"{field} must name a KMS key ID, key ARN or alias, like "
            "aws-kms://alias/box-app?region=eu-west-1",
            field=field,
        )
    region = params.get("region")
    if region is not None and not _REGION.match(region):
        raise ConfigError(
            f"{field} region {region[:40]!r} is not an AWS region name like eu-west-1",
            field=field,
        )
    named = key.split(":")[3] if key.startswith("arn:") else None
    if region is not None and named is not None and region != named:
        raise ConfigError(
            f"{field} region={region} contradicts the key's ARN, which names {named}",
            field=field,
        )
    days = params.get("deletion_days")
    if days is not None and not (days.isdigit() and 7 <= int(days) <= 30):
        raise ConfigError(
            f"{field} deletion_days must be a whole number of days from 7 to 30 "
            "(KMS's waiting period before a retired key is deleted)",
            field=field,
        )
    return key


def _transit_key(key: str, params: dict[str, str], field: str) -> str:
    """A ``vault-transit://`` key: ``MOUNT/KEY`` plainly; its auth, auth mount and version."""
    mount, _, name = key.strip("/").rpartition("/")
    if not mount or not _MOUNT.match(mount) or not _TRANSIT_NAME.match(name):
        raise ConfigError(
            f"{field} must name a Transit mount and key, like "
            "vault-transit://transit/box-app (no '..' or empty segments)",
            field=field,
        )
    if any(seg in (".", "..") for seg in mount.split("/")):
        raise ConfigError(
            f"{field} must not hold '.' or '..' path segments; name the Transit mount and "
            "key plainly, like vault-transit://transit/box-app",
            field=field,
        )
    from box_secrets._vault import AUTH_METHODS, is_plain_mount

    if "auth" in params and params["auth"] not in AUTH_METHODS:
        raise ConfigError(f"{field} auth must be one of {', '.join(AUTH_METHODS)}", field=field)
    if "auth_mount" in params and not is_plain_mount(params["auth_mount"]):
        raise ConfigError(
            f"{field} auth_mount must be a plain mount path like approle (letters, digits, "
            "'_', '.', '-'; no '..' or empty segments)",
            field=field,
        )
    version = params.get("version")
    if version is not None and not (version.isdigit() and 1 <= int(version) <= 10**9):
        raise ConfigError(f"{field} version must be a positive whole number", field=field)
    return f"{mount}/{name}"


#: Each kind's own checks of its key and parameters; returns the key in stored form.
_KINDS_CHECK = {"aws-kms": _kms_key, "vault-transit": _transit_key}
