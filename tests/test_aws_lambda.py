"""The Lambda handler against a moto server and the Box emulator, over real HTTP.

Secrets Manager's rotation protocol with a person in the middle, each step
repeated, interrupted and crashed; scheduled, register and status events on
every backend; bad events. After each run the invariants hold and
``AWSCURRENT`` loads in box-sdk-gen.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from box_secrets import errors
from box_secrets._support import faults as _faults
from box_secrets.aws_lambda import handler

from .helpers import BACKENDS, make_store_uri, pem_chunks
from .lambda_support import aws, holder, labels, rotation_function, start_rotation
from .rotation_support import Rig, new_rig


def _secret(rig: Rig) -> str:
    return rig.uri.removeprefix("aws-sm://").partition("?")[0]


def _step(step: str, secret: str, token: str, **extra: Any) -> dict[str, Any]:
    return handler({"Step": step, "SecretId": secret, "ClientRequestToken": token, **extra}, None)


def _lines(logs: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in logs.getvalue().splitlines()]


def _step_lines(logs: io.StringIO) -> list[dict[str, Any]]:
    return [line for line in _lines(logs) if "step" in line]


def _secrets_of(rig: Rig, app: Any) -> list[str]:
    out = [app.client_secret]
    for material in rig.snap().materials.values():
        out += [material.passphrase, *pem_chunks(material.pem)]
    return out


@pytest.fixture
def aws_rig(moto, make_app, tmp_path, env, monkeypatch) -> tuple[Rig, Any]:
    app = make_app()
    rig = new_rig(make_store_uri("aws", tmp_path, moto, None), lambda: app)
    monkeypatch.setenv("BOX_SECRETS_STORES", rig.uri)  # the store this function serves
    return rig, app


def test_rotation_with_a_person_in_the_middle(aws_rig, moto, logs) -> None:
    rig, app = aws_rig
    secret, old_key = _secret(rig), rig.store.read_current().fingerprint
    token = start_rotation(moto.url, secret)
    rotation_token = "rt-" + "5" * 40  # a credential: passed on, never logged

    assert _step("createSecret", secret, token, RotationToken=rotation_token)["outcome"] == "staged"
    assert _step("createSecret", secret, token)["outcome"] == "nothing"  # idempotent
    pending = rig.snap().record.pending
    assert pending is not None and pending.slot == token and pending.key_id is None
    assert holder(moto.url, secret, "AWSPENDING") == token  # the placeholder was adopted
    rig.check()

    assert _step("setSecret", secret, token)["outcome"] == "notified"
    assert _step("setSecret", secret, token)["outcome"] == "waiting"  # once per interval
    notices = [line for line in _lines(logs) if line.get("event") == "notification"]
    assert len(notices) == 1 and "BEGIN PUBLIC KEY" in notices[0]["notice"]["public_key_pem"]

    for step in ("testSecret", "finishSecret"):
        with pytest.raises(errors.PersonNeededError) as waiting:
            _step(step, secret, token)
        assert str(waiting.value) == (
            f"awaiting registration of key {pending.fingerprint} in the Box Developer Console"
        )
        assert len(_package_frames(waiting.value)) <= 2  # handler and one helper: no storm
    last = _step_lines(logs)[-1]
    assert last["level"] == "WARNING" and last["outcome"] == "person-needed"
    assert rig.store.read_current().fingerprint == old_key  # nothing promoted yet
    old_version = holder(moto.url, secret, "AWSCURRENT")

    kid = rig.person_registers_pending()
    rig.engine.register(kid)  # what `box-secrets register` does
    rig.check()
    assert holder(moto.url, secret, "AWSPENDING") == token
    for _ in range(2):
        assert _step("testSecret", secret, token)["outcome"] == "verified"
    assert _step("finishSecret", secret, token)["outcome"] == "promoted"
    for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        assert _step(step, secret, token)["outcome"] == "nothing"  # a finished rotation
    assert labels(moto.url, secret)[token] == ["AWSCURRENT"]  # no AWSPENDING left behind
    assert labels(moto.url, secret)[old_version] == ["AWSPREVIOUS"]
    assert rig.store.read_current().public_key_id == kid
    rig.check()
    rig.active_works_with_box_sdk_gen()
    text = logs.getvalue()
    for value in [*_secrets_of(rig, app), rotation_token]:
        assert value not in text


def _package_frames(exc: BaseException) -> list[str]:
    frames, tb = [], exc.__traceback__
    while tb is not None:
        if "/box_secrets/" in tb.tb_frame.f_code.co_filename:
            frames.append(tb.tb_frame.f_code.co_name)
        tb = tb.tb_next
    assert exc.__cause__ is None and exc.__suppress_context__
    return frames


def test_register_event_finishes_the_rotation(aws_rig, moto, logs) -> None:
    rig, _app = aws_rig
    secret = _secret(rig)
    token = start_rotation(moto.url, secret)
    _step("createSecret", secret, token)
    _step("setSecret", secret, token)
    old_version = holder(moto.url, secret, "AWSCURRENT")
    kid = rig.person_registers_pending()
    result = handler(
        {"action": "register", "public_key_id": kid, "store": f"aws-sm://{secret}"}, None
    )
    assert result["stores"][0]["action"] == "promoted"
    assert labels(moto.url, secret) == {token: ["AWSCURRENT"], old_version: ["AWSPREVIOUS"]}
    # Secrets Manager retrying the attempt now finds it finished.
    for step in ("testSecret", "finishSecret"):
        assert _step(step, secret, token)["outcome"] == "nothing"
    rig.check()
    rig.active_works_with_box_sdk_gen()


def test_interrupted_rotation_resumes_under_a_new_token_with_the_same_key(
    aws_rig, moto, logs
) -> None:
    rig, _app = aws_rig
    secret = _secret(rig)
    first = start_rotation(moto.url, secret)
    _step("createSecret", secret, first)
    with pytest.raises(errors.PersonNeededError):
        _step("testSecret", secret, first)
    pending = rig.snap().record.pending
    assert pending is not None
    kid = rig.person_registers_pending()  # the person pasted the key meanwhile
    rig.engine.register(kid)
    second = start_rotation(moto.url, secret)  # the failed attempt is retried as a new one
    assert _step("createSecret", secret, second)["outcome"] == "reused"
    again = rig.snap().record.pending
    assert again is not None and again.fingerprint == pending.fingerprint  # no second key
    assert holder(moto.url, secret, "AWSPENDING") == second
    rig.check()
    assert _step("testSecret", secret, second)["outcome"] == "verified"
    assert _step("finishSecret", secret, second)["outcome"] == "promoted"
    assert holder(moto.url, secret, "AWSCURRENT") == second
    assert holder(moto.url, secret, "AWSPENDING") is None
    rig.check()
    rig.active_works_with_box_sdk_gen()


def test_a_stale_awspending_is_cleared(aws_rig, moto) -> None:
    rig, _app = aws_rig
    secret = _secret(rig)
    sm = aws("secretsmanager", moto.url)
    # A failed rotation from before box-secrets left AWSPENDING on a real version.
    current = sm.get_secret_value(SecretId=secret, VersionStage="AWSCURRENT")["SecretString"]
    sm.put_secret_value(
        SecretId=secret,
        ClientRequestToken="5ea1e000-0000-4000-8000-000000000001",
        SecretString=current,
        VersionStages=["AWSPENDING"],
    )
    result = handler({"stores": [f"aws-sm://{secret}"]}, None)
    assert result["stores"][0]["ok"] is True
    assert holder(moto.url, secret, "AWSPENDING") is None
    # An abandoned attempt: finishSecret drops its AWSPENDING and fails loudly.
    token = start_rotation(moto.url, secret)
    _step("createSecret", secret, token)
    rig.engine.abandon()
    with pytest.raises(errors.InvalidTransitionError, match="abandoned"):
        _step("finishSecret", secret, token)
    assert holder(moto.url, secret, "AWSPENDING") is None
    rig.check()


def _versions(moto_url: str, secret: str) -> Any:
    sm = aws("secretsmanager", moto_url)
    return sm.list_secret_version_ids(SecretId=secret, IncludeDeprecated=True)["Versions"]


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ("not an object", "must be a JSON object"),
        ({"Step": "rotateNow", "SecretId": "x", "ClientRequestToken": "t" * 36}, "unknown"),
        ({"Step": "createSecret", "ClientRequestToken": "t" * 36}, "no SecretId"),
        ({"Step": "createSecret", "SecretId": "x"}, "no ClientRequestToken"),
        ({"Step": "createSecret", "SecretId": "x", "ClientRequestToken": "short"}, "32 to 64"),
        ({"action": "explode"}, "unknown action"),
        ({"action": "register", "store": "file:x.json"}, "no public_key_id"),
        ({"action": "register", "public_key_id": "a b", "store": "file:x"}, "key ID"),
        ({"stores": "file:x.json"}, "must be a list"),
        ({"stores": []}, "must be a list"),
        ({"action": "status"}, "BOX_SECRETS_STORE"),
        ({"detail": "something else"}, "not one box-secrets handles"),
    ],
)
def test_malformed_events(event: Any, message: str, logs, monkeypatch) -> None:
    monkeypatch.delenv("BOX_SECRETS_STORE", raising=False)
    with pytest.raises(errors.InputError, match=message) as raised:
        handler(event, None)
    assert "\n" not in str(raised.value)
    assert _step_lines(logs)[-1]["outcome"] == "bad-event"


def test_events_the_secret_refuses_change_nothing(aws_rig, moto, logs) -> None:
    rig, _app = aws_rig
    secret = _secret(rig)
    before = _versions(moto.url, secret)
    token = "d15ab1ed-0000-4000-8000-000000000001"
    with pytest.raises(errors.InputError, match="rotation is not enabled"):
        _step("createSecret", secret, token)
    start_rotation(moto.url, secret)
    with pytest.raises(errors.InputError, match="not a version"):
        _step("createSecret", secret, token)
    current = holder(moto.url, secret, "AWSCURRENT")
    assert current is not None
    assert _step("createSecret", secret, current)["outcome"] == "nothing"  # a finished rotation
    sm = aws("secretsmanager", moto.url)
    sm.create_secret(Name=f"{secret}-plain", SecretString="not a Box config")
    plain_token = start_rotation(moto.url, f"{secret}-plain")
    with pytest.raises(errors.StoreCorruptError):
        _step("createSecret", f"{secret}-plain", plain_token)
    assert rig.snap().record.pending is None
    after = [v for v in _versions(moto.url, secret) if v["VersionId"] != current]
    assert len(after) == len(before)  # only rotate_secret's placeholder was added
    failed = _step_lines(logs)[-1]
    assert failed["level"] == "ERROR" and failed["outcome"] == "failed"


@pytest.mark.parametrize("step", ["createSecret", "finishSecret"])
def test_crash_inside_a_step_then_retry_converges(step: str, aws_rig, moto) -> None:
    """Kill the step at its 1st, 2nd, ... crash point in turn; every retry converges."""
    rig, _app = aws_rig
    secret = _secret(rig)
    token = start_rotation(moto.url, secret)
    if step == "finishSecret":
        _step("createSecret", secret, token)
        rig.engine.register(rig.person_registers_pending())
    crashes = 0
    for nth in range(1, 40):
        seen = [0]

        def hook(point: str, nth: int = nth, seen: list[int] = seen) -> None:
            seen[0] += 1
            if seen[0] == nth:
                raise _faults.SimulatedCrash(point)

        _faults.install(hook)
        try:
            _step(step, secret, token)
        except _faults.SimulatedCrash:
            crashes += 1
            rig.check()
            continue
        finally:
            _faults.uninstall()
        break
    assert crashes >= 3, "the step passed too few crash points to prove anything"
    rig.check()
    if step == "createSecret":
        assert holder(moto.url, secret, "AWSPENDING") == token
        rig.engine.register(rig.person_registers_pending())
        _step("finishSecret", secret, token)
    assert holder(moto.url, secret, "AWSCURRENT") == token
    assert holder(moto.url, secret, "AWSPENDING") is None
    rig.check()
    rig.active_works_with_box_sdk_gen()


@pytest.mark.parametrize("kind", BACKENDS)
def test_scheduled_event_advances_every_store(
    kind, make_app, tmp_path, moto, vault, vault_token, env, logs, monkeypatch
) -> None:
    app = make_app()
    rig = new_rig(make_store_uri(kind, tmp_path, moto, vault), lambda: app)
    rig.engine.advance(force=True)  # a key waits for a person
    missing = f"file:{tmp_path / 'nothing-here.json'}"
    monkeypatch.setenv("BOX_SECRETS_STORES", f"{rig.uri}\n{missing}")
    with pytest.raises(errors.BoxSecretsError, match="1 of 2 store"):
        handler({"stores": [rig.uri, missing]}, None)
    lines = _step_lines(logs)
    good = next(line for line in lines if line.get("store") == rig.uri)
    bad = next(line for line in lines if line.get("store") == missing)
    assert good["level"] == "INFO" and bad["level"] == "ERROR"
    metrics = [line for line in _lines(logs) if "_aws" in line and line["Store"] == rig.uri]
    assert metrics[-1]["PersonNeeded"] == 1 and metrics[-1]["RotationErrors"] == 0
    assert metrics[-1]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "BoxSecrets"

    result = handler({"stores": [rig.uri]}, None)
    summary = result["stores"][0]
    assert summary["ok"] and summary["person_needed"] and summary["state"] == "staged"
    status = handler({"action": "status", "stores": [rig.uri]}, None)["stores"][0]["status"]
    assert status["pending"]["fingerprint_sha256"] == rig.snap().record.pending.fingerprint
    kid = rig.person_registers_pending()
    registered = handler({"action": "register", "public_key_id": kid, "store": rig.uri}, None)
    assert registered["stores"][0]["action"] == "promoted"
    rig.check()
    rig.active_works_with_box_sdk_gen()
    text = logs.getvalue()
    for value in _secrets_of(rig, app):
        assert value not in text


def test_rule_events_use_the_environment_store(tmp_path, make_app, env, monkeypatch) -> None:
    app = make_app()
    rig = new_rig(make_store_uri("file", tmp_path, None, None), lambda: app)
    monkeypatch.setenv("BOX_SECRETS_STORE", rig.uri)
    rule_event = {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}
    result = handler(rule_event, None)
    assert result["stores"][0]["store"] == rig.uri and result["stores"][0]["action"] == "nothing"


# -- end to end through RotateSecret, with moto relaying each invocation here ---------


@pytest.fixture(scope="module")
def relayed_moto():  # type: ignore[no-untyped-def]
    from .lambda_support import Relay
    from .services import MotoServer

    relay = Relay()
    server = MotoServer(invoke_url=relay.url)
    server.relay = relay  # type: ignore[attr-defined]
    yield server
    server.stop()
    relay.stop()


def test_two_rotations_through_rotate_secret(relayed_moto, make_app, tmp_path, env, monkeypatch):  # type: ignore[no-untyped-def]
    moto, relay = relayed_moto, relayed_moto.relay
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.url)
    app = make_app()
    rig = new_rig(make_store_uri("aws", tmp_path, moto, None), lambda: app)
    monkeypatch.setenv("BOX_SECRETS_STORES", rig.uri)
    secret = _secret(rig)
    sm = aws("secretsmanager", moto.url)

    def rotate() -> list[tuple[str, str]]:
        relay.calls.clear()
        from .lambda_support import rotation_function

        sm.rotate_secret(
            SecretId=secret,
            RotationLambdaARN=rotation_function(moto.url),
            RotationRules={"AutomaticallyAfterDays": 30},
        )
        return list(relay.calls)

    waiting = [
        ("createSecret", "staged"),
        ("setSecret", "notified"),
        ("testSecret", "PersonNeededError"),  # AWS stops the attempt here
    ]
    assert rotate() == waiting
    first = holder(moto.url, secret, "AWSPENDING")
    kid = rig.person_registers_pending()
    handler({"action": "register", "public_key_id": kid, "store": f"aws-sm://{secret}"}, None)
    assert holder(moto.url, secret, "AWSCURRENT") == first
    rig.check()
    rig.active_works_with_box_sdk_gen()

    rig.person_removes(app.kid)  # the person removes the old key at Box
    assert rotate() == waiting  # createSecret retired the old key, then staged a new one
    assert rig.snap().record.previous is None
    rig.engine.register(rig.person_registers_pending())  # `box-secrets register`
    # Secrets Manager tries again (moto starts a new attempt; AWS retries the same one):
    assert rotate() == [
        ("createSecret", "reused"),
        ("setSecret", "nothing"),
        ("testSecret", "verified"),
        ("finishSecret", "promoted"),
    ]
    current = holder(moto.url, secret, "AWSCURRENT")
    assert current not in (None, first) and holder(moto.url, secret, "AWSPENDING") is None
    assert holder(moto.url, secret, "AWSPREVIOUS") == first
    rig.check()
    rig.active_works_with_box_sdk_gen()


def test_a_failing_webhook_leaves_no_address_in_the_logs(aws_rig, moto, logs, monkeypatch) -> None:
    rig, _app = aws_rig
    secret = _secret(rig)
    hook = "http://127.0.0.1:9/hooks/T0PSECRETPATH?token=Q5SECRETQUERY"
    monkeypatch.setenv("BOX_SECRETS_NOTIFY", hook)
    token = start_rotation(moto.url, secret)
    _step("createSecret", secret, token)
    with pytest.raises(errors.NotifyError) as failed:
        _step("setSecret", secret, token)
    text = logs.getvalue() + str(failed.value)
    assert "T0PSECRETPATH" not in text and "Q5SECRETQUERY" not in text
    assert _step_lines(logs)[-1]["level"] == "ERROR"
    rig.check()


def test_remind_asks_once_and_retires_a_key_box_refuses(aws_rig, moto, logs) -> None:
    """The Secrets Manager module's daily event: remind, retire, never stage."""
    rig, app = aws_rig
    event = {"action": "remind", "stores": [rig.uri]}
    assert handler(event, None)["stores"][0]["action"] == "nothing"  # nobody is needed
    rig.engine.stage(notify=False)
    assert handler(event, None)["stores"][0]["action"] == "notified"
    assert handler(event, None)["stores"][0]["action"] == "waiting"  # once per interval
    rig.engine.register(rig.person_registers_pending())
    rig.engine.promote()
    assert handler(event, None)["stores"][0]["action"] in ("reminded", "waiting")
    rig.person_removes(app.kid)
    assert handler(event, None)["stores"][0]["action"] == "retired"
    assert handler(event, None)["stores"][0]["action"] == "nothing"
    assert rig.snap().record.pending is None  # it never staged a key
    rig.check()


