"""Keys that never leave AWS KMS or Vault Transit: signing, the whole lifecycle, and failures.

KMS runs on a moto server, Transit on the in-repo Vault emulator (through hvac),
Box on the Box emulator, all over real HTTP.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import jwt
import pytest

from box_secrets import errors
from box_secrets.signers import signer_for
from box_secrets.signers._uri import parse_signer_uri
from box_secrets.stores._reader import clear_cache
from box_secrets.tokens import TokenProvider
from box_secrets.tokens._assertion import BOX_AUDIENCE, build_assertion, new_jti

from .helpers import SIGNERS, make_signer_uri, make_store_uri, run_cli, vault_control
from .rotation_support import Rig, new_signer_rig

ROOT = Path(__file__).resolve().parent.parent


def _kms(moto: Any) -> Any:
    import boto3

    return boto3.Session().client("kms", endpoint_url=moto.url, region_name="us-east-1")


def _transit(vault: Any) -> Any:
    import hvac

    return hvac.Client(url=vault.addr, token=vault.root_token).secrets.transit


@pytest.fixture
def vault_server_openbao(openbao, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("VAULT_TOKEN", openbao.root_token)
    return openbao


@pytest.fixture(params=SIGNERS)
def signer_kind(request) -> str:  # type: ignore[no-untyped-def]
    return str(request.param)


@pytest.fixture
def signer_uri(signer_kind: str, request, vault, vault_token) -> str:  # type: ignore[no-untyped-def]
    moto = request.getfixturevalue("moto") if signer_kind == "aws-kms" else None
    return make_signer_uri(signer_kind, moto, vault)


def _material_uri(rig: Rig, role: str) -> str:
    snap = rig.snap()
    key = getattr(snap.record, role)
    return str(snap.materials[key.fingerprint].uri)  # type: ignore[union-attr]


def _key_state(request: Any, uri: str, vault: Any = None) -> str:
    """Where a key stands at home: a KMS KeyState, or a Transit version's fate."""
    parsed = parse_signer_uri(uri)
    if parsed.kind == "aws-kms":
        meta = _kms(request.getfixturevalue("moto")).describe_key(KeyId=parsed.key)
        return str(meta["KeyMetadata"]["KeyState"])
    data = _transit(vault or request.getfixturevalue("vault")).read_key(
        name=parsed.name, mount_point=parsed.mount
    )["data"]
    version = parsed.version or 0
    if str(version) not in data["keys"]:
        return "Trimmed"
    return "Enabled" if version >= (data["min_encryption_version"] or 0) else "Retired"


# -- signing ----------------------------------------------------------------------------------


def _one_key(kind: str, request: Any) -> str:
    """A signer URI for one new key made with the service's own client (not box-secrets')."""
    if kind == "aws-kms":
        moto = request.getfixturevalue("moto")
        key = _kms(moto).create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")
        return f"aws-kms://{key['KeyMetadata']['KeyId']}?endpoint_url={moto.url}&region=us-east-1"
    vault = request.getfixturevalue("vault")
    vault.mount_transit("transit")
    name = "k" + os.urandom(6).hex()
    _transit(vault).create_key(name=name, key_type="rsa-2048", mount_point="transit")
    return f"vault-transit://transit/{name}?addr={vault.addr}&version=1"


@pytest.mark.parametrize("algorithm", ["RS256", "RS384", "RS512"])
def test_signatures_verify_against_the_exported_public_key(
    signer_kind: str, algorithm: str, request, vault_token
) -> None:
    signer = signer_for(_one_key(signer_kind, request), "kid1")
    assertion = build_assertion(
        signer,
        client_id="abc",
        subject_type="enterprise",
        subject_id="1",
        exp=2_000_000_000,
        jti=new_jti(),
        algorithm=algorithm,
    )
    pem = signer.public_key_pem()
    claims = jwt.decode(assertion, pem, algorithms=[algorithm], audience=BOX_AUDIENCE)
    assert claims["iss"] == "abc" and jwt.get_unverified_header(assertion)["kid"] == "kid1"
    # and with cryptography directly, over the raw signing input
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    head, body, sig = assertion.split(".")
    digest = {"RS256": hashes.SHA256(), "RS384": hashes.SHA384(), "RS512": hashes.SHA512()}
    serialization.load_pem_public_key(pem.encode()).verify(  # type: ignore[union-attr]
        base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)),
        f"{head}.{body}".encode(),
        padding.PKCS1v15(),  # type: ignore[call-arg]
        digest[algorithm],  # type: ignore[call-arg]
    )


