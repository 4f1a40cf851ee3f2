"""What a cache entry holds and what it is called.

Two codecs. :class:`PlainCodec` is the per-host directory's: JSON under a
SHA-256 name (host file permissions protect it, and a hit needs no
cryptography). :class:`Sealer` is for caches on the network (Redis,
DynamoDB), where an entry is a bearer credential anyone with read access to
the cache could replay:

- keys: HKDF-SHA256 (RFC 5869) from the app's client secret, salted with its
  client ID, one key per purpose (``info``): every legitimate reader holds
  both already, and the cache's operator need not;
- names: HMAC-SHA256 under the name key of (Box base URL, subject, scopes,
  resource), so a name says nothing about the app, the user or the scopes;
- entries: AES-256-GCM with a random 96-bit nonce (NIST SP 800-38D), the
  name as associated data, so an entry moved to another name fails to open.

An entry that does not open (garbage, tampered, moved, another app's) is
reported as :class:`Unreadable`; the caller treats it as a miss.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from typing import TYPE_CHECKING, Any

from box_secrets.tokens._token import AccessToken

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["Codec", "PlainCodec", "Sealer", "Unreadable"]

_VERSION = b"\x01"
_CONTEXT = b"box-secrets token cache v1"
_NONCE = 12
_CAP = 64 * 1024  # an entry is a few hundred bytes


class Unreadable(Exception):
    """An entry that is not a token this codec wrote (never carries the entry's bytes)."""


def _token(data: bytes) -> AccessToken:
    try:
        tok = AccessToken.from_cache(json.loads(data))
    except (ValueError, RecursionError, UnicodeDecodeError):
        tok = None
    if tok is None:
        raise Unreadable("the entry is not a cached token")
    return tok


def _plain(tok: AccessToken) -> bytes:
    return json.dumps(tok.to_cache(), allow_nan=False, separators=(",", ":")).encode()


class Codec:
    """How one cache names and encodes entries."""

    def name(self, parts: Sequence[Any]) -> str:
        raise NotImplementedError

    def seal(self, name: str, tok: AccessToken) -> bytes:
        raise NotImplementedError

    def open(self, name: str, data: bytes) -> AccessToken:
        raise NotImplementedError


class PlainCodec(Codec):
    """The directory cache's codec: the names and JSON files it has always had."""

    def __init__(self, client_id: str) -> None:
        self._client_id = client_id

    def name(self, parts: Sequence[Any]) -> str:
        base_url, *key = parts
        material = json.dumps([base_url, self._client_id, *key])
        return hashlib.sha256(material.encode()).hexdigest()

    def seal(self, name: str, tok: AccessToken) -> bytes:
        return _plain(tok)

    def open(self, name: str, data: bytes) -> AccessToken:
        return _token(data)


def _hkdf(secret: bytes, salt: bytes, info: bytes) -> bytes:
    from cryptography.hazmat.primitives.hashes import SHA256
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=SHA256(), length=32, salt=salt, info=info).derive(secret)


class Sealer(Codec):
    """AES-GCM entries under HMAC names, keyed from one app's client ID and secret."""

    __slots__ = ("_aead", "_name_key")

    def __init__(self, client_id: str, client_secret: str) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        secret, salt = client_secret.encode(), client_id.encode()
        self._aead = AESGCM(_hkdf(secret, salt, _CONTEXT + b" entries"))
        self._name_key = _hkdf(secret, salt, _CONTEXT + b" names")

    def name(self, parts: Sequence[Any]) -> str:
        material = json.dumps(list(parts), separators=(",", ":")).encode()
        return "box-secrets:" + hmac.new(self._name_key, material, hashlib.sha256).hexdigest()

    def _aad(self, name: str) -> bytes:
        return _VERSION + _CONTEXT + b"\x00" + name.encode()

    def seal(self, name: str, tok: AccessToken) -> bytes:
        nonce = os.urandom(_NONCE)
        return _VERSION + nonce + self._aead.encrypt(nonce, _plain(tok), self._aad(name))

    def open(self, name: str, data: bytes) -> AccessToken:
        from cryptography.exceptions import InvalidTag

        if not isinstance(data, bytes) or len(data) > _CAP or data[:1] != _VERSION:
            raise Unreadable("the entry is not a sealed token of this version")
        nonce, body = data[1 : 1 + _NONCE], data[1 + _NONCE :]
        try:
            plain = self._aead.decrypt(nonce, body, self._aad(name))
        except (InvalidTag, ValueError):
            raise Unreadable("the entry does not open under this app's key") from None
        return _token(plain)

    def __repr__(self) -> str:
        return "Sealer(<keys hidden>)"
