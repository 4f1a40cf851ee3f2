"""URLs from people: one strict parser judges them, and its canonical form is what connects.

Every address box-secrets sends a secret to (Box's API, a Vault ``addr``, an
AWS ``endpoint_url``, a notification webhook) passes :func:`check_url` first,
and the string it returns, not the one it was given, is what the caller hands
to the HTTP client, hvac or botocore.

Why one parser and a canonical form: URL parsers disagree on hostile input
(``urllib.parse`` reads ``http://evil\\@127.0.0.1`` as 127.0.0.1; urllib3,
which every client here connects through, ends the host at the backslash and
connects to ``evil``; see https://github.com/urllib3/urllib3/blob/main/src/urllib3/util/url.py
``_URI_RE`` and WHATWG's URL standard, https://url.spec.whatwg.org/#host-parsing).
So the parser here accepts only URLs on which every parser agrees: an ASCII
scheme ``https`` (or ``http`` to a loopback address), no user name or
password, a host that is a DNS name, a dotted-quad IPv4 address or a
bracketed IPv6 address, an optional decimal port, and a path and query
without backslashes, whitespace, control characters or a fragment. Then it
rebuilds the URL from those parts, and that rebuilt text is what connects.

Loopback means a literal loopback address (127.0.0.0/8, ``::1``) or exactly
``localhost``: nothing that needs a DNS answer to be judged.
``BOX_SECRETS_ALLOW_INSECURE_HTTP=1`` lifts the https rule, loudly, for a
network the operator trusts.
"""

from __future__ import annotations

import ipaddress
import os
import re
import sys

from box_secrets.errors import InputError

__all__ = [
    "ALLOW_INSECURE_ENV",
    "Url",
    "check_url",
    "clean_text",
    "configured_url",
    "is_loopback",
    "judge_url",
    "parse_url",
    "redact_uri",
    "redact_url",
    "trusted_endpoint",
    "trusted_setting",
]

#: Set to 1 to allow plain http:// to hosts other than loopback (prints a warning each time).
ALLOW_INSECURE_ENV = "BOX_SECRETS_ALLOW_INSECURE_HTTP"

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]+")
# The whole URL: printable ASCII without space, backslash, quotes, angle brackets,
# braces, pipe, caret or backtick (RFC 3986 section 2 never needs them).
_URL_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+$")
# A DNS name: letters, digits, hyphens and underscores in dot-separated labels.
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_DNS_NAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")
# WHATWG (and inet_aton) read a host whose last label is a number as IPv4:
# 127.1, 0x7f.1 and 2130706433 all mean 127.0.0.1 to some parser.
_NUMERIC_LABEL = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$")
_PORT = re.compile(r"^[0-9]{1,5}$")
_DEFAULT_PORTS = {"https": 443, "http": 80}


class Url:
    """A URL as :func:`parse_url` judged it; ``text`` is the canonical form that connects."""

    __slots__ = ("host", "origin", "path", "port", "query", "scheme", "text")

    def __init__(self, scheme: str, host: str, port: int | None, path: str, query: str) -> None:
        self.scheme = scheme
        self.host = host  # lower case; an IPv6 address in brackets
        self.port = port
        self.path = path
        self.query = query
        #: ``scheme://host[:port]``: where the connection goes, nothing more.
        self.origin = f"{scheme}://{host}" + ("" if port is None else f":{port}")
        self.text = self.origin + path + (f"?{query}" if query else "")

    def same_endpoint(self, other: Url) -> bool:
        """The same scheme, host, effective port and path (trailing slash aside)."""
        return (
            self.scheme,
            self.host,
            self.port or _DEFAULT_PORTS[self.scheme],
            self.path.rstrip("/"),
        ) == (
            other.scheme,
            other.host,
            other.port or _DEFAULT_PORTS[other.scheme],
            other.path.rstrip("/"),
        )

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Url({self.origin!r})"


def is_loopback(host: str) -> bool:
    """True for ``localhost`` itself and literal loopback addresses only (no DNS is trusted)."""
    host = host.lower()
    if host == "localhost":
        return True
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not re.fullmatch(r"[0-9.]+|[0-9a-f:]+", host):
        return False
    try:
        address = ipaddress.ip_address(host)  # refuses 127.1, 0x7f.0.0.1, leading zeros
    except ValueError:
        return False
    return address.is_loopback


