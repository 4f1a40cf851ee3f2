"""The Box app config: the JSON file Box's Developer Console downloads.

Loading checks every field and names the one that is wrong; saving writes the
same shape back (unknown keys included), so Box's SDKs load what we write.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from box_secrets.errors import ConfigError, NoActiveKeyError
from box_secrets.stores._app_auth import _AUTH, _SETTINGS, _text, read_app_auth

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    from box_secrets.signers._material import Material

__all__ = ["BoxAppConfig", "config_from_document", "config_json"]


def config_json(text: str | bytes, *, where: str = "") -> Any:
    """The JSON value of a Box config's text, or one ConfigError sentence that never quotes it.

    Raises:
        ConfigError: the text is not JSON, or nested too deeply to be a config.
    """
    prefix = f"{where}: " if where else ""
    try:
        return json.loads(text)
    except RecursionError:
        raise ConfigError(
            f"{prefix}the Box config is nested far too deeply to be a Box config; download it "
            "again from the Developer Console"
        ) from None
    except (ValueError, UnicodeDecodeError) as exc:
        # JSONDecodeError's message holds a position, never the content.
        at = f" at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise ConfigError(
            f"{prefix}the Box config is not valid JSON{at}; download it again from the "
            "Developer Console or fix the syntax"
        ) from None


class BoxAppConfig:
    """A Box Platform app's credentials, parsed and checked.

    The private key is parsed once, on load, and the key object is reused for
    every signature. ``repr()`` never shows a secret.
    """

    __slots__ = (
        "_client_secret",
        "_fingerprint",
        "_jwt",
        "_key",
        "_passphrase",
        "_private_key_pem",
        "_raw",
        "_signer",
        "client_id",
        "enterprise_id",
        "public_key_id",
        "trusted",
        "user_id",
    )

    client_id: str
    public_key_id: str | None
    enterprise_id: str | None
    user_id: str | None
    trusted: bool

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        enterprise_id: str | None = None,
        user_id: str | None = None,
        public_key_id: str | None = None,
        private_key_pem: str | None = None,
        passphrase: str = "",
        extra: Mapping[str, Any] | None = None,
        validate_key: bool = True,
        require_key_id: bool = True,
    ) -> None:
        raw: dict[str, Any] = dict(extra or {})
        settings: dict[str, Any] = dict(raw.get(_SETTINGS) or {})
        settings["clientID"] = client_id
        settings["clientSecret"] = client_secret
        if private_key_pem is not None:
            auth = dict(settings.get(_AUTH) or {})
            auth.update(
                publicKeyID=public_key_id or "",
                privateKey=private_key_pem,
                passphrase=passphrase,
            )
            settings[_AUTH] = auth
        else:
            settings.pop(_AUTH, None)
        raw[_SETTINGS] = settings
        if enterprise_id is not None:
            raw["enterpriseID"] = enterprise_id
        if user_id is not None:
            raw["userID"] = user_id
        self._load(raw, validate_key=validate_key, require_key_id=require_key_id)

    # -- loading -----------------------------------------------------------------

    @classmethod
    def from_dict(
        cls,
        data: object,
        *,
        trusted: bool = False,
        require_key_id: bool = True,
    ) -> BoxAppConfig:
        """Build from the parsed JSON object.

        ``trusted=True`` is for values box-secrets itself validated when it wrote
        them: it skips the costly RSA consistency check.

        Raises:
            ConfigError: a field is missing or wrong (the error names it, never its value).
        """
        if not isinstance(data, dict):
            raise ConfigError(
                "the Box config must be a JSON object like the file the Developer "
                "Console downloads",
            )
        self = cls.__new__(cls)
        self._load(data, validate_key=not trusted, require_key_id=require_key_id)
        self.trusted = trusted
        return self

    @classmethod
    def from_json(
        cls, text: str | bytes, *, trusted: bool = False, require_key_id: bool = True
    ) -> BoxAppConfig:
        """Parse the Developer Console JSON text.

        Raises:
            ConfigError: the text is not JSON, or a field is missing or wrong.
        """
        data = config_json(text)
        return cls.from_dict(data, trusted=trusted, require_key_id=require_key_id)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> BoxAppConfig:
        """Load a config file downloaded from the Box Developer Console (always validated).

        Only a regular file of at most 64 KiB is read (a real one is about 2 KB).

        Raises:
            ConfigError: the file is missing, unreadable, too large, not a regular
                file, not JSON, or a field is wrong (the error names it).
        """
        from box_secrets._support.files import MAX_CONFIG_BYTES, read_limited

        try:
            text = read_limited(os.fspath(path), MAX_CONFIG_BYTES, what="config file")[0]
        except FileNotFoundError:
            raise ConfigError(
                f"config file {os.fspath(path)!r} does not exist; pass the path of the "
                "JSON file the Developer Console downloaded",
            ) from None
        except OSError as exc:
            raise ConfigError(
                f"config file {os.fspath(path)!r} cannot be read ({exc.strerror}); "
                "check its path and permissions",
            ) from None
        try:
            return cls.from_json(text)
        except ConfigError as exc:
            raise ConfigError(f"{os.fspath(path)}: {exc}", field=exc.field) from None

    def _load(self, data: dict[str, Any], *, validate_key: bool, require_key_id: bool) -> None:
        settings = data.get(_SETTINGS)
        if not isinstance(settings, dict):
            raise ConfigError(
                f"{_SETTINGS} is missing; this does not look like a Box app config "
                "downloaded from the Developer Console",
                field=_SETTINGS,
            )
        client_id = _text(settings.get("clientID"), f"{_SETTINGS}.clientID")
        client_secret = _text(settings.get("clientSecret"), f"{_SETTINGS}.clientSecret")
        assert client_id is not None and client_secret is not None
        enterprise_id = _text(data.get("enterpriseID"), "enterpriseID", required=False)
        user_id = _text(data.get("userID"), "userID", required=False)
        if enterprise_id is None and user_id is None:
            raise ConfigError(
                "enterpriseID is missing; a server app needs the enterprise it is "
                "authorized in (or a userID)",
                field="enterpriseID",
            )
        pem, passphrase, kid, signer, key, fingerprint, jwt = read_app_auth(
            settings.get(_AUTH), validate_key=validate_key, require_key_id=require_key_id
        )
        self._raw = data
        self.client_id = client_id
        self._client_secret = client_secret
        self.enterprise_id = enterprise_id
        self.user_id = user_id
        self.public_key_id = kid
        self._private_key_pem = pem
        self._passphrase = passphrase
        # A key box-secrets wrote itself (validate_key=False) is parsed when first
        # used: a token served from a cache needs the client ID and secret only.
        self._key = key
        self._jwt = jwt
        self._signer = signer
        self._fingerprint = fingerprint
        self.trusted = False

    # -- accessors ---------------------------------------------------------------

    @property
    def client_secret(self) -> str:
        return self._client_secret

    @property
    def private_key_pem(self) -> str | None:
        return self._private_key_pem

    @property
    def passphrase(self) -> str:
        return self._passphrase

    @property
    def fingerprint(self) -> str | None:
        """SHA-256 of the public key (DER), or None without a private key here."""
        if self._fingerprint is None and self._private_key_pem is not None:
            from box_secrets.signers._keys import fingerprint_of

            self._fingerprint = fingerprint_of(self.private_key.public_key())
        return self._fingerprint

    @property
    def private_key(self) -> RSAPrivateKey:
        """The loaded key object (parsed once: when the config was loaded, or for a key
        box-secrets wrote itself, when first used)."""
        if self._key is None and self._private_key_pem is not None:
            from box_secrets.signers._keys import load_private_key

            self._key = load_private_key(
                self._private_key_pem,
                self._passphrase,
                validate=False,
                field=f"{_SETTINGS}.{_AUTH}.privateKey",
            )
        if self._key is None:
            if self._jwt:
                raise ConfigError(
                    f"{_SETTINGS}.{_AUTH}.privateKey is absent; this config's key signs "
                    "elsewhere (give TokenProvider a signer)",
                    field=f"{_SETTINGS}.{_AUTH}.privateKey",
                )
            raise ConfigError(
                f"{_SETTINGS}.{_AUTH} is missing; this app has no key pair (it uses "
                "Client Credentials Grant)",
                field=f"{_SETTINGS}.{_AUTH}",
            )
        return self._key

    @property
    def signer_uri(self) -> str | None:
        """The signer URI of a key held in AWS KMS or Vault Transit (``appAuth.signer``)."""
        return self._signer

    def key_material(self) -> Material:
        """The key as stored material (a parsed private key, or a signer URI); see
        :func:`signer_for`."""
        from box_secrets.signers._material import KeyMaterial, RemoteKey

        if self._signer is not None:
            return RemoteKey(self._signer)
        return KeyMaterial(self.private_key_pem or "", self._passphrase, key=self.private_key)

    @property
    def uses_jwt(self) -> bool:
        """True for a JWT app (a key pair, here or signing elsewhere), False for Client
        Credentials Grant."""
        return self._jwt

    @property
    def extra(self) -> dict[str, Any]:
        """Top-level keys other than Box's own, kept as they were."""
        return {
            k: v for k, v in self._raw.items() if k not in (_SETTINGS, "enterpriseID", "userID")
        }

    def to_dict(self) -> dict[str, Any]:
        """The Developer Console shape, unknown keys included (a deep-enough copy)."""
        out = dict(self._raw)
        settings = dict(out[_SETTINGS])
        if _AUTH in settings:
            settings[_AUTH] = dict(settings[_AUTH])
        out[_SETTINGS] = settings
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def with_key(
        self, *, public_key_id: str | None, private_key_pem: str, passphrase: str
    ) -> BoxAppConfig:
        """The same app with another key pair (used by rotation)."""
        data = self.to_dict()
        auth = dict(data[_SETTINGS].get(_AUTH) or {})
        auth.update(
            publicKeyID=public_key_id or "", privateKey=private_key_pem, passphrase=passphrase
        )
        data[_SETTINGS][_AUTH] = auth
        return BoxAppConfig.from_dict(data, trusted=True, require_key_id=False)

    def with_extra(self, **extra: Any) -> BoxAppConfig:
        """A copy with top-level keys added or replaced (``None`` removes a key)."""
        clone = BoxAppConfig.__new__(BoxAppConfig)
        for name in BoxAppConfig.__slots__:
            setattr(clone, name, getattr(self, name))
        raw = dict(self._raw)
        for k, v in extra.items():
            if v is None:
                raw.pop(k, None)
            else:
                raw[k] = v
        clone._raw = raw
        return clone

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write atomically with mode 0600."""
        from box_secrets._support.files import atomic_write

        atomic_write(os.fspath(path), self.to_json().encode())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BoxAppConfig):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"BoxAppConfig(client_id={self.client_id!r}, public_key_id={self.public_key_id!r}, "
            f"enterprise_id={self.enterprise_id!r}, user_id={self.user_id!r}, "
            f"fingerprint={self.fingerprint!r})"
        )


def config_from_document(data: object, *, trusted: bool, where: str) -> BoxAppConfig:
    """The active config in a JSON document that may be a box-secrets store document.

    A store document whose first key is not registered yet has no usable key;
    saying so beats treating it as a Client Credentials app.
    """
    if isinstance(data, dict):
        record = data.get("boxSecrets")
        settings = data.get("boxAppSettings")
        if (
            isinstance(record, dict)
            and isinstance(settings, dict)
            and not isinstance(settings.get("appAuth"), dict)
            and record.get("auth", "jwt") == "jwt"
        ):
            raise NoActiveKeyError(
                f"{where} has no active key yet: its first key is waiting to be registered "
                "at Box; run `box-secrets status` to see what to do"
            )
    try:
        return BoxAppConfig.from_dict(data, trusted=trusted)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}", field=exc.field) from None