def test_signer_repr_and_errors_hold_no_secret(signer_kind: str, request, vault_token) -> None:
    signer = signer_for(_one_key(signer_kind, request), "kid1")
    assert "kid1" in repr(signer) and os.environ["VAULT_TOKEN"] not in repr(signer)


# -- the whole lifecycle ------------------------------------------------------------------------

_COMBOS = [
    ("aws-kms", "file"),
    ("vault-transit", "file"),
    ("aws-kms", "vault"),
    ("vault-transit", "aws"),
    # Transit and the KV store on a real OpenBao server, not the emulator.
    ("vault-transit", "openbao"),
]


@pytest.mark.parametrize(("kind", "backend"), _COMBOS)
def test_init_two_rotations_and_minting(
    kind: str, backend: str, tmp_path: Path, request, make_app, vault, vault_token
) -> None:
    moto = request.getfixturevalue("moto")
    if backend == "openbao":
        vault = request.getfixturevalue("vault_server_openbao")
        backend = "vault"
    store = make_store_uri(backend, tmp_path, moto, vault)
    rig = new_signer_rig(store, make_signer_uri(kind, moto, vault), make_app)
    assert rig.snap().record.active.signer_kind == kind
    first = _material_uri(rig, "active")
    assert rig.reader_token().access_token  # Box accepted an assertion KMS or Vault signed
    if kind == "aws-kms":
        alias = parse_signer_uri(rig.snap().record.signer).key
        target = _kms(moto).describe_key(KeyId=alias)["KeyMetadata"]["KeyId"]
        assert parse_signer_uri(first).key == target
    retired: list[str] = []
    for _ in range(2):
        old = rig.snap().record.active
        old_uri = _material_uri(rig, "active")
        assert rig.engine.advance(force=True).action == "staged"
        rig.check()
        assert rig.snap().record.pending.signer_kind == kind
        kid = rig.person_registers_pending()
        rig.engine.register(kid)
        assert rig.engine.advance().action == "promoted"
        rig.check()
        new_uri = _material_uri(rig, "active")
        assert new_uri != old_uri and _key_state(request, old_uri, vault) == "Enabled"  # overlap
        if kind == "aws-kms":
            target = _kms(moto).describe_key(KeyId=alias)["KeyMetadata"]["KeyId"]
            assert parse_signer_uri(new_uri).key == target  # the alias moved
        assert rig.reader_token().access_token
        rig.person_removes(old.key_id)
        outcome = rig.engine.advance()
        assert outcome.action == "retired"
        # Said as it happened: KMS disables and schedules deletion; Transit trims.
        said = "scheduled for deletion" if kind == "aws-kms" else "trimmed"
        assert said in outcome.message and "destroyed in the store" not in outcome.message
        rig.check()
        retired.append(old_uri)
        assert rig.reader_token().access_token
    for uri in retired:
        assert _key_state(request, uri, vault) in ("PendingDeletion", "Trimmed"), uri
    actions = [e.action for e in rig.snap().record.history]
    assert actions.count("disabled" if kind == "aws-kms" else "destroyed") == 2
    _assert_no_private_key_material(rig, tmp_path, backend)


def _assert_no_private_key_material(rig: Rig, tmp_path: Path, backend: str) -> None:
    texts = [json.dumps(rig.store.read_current_data())]
    if backend == "file":
        texts += [p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file()]
    described = json.dumps(rig.store.describe())
    for text in [*texts, described]:
        assert "PRIVATE KEY" not in text and "privateKey" not in text and "passphrase" not in text
    assert rig.store.stored_fingerprints() == set()