def parse_url(url: str, *, what: str) -> Url:
    """Judge ``url`` strictly (see the module docstring); raise one sentence if it fails.

    Scheme checks are the caller's (:func:`check_url`); this only parses.
    """
    if not isinstance(url, str) or not url.strip():
        raise InputError(f"{what} is empty; give a URL like https://host")
    text = url.strip()
    if _CONTROL.search(text) or any(c.isspace() for c in text):
        raise InputError(f"{what} holds spaces or control characters; give a plain URL")
    if "\\" in text:
        raise InputError(
            f"{what} holds a backslash, which URL parsers read differently; give a plain URL"
        )
    if not text.isascii() or not _URL_CHARS.match(text):
        raise InputError(
            f"{what} holds characters a URL may not (non-ASCII, quotes, braces or the like); "
            "give a plain URL, with an internationalised host name in its xn-- form"
        )
    scheme, sep, rest = text.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in _DEFAULT_PORTS:
        raise InputError(
            f"{what} {redact_url(text)!r} must start with https:// (or http:// for a "
            "loopback address such as the local emulators)"
        )
    if "#" in rest:
        raise InputError(f"{what} {redact_url(text)!r} has a #fragment; remove it")
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    authority, tail = rest[:cut], rest[cut:]
    path, _, query = tail.partition("?")
    if "@" in authority:
        raise InputError(
            f"{what} holds a user name or password before '@'; give the address alone "
            "(credentials come from the environment, never from a URL)"
        )
    host, port = _split_host_port(authority, what=what, text=text)
    return Url(scheme, host, port, path, query)


def _split_host_port(authority: str, *, what: str, text: str) -> tuple[str, int | None]:
    bad_port = (
        f"{what} {redact_url(text)!r} is not a valid URL: its port must be a number from 1 to 65535"
    )
    if authority.startswith("["):
        inner, close, after = authority[1:].partition("]")
        if not close or "%" in inner:
            raise InputError(
                f"{what} {redact_url(text)!r} is not a valid URL: its IPv6 address is malformed "
                "(zone IDs are not accepted); write it like http://[::1]:8200"
            )
        try:
            host = f"[{ipaddress.IPv6Address(inner).compressed}]"
        except ValueError:
            raise InputError(
                f"{what} {redact_url(text)!r} is not a valid URL: its IPv6 address is malformed"
            ) from None
        port_text = after[1:] if after.startswith(":") else None
        if after and port_text is None:
            raise InputError(bad_port)
    else:
        name, colon, port_text_ = authority.partition(":")
        port_text = port_text_ if colon else None
        host = name.lower()
        if not host:
            raise InputError(
                f"{what} {redact_url(text)!r} names no host; give one like https://host"
            )
        if not _DNS_NAME.match(host):
            raise InputError(
                f"{what} names a host that is not a plain DNS name or IP address; give one "
                "like https://vault.example.com or http://127.0.0.1:8200"
            )
        if _NUMERIC_LABEL.match(host.rsplit(".", 1)[-1]):
            # Only the dotted-quad form: every parser reads it the same way.
            try:
                canonical = str(ipaddress.IPv4Address(host))
            except ValueError:
                canonical = ""
            if canonical != host:
                raise InputError(
                    f"{what} names the host {host[:60]!r}, which parsers read as different IPv4 "
                    "addresses; write the address as four decimal numbers, like 127.0.0.1"
                )
    port: int | None = None
    if port_text is not None:
        if not _PORT.match(port_text) or not 1 <= int(port_text) <= 65535:
            raise InputError(bad_port)
        port = int(port_text)
    return host, port


def redact_url(url: str, *, keep_path: bool = True) -> str:
    """``url`` without user:password (and without path or query unless ``keep_path``).

    For messages only: it never raises and never connects anything.
    """
    text = _CONTROL.sub("", str(url)).strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "", text
    cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:cut], rest[cut:]
    # Everything up to the last '@' may be a password, whichever parser reads it.
    authority = authority.rpartition("@")[2]
    shown = f"{scheme.lower()}://{authority}" if scheme else authority
    if keep_path:
        shown += tail.split("#", 1)[0]
    return clean_text(shown, limit=200)


def check_url(url: str, *, what: str) -> str:
    """The canonical form of ``url`` if it is safe to send secrets to; else one sentence.

    Callers connect to the returned string, never to ``url`` itself. ``what``
    names the setting in the message, e.g. ``"--box-base-url"``.
    """
    return judge_url(url, what=what).text


