"""No secret in any output: -vv on every command and backend, URLs with passwords, server text."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from box_secrets.stores import open_store

from .helpers import assert_clean_error, pem_chunks, run_cli

# A 64-character base64 run of mixed case is a PEM body line (hex digests, such as
# SigV4 signatures, are not): key material, unless a command prints a public key.
_B64_RUN = re.compile(r"[A-Za-z0-9+/]{64,}")


def _pem_line_in(text: str) -> bool:
    return any(
        re.search("[A-Z]", run) and re.search("[a-z]", run) for run in _B64_RUN.findall(text)
    )


def _secrets_in(uri: str) -> set[str]:
    """Every secret the store holds now (none only while it does not exist yet).

    Any other failure to read it fails the test: an unreadable store must never
    mean "nothing to look for".
    """
    from box_secrets.errors import StoreNotFoundError

    try:
        snap = open_store(uri).load()
    except StoreNotFoundError:
        return set()
    out = {snap.client_secret}
    for material in snap.materials.values():
        out |= {material.passphrase, *pem_chunks(material.pem)}
    return out


def _scan(
    proc: subprocess.CompletedProcess[str], secrets: set[str], *, stdout_token_ok: bool = False
) -> None:
    both = proc.stderr + ("" if stdout_token_ok else proc.stdout)
    for secret in secrets:
        assert secret not in both, "a secret value leaked"
    assert "PRIVATE KEY" not in both
    public = "BEGIN PUBLIC KEY" in proc.stdout
    assert public or not _pem_line_in(proc.stderr), "key material in the log"


def test_vv_on_every_command_leaks_nothing(store_uri: str, make_app, tmp_path: Path) -> None:
    app = make_app()
    cfg = app.write_config(tmp_path / "config.json")
    env = {"BOX_API_BASE_URL": app.base_url}
    seen: set[str] = {app.client_secret, app.key.passphrase, *pem_chunks(app.key.private_key_pem)}
    debug_lines = 0

    def step(*args: str, code: int = 0, stdin: str | None = None, token_ok: bool = False) -> str:
        nonlocal debug_lines
        proc = run_cli("-vv", *args, env=env, input=stdin)
        assert proc.returncode == code, (args, proc.returncode, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr
        seen.update(_secrets_in(store_uri))
        _scan(proc, seen, stdout_token_ok=token_ok)
        debug_lines += proc.stderr.count("DEBUG box_secrets")
        for lib in ("botocore", "boto3", "urllib3", "hvac", "requests"):
            assert f"DEBUG {lib}" not in proc.stderr, f"{lib} logged at DEBUG without the opt-in"
        return proc.stdout

    step("store", "import", "--config", str(cfg), "--store", store_uri)
    step("store", "show", "--store", store_uri)
    step("store", "show", "--json", "--store", store_uri)
    step("status", "--store", store_uri)
    token = step("token", "--store", store_uri, token_ok=True).strip()
    assert token
    seen.add(token)
    step("token", "--config", str(cfg), token_ok=True)
    step("revoke", "--store", store_uri, stdin=token)
    step("rotate", "--force", "--store", store_uri, code=3)
    pending = json.loads(step("status", "--json", "--store", store_uri))["pending"]
    kid = app.console.add_key(app.client_id, pending["public_key_pem"])
    step("register", "--public-key-id", kid, "--store", store_uri)
    step("rotate", "--store", store_uri)
    step("retire", "--force", "--store", store_uri, code=2)
    app.console.delete_key(app.client_id, app.kid)
    step("retire", "--store", store_uri)
    step("status", "--check", "--store", store_uri)
    assert debug_lines > 0, "-vv showed no box-secrets debug line: the test proves nothing"
    # Three keys went through the store (imported, staged, retired): all were looked for.
    assert len(seen) > 3 * 10, "the scan looked for too few secrets: the test proves nothing"


def test_third_party_debug_needs_the_loud_opt_in_and_is_still_redacted(
    make_app, moto, tmp_path: Path
) -> None:
    app = make_app()
    cfg = app.write_config(tmp_path / "config.json")
    uri = f"aws-sm://box/leak-{app.client_id[:8]}?region=us-east-1&endpoint_url={moto.url}"
    env = {"BOX_API_BASE_URL": app.base_url, "BOX_SECRETS_UNSAFE_THIRD_PARTY_DEBUG": "1"}
    proc = run_cli("-vv", "store", "import", "--config", str(cfg), "--store", uri, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "DEBUG botocore" in proc.stderr  # the opt-in really turns botocore's logs on
    assert "UNSAFE_THIRD_PARTY_DEBUG=1 logs" in proc.stderr  # and says so
    _scan(proc, {app.client_secret, app.key.passphrase, *pem_chunks(app.key.private_key_pem)})
    shown = run_cli("-vv", "token", "--store", uri, env=env)
    assert shown.returncode == 0, shown.stderr
    _scan(
        shown, {app.client_secret, app.key.passphrase, shown.stdout.strip()}, stdout_token_ok=True
    )


@pytest.mark.parametrize(
    "text",
    [
        '{"SecretString": "{\\"boxAppSettings\\": {\\"clientSecret\\": \\"S3CRET\\"}}"}',
        'b\'{"SecretString": "{\\\\"clientSecret\\\\": \\\\"S3CRET\\\\"}"}\'',
        "client_id=x&client_secret=S3CRET&assertion=S3CRET",
        "{'X-Vault-Token': 'S3CRET'}",
        "Authorization: Bearer S3CRET",
        "https://user:S3CRET@host/path",
        "https://hooks.slack.com/services/T0/B0/S3CRET",
        '"passphrase": "S3CRET"',
        # Spelled in pieces, so no file in the repository looks like it holds a key.
        "-----BEGIN ENCRYPTED " + "PRIVATE KEY-----\\nS3CRET\\n-----END ENCRYPTED PRIVATE KEY-----",
        "-----BEGIN " + "PRIVATE KEY-----\nS3CRET (cut off)",
    ],
)
def test_redaction_filter_removes_known_secret_shapes(text: str) -> None:
    from box_secrets._support.redact import redact

    assert "S3CRET" not in redact(text)


def test_userinfo_in_urls_is_never_printed(tmp_path: Path, make_app) -> None:
    app = make_app()
    cfg = app.write_config(tmp_path / "c.json")
    # Nothing listens on port 9: the connection error names the host, not the password.
    proc = run_cli(
        "--box-base-url", "http://user:hunter2@127.0.0.1:9", "token", "--config", str(cfg),
        env={"BOX_SECRETS_MAX_ATTEMPTS": "2"},
    )  # fmt: skip
    # A URL with a password is refused outright (exit 2), and the password is not echoed.
    assert proc.returncode == 2, proc.stderr
    assert "hunter2" not in proc.stderr + proc.stdout and "user:" not in proc.stderr
    store = f"file://{tmp_path / 's.json'}"
    run_cli("store", "import", "--config", str(cfg), "--store", store)
    hook = run_cli(
        "rotate", "--force", "--store", store, "--notify", "https://u:p4ss@127.0.0.1:9/T/B/x",
        env={"BOX_API_BASE_URL": app.base_url, "BOX_SECRETS_MAX_ATTEMPTS": "2"},
    )  # fmt: skip
    assert hook.returncode == 2, hook.stderr
    assert "p4ss" not in hook.stderr + hook.stdout and "/T/B/x" not in hook.stderr


def test_server_text_is_flattened_before_printing(make_app, tmp_path: Path) -> None:
    app = make_app()
    cfg = app.write_config(tmp_path / "c.json")
    app.console.oauth_error(
        "invalid_client", "bad\r\nerror: forged line\x1b[31m red\x07 bell\u202e", count=5
    )
    proc = run_cli("token", "--config", str(cfg), env={"BOX_API_BASE_URL": app.base_url})
    err = assert_clean_error(proc, 1)
    assert "forged line" in err  # the text is kept, on the one line
    assert not re.search(r"[\x00-\x1f\x7f\u202e]", proc.stderr.rstrip("\n"))


def test_a_huge_answer_is_refused_not_read_into_memory(app) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from box_secrets import errors
    from box_secrets.tokens import TokenProvider

    class Flood(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(64 * 1024 * 1024))
            self.end_headers()
            chunk = b" " * 65536
            try:
                for _ in range(1024):  # 64 MiB, if anyone read it all
                    self.wfile.write(chunk)
            except OSError:
                pass  # the client hung up, as it should

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Flood)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        provider = TokenProvider(app.config, base_url=base, max_attempts=1)
        with pytest.raises(errors.BoxUnavailableError, match="larger than 1024 KiB"):
            provider.get_token()
    finally:
        server.shutdown()
        server.server_close()


def test_shared_token_caches_leak_nothing_at_any_level(
    make_app, tmp_path: Path, dynamodb_table: str
) -> None:
    """-vv with third-party debug on, a password-protected Redis and DynamoDB: no secret shows,
    in the output, the one warning of a failing cache, or anything a cache object prints."""
    from .services import RedisServer, redis_binary

    binary = redis_binary()
    if binary is None:
        pytest.skip("redis-server is not installed: the Redis half of this test did not run")
    password = "redis-pass-" + "x7Q2" * 6
    server = RedisServer(binary, "--requirepass", password)
    try:
        app = make_app()
        cfg = str(app.write_config(tmp_path / "config.json"))
        env = {
            "BOX_API_BASE_URL": app.base_url,
            "BOX_SECRETS_UNSAFE_THIRD_PARTY_DEBUG": "1",
            "BOX_SECRETS_REDIS_PASSWORD": password,
            # DynamoDB's requests are signed with these (moto accepts any): none may show.
            "AWS_SECRET_ACCESS_KEY": "aws-secret-" + "Zq9w" * 8,
            "AWS_SESSION_TOKEN": "aws-session-" + "Kp3v" * 8,
        }
        secrets = {
            app.client_secret,
            app.key.passphrase,
            password,
            env["AWS_SECRET_ACCESS_KEY"],
            env["AWS_SESSION_TOKEN"],
        }
        for cache in (server.url, dynamodb_table):
            proc = run_cli("-vv", "token", "--config", cfg, "--token-cache", cache, env=env)
            assert proc.returncode == 0, proc.stderr
            assert "DEBUG " in proc.stderr  # the logs really were on
            _scan(proc, {*secrets, proc.stdout.strip()}, stdout_token_ok=True)
        # A wrong password: tokens still come, and the one warning names no secret.
        wrong = {**env, "BOX_SECRETS_REDIS_PASSWORD": "wrong-" + password}
        proc = run_cli("-vv", "token", "--config", cfg, "--token-cache", server.url, env=wrong)
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.count("minting tokens directly") == 1
        _scan(proc, {*secrets, "wrong-" + password, proc.stdout.strip()}, stdout_token_ok=True)
    finally:
        server.stop()


def test_cache_objects_and_sealed_entries_show_no_secret(app, dynamodb_table: str) -> None:
    from box_secrets.tokens import TokenProvider
    from box_secrets.tokens.cache._seal import Sealer

    provider = TokenProvider(app.config, base_url=app.base_url, token_cache=dynamodb_table)
    token = provider.access_token()
    sealer = Sealer(app.client_id, app.client_secret)
    shown = " ".join(
        [repr(provider), repr(provider.token_cache), repr(sealer), str(provider.token_cache.name)]
    )
    for secret in (token, app.client_secret):
        assert secret not in shown
