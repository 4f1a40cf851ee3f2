"""The signer seam: a token minted by a signer the provider does not know, from a config
with no private key; and stores written by box-secrets 0.1 keep working."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from box_secrets import errors
from box_secrets.rotation._invariants import InvariantChecker
from box_secrets.signers import KeyMaterial, RSASigner, Signer, signer_for
from box_secrets.stores import open_store
from box_secrets.stores._config import BoxAppConfig
from box_secrets.tokens import TokenProvider

from .rotation_support import Collecting

FIXTURE = Path(__file__).parent / "fixtures" / "store-v0.1.json"


class ElsewhereSigner:
    """Stands for a key held elsewhere (KMS, Transit): the provider sees only this object."""

    def __init__(self, generated: Any, key_id: str) -> None:
        self._key = generated.key
        self._kid = key_id
        self.signed = 0

    @property
    def key_id(self) -> str:
        return self._kid

    def sign(self, message: bytes, algorithm: str) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        assert algorithm == "RS256"
        self.signed += 1
        return self._key.sign(message, padding.PKCS1v15(), hashes.SHA256())

    def public_key_pem(self) -> str:
        from box_secrets.signers._keys import public_pem_of

        return public_pem_of(self._key)


def _keyless(app: Any) -> BoxAppConfig:
    return BoxAppConfig.from_dict(
        {
            "boxAppSettings": {
                "clientID": app.client_id,
                "clientSecret": app.client_secret,
                "appAuth": {"publicKeyID": app.kid},
            },
            "enterpriseID": app.enterprise_id,
        }
    )


def test_a_config_without_a_private_key_is_valid(app) -> None:
    config = _keyless(app)
    assert config.uses_jwt and config.private_key_pem is None and config.fingerprint is None
    assert config.public_key_id == app.kid


def test_a_token_is_minted_through_a_given_signer(app) -> None:
    signer = ElsewhereSigner(app.key, app.kid)
    assert isinstance(signer, Signer)
    provider = TokenProvider(_keyless(app), base_url=app.base_url, signer=signer)
    tok = provider.get_token()
    assert tok.access_token and signer.signed == 1  # the emulator verified its signature
    assert provider.get_token() is tok  # cached: signing is rare


def test_a_wrong_signer_is_refused_by_box(app, keys) -> None:
    wrong = ElsewhereSigner(keys.stranger, app.kid)
    provider = TokenProvider(_keyless(app), base_url=app.base_url, signer=wrong)
    with pytest.raises(errors.KeyRejectedError):
        provider.get_token()


def test_without_key_or_signer_minting_says_what_is_missing(app) -> None:
    with pytest.raises(errors.ConfigError, match="no private key and no signer"):
        TokenProvider(_keyless(app), base_url=app.base_url).get_token()


def test_stored_material_becomes_a_signer(app) -> None:
    material = KeyMaterial(app.key.private_key_pem, app.key.passphrase)
    signer = signer_for(material, app.kid)
    assert isinstance(signer, RSASigner) and signer.key_id == app.kid
    assert signer.public_key_pem() == app.key.public_key_pem
    assert "PRIVATE" not in repr(material) and app.key.passphrase not in repr(material)


# -- a store written by box-secrets 0.1 -----------------------------------------------------


def _fill(template: Any, values: dict[str, str]) -> Any:
    if isinstance(template, dict):
        return {k: _fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, values) for v in template]
    if isinstance(template, str):
        for name, value in values.items():
            template = template.replace("{{" + name + "}}", value)
    return template


@pytest.mark.parametrize("state", ["staged", "overlap"])
def test_a_store_written_by_0_1_is_read_minted_from_and_rotated(
    state: str, app, keys, tmp_path: Path
) -> None:
    b = keys.other
    kid_b = app.console.add_key(app.client_id, b.public_key_pem) if state == "overlap" else ""
    values = {
        "CLIENT_ID": app.client_id,
        "CLIENT_SECRET": app.client_secret,
        "ENTERPRISE_ID": app.enterprise_id,
        "A_PEM": app.key.private_key_pem,
        "A_PASSPHRASE": app.key.passphrase,
        "A_FINGERPRINT": app.key.fingerprint,
        "A_PUBLIC": app.key.public_key_pem,
        "A_KID": app.kid,
        "B_PEM": b.private_key_pem,
        "B_PASSPHRASE": b.passphrase,
        "B_FINGERPRINT": b.fingerprint,
        "B_PUBLIC": b.public_key_pem,
        "B_KID": kid_b,
    }
    document = _fill(json.loads(FIXTURE.read_text())[state], values)
    path = tmp_path / "store.json"
    path.write_text(json.dumps(document, indent=2))
    path.chmod(0o600)
    uri = f"file://{path}"
    store = open_store(uri)
    assert InvariantChecker(store).check() == []
    active_kid = kid_b if state == "overlap" else app.kid
    assert store.read_current().public_key_id == active_kid
    assert TokenProvider(uri, base_url=app.base_url).get_token().access_token

    from box_secrets.rotation import RotationEngine

    engine = RotationEngine(uri, base_url=app.base_url, notifier=Collecting())
    if state == "staged":
        kid = app.console.add_key(app.client_id, b.public_key_pem)
        assert engine.register(kid, verify=True).action == "promoted"
    app.console.delete_key(app.client_id, app.kid)  # the person removes the old key
    assert engine.advance().action == "retired"
    assert engine.store.load().record.state == "active"
    assert InvariantChecker(engine.store).check() == []
    assert TokenProvider(uri, base_url=app.base_url).get_token().access_token
