"""``box-secrets token --cache-dir / --token-cache``: the fast path and the shared caches.

A hit is proven to be a hit by what the process imported (``-X importtime``):
no click, no HTTP client, no cryptography. Everything runs as real processes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .helpers import assert_clean_error, run_cli

HEAVY = ("click", "http", "ssl", "urllib3", "cryptography", "jwt", "boto3", "redis")


def token_requests(app) -> int:  # type: ignore[no-untyped-def]
    return int(app.console.stats().get("POST /oauth2/token", 0))


def imported(proc) -> set[str]:  # type: ignore[no-untyped-def]
    """Top-level packages a ``-X importtime`` run imported."""
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def token(app, *args: str, env: dict[str, str] | None = None, importtime: bool = False):  # type: ignore[no-untyped-def]
    full = {"BOX_API_BASE_URL": app.base_url, **(env or {})}
    if importtime:
        full["PYTHONPROFILEIMPORTTIME"] = "1"
    return run_cli("token", *args, env=full)


def test_a_hit_reads_one_file_and_imports_nothing_heavy(app, tmp_path: Path) -> None:
    config = str(app.write_config(tmp_path / "box.json"))
    cache = str(tmp_path / "c")
    first = token(app, "--config", config, "--cache-dir", cache, importtime=True)
    assert first.returncode == 0, first.stderr
    # The miss did the work, and only that: it minted without loading the option parser.
    assert {"http", "cryptography"} <= imported(first)
    assert not {"click", "urllib3"} & imported(first)
    second = token(app, "--config", config, "--cache-dir", cache, importtime=True)
    assert second.returncode == 0 and second.stdout == first.stdout
    assert not imported(second) & set(HEAVY), imported(second) & set(HEAVY)
    as_json = token(app, "--config", config, "--cache-dir", cache, "--json", importtime=True)
    data = json.loads(as_json.stdout)
    assert data["access_token"] == first.stdout.strip()
    assert {"expires_at", "expires_in", "token_type", "restricted_to"} <= set(data)
    assert not imported(as_json) & set(HEAVY)
    assert token_requests(app) == 1


def test_each_subject_and_scope_set_is_its_own_entry(app, tmp_path: Path) -> None:
    config = str(app.write_config(tmp_path / "box.json"))
    user = app.console.create_user(app.client_id, "cli user")
    base = ("--config", config, "--cache-dir", str(tmp_path / "c"))
    runs = [
        (),
        ("--as-user", user),
        ("--scope", "item_preview"),
        ("--scope", "item_preview", "--scope", "item_download"),
        ("--scope", "item_download", "--scope", "item_preview"),  # the same set
    ]
    values = [token(app, *base, *extra).stdout.strip() for extra in runs]
    again = [token(app, *base, *extra).stdout.strip() for extra in runs]
    assert values == again
    assert len(set(values)) == 4 and values[3] == values[4]


def test_a_changed_config_file_is_never_served_an_old_token(make_app, tmp_path: Path) -> None:
    first_app, second_app = make_app(), make_app()
    config = tmp_path / "box.json"
    first_app.write_config(config)
    cache = str(tmp_path / "c")
    old = token(first_app, "--config", str(config), "--cache-dir", cache).stdout
    second_app.write_config(config)  # the same path now names another app
    new = token(first_app, "--config", str(config), "--cache-dir", cache)
    assert new.returncode == 0, new.stderr
    assert new.stdout != old
    assert token_requests(second_app) == 2  # one per app (the apps share one emulator)


def test_a_planted_or_damaged_entry_falls_back_to_the_full_command(app, tmp_path: Path) -> None:
    config = str(app.write_config(tmp_path / "box.json"))
    cache = tmp_path / "c"
    good = token(app, "--config", config, "--cache-dir", str(cache)).stdout
    for entry in cache.glob("cmd-*.json"):
        entry.write_text('{"token": {"access_token": "planted", "expires_at": "nan"}}')
        os.chmod(entry, 0o600)
    again = token(app, "--config", config, "--cache-dir", str(cache))
    assert again.returncode == 0 and again.stdout == good  # from the provider's own entry
    for entry in cache.glob("*.json"):
        entry.write_bytes(b"\xff garbage")
    fresh = token(app, "--config", config, "--cache-dir", str(cache))
    assert fresh.returncode == 0 and fresh.stdout.startswith("1!")


def test_bad_options_still_get_clicks_one_sentence(app, tmp_path: Path) -> None:
    config = str(app.write_config(tmp_path / "box.json"))
    cache = str(tmp_path / "c")
    token(app, "--config", config, "--cache-dir", cache)
    proc = token(app, "--config", config, "--cache-dir", cache, "--resource", "https://x")
    assert_clean_error(proc, 2)
    assert "--scope" in proc.stderr
    proc = token(app, "--config", config, "--cache-dir", cache, "--token-cache", "memcached://x")
    assert_clean_error(proc, 2)


def test_token_cache_on_redis_shares_tokens_between_invocations(
    app, tmp_path: Path, redis_server
) -> None:
    redis_server.command("FLUSHALL")
    config = str(app.write_config(tmp_path / "box.json"))
    env = {"BOX_SECRETS_TOKEN_CACHE": str(redis_server.url)}
    first = token(app, "--config", config, env=env)
    second = token(app, "--config", config, "--token-cache", str(redis_server.url))
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert token_requests(app) == 1
    assert first.stdout.strip().encode() not in redis_server.command("KEYS", "*")


def test_revoke_drops_the_token_from_every_cache(app, tmp_path: Path, redis_server) -> None:
    redis_server.command("FLUSHALL")
    config = str(app.write_config(tmp_path / "box.json"))
    args = ("--config", config, "--cache-dir", str(tmp_path / "c"))
    shared = ("--token-cache", str(redis_server.url))
    old = token(app, *args, *shared).stdout.strip()
    proc = run_cli("revoke", *args, *shared, env={"BOX_API_BASE_URL": app.base_url}, input=old)
    assert proc.returncode == 0, proc.stderr
    assert "removed from the token cache" in proc.stdout
    new = token(app, *args, *shared).stdout.strip()
    assert new and new != old
    assert token_requests(app) == 2


def test_the_fast_path_and_click_agree_on_odd_command_lines(app, tmp_path: Path) -> None:
    """Each command line, through `box-secrets` (fast path first) and through click alone:
    the same exit code, the same error, a token on stdout for both or neither."""
    import subprocess
    import sys

    config = str(app.write_config(tmp_path / "box.json"))
    cache = str(tmp_path / "c")
    cases = [
        (["--config", config], {}),
        (["--config", config], {"BOX_SECRETS_STORE": f"file:{config}"}),  # both: refused
        (["--config", config, "--token-cache", ""], {}),
        (["--config", config, "--cache-dir", cache, "--json"], {}),
        (["--config", str(tmp_path)], {}),  # a directory
        (["--config", config, "--scope"], {}),  # a missing value
        (["--config", config, "--as-user", "1", "--as-user", "2"], {}),
        (["--config", config, "--resource", "https://x", "--shared-link", "https://y"], {}),
        (["--store", "nope://x"], {}),
        (["--config", config, "--token-cache", "redis://10.0.0.1/0"], {}),
        (["--config", str(tmp_path / "missing.json")], {}),
    ]
    click_only = (
        "import sys\nfrom box_secrets.cli._app import cli\n"
        "cli.main(sys.argv[1:], prog_name='box-secrets')"
    )
    base = {k: v for k, v in os.environ.items() if k != "BOX_SECRETS_STORE"}
    for args, extra in cases:
        env = {**base, "BOX_API_BASE_URL": app.base_url, **extra}
        fast = subprocess.run(
            [sys.executable, "-m", "box_secrets", "token", *args],
            capture_output=True,
            text=True,
            env=env,
        )
        slow = subprocess.run(
            [sys.executable, "-c", click_only, "token", *args],
            capture_output=True,
            text=True,
            env=env,
        )
        assert fast.returncode == slow.returncode, (args, fast.stderr, slow.stderr)
        assert fast.stderr == slow.stderr, args
        assert bool(fast.stdout.strip()) == bool(slow.stdout.strip()), args