def test_vault_from_lambda_logs_in_with_iam_by_default(
    make_app, vault, vault_token, tmp_path, env, logs, monkeypatch
) -> None:
    """No VAULT_TOKEN in the function: the store logs in with the function's AWS identity."""
    from .helpers import vault_control

    app = make_app()
    uri = f"vault://secret/box/iam-{app.client_id[:10]}?addr={vault.addr}"
    new_rig(uri, lambda: app)  # set up with the root token, as an operator would
    path = uri.removeprefix("vault://secret/").partition("?")[0]
    rules = [
        {"path": f"secret/{kind}/{path}", "capabilities": ["create", "read", "update"]}
        for kind in ("data", "metadata")
    ]
    vault_control(vault, "aws", {"role": "box-secrets-rotation", "policies": rules})
    monkeypatch.delenv("VAULT_TOKEN")
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.vault-token either
    monkeypatch.setenv("BOX_SECRETS_VAULT_ROLE", "box-secrets-rotation")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDLAMBDAROLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "lambda-role-secret")
    monkeypatch.setenv("BOX_SECRETS_STORES", uri)
    status = handler({"action": "status", "stores": [uri]}, None)["stores"][0]["status"]
    assert status["state"] == "active" and status["active"]["key_id"] == app.kid
    monkeypatch.setenv("BOX_SECRETS_VAULT_ROLE", "no-such-role")
    with pytest.raises(errors.BoxSecretsError, match="1 of 1 store"):
        handler({"action": "status", "stores": [uri]}, None)


