"""Vault's Transit secrets engine (the part a signer uses), as the Vault emulator serves it.

Each rule cites the file of github.com/hashicorp/vault it follows
(``builtin/logical/transit/path_keys.go``, ``path_keys_config.go``,
``path_rotate.go``, ``path_trim.go``, ``path_sign_verify.go``,
``path_export.go`` and ``sdk/helper/keysutil/policy.go``) and the API docs at
https://developer.hashicorp.com/vault/api-docs/secret/transit. Where a detail
is not certain the comment says so and the stricter behaviour is chosen.

Keys: ``rsa-2048``, ``rsa-3072``, ``rsa-4096`` (signing) and ``aes256-gcm96``
(Vault's default type, here only so that a wrong key type can be tested).
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
import time
from typing import Any

from box_secrets.emulator._httpd import Request, Response, json_object
from box_secrets.emulator._vault_http import envelope
from box_secrets.emulator._vault_http import errors as _errors
from box_secrets.emulator._vault_http import json_response as _json

__all__ = ["TransitMount", "handle_transit"]

RSA_TYPES = {"rsa-2048": 2048, "rsa-3072": 3072, "rsa-4096": 4096}
TYPES = (*RSA_TYPES, "aes256-gcm96")
HASHES = {"sha2-224", "sha2-256", "sha2-384", "sha2-512"}
_NAME = re.compile(r"^\w(?:[\w.@-]*\w)?$")  # framework.GenericNameRegex


def _rfc3339(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts % 1 * 1e9):09d}Z"


class _Key:
    def __init__(self, name: str, key_type: str, exportable: bool, plaintext_backup: bool) -> None:
        self.name = name
        self.type = key_type
        self.exportable = exportable
        self.allow_plaintext_backup = plaintext_backup
        self.deletion_allowed = False
        self.versions: dict[int, tuple[Any, str, float]] = {}  # version -> (private, pem, time)
        self.latest = 0
        self.min_decryption = 1
        self.min_encryption = 0
        self.min_available = 0

    def rotate(self) -> None:
        # policy.go Rotate: a new version; older ones stay until trimmed.
        self.latest += 1
        private, pem = None, ""
        if self.type in RSA_TYPES:
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric import rsa

            private = rsa.generate_private_key(public_exponent=65537, key_size=RSA_TYPES[self.type])
            pem = (
                private.public_key()
                .public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                )
                .decode("ascii")
            )
        self.versions[self.latest] = (private, pem, time.time())

    def view(self) -> dict[str, Any]:
        """path_keys.go formatKeyPolicy: asymmetric keys list each version's public key."""
        keys: dict[str, Any] = {}
        for v, (_, pem, created) in sorted(self.versions.items()):
            if self.type in RSA_TYPES:
                keys[str(v)] = {
                    "certificate_chain": "",
                    "creation_time": _rfc3339(created),
                    "name": self.type,
                    "public_key": pem,
                }
            else:
                keys[str(v)] = int(created)
        signing = self.type in RSA_TYPES
        return {
            "allow_plaintext_backup": self.allow_plaintext_backup,
            "auto_rotate_period": 0,
            "deletion_allowed": self.deletion_allowed,
            "derived": False,
            "exportable": self.exportable,
            "imported_key": False,
            "keys": keys,
            "latest_version": self.latest,
            "min_available_version": self.min_available,
            "min_decryption_version": self.min_decryption,
            "min_encryption_version": self.min_encryption,
            "name": self.name,
            "supports_decryption": True,
            "supports_derivation": not signing,
            "supports_encryption": True,
            "supports_signing": signing,
            "type": self.type,
        }


class TransitMount:
    """One Transit mount: its keys by namespace and name."""

    def __init__(self) -> None:
        self.keys: dict[tuple[str, str], _Key] = {}
        self.lock = threading.Lock()
        self.signatures = 0  # for tests and benchmarks: how many signatures were made


def _ok(key: _Key) -> Response:
    return _json(200, envelope(key.view(), mount_type="transit"))


def _int(body: dict[str, Any], name: str) -> int | None:
    # Vault's framework.TypeInt accepts numbers and numeric strings; anything else is a 400.
    raw = body.get(name)
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise ValueError(name)
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and re.fullmatch(r"-?\d+", raw):
        return int(raw)
    raise ValueError(name)


def _bool(body: dict[str, Any], name: str, default: bool = False) -> bool:
    raw = body.get(name, default)
    if isinstance(raw, str):
        return raw.lower() in ("1", "t", "true")
    return bool(raw)


