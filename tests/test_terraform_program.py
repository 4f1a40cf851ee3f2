"""``box-secrets terraform``, run the way Terraform's external provider runs it.

hashicorp/terraform-provider-external (``internal/provider/data_source.go``):
the program is started without a shell, the query arrives on stdin as one
JSON object of strings, stdout must be exactly one JSON object whose values
are all strings, and on a non-zero exit stderr is shown to the person. The
provider's own parsing is reproduced in ``_as_terraform_reads_it``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .helpers import BACKENDS, make_store_uri, pem_chunks
from .rotation_support import new_rig

PROGRAM = shutil.which("box-secrets", path=str(Path(sys.executable).parent)) or "box-secrets"

#: Every variable that could make a program chatty; none may reach stdout.
NOISY = {
    "TF_LOG": "trace",
    "PYTHONWARNINGS": "always",
    "PYTHONVERBOSE": "",
    "BOX_SECRETS_UNSAFE_THIRD_PARTY_DEBUG": "1",
    "BOX_SECRETS_DEBUG": "1",
}


def run(
    operation: str,
    query: Any,
    *,
    env: dict[str, str] | None = None,
    raw: str | None = None,
    args: tuple[str, ...] = (),
) -> subprocess.CompletedProcess[str]:
    """Start the program as the provider does: argv list, no shell, the query on stdin."""
    stdin = raw if raw is not None else json.dumps(query)
    full = {**os.environ, **(env or {})}
    full.pop("BOX_SECRETS_STORE", None)
    return subprocess.run(
        [PROGRAM, "terraform", operation, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=full,
        timeout=60,
        check=False,
    )


def _as_terraform_reads_it(proc: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """What the provider accepts: exit 0 and stdout one JSON object of strings, nothing else."""
    assert proc.returncode == 0, proc.stderr
    decoder = json.JSONDecoder()
    value, end = decoder.raw_decode(proc.stdout.lstrip())
    assert proc.stdout.lstrip()[end:].strip() == "", "bytes after the JSON object"
    assert isinstance(value, dict)
    assert all(isinstance(v, str) for v in value.values()), value
    return value


def _refused(proc: subprocess.CompletedProcess[str], code: int = 2) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout == "", "a failing program must print nothing on stdout"
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


STATUS_KEYS = {
    "state",
    "active_key_id",
    "active_fingerprint_sha256",
    "active_public_key_pem",
    "active_created_at",
    "pending_key_id",
    "pending_fingerprint_sha256",
    "pending_public_key_pem",
    "previous_key_id",
    "next_action",
    "person_needed",
    "key_age_days",
    "signer",
}


@pytest.mark.parametrize("backend", BACKENDS)
def test_status_and_public_key_on_every_backend(
    backend, make_app, tmp_path, moto, vault, vault_token
) -> None:
    app = make_app()
    rig = new_rig(make_store_uri(backend, tmp_path, moto, vault), lambda: app)
    rig.engine.advance(force=True)  # a key waits for a person
    status = _as_terraform_reads_it(run("status", {"store": rig.uri}, env=NOISY))
    assert set(status) == STATUS_KEYS
    record = rig.snap().record
    assert status["state"] == "staged" and status["person_needed"] == "true"
    assert status["active_key_id"] == app.kid and status["pending_key_id"] == ""
    assert status["pending_fingerprint_sha256"] == record.pending.fingerprint
    assert float(status["key_age_days"]) >= 0
    pending = _as_terraform_reads_it(run("public-key", {"store": rig.uri, "role": "pending"}))
    assert pending["public_key_pem"] == record.pending.public_key_pem
    active = _as_terraform_reads_it(run("public-key", {"store": rig.uri}))
    assert active["key_id"] == app.kid
    everything = json.dumps([status, pending, active])
    for secret in (app.client_secret, *pem_chunks(app.key.private_key_pem)):
        assert secret not in everything
    for material in rig.snap().materials.values():
        assert material.passphrase not in everything


def test_token_is_downscoped_unless_full_scope_is_allowed(make_app, tmp_path) -> None:
    app = make_app()
    rig = new_rig(make_store_uri("file", tmp_path, None, None), lambda: app)
    env = {"BOX_API_BASE_URL": app.base_url, **NOISY}
    refused = _refused(run("token", {"store": rig.uri}, env=env))
    assert "scopes" in refused and "state" in refused
    scoped = _as_terraform_reads_it(
        run("token", {"store": rig.uri, "scopes": "item_preview item_download"}, env=env)
    )
    assert set(scoped) == {"access_token", "expires_at", "restricted_to"}
    assert scoped["access_token"] and scoped["expires_at"].endswith("Z")
    full = _as_terraform_reads_it(
        run("token", {"store": rig.uri, "allow_full_scope": "true"}, env=env)
    )
    assert full["access_token"] != scoped["access_token"]
    assert app.client_secret not in json.dumps([scoped, full])


def test_token_through_a_token_cache_mints_once_for_every_plan(make_app, tmp_path, console) -> None:
    app = make_app()
    rig = new_rig(make_store_uri("file", tmp_path, None, None), lambda: app)
    env = {"BOX_API_BASE_URL": app.base_url, **NOISY}
    query = {"store": rig.uri, "scopes": "item_preview"}
    cache = f"dir:{tmp_path / 'tokens'}"
    before = console.stats().get("POST /oauth2/token", 0)
    first = _as_terraform_reads_it(run("token", query, env=env, args=("--token-cache", cache)))
    again = _as_terraform_reads_it(run("token", query, env=env, args=(f"--token-cache={cache}",)))
    by_env = _as_terraform_reads_it(
        run("token", query, env={**env, "BOX_SECRETS_TOKEN_CACHE": cache})
    )
    assert first["access_token"] == again["access_token"] == by_env["access_token"]
    # the base token and its downscope, once for three plans
    assert console.stats()["POST /oauth2/token"] - before == 2
    # A query may not choose where tokens go; the option is the token operation's only.
    assert "not known" in _refused(run("token", {**query, "token_cache": cache}, env=env))
    assert "token operation only" in _refused(
        run("status", {"store": rig.uri}, env=env, args=("--token-cache", cache))
    )
    assert "scheme" in _refused(
        run("token", query, env=env, args=("--token-cache", "memcached://x"))
    )


@pytest.mark.parametrize(
    ("operation", "stdin", "says"),
    [
        ("status", "", "stdin is empty"),
        ("status", "not json", "not JSON"),
        ("status", "[]", "JSON object"),
        ("status", '{"store": 3}', "must be strings"),
        ("status", '{"store": null}', "must be strings"),
        ("status", '{"stor": "file:x"}', "not known"),
        ("status", "{}", 'needs "store"'),
        ("status", '{"store": "s3://bucket/x"}', "unknown scheme"),
        ("public-key", '{"store": "file:x", "role": "previous"}', "role"),
        ("token", '{"store": "file:x", "allow_full_scope": "yes"}', "allow_full_scope"),
        ("rotate", '{"store": "file:x"}', "needs one operation"),
        ("status", "{" * 100_000, "64 KiB"),
    ],
)
def test_bad_queries_are_one_sentence_on_stderr(operation, stdin, says) -> None:
    line = _refused(run(operation, None, raw=stdin, env=NOISY))
    assert says in line


def test_a_store_that_fails_is_exit_1_and_changes_nothing(tmp_path) -> None:
    missing = tmp_path / "nothing.json"
    line = _refused(run("status", {"store": f"file:{missing}"}, env=NOISY), code=1)
    assert "box-secrets terraform:" in line
    assert not missing.exists()
    unreachable = "vault://secret/box/app?addr=http://127.0.0.1:9"
    _refused(run("status", {"store": unreachable}, env={**NOISY, "VAULT_TOKEN": "x"}), code=1)


def test_the_program_runs_without_click_or_cryptography(make_app, tmp_path) -> None:
    app = make_app()
    rig = new_rig(make_store_uri("file", tmp_path, None, None), lambda: app)
    probe = (
        "import json, sys\n"
        "sys.argv = ['box-secrets', 'terraform', 'status']\n"
        "from box_secrets.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('click', 'cryptography', 'urllib3', 'boto3', 'hvac') if m in sys.modules]\n"
        "sys.stderr.write(json.dumps(heavy))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe],
        input=json.dumps({"store": rig.uri}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert json.loads(proc.stderr.strip().splitlines()[-1]) == []
    _as_terraform_reads_it(proc)


def test_global_options_before_the_command_still_give_clean_stdout(make_app, tmp_path) -> None:
    app = make_app()
    rig = new_rig(make_store_uri("file", tmp_path, None, None), lambda: app)
    proc = subprocess.run(
        [PROGRAM, "-vv", "terraform", "status"],
        input=json.dumps({"store": rig.uri}),
        capture_output=True,
        text=True,
        env={**os.environ, **NOISY},
        timeout=60,
        check=False,
    )
    assert _as_terraform_reads_it(proc)["state"] == "active"