def test_secrets_manager_rotation_with_the_keys_in_kms(moto, make_app, tmp_path, env, vault) -> None:  # fmt: skip
    """Secrets Manager's protocol over a store whose keys live in KMS: the secret's versions
    carry key references, never a private key, and the alias follows the promotion."""
    from .helpers import make_signer_uri
    from .rotation_support import new_signer_rig

    signer = make_signer_uri("aws-kms", moto, vault)
    rig = new_signer_rig(make_store_uri("aws", tmp_path, moto, None), signer, make_app)
    secret = _secret(rig)
    token = start_rotation(moto.url, secret)
    assert _step("createSecret", secret, token)["outcome"] == "staged"
    pending = rig.snap().record.pending
    assert pending is not None and pending.signer_kind == "aws-kms"
    with pytest.raises(errors.PersonNeededError):
        _step("testSecret", secret, token)
    rig.engine.register(rig.person_registers_pending())
    assert _step("testSecret", secret, token)["outcome"] == "verified"
    assert _step("finishSecret", secret, token)["outcome"] == "promoted"
    assert labels(moto.url, secret)[token] == ["AWSCURRENT"]
    rig.check()
    active = rig.snap().materials[rig.snap().record.active.fingerprint].uri  # type: ignore[union-attr]
    kms = aws("kms", moto.url)
    alias = signer.split("://")[1].split("?")[0]
    assert kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"] in active
    assert rig.reader_token().access_token
    sm = aws("secretsmanager", moto.url)
    for version in sm.list_secret_version_ids(SecretId=secret, IncludeDeprecated=True)["Versions"]:
        value = sm.get_secret_value(SecretId=secret, VersionId=version["VersionId"])
        text = value.get("SecretString") or ""
        assert "PRIVATE KEY" not in text and "passphrase" not in text