def handle_transit(req: Request, *, mount: TransitMount, namespace: str, rest: str) -> Response:
    """Serve one request below ``/v1/<transit mount>/`` (``rest`` is what follows)."""
    body = json_object(req)
    if body is None:
        return _errors(400, "failed to parse JSON input")
    parts = rest.split("/")
    method = req.method
    write = method in ("POST", "PUT")
    try:
        with mount.lock:
            if parts[0] == "keys" and len(parts) == 2 and _NAME.match(parts[1]):
                return _keys(mount, namespace, parts[1], method, body)
            if parts[0] == "keys" and len(parts) == 3 and write and _NAME.match(parts[1]):
                key = mount.keys.get((namespace, parts[1]))
                if parts[2] == "rotate":
                    return _rotate(key)
                if parts[2] == "config":
                    return _config(key, body)
                if parts[2] == "trim":
                    return _trim(key, body)
            if parts[0] == "sign" and len(parts) in (2, 3) and write and _NAME.match(parts[1]):
                key = mount.keys.get((namespace, parts[1]))
                hash_name = parts[2] if len(parts) == 3 else str(body.get("hash_algorithm") or "")
                response = _sign(key, body, hash_name or "sha2-256")
                if response.status == 200:
                    mount.signatures += 1
                return response
            if parts[0] == "export" and method == "GET" and len(parts) >= 3:
                return _export(mount.keys.get((namespace, parts[2])))
    except ValueError as exc:
        return _errors(400, f"error converting input for field {exc.args[0]!r}")
    # vault/router.go: no route below a mount is a 404 (the stricter reading of "unsupported").
    return _errors(404, f"unsupported path {rest!r}")


def _keys(
    mount: TransitMount, namespace: str, name: str, method: str, body: dict[str, Any]
) -> Response:
    key = mount.keys.get((namespace, name))
    if method == "GET":
        # path_keys.go pathPolicyRead: a missing key is a plain 404 with no errors.
        return _ok(key) if key is not None else _errors(404)
    if method == "DELETE":
        if key is None:
            return Response(204)
        if not key.deletion_allowed:
            # path_keys.go pathPolicyDelete -> lock_manager.go DeletePolicy.
            return _errors(400, "deletion is not allowed for this key")
        del mount.keys[(namespace, name)]
        return Response(204)
    if method not in ("POST", "PUT"):
        return _errors(405, "unsupported operation")
    key_type = str(body.get("type") or "aes256-gcm96")  # path_keys.go: the default type
    if key_type not in TYPES:
        # The emulator implements these types only; Vault knows more (stricter: refuse).
        return _errors(400, f"unknown key type {key_type}")
    if key is None:
        key = _Key(
            name,
            key_type,
            _bool(body, "exportable"),
            _bool(body, "allow_plaintext_backup"),
        )
        key.rotate()
        mount.keys[(namespace, name)] = key
    # path_keys.go pathPolicyWrite: an existing key is returned unchanged (an upsert).
    return _ok(key)


def _rotate(key: _Key | None) -> Response:
    if key is None:
        return _errors(400, "key not found")  # path_rotate.go
    key.rotate()
    return _ok(key)


def _config(key: _Key | None, body: dict[str, Any]) -> Response:
    """path_keys_config.go pathKeysConfigWrite: the minimums and the one-way switches."""
    if key is None:
        return _errors(400, "no existing key named; must create key before configuring")
    saved = (key.min_decryption, key.min_encryption, key.exportable, key.allow_plaintext_backup)

    def fail(message: str) -> Response:
        key.min_decryption, key.min_encryption, key.exportable, key.allow_plaintext_backup = saved
        return _errors(400, message)

    dec = _int(body, "min_decryption_version")
    if dec is not None:
        if dec < 0:
            return fail("min decryption version cannot be negative")
        dec = dec or 1
        if dec != key.min_decryption:
            if dec > key.latest:
                return fail(
                    f"cannot set min decryption version of {dec}, latest key version is "
                    f"{key.latest}"
                )
            key.min_decryption = dec
    enc = _int(body, "min_encryption_version")
    if enc is not None:
        if enc < 0:
            return fail("min encryption version cannot be negative")
        if enc != key.min_encryption:
            if enc > key.latest:
                return fail(
                    f"cannot set min encryption version of {enc}, latest key version is "
                    f"{key.latest}"
                )
            key.min_encryption = enc
    if 0 < key.min_encryption < key.min_decryption:
        return fail(
            "cannot set min encryption/decryption values; min encryption version of "
            f"{key.min_encryption} must be greater than or equal to min decryption version "
            f"of {key.min_decryption}"
        )
    if "deletion_allowed" in body:
        key.deletion_allowed = _bool(body, "deletion_allowed")
    # Exportable and plaintext backup can be switched on, never off.
    if _bool(body, "exportable"):
        key.exportable = True
    if _bool(body, "allow_plaintext_backup"):
        key.allow_plaintext_backup = True
    if key.min_available > key.min_encryption:
        return fail("min encryption version should not be less than min available version")
    if key.min_available > key.min_decryption:
        return fail("min decryption version should not be less then min available version")
    return _ok(key)


