"""Store URIs: one string names a store everywhere (``--store``, env, Python)."""

from __future__ import annotations

import os
import re

from box_secrets.errors import StoreURIError

__all__ = ["StoreURI", "is_store_uri", "parse_store_uri", "secret_uri"]

_PARAMS = {
    "file": {"keep", "strict"},
    "aws-sm": {"region", "endpoint_url", "profile"},
    "vault": {
        "addr",
        "namespace",
        "auth",
        "role",
        "auth_mount",
        "aws_header",
        "ca_cert",
    },
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$")
_EXAMPLES = "file:///abs/path.json, aws-sm://NAME?region=eu-west-1 or vault://MOUNT/PATH?addr=https://vault:8200"


def unquote(text: str) -> str:
    """``urllib.parse.unquote``, imported only for text that has escapes (the read path is lean)."""
    if "%" not in text:
        return text
    from urllib.parse import unquote as _unquote

    return _unquote(text)


def parse_qsl(query: str) -> list[tuple[str, str]]:
    """A strict ``urllib.parse.parse_qsl`` that keeps blanks (imported only for a query)."""
    if not query:
        return []
    from urllib.parse import parse_qsl as _parse_qsl

    return _parse_qsl(query, keep_blank_values=True, strict_parsing=True)


class StoreURI:
    """A parsed store URI (a plain class: dataclasses cost import time on the read path)."""

    __slots__ = ("location", "params", "scheme")

    def __init__(self, scheme: str, location: str, params: dict[str, str] | None = None) -> None:
        self.scheme = scheme
        self.location = location  # file path, secret name or ARN, or "mount/path"
        self.params = dict(params or {})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StoreURI) and (self.scheme, self.location, self.params) == (
            other.scheme,
            other.location,
            other.params,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"StoreURI({str(self)!r})"

    def __str__(self) -> str:
        query = ""
        if self.params:
            from urllib.parse import quote

            query = "&".join(f"{k}={quote(v, safe='/:')}" for k, v in sorted(self.params.items()))
        if self.scheme == "file":
            text = (
                "file://" + self.location
                if self.location.startswith("/")
                else "file:" + self.location
            )
        else:
            text = f"{self.scheme}://{self.location}"
        return f"{text}?{query}" if query else text


def parse_store_uri(uri: str) -> StoreURI:
    """Parse and check a store URI; errors say what a valid one looks like."""
    if not isinstance(uri, str) or not uri.strip():
        raise StoreURIError(f"the store URI is empty; use one like {_EXAMPLES}")
    text = uri.strip()
    if not _encodable(text) or not _encodable(unquote(text)):
        raise StoreURIError("the store URI holds a character that is not valid text; retype it")
    if _CONTROL.search(text) or _CONTROL.search(unquote(text)):
        raise StoreURIError("the store URI holds a control character (such as %00); remove it")
    scheme, sep, rest = text.partition(":")
    scheme = scheme.lower()
    if not sep or scheme not in _PARAMS:
        raise StoreURIError(
            f"store URI {_safe(text)!r} has an unknown scheme; use file:, aws-sm:// or vault:// "
            f"(for example {_EXAMPLES})"
        )
    location, _, query = rest.partition("?")
    params = _params(query, scheme, text)
    if scheme == "file":
        return StoreURI("file", _file_path(location, text), params)
    if not location.startswith("//"):
        raise StoreURIError(f"store URI {_safe(text)!r} must start with {scheme}://")
    location = unquote(location[2:])
    if scheme == "aws-sm":
        return StoreURI("aws-sm", _secret_id(location, params), params)
    return StoreURI("vault", _vault_location(location, params), params)


def is_store_uri(text: str) -> bool:
    """True when ``text`` is meant as a store URI (``file:...`` or ``SCHEME://...``), not a
    config file path: the one place that tells them apart. :func:`parse_store_uri` then
    judges it (an unknown scheme gets a sentence naming the known ones).
    """
    return "://" in text or text.lower().startswith("file:")


def secret_uri(secret_id: str) -> StoreURI:
    """The store URI of a Secrets Manager secret named by its ID (a rotation event's
    ``SecretId``), checked as a parsed ``aws-sm://`` location is: no parameters at all.

    Raises:
        StoreURIError: the ID is empty, ends in '/', or holds '?', '#' or a control character.
    """
    if not isinstance(secret_id, str) or any(c in secret_id for c in "?#"):
        raise StoreURIError("SecretId must be a secret name or ARN, without ? or #")
    if _CONTROL.search(secret_id) or not _encodable(secret_id):
        raise StoreURIError("SecretId holds a control character or invalid text")
    return StoreURI("aws-sm", _secret_id(secret_id.strip(), {}), {})


def _params(query: str, scheme: str, text: str) -> dict[str, str]:
    """The query's parameters: each known for ``scheme``, given once, no control characters."""
    try:
        pairs = parse_qsl(query)
    except ValueError:
        raise StoreURIError(f"store URI {_safe(text)!r} has a malformed query string") from None
    params: dict[str, str] = {}
    for key, value in pairs:
        if key not in _PARAMS[scheme]:
            allowed = ", ".join(sorted(_PARAMS[scheme])) or "none"
            raise StoreURIError(
                f"store URI parameter {key!r} is not known for {scheme} stores (known: {allowed})"
            )
        if key in params:
            raise StoreURIError(f"store URI parameter {key!r} is given twice")
        if _CONTROL.search(value):
            raise StoreURIError(f"store URI parameter {key!r} holds a control character")
        params[key] = value
    return params


def _secret_id(location: str, params: dict[str, str]) -> str:
    """An ``aws-sm://`` secret name or ARN, and a region that agrees with it."""
    if not location or location.endswith("/"):
        raise StoreURIError("aws-sm:// needs a secret name or ARN, like aws-sm://prod/box-app")
    region = params.get("region")
    if region is not None and not _REGION.match(region):
        raise StoreURIError(
            f"aws-sm region {region[:40]!r} is not an AWS region name like eu-west-1"
        )
    from box_secrets._aws import arn_region

    named = arn_region(location)
    if region is not None and named is not None and region != named:
        raise StoreURIError(
            f"aws-sm region={region} contradicts the secret's ARN, which names {named}; "
            "drop region= or correct it"
        )
    return location


def _vault_location(location: str, params: dict[str, str]) -> str:
    """A ``vault://`` mount and path, plainly; an auth method it can log in with."""
    mount, _, path = location.strip("/").partition("/")
    if not mount or not path:
        raise StoreURIError("vault:// needs a mount and a path, like vault://secret/box/app")
    _check_vault_segments(f"{mount}/{path}")
    from box_secrets._vault import AUTH_METHODS, is_plain_mount, vault_auth

    if "auth_mount" in params and not is_plain_mount(params["auth_mount"]):
        raise StoreURIError(
            "vault auth_mount must be a plain mount path like approle or team/approle "
            "(letters, digits, '_', '.', '-'; no '..' or empty segments)"
        )
    auth, role = vault_auth(params)
    if auth not in AUTH_METHODS:
        raise StoreURIError(
            f"vault auth {auth[:20]!r} is not supported; use token, approle, aws, kubernetes or jwt"
        )
    if auth in ("aws", "kubernetes", "jwt") and not role:
        raise StoreURIError(
            f"vault auth={auth} needs role=NAME in the store URI (or BOX_SECRETS_VAULT_ROLE)"
        )
    return f"{mount}/{path}"


def _check_vault_segments(location: str) -> None:
    """Refuse paths that would climb out of the secret's place once Vault decodes them."""
    for segment in location.split("/"):
        decoded = segment
        for _ in range(3):  # %252e%252e decodes to %2e%2e, then to ..
            decoded = unquote(decoded)
        if decoded in ("", ".", "..") or any(c in decoded for c in "\\?#"):
            raise StoreURIError(
                "a vault:// path must not contain empty, '.' or '..' segments, '?', '#' or "
                "backslashes (also percent-encoded); name the secret plainly, like "
                "vault://secret/box/app"
            )


def _file_path(location: str, text: str) -> str:
    if location.startswith("//"):
        host, _, path = location[2:].partition("/")
        if host not in ("", "localhost"):
            raise StoreURIError(
                f"file store URI {_safe(text)!r} names a host; use file:///abs/path.json"
            )
        location = "/" + path
    path = unquote(location)
    if not path or path.endswith("/"):
        raise StoreURIError("file: needs a path to a JSON file, like file:box_config.json")
    return os.path.normpath(path)


def _encodable(text: str) -> bool:
    """False for text holding a lone surrogate (from a bad JSON escape or file name)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _safe(text: str) -> str:
    # A URI never should hold a secret, but a pasted one might: show only its head.
    return text if len(text) <= 80 else text[:77] + "..."