def _rotation_configured(moto_url: str, secret: str) -> Any:
    """RotateSecret with RotateImmediately=false, as the Terraform module sends it."""
    sm = aws("secretsmanager", moto_url)
    sm.rotate_secret(
        SecretId=secret,
        RotationLambdaARN=rotation_function(moto_url),
        RotationRules={"AutomaticallyAfterDays": 30},
        RotateImmediately=False,
    )
    # moto 5.2.5 adds an AWSPENDING placeholder even with RotateImmediately=False; AWS does
    # not (its test version is the one below): take moto's away, as AWS never made it.
    for version, stages in labels(moto_url, secret).items():
        if "AWSPENDING" in stages:
            sm.update_secret_version_stage(
                SecretId=secret, VersionStage="AWSPENDING", RemoveFromVersionId=version
            )
    return sm


def _configuration_test(sm: Any, secret: str, token: str) -> dict[str, Any]:
    """What AWS then runs: an AWSPENDING version, testSecret on it, the label removed."""
    current = sm.get_secret_value(SecretId=secret, VersionStage="AWSCURRENT")["SecretString"]
    sm.put_secret_value(
        SecretId=secret,
        ClientRequestToken=token,
        SecretString=current,
        VersionStages=["AWSPENDING"],
    )
    try:
        return _step("testSecret", secret, token)
    finally:
        sm.update_secret_version_stage(
            SecretId=secret, VersionStage="AWSPENDING", RemoveFromVersionId=token
        )


