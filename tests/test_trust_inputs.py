"""The second review's lower findings: each input judged, each refusal one sentence, nothing changed.

In-process where the behaviour is a function's; one child process where it is
the CLI's (exit code, no traceback).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from box_secrets import RetryPolicy, TokenProvider, errors
from box_secrets.rotation import import_config
from box_secrets.signers import signer_for
from box_secrets.stores import open_store

from .helpers import assert_clean_error, run_cli

# -- unbounded reads ----------------------------------------------------------------------------


def test_revoke_reads_a_bounded_token_from_stdin(tmp_path: Path) -> None:
    with open("/dev/zero") as zero:
        proc = subprocess.run(
            [sys.executable, "-m", "box_secrets", "revoke", "--config", str(tmp_path / "c.json")],
            stdin=zero,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert "over 8192 characters" in assert_clean_error(proc, 2)


@pytest.mark.parametrize("method", ["kubernetes", "jwt"])
def test_a_token_file_that_never_ends_is_refused(method: str, monkeypatch, vault) -> None:
    monkeypatch.setenv("BOX_SECRETS_VAULT_JWT_PATH", "/dev/zero")
    monkeypatch.delenv("BOX_SECRETS_VAULT_JWT", raising=False)
    uri = f"vault://secret/box/x?addr={vault.addr}&auth={method}&role=r"
    with pytest.raises(errors.StoreAccessDeniedError, match="not a regular file"):
        open_store(uri).load()


def test_a_token_file_larger_than_a_token_is_refused(tmp_path: Path, monkeypatch, vault) -> None:
    big = tmp_path / "token"
    big.write_text("x" * 70_000)
    monkeypatch.setenv("BOX_SECRETS_VAULT_JWT_PATH", str(big))
    with pytest.raises(errors.StoreAccessDeniedError, match="larger than a token"):
        open_store(f"vault://secret/box/x?addr={vault.addr}&auth=kubernetes&role=r").load()


def test_a_vault_token_file_that_never_ends_is_no_token(tmp_path: Path, monkeypatch, vault) -> None:
    # ~/.vault-token as a link to /dev/zero: read bounded, so no token, not a hang.
    (tmp_path / ".vault-token").symlink_to("/dev/zero")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    with pytest.raises(errors.StoreAccessDeniedError, match="no Vault token"):
        open_store(f"vault://secret/box/x?addr={vault.addr}&auth=token").load()


# -- wrong kind of answer -----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["abc", "0", "-1", "21", "1e3", "nan"])
def test_aws_max_attempts_is_judged(value: str, monkeypatch) -> None:
    from box_secrets._aws import client

    monkeypatch.setenv("AWS_MAX_ATTEMPTS", value)
    with pytest.raises(errors.InputError, match="AWS_MAX_ATTEMPTS"):
        client("secretsmanager", region="us-east-1")


def test_a_short_rotation_token_is_bad_input() -> None:
    from box_secrets.aws_lambda._events import parse_event

    event = {
        "Step": "createSecret",
        "SecretId": "x",
        "ClientRequestToken": "c" * 36,
        "RotationToken": "short",
    }
    with pytest.raises(errors.InputError, match="36 to 256"):
        parse_event(event)


def test_botocore_parameter_refusals_are_bad_input(moto, monkeypatch) -> None:
    """A RotationToken below botocore's minimum, had it reached the store, names only the field."""
    uri = f"aws-sm://box/short-token?region=us-east-1&endpoint_url={moto.url}"
    store = open_store(uri)
    store.rotation_token = "x" * 5  # type: ignore[attr-defined]
    with pytest.raises(errors.InputError) as refused:
        store._call(  # type: ignore[attr-defined]
            "writing",
            lambda c: c.put_secret_value(
                SecretId="box/short-token", SecretString="{}", RotationToken="x" * 5
            ),
        )
    assert "RotationToken" in str(refused.value) and "xxxxx" not in str(refused.value)


@pytest.mark.parametrize("token", ["hvs.abc\nX-Evil: 1", "hvs.abc def", "hvs.\x07"])
def test_a_vault_token_with_whitespace_is_bad_input(token: str, vault) -> None:
    proc = run_cli(
        "status", "--store", f"vault://secret/box/x?addr={vault.addr}", env={"VAULT_TOKEN": token}
    )
    assert "VAULT_TOKEN" in assert_clean_error(proc, 2, [token])


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"max_attempts": math.nan}, "max_attempts"),
        ({"max_attempts": "3"}, "max_attempts"),
        ({"max_attempts": True}, "max_attempts"),
        ({"deadline": math.inf}, "deadline"),
        ({"deadline": "60"}, "deadline"),
        ({"backoff_base": -1.0}, "backoff"),
    ],
)
def test_retry_policy_arguments_are_judged(kwargs: dict[str, Any], words: str) -> None:
    with pytest.raises(errors.InputError, match=words):
        RetryPolicy(**kwargs)


