"""URLs from people: checked before any request, and shown without their secrets.

Every address box-secrets sends a secret to (Box's API, a Vault ``addr``, an
AWS ``endpoint_url``, a notification webhook) passes :func:`check_url` first:
it must be ``https://``, or ``http://`` to a loopback host (the emulators,
a local Vault agent). ``BOX_SECRETS_ALLOW_INSECURE_HTTP=1`` lifts the https
rule, loudly, for a network the operator trusts.
"""

from __future__ import annotations

import ipaddress
import os
import re
import sys
from urllib.parse import urlsplit

from .errors import InputError

__all__ = [
    "ALLOW_INSECURE_ENV",
    "check_url",
    "clean_text",
    "is_loopback",
    "redact_url",
    "trusted_endpoint",
]

#: Set to 1 to allow plain http:// to hosts other than loopback (prints a warning each time).
ALLOW_INSECURE_ENV = "BOX_SECRETS_ALLOW_INSECURE_HTTP"

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]+")


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redact_url(url: str, *, keep_path: bool = True) -> str:
    """``url`` without user:password (and without path or query unless ``keep_path``)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<malformed URL>"
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    text = f"{parts.scheme}://{netloc}" if parts.scheme else netloc
    if keep_path:
        text += parts.path
    return clean_text(text, limit=200)


def check_url(url: str, *, what: str) -> str:
    """Return ``url`` if it is safe to send secrets to; else raise one sentence.

    ``what`` names the setting in the message, e.g. ``"--box-base-url"``.
    """
    if not isinstance(url, str) or not url.strip():
        raise InputError(f"{what} is empty; give a URL like https://host")
    text = url.strip()
    if _CONTROL.search(text) or " " in text:
        raise InputError(f"{what} holds spaces or control characters; give a plain URL")
    try:
        parts = urlsplit(text)
        host = parts.hostname
        port = parts.port  # raises ValueError for a port out of range or not a number
    except ValueError:
        raise InputError(
            f"{what} {redact_url(text)!r} is not a valid URL (check brackets and the port, "
            "which must be 1 to 65535)"
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise InputError(
            f"{what} {redact_url(text)!r} must start with https:// (or http:// for a "
            "loopback address such as the local emulators)"
        )
    if not host:
        raise InputError(f"{what} {redact_url(text)!r} names no host; give one like https://host")
    if port == 0:
        raise InputError(f"{what} {redact_url(text)!r} has port 0; use a port from 1 to 65535")
    if scheme == "http" and not is_loopback(host):
        if os.environ.get(ALLOW_INSECURE_ENV) != "1":
            raise InputError(
                f"{what} {redact_url(text)!r} uses plain http:// to a remote host, which would "
                "send secrets in cleartext; use https:// (or set "
                f"{ALLOW_INSECURE_ENV}=1 on a network you trust)"
            )
        # An explicit opt-out, so it is said every time rather than once per process.
        where = redact_url(text, keep_path=False)
        sys.stderr.write(
            f"box-secrets: warning: sending secrets over plain http to {where} "
            f"because {ALLOW_INSECURE_ENV}=1\n"
        )
    return text


def clean_text(text: str, *, limit: int = 300) -> str:
    """Server-supplied text made safe to print: no control characters, one line, clipped."""
    flat = " ".join(_CONTROL.sub(" ", str(text)).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _same(a: str, b: str) -> bool:
    def norm(url: str) -> tuple[str, str, int | None, str]:
        parts = urlsplit(url.strip())
        default = {"https": 443, "http": 80}.get(parts.scheme.lower())
        return (
            parts.scheme.lower(),
            (parts.hostname or "").lower(),
            parts.port or default,
            parts.path.rstrip("/"),
        )

    try:
        return norm(a) == norm(b)
    except ValueError:
        return False


def trusted_endpoint(stored: str | None, *, env: tuple[str, ...], what: str) -> str | None:
    """The endpoint to send credentials to when a *stored* document names one.

    A signer URI inside a store is data, and whoever can write the store is not
    thereby trusted with this process's Vault token or AWS requests. So a stored
    address is used only if it is the one this process is configured for (the
    first set variable of ``env``), or, when none is set, a loopback address
    (the emulators). With ``stored`` None, the configured one (or None).

    Raises:
        InputError: the stored address is not one this process trusts.
    """
    configured = next((os.environ[name] for name in env if os.environ.get(name)), None)
    if stored is None:
        return configured
    check_url(stored, what=what)
    if configured is not None:
        if _same(stored, configured):
            return stored
        raise InputError(
            f"the store names {redact_url(stored, keep_path=False)} as {what}, but {env[0]} is "
            f"{redact_url(configured, keep_path=False)}; box-secrets sends credentials only to "
            f"the address this process is configured for: set {env[0]} to the store's if you "
            "trust it"
        )
    try:
        host = urlsplit(stored).hostname or ""
    except ValueError:
        host = ""
    if is_loopback(host):
        return stored
    raise InputError(
        f"the store names {redact_url(stored, keep_path=False)} as {what}; box-secrets sends "
        f"credentials only to an address this process is configured for: set {env[0]} to it "
        "if you trust it"
    )