def test_the_rotation_configuration_test_is_a_health_check(aws_rig, moto, logs) -> None:
    """AWS (RotateSecret, RotateImmediately): "Secrets Manager tests the rotation
    configuration by running the testSecret step of the Lambda rotation function.
    The test creates an AWSPENDING version of the secret and then removes it."
    """
    rig, _app = aws_rig
    secret = _secret(rig)
    sm = _rotation_configured(moto.url, secret)
    labels_before = labels(moto.url, secret)
    before = rig.snap()
    result = _configuration_test(sm, secret, "c0f1c0f1-0000-4000-8000-000000000001")
    assert result["outcome"] == "tested" and result["person_needed"] is False
    assert "configuration test" in result["message"]
    assert rig.snap().record.active.key_id in result["message"]
    line = _step_lines(logs)[-1]
    assert line["level"] == "INFO" and line["outcome"] == "tested" and line["message"]
    metrics = [x for x in _lines(logs) if "_aws" in x]
    assert metrics[-1]["RotationErrors"] == 0 and metrics[-1]["PersonNeeded"] == 0
    after = rig.snap()
    assert after.revision == before.revision and after.record.history == before.record.history
    assert labels(moto.url, secret) == labels_before
    rig.check()


def test_the_configuration_test_fails_loudly_when_box_refuses_the_key(aws_rig, moto, logs) -> None:
    rig, app = aws_rig
    secret = _secret(rig)
    sm = _rotation_configured(moto.url, secret)
    rig.person_removes(app.kid)  # the active key no longer works at Box
    with pytest.raises(errors.KeyRejectedError):
        _configuration_test(sm, secret, "c0f1c0f1-0000-4000-8000-000000000002")
    assert _step_lines(logs)[-1]["level"] == "ERROR"