def judge_url(url: str, *, what: str) -> Url:
    """:func:`parse_url` plus the transport rule: https, or http only to loopback."""
    parsed = parse_url(url, what=what)
    if parsed.scheme == "http" and not is_loopback(parsed.host):
        if os.environ.get(ALLOW_INSECURE_ENV) != "1":
            raise InputError(
                f"{what} {redact_url(parsed.text)!r} uses plain http:// to a remote host, which "
                "would send secrets in cleartext; use https:// (or set "
                f"{ALLOW_INSECURE_ENV}=1 on a network you trust)"
            )
        # An explicit opt-out, so it is said every time rather than once per process.
        sys.stderr.write(
            f"box-secrets: warning: sending secrets over plain http to {parsed.origin} "
            f"because {ALLOW_INSECURE_ENV}=1\n"
        )
    return parsed


def clean_text(text: str, *, limit: int = 300) -> str:
    """Server-supplied text made safe to print: no control characters, one line, clipped."""
    flat = " ".join(_CONTROL.sub(" ", str(text)).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def redact_uri(uri: str) -> str:
    """A store or signer URI for logs and metrics: URL-valued parameters lose any password.

    Unchanged (byte for byte) when nothing needs cutting, so a metric dimension
    stays the URI the operator configured.
    """
    base, sep, query = str(uri).partition("?")
    if not sep:
        return redact_url(base) if "@" in base.partition("//")[2].split("/")[0] else base
    from urllib.parse import quote, unquote

    pairs = []
    changed = False
    for pair in query.split("&"):
        name, eq, value = pair.partition("=")
        plain = unquote(value)
        if "@" in plain and "://" in plain:
            pairs.append(f"{name}{eq}{quote(redact_url(plain), safe='/:')}")
            changed = True
        else:
            pairs.append(pair)
    return f"{base}?{'&'.join(pairs)}" if changed else str(uri)


def configured_url(names: tuple[str, ...], *, what: str | None = None) -> str | None:
    """The canonical form of the first set variable of ``names`` (checked), or None."""
    for name in names:
        value = os.environ.get(name)
        if value:
            return check_url(value, what=what or name)
    return None


def trusted_setting(stored: str | None, *, env: str, what: str) -> str | None:
    """A setting a *stored* signer URI names that chooses whom this process trusts.

    ``ca_cert`` (the TLS trust anchor) and ``profile`` (the AWS identity) decide
    whom a reader trusts and as whom it acts: a store's writer must not choose them.
    A stored value is used only if it equals this process's own (``env``); with
    ``stored`` None, this process's own (or None).

    Raises:
        InputError: the stored value differs from this process's own.
    """
    configured = os.environ.get(env) or None
    if stored is None or stored == configured:
        return configured
    raise InputError(
        f"the store names {what} {clean_text(stored, limit=80)!r}, but {env} is "
        f"{'unset' if configured is None else repr(clean_text(configured, limit=80))}; a store's "
        f"writer does not choose whom this process trusts: set {env} to it if you trust it"
    )


def trusted_endpoint(stored: str | None, *, env: tuple[str, ...], what: str) -> str | None:
    """The endpoint to send credentials to when a *stored* document names one.

    A signer URI inside a store is data, and whoever can write the store is not
    thereby trusted with this process's Vault token or AWS requests. So a stored
    address is used only if it is the one this process is configured for (the
    first set variable of ``env``), or, when none is set, a loopback address
    (the emulators). Both are compared in canonical form, and the canonical
    form is returned. With ``stored`` None, the configured one (or None).

    Raises:
        InputError: the stored address is not one this process trusts.
    """
    configured_name = next((name for name in env if os.environ.get(name)), None)
    configured = (
        judge_url(os.environ[configured_name], what=configured_name) if configured_name else None
    )
    if stored is None:
        return configured.text if configured else None
    candidate = judge_url(stored, what=what)
    if configured is not None:
        if candidate.same_endpoint(configured):
            return candidate.text
        raise InputError(
            f"the store names {candidate.origin} as {what}, but {configured_name} is "
            f"{configured.origin}; box-secrets sends credentials only to the address this "
            f"process is configured for: set {env[0]} to the store's if you trust it"
        )
    if is_loopback(candidate.host):
        return candidate.text
    raise InputError(
        f"the store names {candidate.origin} as {what}; box-secrets sends credentials only "
        f"to an address this process is configured for: set {env[0]} to it if you trust it"
    )