def test_abandoned_keys_are_never_staged_again(signer_uri: str, signer_kind: str, tmp_path, request, make_app, vault) -> None:  # fmt: skip
    moto = request.getfixturevalue("moto") if signer_kind == "aws-kms" else None
    rig = new_signer_rig(make_store_uri("file", tmp_path, moto, vault), signer_uri, make_app)
    rig.engine.advance(force=True)
    abandoned = _material_uri(rig, "pending")
    assert rig.engine.abandon().action == "abandoned"
    rig.check()
    # KMS disables it at once; Transit can only trim below the active version, later.
    assert _key_state(request, abandoned) == (
        "PendingDeletion" if signer_kind == "aws-kms" else "Enabled"
    )
    rig.engine.advance(force=True)
    assert _material_uri(rig, "pending") != abandoned
    rig.engine.register(rig.person_registers_pending(), verify=True)
    old = rig.snap().record.previous
    rig.person_removes(old.key_id)
    assert rig.engine.advance().action == "retired"
    assert _key_state(request, abandoned) in ("PendingDeletion", "Trimmed")
    rig.check()


def test_a_crash_after_the_key_is_made_reuses_it(tmp_path, request, make_app, vault) -> None:
    """KMS keeps the key being staged behind alias/NAME-pending: a rerun finds it."""
    from box_secrets._support import faults as _faults

    moto = request.getfixturevalue("moto")
    signer = make_signer_uri("aws-kms", moto, vault)
    rig = new_signer_rig(make_store_uri("file", tmp_path, moto, vault), signer, make_app)
    before = len(_kms(moto).list_keys()["Keys"])

    def crash(point: str) -> None:
        if point == "store.commit:before":
            raise _faults.SimulatedCrash(point)

    _faults.install(crash)
    try:
        with pytest.raises(_faults.SimulatedCrash):
            rig.engine.advance(force=True)
    finally:
        _faults.uninstall()
    assert rig.engine.advance(force=True).action == "staged"
    assert len(_kms(moto).list_keys()["Keys"]) == before + 1  # one key, not two
    rig.check()


# -- who imports what ---------------------------------------------------------------------------


def test_minting_imports_only_the_signers_sdk(
    signer_uri: str, signer_kind: str, tmp_path, request, make_app, vault
) -> None:
    moto = request.getfixturevalue("moto") if signer_kind == "aws-kms" else None
    rig = new_signer_rig(make_store_uri("file", tmp_path, moto, vault), signer_uri, make_app)
    code = (
        "import box_secrets, sys, json\n"
        f"box_secrets.access_token({rig.uri!r}, base_url={rig.base_url!r})\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    mods = set(json.loads(out.stdout.strip().splitlines()[-1]))
    wanted, unwanted = ("boto3", "hvac") if signer_kind == "aws-kms" else ("hvac", "boto3")
    assert wanted in mods and unwanted not in mods
    assert "box_sdk_gen" not in mods


# -- failures -----------------------------------------------------------------------------------


def _kms_rig_behind_proxy(tmp_path, request, make_app, vault) -> tuple[Rig, Any]:  # type: ignore[no-untyped-def]
    from .services import FaultProxy

    moto = request.getfixturevalue("moto")
    proxy = FaultProxy(moto.url)
    request.addfinalizer(proxy.stop)
    signer = f"aws-kms://alias/box-{os.urandom(6).hex()}?endpoint_url={proxy.url}&region=us-east-1"
    rig = new_signer_rig(make_store_uri("file", tmp_path, moto, vault), signer, make_app)
    return rig, proxy


_THROTTLED = ("ThrottlingException", "Rate exceeded")


def test_kms_throttling_is_retried_within_the_deadline(tmp_path, request, make_app, vault) -> None:
    rig, proxy = _kms_rig_behind_proxy(tmp_path, request, make_app, vault)
    clear_cache()
    provider = TokenProvider(rig.uri, base_url=rig.base_url, backoff_base=0.01)
    proxy.fail(2, 400, *_THROTTLED)
    assert provider.refresh().access_token
    assert proxy.pending() == 0  # both throttled answers were consumed, then KMS signed


def test_kms_throttling_past_the_deadline_is_one_clear_error(
    tmp_path, request, make_app, vault
) -> None:
    rig, proxy = _kms_rig_behind_proxy(tmp_path, request, make_app, vault)
    clear_cache()
    provider = TokenProvider(rig.uri, base_url=rig.base_url, max_attempts=3, backoff_base=0.01)
    proxy.fail(50, 400, *_THROTTLED)
    with pytest.raises(errors.SignerUnavailableError) as info:
        provider.refresh()
    assert "gave up signing the assertion after 3 attempts" in str(info.value)
    assert "ThrottlingException" in str(info.value)
    assert proxy.pending() == 47  # exactly three attempts reached the proxy


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("DisabledException", "is disabled or pending deletion"),
        ("KMSInvalidStateException", "is disabled or pending deletion"),
        ("AccessDeniedException", "needs the kms:* actions"),
        ("NotFoundException", "has no key"),
    ],
)
def test_kms_refusals_are_one_sentence_naming_the_key(
    code: str, words: str, tmp_path, request, make_app, vault
) -> None:
    # moto 5.2.5 signs even with a disabled key (AWS answers DisabledException), so
    # AWS's answers are injected in front of it.
    rig, proxy = _kms_rig_behind_proxy(tmp_path, request, make_app, vault)
    key_id = parse_signer_uri(_material_uri(rig, "active")).key
    clear_cache()
    proxy.fail(1, 400, code, "refused")
    with pytest.raises(errors.SignerError) as info:
        TokenProvider(rig.uri, base_url=rig.base_url).refresh()
    assert key_id in str(info.value) and words in str(info.value)
    assert not isinstance(info.value, errors.SignerUnavailableError)
    assert proxy.pending() == 0  # not retried


