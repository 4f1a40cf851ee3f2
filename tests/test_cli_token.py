"""``box-secrets token`` and ``box-secrets emulator`` as real processes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from .helpers import assert_clean_error, run_cli


def test_token_prints_bare_token(app, tmp_path: Path) -> None:
    path = app.write_config(tmp_path / "box.json")
    proc = run_cli("--box-base-url", app.base_url, "token", "--config", str(path))
    assert proc.returncode == 0, proc.stderr
    token = proc.stdout.strip()
    assert token.startswith("1!") and "\n" not in token
    assert proc.stderr == ""


def test_token_json_shape(app, tmp_path: Path) -> None:
    path = app.write_config(tmp_path / "box.json")
    proc = run_cli("token", "--config", str(path), "--json", env={"BOX_API_BASE_URL": app.base_url})
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert {"access_token", "expires_at", "token_type", "restricted_to"} <= set(data)
    expires = datetime.strptime(data["expires_at"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=timezone.utc
    )
    assert 3000 < expires.timestamp() - time.time() < 4300
    assert data["token_type"] == "bearer" and data["restricted_to"] == []


def test_token_as_user_and_downscoped(app, tmp_path: Path) -> None:
    path = app.write_config(tmp_path / "box.json")
    uid = app.console.create_user(app.client_id, "CLI user")
    proc = run_cli(
        "--box-base-url",
        app.base_url,
        "token",
        "--config",
        str(path),
        "--as-user",
        uid,
        "--scope",
        "item_preview",
        "--scope",
        "item_download",
        "--resource",
        "https://api.box.com/2.0/files/99",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert sorted(r["scope"] for r in data["restricted_to"]) == ["item_download", "item_preview"]


def test_python_dash_m_is_the_same_cli() -> None:
    proc = run_cli("--help")
    assert proc.returncode == 0 and "token" in proc.stdout and "emulator" in proc.stdout


def test_bad_input_exits_2_without_traceback(app, tmp_path: Path) -> None:
    missing = run_cli(
        "--box-base-url", app.base_url, "token", "--config", str(tmp_path / "nope.json")
    )
    assert "does not exist" in assert_clean_error(missing, 2)
    bad = tmp_path / "bad.json"
    data = app.config.to_dict()
    data["boxAppSettings"]["appAuth"]["passphrase"] = "wrong-passphrase-value"
    bad.write_text(json.dumps(data))
    proc = run_cli("--box-base-url", app.base_url, "token", "--config", str(bad))
    err = assert_clean_error(proc, 2, [*app.secrets(), "wrong-passphrase-value"])
    assert "passphrase" in err
    neither = run_cli("token")
    assert neither.returncode == 2


def test_box_refusal_exits_1_with_boxs_error(app, tmp_path: Path) -> None:
    path = app.write_config(tmp_path / "box.json")
    app.console.delete_key(app.client_id, app.kid)
    proc = run_cli("--box-base-url", app.base_url, "token", "--config", str(path))
    err = assert_clean_error(proc, 1, app.secrets())
    assert "invalid_grant" in err and app.kid in err


def test_unreachable_box_exits_1(app, tmp_path: Path) -> None:
    path = app.write_config(tmp_path / "box.json")
    proc = run_cli(
        "--box-base-url", "http://127.0.0.1:9", "token", "--config", str(path),
        env={"BOX_SECRETS_MAX_ATTEMPTS": "2"}, timeout=120,
    )  # fmt: skip
    err = assert_clean_error(proc, 1, app.secrets())
    assert "127.0.0.1:9" in err


def test_cache_dir_shares_tokens_between_processes(app, tmp_path: Path) -> None:
    path = app.write_config(tmp_path / "box.json")
    before = app.console.stats().get("POST /oauth2/token", 0)
    args = (
        "--box-base-url",
        app.base_url,
        "token",
        "--config",
        str(path),
        "--cache-dir",
        str(tmp_path / "c"),
    )
    first, second = run_cli(*args), run_cli(*args)
    assert first.stdout == second.stdout and first.returncode == 0
    assert app.console.stats()["POST /oauth2/token"] == before + 1


def test_emulator_command_prints_one_json_line_and_serves(app, tmp_path: Path) -> None:
    path = app.write_config(tmp_path / "box.json")
    proc = subprocess.Popen(
        [sys.executable, "-m", "box_secrets", "emulator", "--app-config", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        data = json.loads(line)
        assert list(data) == ["base_url"] and data["base_url"].startswith("http://127.0.0.1:")
        token = run_cli("--box-base-url", data["base_url"], "token", "--config", str(path))
        assert token.returncode == 0, token.stderr
    finally:
        # SIGTERM, not SIGINT: a shell that runs the suite in the background (`make test &`)
        # makes its children ignore SIGINT, and a child Python then never sees Ctrl-C.
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0  # stopped cleanly, as on Ctrl-C
    assert proc.stdout.read() == ""  # type: ignore[union-attr]


def test_emulator_bad_config_is_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    proc = run_cli("emulator", "--app-config", str(bad))
    assert_clean_error(proc, 2)


def test_internal_errors_do_not_print_tracebacks(tmp_path: Path) -> None:
    # A config path that is a directory is an OS-level oddity, not a crash.
    proc = run_cli("token", "--config", str(tmp_path))
    assert "is a directory" in assert_clean_error(proc, 2)