@pytest.mark.parametrize("margin", ["x", -1, -0.5, math.nan, math.inf, None, True])
def test_refresh_margin_is_judged(margin: Any, tmp_path: Path) -> None:
    with pytest.raises(errors.InputError, match="refresh_margin"):
        TokenProvider(str(tmp_path / "c.json"), refresh_margin=margin)


@pytest.mark.parametrize("material", [5, None, b"aws-kms://alias/x", object()])
def test_signer_for_judges_its_argument(material: Any) -> None:
    with pytest.raises(errors.ConfigError):
        signer_for(material, "kid")


# -- Terraform ----------------------------------------------------------------------------------


def _terraform(operation: str, raw: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "box_secrets", "terraform", operation],
        input=raw,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_lone_surrogate_in_a_query_is_refused() -> None:
    proc = _terraform("status", '{"store": "file:\\ud800.json"}')
    assert proc.returncode == 2 and "valid Unicode" in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    "scopes", ["root_readwrite", "item_preview root_readonly", "manage_groups"]
)
def test_account_wide_scopes_need_allow_full_scope(scopes: str, tmp_path: Path) -> None:
    query = json.dumps({"store": f"file:{tmp_path / 'x.json'}", "scopes": scopes})
    proc = _terraform("token", query)
    assert proc.returncode == 2 and "allow_full_scope" in proc.stderr, proc.stderr


# -- URIs from stores and people ----------------------------------------------------------------


@pytest.mark.parametrize("mount", ["../../sys/tools", "approle/..", "a//b", "%2e%2e", "a/./b"])
def test_auth_mount_cannot_climb(mount: str) -> None:
    from box_secrets.signers._uri import parse_signer_uri
    from box_secrets.stores._uri import parse_store_uri

    with pytest.raises(errors.StoreURIError, match="auth_mount"):
        parse_store_uri(
            f"vault://secret/box/app?addr=http://127.0.0.1:1&auth=approle&auth_mount={mount}"
        )
    with pytest.raises(errors.ConfigError, match="auth_mount"):
        parse_signer_uri(f"vault-transit://transit/k?auth_mount={mount}")


def test_an_unknown_auth_method_is_refused_everywhere() -> None:
    from box_secrets.signers._uri import parse_signer_uri
    from box_secrets.stores._uri import parse_store_uri

    with pytest.raises(errors.StoreURIError):
        parse_store_uri("vault://secret/box/app?auth=ldap")
    with pytest.raises(errors.ConfigError):
        parse_signer_uri("vault-transit://transit/k?auth=ldap")


def test_a_stored_signer_cannot_choose_trust_or_identity(monkeypatch, tmp_path: Path) -> None:
    from box_secrets._urls import trusted_setting
    from box_secrets.signers._uri import parse_signer_uri

    monkeypatch.delenv("VAULT_CACERT", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with pytest.raises(errors.InputError, match="VAULT_CACERT"):
        trusted_setting("/tmp/evil-ca.pem", env="VAULT_CACERT", what="the Vault ca_cert")
    monkeypatch.setenv("AWS_PROFILE", "prod")
    assert trusted_setting("prod", env="AWS_PROFILE", what="profile") == "prod"
    with pytest.raises(errors.InputError, match="AWS_PROFILE"):
        trusted_setting("attacker", env="AWS_PROFILE", what="profile")
    # Through the real signers, before any connection.
    from box_secrets.signers._transit import TransitSigner

    with pytest.raises(errors.InputError, match="VAULT_CACERT"):
        TransitSigner(
            str(
                parse_signer_uri(
                    "vault-transit://transit/k?ca_cert=/etc/hosts&version=1&addr=http://127.0.0.1:1"
                )
            ),
            "kid",
        )


# -- files ----------------------------------------------------------------------------------


def test_a_store_with_a_second_name_is_never_written(app, tmp_path: Path) -> None:
    store_file = tmp_path / "s.json"
    uri = f"file://{store_file}"
    import_config(open_store(uri), app.config)
    other = tmp_path / "backup-by-hand.json"
    os.link(store_file, other)
    before = store_file.read_bytes()
    proc = run_cli("rotate", "--force", "--store", uri, env={"BOX_API_BASE_URL": app.base_url})
    assert "hard links" in assert_clean_error(proc, 2)
    assert store_file.read_bytes() == before == other.read_bytes()
    assert TokenProvider(uri, base_url=app.base_url).get_token().access_token  # reads still work