def test_transit_denied_and_sealed_are_reported_clearly(
    tmp_path, request, make_app, vault, vault_token, monkeypatch
) -> None:
    signer = make_signer_uri("vault-transit", None, vault)
    rig = new_signer_rig(make_store_uri("file", tmp_path, None, vault), signer, make_app)
    key = parse_signer_uri(signer)
    # A token that may read the store's file but not sign: 403.
    token = vault_control(vault, "tokens", {"policies": [{"path": "secret/*", "capabilities": ["read"]}]})["token"]  # fmt: skip
    monkeypatch.setenv("VAULT_TOKEN", str(token))
    clear_cache()
    with pytest.raises(errors.SignerError) as denied:
        TokenProvider(rig.uri, base_url=rig.base_url).refresh()
    assert "403" in str(denied.value) and f"{key.mount}/sign/{key.name}" in str(denied.value)
    assert str(token) not in str(denied.value)
    monkeypatch.setenv("VAULT_TOKEN", vault.root_token)
    signs = vault.state.transit["transit"].signatures
    vault_control(vault, "seal")
    try:
        clear_cache()
        with pytest.raises(errors.SignerUnavailableError) as sealed:
            TokenProvider(rig.uri, base_url=rig.base_url).refresh()
    finally:
        vault_control(vault, "unseal")
    assert "sealed" in str(sealed.value) and sealed.value.retry is False
    assert vault.state.transit["transit"].signatures == signs
    clear_cache()
    assert TokenProvider(rig.uri, base_url=rig.base_url).refresh().access_token


def test_transit_rate_limit_is_retried(tmp_path, request, make_app, vault, vault_token) -> None:
    signer = make_signer_uri("vault-transit", None, vault)
    rig = new_signer_rig(make_store_uri("file", tmp_path, None, vault), signer, make_app)
    name = parse_signer_uri(signer).name

    def signs() -> int:
        stats = json.loads(urllib.request.urlopen(f"{vault.addr}/_emulator/stats").read())
        return sum(n for route, n in stats.items() if f"transit/sign/{name}" in route)

    vault_control(vault, "faults", {"status": 429, "count": 2, "path": f"transit/sign/{name}"})
    clear_cache()
    before = signs()
    assert TokenProvider(rig.uri, base_url=rig.base_url, backoff_base=0.01).refresh().access_token
    # Both injected 429s were answered, then the third attempt signed: three requests.
    assert signs() - before == 3


