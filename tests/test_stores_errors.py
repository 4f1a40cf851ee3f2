"""Each failure gives its typed error and one clear sentence, and changes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import boto3
import hvac
import pytest

from box_secrets import errors
from box_secrets.rotation import import_config
from box_secrets.stores import open_store

from .helpers import assert_clean_error, run_cli, vault_control


@pytest.mark.parametrize(
    "uri,fragment",
    [
        ("", "empty"),
        ("s3://bucket/key", "unknown scheme"),
        ("box.json", "unknown scheme"),
        ("file:", "needs a path"),
        ("file://otherhost/x.json", "names a host"),
        ("aws-sm://", "needs a secret name"),
        ("aws-sm:name", "must start with aws-sm://"),
        ("vault://secret", "needs a mount and a path"),
        ("vault://secret/app?auth=ldap", "not supported"),
        ("vault://secret/app?auth=kubernetes", "needs role="),
        ("vault://secret/app?token=abc", "not known"),
        ("file:x.json?keep=lots", "keep must be a number"),
        ("aws-sm://a?region=x&region=y", "given twice"),
    ],
)
def test_bad_uris(uri: str, fragment: str) -> None:
    with pytest.raises(errors.StoreURIError) as exc:
        open_store(uri)
    assert fragment in str(exc.value)


def vault_token_for(vault, policies: list[dict[str, object]]) -> str:  # type: ignore[no-untyped-def]
    return str(vault_control(vault, "tokens", {"policies": policies})["token"])


def test_bad_uri_in_cli_is_exit_2() -> None:
    proc = run_cli("store", "show", "--store", "s3://bucket/key")
    assert "unknown scheme" in assert_clean_error(proc, 2)


@pytest.mark.parametrize(
    "uri,extra,module",
    [
        ("aws-sm://x?region=us-east-1", "aws", "boto3"),
        ("vault://secret/x?addr=http://127.0.0.1:1", "vault", "hvac"),
    ],
)
def test_missing_extra_names_it(uri: str, extra: str, module: str) -> None:
    code = (
        f"import sys; sys.modules[{module!r}] = None\n"
        "from box_secrets.cli import main\n"
        f"sys.argv = ['box-secrets', 'store', 'show', '--store', {uri!r}]\n"
        "main()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    err = assert_clean_error(proc, 2)
    assert f"pip install 'box-secrets[{extra}]'" in err


def test_minting_from_a_file_store_never_imports_boto3_or_hvac(app, tmp_path: Path) -> None:
    uri = f"file:{tmp_path / 'box.json'}"
    import_config(open_store(uri), app.config)
    code = (
        "import sys, box_secrets\n"
        f"box_secrets.access_token({uri!r}, base_url={app.base_url!r})\n"
        "bad = [m for m in ('boto3', 'botocore', 'hvac', 'box_sdk_gen') if m in sys.modules]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- not a Box config -----------------------------------------------------------------


def test_file_that_is_not_a_box_config(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"hello": "world"}')
    with pytest.raises(errors.StoreCorruptError, match="boxAppSettings"):
        open_store(f"file:{path}").load()
    path.write_text("{oops")
    path.chmod(0o600)  # a 0644 store would add a (correct) warning line
    with pytest.raises(errors.StoreCorruptError, match="not valid JSON"):
        open_store(f"file:{path}").read_current()
    proc = run_cli("store", "show", "--store", f"file:{path}")
    assert "not valid JSON" in assert_clean_error(proc, 1)


def test_aws_secret_that_is_not_a_box_config(moto) -> None:
    client = boto3.client("secretsmanager", endpoint_url=moto.url, region_name="us-east-1")
    client.create_secret(Name="not-box", SecretString="plain text")
    with pytest.raises(errors.StoreCorruptError, match="not JSON"):
        open_store(f"aws-sm://not-box?region=us-east-1&endpoint_url={moto.url}").load()
    client.create_secret(Name="not-box-2", SecretString='{"user": "x"}')
    with pytest.raises(errors.StoreCorruptError, match="boxAppSettings"):
        open_store(f"aws-sm://not-box-2?region=us-east-1&endpoint_url={moto.url}").read_current()


def test_vault_secret_that_is_not_a_box_config(vault, vault_token) -> None:
    client = hvac.Client(url=vault.addr, token=vault_token)
    client.secrets.kv.v2.create_or_update_secret(
        path="other/x", secret={"user": "x"}, mount_point="secret"
    )
    with pytest.raises(errors.StoreCorruptError, match="boxAppSettings"):
        open_store(f"vault://secret/other/x?addr={vault.addr}").load()


# -- Vault failures ----------------------------------------------------------------------


def test_vault_403_is_access_denied(vault, vault_token, monkeypatch, app) -> None:
    uri = f"vault://secret/denied/app?addr={vault.addr}"
    weak = vault_token_for(vault, [{"path": "secret/data/elsewhere/*", "capabilities": ["read"]}])
    monkeypatch.setenv("VAULT_TOKEN", weak)
    with pytest.raises(errors.StoreAccessDeniedError, match="403") as exc:
        import_config(open_store(uri), app.config)
    assert weak not in str(exc.value)
    monkeypatch.setenv("VAULT_TOKEN", "hvs.not-a-token")
    with pytest.raises(errors.StoreAccessDeniedError):
        open_store(uri).read_current()


def test_vault_without_token(vault, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(errors.StoreAccessDeniedError, match="VAULT_TOKEN"):
        open_store(f"vault://secret/x/y?addr={vault.addr}").read_current()


def test_vault_sealed_is_unavailable(vault, vault_token, app) -> None:
    uri = f"vault://secret/sealed/app?addr={vault.addr}"
    import_config(open_store(uri), app.config)
    vault_control(vault, "seal")
    try:
        with pytest.raises(errors.StoreUnavailableError, match="sealed"):
            open_store(uri).read_current()
    finally:
        vault_control(vault, "unseal")


def test_vault_429_is_retried_then_unavailable(vault, vault_token, app, monkeypatch) -> None:
    """The Vault store retries through the one RetryPolicy: its attempts, back-off and seam."""
    from box_secrets._support import retry as _retry

    waits: list[float] = []
    monkeypatch.setattr(_retry, "_sleep", waits.append)
    uri = f"vault://secret/limited/app?addr={vault.addr}"
    import_config(open_store(uri), app.config)

    def fault(count: int) -> None:  # through the emulator's control API, as a user would
        req = urllib.request.Request(
            vault.addr + "/_emulator/faults",
            data=json.dumps(
                {"status": 429, "count": count, "path": "secret/data/limited"}
            ).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        urllib.request.urlopen(req, timeout=10).close()

    fault(2)
    assert open_store(uri).read_current().public_key_id == app.kid  # two 429s, then fine
    assert len(waits) == 2 and 0 < waits[0] < waits[1]
    fault(10)
    waits.clear()
    with pytest.raises(errors.StoreUnavailableError, match="429"):
        open_store(uri).read_current()
    assert len(waits) == 4  # BOX_SECRETS_MAX_ATTEMPTS defaults to 5
    monkeypatch.setenv("BOX_SECRETS_MAX_ATTEMPTS", "2")
    fault(10)
    waits.clear()
    with pytest.raises(errors.StoreUnavailableError, match="429"):
        open_store(uri).read_current()
    assert len(waits) == 1


def test_vault_unreachable(vault_token) -> None:
    with pytest.raises(errors.StoreUnavailableError, match="cannot reach Vault"):
        open_store("vault://secret/x/y?addr=http://127.0.0.1:9").read_current()


def test_vault_deleted_latest_version(vault, vault_token, app) -> None:
    uri = f"vault://secret/deleted/app?addr={vault.addr}"
    import_config(open_store(uri), app.config)
    client = hvac.Client(url=vault.addr, token=vault_token)
    client.secrets.kv.v2.delete_latest_version_of_secret(path="deleted/app", mount_point="secret")
    with pytest.raises(errors.StoreNotFoundError, match="undelete"):
        open_store(uri).read_current()
    # importing again writes a new version over the deleted one
    assert import_config(open_store(uri), app.config) == "imported"
    assert open_store(uri).read_current().public_key_id == app.kid


def test_vault_cas_required_mount(vault, vault_token, app) -> None:
    vault_control(vault, "mounts", {"path": "strict", "cas_required": True})
    uri = f"vault://strict/app?addr={vault.addr}"
    assert import_config(open_store(uri), app.config) == "imported"  # every write carries cas


# -- AWS failures ----------------------------------------------------------------------------


def test_aws_throttling_is_unavailable(moto, app, monkeypatch) -> None:
    from .services import FaultProxy

    proxy = FaultProxy(moto.url)
    try:
        uri = f"aws-sm://box/throttled?region=us-east-1&endpoint_url={proxy.url}"
        import_config(open_store(uri), app.config)
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
        proxy.fail(2, 400, "ThrottlingException", "Rate exceeded")
        with pytest.raises(errors.StoreUnavailableError, match="ThrottlingException"):
            open_store(uri).read_current()
        proxy.fail(1, 400, "ThrottlingException", "Rate exceeded")
        assert open_store(uri).read_current().public_key_id == app.kid  # retried once, fine
    finally:
        proxy.stop()


@pytest.fixture(scope="module")
def iam_moto():  # type: ignore[no-untyped-def]
    """A moto server that enforces IAM after a few set-up calls."""
    from .services import MotoServer

    server = MotoServer(env={"INITIAL_NO_AUTH_ACTION_COUNT": "12"})
    iam = boto3.client("iam", endpoint_url=server.url, region_name="us-east-1")
    users = {}
    # "rotator" and "tokenonly" carry the actions docs/stores.md documents. moto checks
    # actions but evaluates Secrets Manager requests against Resource "*", so the
    # ARN scoping the docs recommend cannot be exercised here.
    arn = "*"
    policies = {
        "rotator": [
            {
                "Effect": "Allow",
                "Resource": arn,
                "Action": [
                    "secretsmanager:DescribeSecret",
                    "secretsmanager:GetSecretValue",
                    "secretsmanager:PutSecretValue",
                    "secretsmanager:UpdateSecretVersionStage",
                ],
            }
        ],
        "tokenonly": [
            {"Effect": "Allow", "Resource": arn, "Action": ["secretsmanager:GetSecretValue"]}
        ],
        "admin": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        "reader": [
            {
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                "Resource": "*",
            }
        ],
    }
    for name, statements in policies.items():
        iam.create_user(UserName=name)
        iam.put_user_policy(
            UserName=name,
            PolicyName="p",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
        )
        key = iam.create_access_key(UserName=name)["AccessKey"]
        users[name] = (key["AccessKeyId"], key["SecretAccessKey"])
    yield server, users
    server.stop()


def test_aws_access_denied(iam_moto, app, monkeypatch) -> None:
    server, users = iam_moto
    uri = f"aws-sm://box/guarded?region=us-east-1&endpoint_url={server.url}"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", users["admin"][0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", users["admin"][1])
    import_config(open_store(uri), app.config)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", users["reader"][0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", users["reader"][1])
    assert open_store(uri).read_current().public_key_id == app.kid  # reading is allowed
    store = open_store(uri)
    snap = store.load()
    nxt = snap.copy()
    nxt.record.policy.max_age_days = 1
    with pytest.raises(errors.StoreAccessDeniedError, match="AWS denied") as exc:
        store.commit(nxt, snap.revision)
    assert users["reader"][1] not in str(exc.value)


def test_aws_missing_secret_and_no_region(moto, monkeypatch) -> None:
    with pytest.raises(errors.StoreNotFoundError, match="does not exist"):
        open_store(f"aws-sm://nope?region=us-east-1&endpoint_url={moto.url}").read_current()
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)
    with pytest.raises(errors.StoreAccessDeniedError, match="region"):
        open_store(f"aws-sm://nope?endpoint_url={moto.url}").read_current()


# -- the file backend's crash safety ------------------------------------------------------------


def test_crash_in_the_middle_of_a_file_write_keeps_the_old_content(app, tmp_path: Path) -> None:
    path = tmp_path / "box.json"
    uri = f"file:{path}"
    import_config(open_store(uri), app.config)
    before = path.read_bytes()
    code = (
        "import sys\nfrom box_secrets._support import faults as _faults\nfrom box_secrets.stores import open_store\n"
        "_faults.arm_from_env()\n"
        "s = open_store(sys.argv[1]); snap = s.load(); nxt = snap.copy()\n"
        "nxt.record.policy.max_age_days = 1\ns.commit(nxt, snap.revision)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, uri],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "BOX_SECRETS_CRASH_AT": "file.rename:before#2",
            "BOX_SECRETS_TEST_HOOKS": "1",
        },
    )
    assert proc.returncode == 75, proc.stderr
    assert path.read_bytes() == before  # the rename never happened
    leftovers = [p for p in tmp_path.iterdir() if ".tmp-box-secrets-" in p.name]
    assert leftovers  # the half-done write is a separate file
    store = open_store(uri)
    snap = store.load()
    nxt = snap.copy()
    nxt.record.policy.max_age_days = 2
    store.commit(nxt, snap.revision)  # the next writer cleans up
    assert not [p for p in tmp_path.iterdir() if ".tmp-box-secrets-" in p.name]
    assert store.load().record.policy.max_age_days == 2


def test_file_store_mode_and_kept_versions(app, tmp_path: Path) -> None:
    path = tmp_path / "box.json"
    uri = f"file:{path}?keep=3"
    store = open_store(uri)
    import_config(store, app.config)
    for days in range(1, 7):
        snap = store.load()
        nxt = snap.copy()
        nxt.record.policy.max_age_days = days
        store.commit(nxt, snap.revision)
    assert (path.stat().st_mode & 0o777) == 0o600
    history = tmp_path / ".box.json.history"
    assert len(list(history.iterdir())) == 3
    assert (history.stat().st_mode & 0o777) == 0o700


def test_downloaded_config_works_as_a_file_store(app, tmp_path: Path) -> None:
    path = app.write_config(tmp_path / "downloaded.json")
    store = open_store(f"file:{path}")
    snap = store.load()
    assert snap.record.active is not None and snap.record.active.key_id == app.kid
    assert snap.record.active.origin == "adopted"
    from box_secrets.tokens import TokenProvider

    tok = TokenProvider(f"file:{path}", base_url=app.base_url).get_token()
    assert tok.access_token and tok.token_type == "bearer"


# -- the least privilege docs/stores.md documents is enough ------------------------------------


def test_documented_iam_policies_are_enough(iam_moto, make_app, monkeypatch) -> None:
    """docs/stores.md: readers need GetSecretValue; rotation adds three more actions."""
    from box_secrets.rotation import RotationEngine
    from box_secrets.stores._reader import clear_cache
    from box_secrets.tokens import TokenProvider

    from .rotation_support import Collecting

    server, users = iam_moto
    app = make_app()
    uri = f"aws-sm://box/least-privilege?region=us-east-1&endpoint_url={server.url}"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", users["admin"][0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", users["admin"][1])
    import_config(
        open_store(uri), app.config
    )  # creating the secret is an admin's (or Terraform's) job

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", users["rotator"][0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", users["rotator"][1])
    engine = RotationEngine(uri, base_url=app.base_url, notifier=Collecting())
    engine.advance(force=True)
    pending = engine.store.load().record.pending
    kid = app.console.add_key(app.client_id, pending.public_key_pem)
    assert engine.register(kid, verify=True).action == "promoted"
    app.console.delete_key(app.client_id, app.kid)
    assert engine.advance().action == "retired"

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", users["tokenonly"][0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", users["tokenonly"][1])
    clear_cache()
    assert TokenProvider(uri, base_url=app.base_url).get_token().token_type == "bearer"
    with pytest.raises(errors.StoreAccessDeniedError):
        open_store(uri).load()  # a reader cannot describe, let alone write


def test_documented_vault_policies_are_enough(vault, make_app, monkeypatch) -> None:
    from box_secrets.rotation import RotationEngine
    from box_secrets.stores._reader import clear_cache
    from box_secrets.tokens import TokenProvider

    from .rotation_support import Collecting

    app = make_app()
    path = f"box/lp-{app.client_id[:8]}"
    uri = f"vault://secret/{path}?addr={vault.addr}"
    rotator = vault_token_for(
        vault,
        [
            {"path": f"secret/data/{path}", "capabilities": ["create", "read", "update"]},
            {"path": f"secret/metadata/{path}", "capabilities": ["read"]},
            {"path": f"secret/destroy/{path}", "capabilities": ["update"]},
        ],
    )
    reader = vault_token_for(vault, [{"path": f"secret/data/{path}", "capabilities": ["read"]}])
    monkeypatch.setenv("VAULT_TOKEN", rotator)
    import_config(open_store(uri), app.config)
    engine = RotationEngine(uri, base_url=app.base_url, notifier=Collecting())
    engine.advance(force=True)
    kid = app.console.add_key(app.client_id, engine.store.load().record.pending.public_key_pem)
    assert engine.register(kid, verify=True).action == "promoted"
    app.console.delete_key(app.client_id, app.kid)
    assert engine.advance().action == "retired"
    monkeypatch.setenv("VAULT_TOKEN", reader)
    clear_cache()
    assert TokenProvider(uri, base_url=app.base_url).get_token().token_type == "bearer"
