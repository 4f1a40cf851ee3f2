"""Loading and saving the Developer Console config, in every key format Box and users have."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from box_secrets.errors import ConfigError
from box_secrets.stores._config import BoxAppConfig

from .helpers import pem_chunks


def console_json(key_pem: str, passphrase: str = "", **top: object) -> dict[str, object]:
    data: dict[str, object] = {
        "boxAppSettings": {
            "clientID": "abc123clientid",
            "clientSecret": "s3cr3t-client-value",
            "appAuth": {"publicKeyID": "k1d2e3f4", "privateKey": key_pem, "passphrase": passphrase},
        },
        "enterpriseID": "123456",
    }
    data.update(top)
    return data


def pem(key: rsa.RSAPrivateKey, fmt: serialization.PrivateFormat, passphrase: str = "") -> str:
    enc: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, fmt, enc).decode()


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    from .helpers import _POOL

    return _POOL.first.key


@pytest.mark.parametrize(
    "fmt,passphrase",
    [
        (serialization.PrivateFormat.PKCS8, "pass-phrase-1"),  # what Box issues
        (serialization.PrivateFormat.PKCS8, ""),
        (serialization.PrivateFormat.TraditionalOpenSSL, ""),  # PKCS#1
    ],
)
def test_loads_every_key_format(rsa_key, fmt, passphrase: str) -> None:
    cfg = BoxAppConfig.from_dict(console_json(pem(rsa_key, fmt, passphrase), passphrase))
    assert cfg.client_id == "abc123clientid" and cfg.public_key_id == "k1d2e3f4"
    assert cfg.enterprise_id == "123456" and cfg.uses_jwt
    assert cfg.private_key.key_size == 2048 and len(cfg.fingerprint or "") == 64


def test_unencrypted_key_ignores_a_passphrase(rsa_key) -> None:
    cfg = BoxAppConfig.from_dict(
        console_json(pem(rsa_key, serialization.PrivateFormat.PKCS8), "ignored")
    )
    assert cfg.uses_jwt


def test_key_is_parsed_once(rsa_key) -> None:
    cfg = BoxAppConfig.from_dict(
        console_json(pem(rsa_key, serialization.PrivateFormat.PKCS8, "pw"), "pw")
    )
    assert cfg.private_key is cfg.private_key


def test_save_round_trip_keeps_unknown_keys_and_format(rsa_key, tmp_path: Path) -> None:
    original = console_json(
        pem(rsa_key, serialization.PrivateFormat.PKCS8, "pw"),
        "pw",
        userID="998877",
        webhooks={"primaryKey": "x"},
    )
    original["boxAppSettings"]["futureField"] = 1  # type: ignore[index]
    cfg = BoxAppConfig.from_dict(original)
    path = tmp_path / "out.json"
    cfg.save(path)
    assert json.loads(path.read_text()) == original
    assert (path.stat().st_mode & 0o777) == 0o600
    assert cfg.extra == {"webhooks": {"primaryKey": "x"}}
    assert BoxAppConfig.from_file(path) == cfg


def test_box_sdk_gen_loads_what_we_save(rsa_key) -> None:
    from box_sdk_gen import JWTConfig
    from box_sdk_gen.internal.utils import DefaultPrivateKeyDecryptor

    cfg = BoxAppConfig.from_dict(
        console_json(pem(rsa_key, serialization.PrivateFormat.PKCS8, "pw"), "pw")
    )
    sdk = JWTConfig.from_config_json_string(cfg.to_json())
    assert (sdk.client_id, sdk.jwt_key_id, sdk.enterprise_id) == (
        "abc123clientid",
        "k1d2e3f4",
        "123456",
    )
    key = DefaultPrivateKeyDecryptor().decrypt_private_key(
        sdk.private_key, sdk.private_key_passphrase
    )
    assert key.private_numbers() == rsa_key.private_numbers()


def test_generated_keys_are_in_boxs_format() -> None:
    from .helpers import _POOL

    gen = _POOL.second
    assert gen.private_key_pem.splitlines()[0].endswith("BEGIN ENCRYPTED PRIVATE KEY-----")
    loaded = serialization.load_pem_private_key(
        gen.private_key_pem.encode(), gen.passphrase.encode()
    )
    assert isinstance(loaded, rsa.RSAPrivateKey)


def test_short_keys_refused() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(ConfigError, match="2048") as exc:
        BoxAppConfig.from_dict(console_json(pem(small, serialization.PrivateFormat.PKCS8)))
    assert exc.value.field == "boxAppSettings.appAuth.privateKey"


def test_non_rsa_key_refused() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    text = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with pytest.raises(ConfigError, match="not an RSA key"):
        BoxAppConfig.from_dict(console_json(text))


def test_wrong_passphrase_names_the_field_not_the_value(rsa_key) -> None:
    data = console_json(pem(rsa_key, serialization.PrivateFormat.PKCS8, "right-one"), "wrong-one")
    with pytest.raises(ConfigError) as exc:
        BoxAppConfig.from_dict(data)
    message = str(exc.value)
    assert "passphrase" in message and "wrong-one" not in message and "right-one" not in message


def test_every_wrong_passphrase_is_reported_as_one() -> None:
    """About one wrong passphrase in 256 decrypts to data that pads correctly and then
    fails as DER; that must still say "passphrase", not "not a valid PEM key" (it did
    not, and a CLI test failed once in a few hundred runs). 1,000 tries: ~98% to catch it."""
    from box_secrets.signers._keys import generate_key, load_private_key

    key = generate_key()
    for i in range(1000):
        with pytest.raises(ConfigError) as info:
            load_private_key(key.private_key_pem, f"wrong-{i}", validate=False)
        assert "passphrase" in str(info.value), (i, str(info.value))


def test_missing_passphrase_for_encrypted_key(rsa_key) -> None:
    data = console_json(pem(rsa_key, serialization.PrivateFormat.PKCS8, "pw"), "")
    with pytest.raises(ConfigError, match="passphrase is empty"):
        BoxAppConfig.from_dict(data)


@pytest.mark.parametrize(
    "mutate,field",
    [
        (lambda d: d.pop("boxAppSettings"), "boxAppSettings"),
        (lambda d: d["boxAppSettings"].pop("clientID"), "boxAppSettings.clientID"),
        (lambda d: d["boxAppSettings"].pop("clientSecret"), "boxAppSettings.clientSecret"),
        (
            lambda d: d["boxAppSettings"]["appAuth"].pop("publicKeyID"),
            "boxAppSettings.appAuth.publicKeyID",
        ),
        (
            lambda d: d["boxAppSettings"]["appAuth"].update(privateKey="garbage"),
            "boxAppSettings.appAuth.privateKey",
        ),
        (
            lambda d: d["boxAppSettings"]["appAuth"].update(privateKey=7),
            "boxAppSettings.appAuth.privateKey",
        ),
        (lambda d: d.pop("enterpriseID"), "enterpriseID"),
        (lambda d: d.update(enterpriseID=["1"]), "enterpriseID"),
        (lambda d: d["boxAppSettings"].update(clientID=" padded "), "boxAppSettings.clientID"),
    ],
)
def test_errors_name_the_field(rsa_key, mutate, field: str) -> None:
    data = console_json(pem(rsa_key, serialization.PrivateFormat.PKCS8, "pw"), "pw")
    mutate(data)
    with pytest.raises(ConfigError) as exc:
        BoxAppConfig.from_dict(data)
    assert field in str(exc.value)
    assert "s3cr3t-client-value" not in str(exc.value)


def test_user_only_config_and_numeric_enterprise(rsa_key) -> None:
    data = console_json(pem(rsa_key, serialization.PrivateFormat.PKCS8))
    data.pop("enterpriseID")
    data["userID"] = "555"
    assert BoxAppConfig.from_dict(data).user_id == "555"
    data["enterpriseID"] = 123
    assert BoxAppConfig.from_dict(data).enterprise_id == "123"


def test_ccg_config_without_app_auth() -> None:
    cfg = BoxAppConfig.from_dict(
        {"boxAppSettings": {"clientID": "c", "clientSecret": "s"}, "enterpriseID": "1"}
    )
    assert not cfg.uses_jwt
    with pytest.raises(ConfigError, match="Client Credentials"):
        _ = cfg.private_key


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        BoxAppConfig.from_file(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        BoxAppConfig.from_file(bad)
    unreadable = tmp_path / "locked.json"
    unreadable.write_text("{}")
    unreadable.chmod(0)
    if os.geteuid() != 0:  # root reads anything
        with pytest.raises(ConfigError, match="cannot be read"):
            BoxAppConfig.from_file(unreadable)


def test_repr_shows_no_secret(rsa_key) -> None:
    text = pem(rsa_key, serialization.PrivateFormat.PKCS8, "the-passphrase")
    cfg = BoxAppConfig.from_dict(console_json(text, "the-passphrase"))
    shown = repr(cfg) + str(cfg)
    for secret in ["s3cr3t-client-value", "the-passphrase", *pem_chunks(text)]:
        assert secret not in shown
    assert "abc123clientid" in shown


def test_rfc3339_without_datetime_matches_datetime() -> None:
    """box_secrets._support.times parses its own format by hand (no datetime import at every plan)."""
    import datetime
    import random

    from box_secrets._support.times import parse_rfc3339, rfc3339

    rng = random.Random(7)
    for ts in [
        0,
        951782400,
        4107542399,
        *(rng.randint(-2_000_000_000, 8_000_000_000) for _ in range(2000)),
    ]:
        text = rfc3339(ts)
        assert text == datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        assert parse_rfc3339(text) == ts
    for bad in ("2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-01T24:00:00Z", "nope"):
        with pytest.raises(ValueError):
            parse_rfc3339(bad)
    assert parse_rfc3339("2024-02-29T00:00:00Z") == 1709164800
    assert parse_rfc3339("2026-11-28T13:00:00+01:00") == parse_rfc3339("2026-11-28T12:00:00Z")