def test_a_signer_store_refuses_a_downloaded_key_pair(signer_uri, signer_kind, tmp_path, request, make_app, vault) -> None:  # fmt: skip
    moto = request.getfixturevalue("moto") if signer_kind == "aws-kms" else None
    rig = new_signer_rig(make_store_uri("file", tmp_path, moto, vault), signer_uri, make_app)
    app = make_app()
    before = rig.snap().revision
    with pytest.raises(errors.InputError, match="cannot join it"):
        rig.engine.import_pending(app.config_for(app.key, app.kid))
    assert rig.snap().revision == before


@pytest.mark.parametrize(
    ("signer", "message"),
    [
        ("aws-kms://1234abcd-12ab-34cd-56ef-1234567890ab?region=us-east-1", "must name an alias"),
        ("vault-transit://transit/k?version=2", "drop version="),
        ("aws-kms://alias/x?region=mars", "not an AWS region"),
        ("aws-kms://alias/x?deletion_days=3", "from 7 to 30"),
        ("vault-transit://../k", "'..' path segments"),
        ("vault-transit://transit/%2e%2e", "Transit mount and key"),
        ("gcp-kms://x", "must start with aws-kms:// or vault-transit://"),
        ("aws-kms://alias/x?endpoint_url=http://example.com", "http"),
    ],
)
def test_init_refuses_a_bad_signer_and_writes_nothing(
    signer: str, message: str, tmp_path: Path
) -> None:
    store = tmp_path / "box.json"
    result = run_cli(
        "init",
        "--store",
        f"file://{store}",
        "--client-id",
        "abc",
        "--client-secret-env",
        "SECRET",
        "--enterprise-id",
        "1",
        "--signer",
        signer,
        env={"SECRET": "s3cret"},
    )
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not store.exists()


# -- the CLI ------------------------------------------------------------------------------------


def test_cli_init_status_register_with_a_signer(
    signer_uri: str, signer_kind: str, tmp_path: Path, make_app
) -> None:
    app = make_app()
    app.console.delete_key(app.client_id, app.kid)
    store = f"file://{tmp_path / 'box.json'}"
    env = {"SECRET": app.client_secret, "BOX_API_BASE_URL": app.base_url}
    init = run_cli(
        "init", "--store", store, "--client-id", app.client_id, "--client-secret-env", "SECRET",
        "--enterprise-id", app.enterprise_id, "--signer", signer_uri, env=env,
    )  # fmt: skip
    assert init.returncode == 3, init.stderr  # a person must register the key
    status = run_cli("status", "--store", store, env=env)
    assert status.returncode == 0, status.stderr
    assert f"held in {signer_kind}" in status.stdout
    pem = status.stdout.split("public key to register at Box:\n")[1].strip() + "\n"
    kid = app.console.add_key(app.client_id, pem)
    done = run_cli("register", "--store", store, "--public-key-id", kid, "--verify", env=env)
    assert done.returncode == 0, done.stderr
    shown = json.loads(run_cli("store", "show", "--store", store, "--json", env=env).stdout)
    assert shown["active"]["signer"] == signer_kind and shown["active"]["key_id"] == kid
    again = run_cli("init", "--store", store, "--signer", signer_uri, env=env)
    assert again.returncode == 0 and "already initialised" in again.stdout
    other = run_cli("init", "--store", store, "--signer", "aws-kms://alias/other", env=env)
    assert other.returncode == 2 and "signer cannot change" in other.stderr
    token = run_cli("token", "--store", store, env=env)
    assert token.returncode == 0, token.stderr
    text = (tmp_path / "box.json").read_text()
    assert "PRIVATE KEY" not in text and '"signer": "' in text