def test_the_status_log_line_says_where_the_store_stands(aws_rig, logs) -> None:
    rig, _app = aws_rig
    handler({"action": "status", "store": rig.uri}, None)
    line = _step_lines(logs)[-1]
    assert line["step"] == "status" and line["message"].startswith("active: ")
    assert line["fingerprints"]["active"] == rig.snap().record.active.fingerprint


def test_status_dates_the_active_key_from_its_activation(aws_rig, moto) -> None:
    from .helpers import run_cli

    rig, app = aws_rig
    rig.engine.advance(force=True)
    rig.clock.advance(2 * 86400)  # the person registers it two days later
    rig.engine.register(rig.person_registers_pending())
    rig.engine.advance()
    active = rig.snap().record.active
    assert active.activated_at and active.activated_at > active.created_at
    proc = run_cli("status", "--store", rig.uri, env={"BOX_API_BASE_URL": app.base_url})
    line = next(x for x in proc.stdout.splitlines() if x.startswith("active:"))
    from box_secrets._support.times import rfc3339

    assert f"since {rfc3339(active.activated_at)}" in line, line


def test_the_metric_line_counts_token_cache_errors_since_the_last_one(
    make_app, tmp_path, logs, monkeypatch
) -> None:
    """TokenCacheErrors: the shared-cache failures this process saw since its last metric line."""
    import socket

    from box_secrets.aws_lambda import _log
    from box_secrets.tokens import TokenProvider

    _log.metrics("file:x", person_needed=False, key_age_days=None, failed=False)  # a baseline
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{sock.getsockname()[1]}/0"  # nothing listens
    app = make_app()
    TokenProvider(app.config, base_url=app.base_url, token_cache=dead).get_token()
    _log.metrics("file:x", person_needed=False, key_age_days=None, failed=False)
    _log.metrics("file:x", person_needed=False, key_age_days=None, failed=False)
    *_, after_failure, quiet = [line for line in _lines(logs) if "_aws" in line]
    assert after_failure["TokenCacheErrors"] >= 1
    assert quiet["TokenCacheErrors"] == 0
    names = [m["Name"] for m in quiet["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
    assert "TokenCacheErrors" in names
