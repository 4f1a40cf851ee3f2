"""The Vault emulator's Transit engine, driven by hvac as against a real Vault.

The rules follow hashicorp/vault's builtin/logical/transit and keysutil/policy.go
(cited in box_secrets/emulator/_vault_transit.py).
"""

from __future__ import annotations

import base64
import os
import re
from typing import Any

import hvac
import hvac.exceptions
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from .helpers import vault_control

MSG = b"header.claims"


@pytest.fixture
def transit(vault) -> Any:  # type: ignore[no-untyped-def]
    vault.mount_transit("transit")
    return hvac.Client(url=vault.addr, token=vault.root_token).secrets.transit


@pytest.fixture
def name(transit) -> str:  # type: ignore[no-untyped-def]
    key = "k" + os.urandom(6).hex()
    transit.create_key(
        name=key, key_type="rsa-2048", exportable=False, allow_plaintext_backup=False
    )
    return key


def _sign(transit: Any, name: str, **options: Any) -> tuple[int, bytes]:
    out = transit.sign_data(
        name=name, hash_input=base64.b64encode(MSG).decode(), hash_algorithm="sha2-256", **options
    )
    match = re.fullmatch(r"vault:v(\d+):(.+)", out["data"]["signature"])
    assert match, out
    assert int(match.group(1)) == out["data"]["key_version"]
    return int(match.group(1)), base64.b64decode(match.group(2))


def _public(transit: Any, name: str, version: int) -> Any:
    pem = transit.read_key(name=name)["data"]["keys"][str(version)]["public_key"]
    return serialization.load_pem_public_key(pem.encode())


def test_read_shows_each_versions_public_key(transit, name: str) -> None:
    data = transit.read_key(name=name)["data"]
    assert data["type"] == "rsa-2048" and data["exportable"] is False
    assert data["latest_version"] == 1 and data["min_decryption_version"] == 1
    assert data["min_encryption_version"] == 0 and data["min_available_version"] == 0
    assert data["supports_signing"] is True
    assert data["keys"]["1"]["public_key"].startswith("-----BEGIN PUBLIC KEY-----")
    again = transit.create_key(name=name, key_type="rsa-4096")  # an upsert: unchanged
    assert again["data"]["type"] == "rsa-2048"


def test_a_missing_key_is_a_bare_404(transit) -> None:
    with pytest.raises(hvac.exceptions.InvalidPath):
        transit.read_key(name="nothing-here")


def test_the_default_signature_is_pss_not_pkcs1v15(transit, name: str) -> None:
    version, signature = _sign(transit, name)
    key = _public(transit, name, version)
    key.verify(
        signature,
        MSG,
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO),
        hashes.SHA256(),
    )
    with pytest.raises(InvalidSignature):
        key.verify(signature, MSG, padding.PKCS1v15(), hashes.SHA256())
    version, signature = _sign(transit, name, signature_algorithm="pkcs1v15", key_version=1)
    key.verify(signature, MSG, padding.PKCS1v15(), hashes.SHA256())


def test_a_pss_assertion_is_refused_by_box(transit, name: str, make_app) -> None:
    """A signer that forgets pkcs1v15 is caught: Box (the emulator) refuses the assertion."""
    from box_secrets import KeyRejectedError, TokenProvider
    from box_secrets.stores._config import BoxAppConfig

    app = make_app()
    pem = transit.read_key(name=name)["data"]["keys"]["1"]["public_key"]
    app.console.delete_key(app.client_id, app.kid)
    kid = app.console.add_key(app.client_id, pem)

    class ForgetfulSigner:
        key_id = kid

        def sign(self, message: bytes, algorithm: str) -> bytes:
            out = transit.sign_data(
                name=name, hash_input=base64.b64encode(message).decode(), key_version=1
            )
            return base64.b64decode(out["data"]["signature"].split(":", 2)[2])

        def public_key_pem(self) -> str:
            return str(pem)

    config = BoxAppConfig(
        client_id=app.client_id, client_secret=app.client_secret, enterprise_id=app.enterprise_id
    )
    provider = TokenProvider(config, base_url=app.base_url, signer=ForgetfulSigner())
    with pytest.raises(KeyRejectedError):
        provider.refresh()


def test_version_bounds_on_signing(transit, name: str) -> None:
    with pytest.raises(hvac.exceptions.InvalidRequest) as high:
        _sign(transit, name, key_version=2)
    assert "requested version for signing is higher than the latest key version" in str(high.value)
    transit.rotate_key(name=name)
    transit.update_key_configuration(name=name, min_encryption_version=2)
    with pytest.raises(hvac.exceptions.InvalidRequest) as low:
        _sign(transit, name, key_version=1)
    assert "less than the minimum encryption key version" in str(low.value)
    assert _sign(transit, name)[0] == 2  # no version: the latest
    with pytest.raises(hvac.exceptions.InvalidRequest, match="signing key not found"):
        _sign(transit, "missing")


def test_config_and_trim_follow_vaults_rules(transit, name: str) -> None:
    transit.rotate_key(name=name)
    transit.rotate_key(name=name)
    with pytest.raises(hvac.exceptions.InvalidRequest, match="latest key version is 3"):
        transit.update_key_configuration(name=name, min_encryption_version=4)
    with pytest.raises(hvac.exceptions.InvalidRequest, match="encryption version is not set"):
        transit.trim_key(name=name, min_version=2)
    transit.update_key_configuration(name=name, min_encryption_version=2)
    with pytest.raises(hvac.exceptions.InvalidRequest, match="must be greater than or equal"):
        transit.update_key_configuration(name=name, min_decryption_version=3)
    assert transit.read_key(name=name)["data"]["min_decryption_version"] == 1  # unchanged
    transit.update_key_configuration(name=name, min_encryption_version=3)
    with pytest.raises(hvac.exceptions.InvalidRequest, match="greater than minimum decryption"):
        transit.trim_key(name=name, min_version=2)
    transit.update_key_configuration(name=name, min_decryption_version=3)
    transit.trim_key(name=name, min_version=3)
    data = transit.read_key(name=name)["data"]
    assert sorted(data["keys"]) == ["3"] and data["min_available_version"] == 3
    with pytest.raises(hvac.exceptions.InvalidRequest, match="cannot be decremented"):
        transit.trim_key(name=name, min_version=2)


def test_exportable_switches_on_only_and_export_is_refused(transit, name: str) -> None:
    with pytest.raises(hvac.exceptions.InvalidRequest, match="not exportable"):
        transit.export_key(name=name, key_type="signing-key")
    transit.update_key_configuration(name=name, exportable=True)
    transit.update_key_configuration(name=name, exportable=False)
    assert transit.read_key(name=name)["data"]["exportable"] is True


def test_a_token_without_sign_capability_gets_403(vault, transit, name: str) -> None:
    token = vault_control(
        vault, "tokens", {"policies": [{"path": f"transit/keys/{name}", "capabilities": ["read"]}]}
    )["token"]
    client = hvac.Client(url=vault.addr, token=str(token)).secrets.transit
    assert client.read_key(name=name)["data"]["latest_version"] == 1
    with pytest.raises(hvac.exceptions.Forbidden):
        _sign(client, name)