@pytest.mark.parametrize("where", ["https://vault.evil.example:8200", "http://127.0.0.2:8200"])
def test_a_store_cannot_send_the_vault_token_elsewhere(
    where: str, tmp_path, request, make_app, vault, vault_token, monkeypatch
) -> None:
    """A signer URI is read from the store: its writer must not redirect our Vault token."""
    signer = make_signer_uri("vault-transit", None, vault)
    rig = new_signer_rig(make_store_uri("file", tmp_path, None, vault), signer, make_app)
    path = Path(parse_store_path(rig.uri))
    data = json.loads(path.read_text())
    auth = data["boxAppSettings"]["appAuth"]
    auth["signer"] = auth["signer"].replace(f"addr={vault.addr}", f"addr={where}")
    path.write_text(json.dumps(data))
    if where.startswith("http://127."):
        monkeypatch.setenv("VAULT_ADDR", vault.addr)  # a loopback one, but not the configured
    clear_cache()
    with pytest.raises(errors.InputError) as refused:
        TokenProvider(rig.uri, base_url=rig.base_url).refresh()
    assert "sends credentials only to" in str(refused.value) and "VAULT_ADDR" in str(refused.value)
    assert vault_token not in str(refused.value)
    if not where.startswith("http://127."):
        return  # (tests never resolve a name outside loopback)
    monkeypatch.setenv("VAULT_ADDR", where)  # the operator decides to trust it: then it is used
    clear_cache()
    with pytest.raises(errors.SignerUnavailableError, match="cannot reach Vault"):
        TokenProvider(rig.uri, base_url=rig.base_url, max_attempts=1).refresh()


def test_a_store_cannot_send_kms_requests_elsewhere(tmp_path, request, make_app, vault) -> None:
    moto = request.getfixturevalue("moto")
    rig = new_signer_rig(
        make_store_uri("file", tmp_path, moto, vault),
        make_signer_uri("aws-kms", moto, vault),
        make_app,
    )
    path = Path(parse_store_path(rig.uri))
    text = path.read_text().replace(moto.url, "https://kms.evil.example")
    path.write_text(text)
    clear_cache()
    with pytest.raises(errors.InputError, match="AWS_ENDPOINT_URL_KMS"):
        TokenProvider(rig.uri, base_url=rig.base_url).refresh()


def parse_store_path(uri: str) -> str:
    from box_secrets.stores._uri import parse_store_uri

    return parse_store_uri(uri).location


# -- init uses what is there ----------------------------------------------------------------


def _init(rig_app: Any, store: str, signer: str) -> Any:
    from box_secrets.rotation import RotationEngine

    engine = RotationEngine(store, base_url=rig_app.base_url)
    return engine, engine.init(
        client_id=rig_app.client_id,
        client_secret=rig_app.client_secret,
        enterprise_id=rig_app.enterprise_id,
        signer=signer,
    )