def _trim(key: _Key | None, body: dict[str, Any]) -> Response:
    """path_trim.go pathTrimUpdate: versions below min_available_version are deleted."""
    if key is None:
        return _errors(400, "invalid key name")
    wanted = _int(body, "min_available_version")
    if wanted is None:
        return _errors(400, "missing min_available_version")
    if wanted < key.min_available:
        return _errors(400, "minimum available version cannot be decremented")
    if key.min_encryption == 0:
        return _errors(
            400,
            "minimum available version cannot be set when minimum encryption version is not set",
        )
    if key.min_decryption == 0:
        return _errors(
            400,
            "minimum available version cannot be set when minimum decryption version is not set",
        )
    if wanted > key.min_encryption:
        return _errors(
            400, "minimum available version cannot be greater than minmum encryption version"
        )
    if wanted > key.min_decryption:
        return _errors(
            400, "minimum available version cannot be greater than minimum decryption version"
        )
    if wanted <= 0:
        return _errors(400, "minimum available version should be positive")
    key.min_available = wanted
    for v in [v for v in key.versions if v < wanted]:
        del key.versions[v]
    return _ok(key)


def _sign(key: _Key | None, body: dict[str, Any], hash_name: str) -> Response:
    """path_sign_verify.go pathSignWrite and keysutil/policy.go SignWithOptions."""
    if key is None:
        return _errors(400, "signing key not found")
    if key.type not in RSA_TYPES:
        return _errors(400, f"key type {key.type} does not support signing")
    if hash_name not in HASHES:
        return _errors(400, f"unsupported hash algorithm {hash_name}")
    # For RSA keys Vault's default signature algorithm is PSS, not PKCS#1 v1.5.
    algorithm = str(body.get("signature_algorithm") or "pss")
    if algorithm not in ("pss", "pkcs1v15"):
        return _errors(400, f"unsupported rsa signature algorithm {algorithm}")
    version = _int(body, "key_version") or 0
    if version == 0:
        version = key.latest
    elif version < 0:
        return _errors(400, "requested version for signing is negative")
    elif version > key.latest:
        return _errors(400, "requested version for signing is higher than the latest key version")
    if key.min_encryption > 0 and version < key.min_encryption:
        return _errors(
            400, "requested version for signing is less than the minimum encryption key version"
        )
    entry = key.versions.get(version)
    if entry is None:  # trimmed
        return _errors(400, "version not found in the key ring")  # wording not certain
    try:
        data = base64.b64decode(str(body.get("input") or ""), validate=True)
    except (binascii.Error, ValueError):
        return _errors(400, "unable to decode input as base64")
    if _bool(body, "prehashed"):
        return _errors(400, "prehashed input is not supported by this emulator")
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    digest = {
        "sha2-224": hashes.SHA224(),
        "sha2-256": hashes.SHA256(),
        "sha2-384": hashes.SHA384(),
        "sha2-512": hashes.SHA512(),
    }[hash_name]
    pad: padding.AsymmetricPadding = (
        padding.PKCS1v15()
        if algorithm == "pkcs1v15"
        else padding.PSS(mgf=padding.MGF1(digest), salt_length=padding.PSS.MAX_LENGTH)
    )
    signature = entry[0].sign(data, pad, digest)
    return _json(
        200,
        envelope(
            {
                "signature": f"vault:v{version}:" + base64.b64encode(signature).decode("ascii"),
                "key_version": version,
            },
            mount_type="transit",
        ),
    )


def _export(key: _Key | None) -> Response:
    # path_export.go: only keys created or configured exportable can be exported. This
    # emulator never exports private keys (it refuses even exportable ones: stricter).
    if key is None:
        return _errors(404)
    if not key.exportable:
        return _errors(400, "private key material is not exportable")  # path_export.go
    return _errors(400, "this emulator does not export private keys")