def test_init_uses_the_kms_key_behind_an_existing_alias(tmp_path, request, make_app) -> None:
    moto = request.getfixturevalue("moto")
    kms = _kms(moto)
    key = kms.create_key(KeySpec="RSA_3072", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    alias = f"alias/existing-{os.urandom(4).hex()}"
    kms.create_alias(AliasName=alias, TargetKeyId=key)
    engine, outcome = _init(
        make_app(), f"file:{tmp_path / 'b.json'}", f"aws-kms://{alias}?endpoint_url={moto.url}"
    )
    assert outcome.action == "staged"
    pending = engine.store.load().record.pending
    der = kms.get_public_key(KeyId=key)["PublicKey"]
    from cryptography.hazmat.primitives import serialization

    from box_secrets.signers._keys import fingerprint_of

    assert pending.fingerprint == fingerprint_of(serialization.load_der_public_key(der))  # type: ignore[arg-type]
    assert pending.bits == 3072
    assert len(kms.list_keys()["Keys"]) >= 1  # and no second key was made for it
    assert kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"] == key


def test_init_uses_an_existing_transit_key(tmp_path, make_app, vault, vault_token) -> None:
    vault.mount_transit("transit")
    name = "existing" + os.urandom(4).hex()
    transit = _transit(vault)
    transit.create_key(name=name, key_type="rsa-2048")
    transit.rotate_key(name=name)
    engine, outcome = _init(
        make_app(),
        f"file:{tmp_path / 'b.json'}",
        f"vault-transit://transit/{name}?addr={vault.addr}",
    )
    assert outcome.action == "staged"
    snap = engine.store.load()
    assert snap.materials[snap.record.pending.fingerprint].uri.endswith("version=2")  # type: ignore[union-attr]
    assert transit.read_key(name=name)["data"]["latest_version"] == 2  # used, not rotated


@pytest.mark.parametrize("kind", ["kms-symmetric", "transit-aes", "transit-exportable"])
def test_init_refuses_a_key_that_cannot_be_a_signer(
    kind: str, tmp_path, request, make_app, vault, vault_token
) -> None:
    name = "bad" + os.urandom(4).hex()
    if kind == "kms-symmetric":
        moto = request.getfixturevalue("moto")
        key = _kms(moto).create_key()["KeyMetadata"]["KeyId"]
        _kms(moto).create_alias(AliasName=f"alias/{name}", TargetKeyId=key)
        signer, words = f"aws-kms://alias/{name}?endpoint_url={moto.url}", "cannot sign RS256"
    else:
        vault.mount_transit("transit")
        exportable = kind == "transit-exportable"
        _transit(vault).create_key(
            name=name, key_type="rsa-2048" if exportable else "aes256-gcm96", exportable=exportable
        )
        signer = f"vault-transit://transit/{name}?addr={vault.addr}"
        words = "is exportable" if exportable else "Box needs an RSA key"
    store = tmp_path / "b.json"
    with pytest.raises(errors.ConfigError, match=words):
        _init(make_app(), f"file:{store}", signer)
    assert not store.exists()  # refused before anything was written


# -- a crafted store cannot make a rotation destroy keys it did not create ---------------------


def _rotated_once(rig: Rig) -> str:
    """Stage, register and promote a second key; the previous key's signer URI."""
    assert rig.engine.advance(force=True).action == "staged"
    rig.engine.register(rig.person_registers_pending())
    assert rig.engine.advance().action == "promoted"
    return _material_uri(rig, "previous")


@pytest.mark.parametrize("owner", ["team", "another-app", "this-app"])
def test_retirement_refuses_a_kms_key_the_app_did_not_make(
    owner: str, tmp_path, request, make_app, vault
) -> None:
    moto = request.getfixturevalue("moto")
    rig = new_signer_rig(
        make_store_uri("file", tmp_path, moto, vault),
        make_signer_uri("aws-kms", moto, vault),
        make_app,
    )
    previous = parse_signer_uri(_rotated_once(rig)).key
    tags = {
        "team": [{"TagKey": "team", "TagValue": "payments"}],
        "another-app": [{"TagKey": "box-secrets:app", "TagValue": "someone-else"}],
        # Tagged for this app (by someone who may tag), but not the key the record holds.
        "this-app": [{"TagKey": "box-secrets:app", "TagValue": rig.client_id}],
    }[owner]
    kms = _kms(moto)
    foreign = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY", Tags=tags)["KeyMetadata"][
        "KeyId"
    ]
    path = Path(parse_store_path(rig.uri))
    path.write_text(path.read_text().replace(previous, foreign))
    clear_cache()
    rig.person_removes(rig.snap().record.previous.key_id)
    with pytest.raises(errors.SignerError, match="nothing was changed") as refused:
        rig.engine.advance()
    assert foreign in str(refused.value) and "\n" not in str(refused.value)
    for key in (foreign, previous):
        assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Enabled"
    assert kms.list_resource_tags(KeyId=foreign)["Tags"] == tags  # not even tagged


def test_retirement_refuses_to_trim_another_transit_key(
    tmp_path, make_app, vault, vault_token
) -> None:
    signer = make_signer_uri("vault-transit", None, vault)
    rig = new_signer_rig(make_store_uri("file", tmp_path, None, vault), signer, make_app)
    _rotated_once(rig)
    transit = _transit(vault)
    other = "other-" + os.urandom(4).hex()
    transit.create_key(name=other, key_type="rsa-2048", mount_point="transit")
    for _ in range(3):
        transit.rotate_key(name=other, mount_point="transit")
    path = Path(parse_store_path(rig.uri))
    data = json.loads(path.read_text())
    home = parse_signer_uri(data["boxSecrets"]["signer"])
    data["boxSecrets"]["signer"] = str(home.with_key(f"transit/{other}"))
    path.write_text(json.dumps(data))
    clear_cache()
    rig.person_removes(rig.snap().record.previous.key_id)
    with pytest.raises(errors.SignerError, match="nothing was changed"):
        rig.engine.advance()
    after = transit.read_key(name=other, mount_point="transit")["data"]
    assert sorted(after["keys"]) == ["1", "2", "3", "4"]
    assert after["min_decryption_version"] == 1 and after["min_available_version"] == 0
