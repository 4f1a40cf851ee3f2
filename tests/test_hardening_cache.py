"""The cross-process token cache cannot be redirected, and revoke removes every copy."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from box_secrets import errors
from box_secrets.tokens import TokenProvider

from .helpers import assert_clean_error, run_cli


def test_revoke_removes_the_token_from_the_cache(app, tmp_path: Path) -> None:
    cfg = str(app.write_config(tmp_path / "c.json"))
    cache = str(tmp_path / "cache")
    env = {"BOX_API_BASE_URL": app.base_url}
    first = run_cli("token", "--config", cfg, "--cache-dir", cache, env=env)
    token = first.stdout.strip()
    again = run_cli("token", "--config", cfg, "--cache-dir", cache, env=env)
    assert again.stdout.strip() == token  # served from the cache
    revoked = run_cli("revoke", "--config", cfg, "--cache-dir", cache, env=env, input=token)
    assert revoked.returncode == 0, revoked.stderr
    assert "sent the token to Box for revocation" in revoked.stdout
    assert "revoked\n" != revoked.stdout
    after = run_cli("token", "--config", cfg, "--cache-dir", cache, env=env)
    assert after.returncode == 0 and after.stdout.strip() != token


def test_revoke_of_any_string_claims_no_success(app, tmp_path: Path) -> None:
    cfg = str(app.write_config(tmp_path / "c.json"))
    proc = run_cli(
        "revoke", "--config", cfg, env={"BOX_API_BASE_URL": app.base_url}, input="nonsense"
    )
    assert proc.returncode == 0 and "sent the token to Box for revocation" in proc.stdout


def test_a_symlinked_cache_path_is_refused(app, tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    link = tmp_path / "link"
    link.symlink_to(real)
    with pytest.raises(errors.InputError, match="symbolic link"):
        TokenProvider(app.config, base_url=app.base_url, cache_dir=link)


def test_parents_are_created_private(app, tmp_path: Path) -> None:
    TokenProvider(app.config, base_url=app.base_url, cache_dir=tmp_path / "a" / "b" / "c")
    for part in ("a", "a/b", "a/b/c"):
        assert stat.S_IMODE(os.stat(tmp_path / part).st_mode) == 0o700, part


def test_swapping_the_cache_dir_for_a_link_cannot_plant_a_token(app, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    provider = TokenProvider(app.config, base_url=app.base_url, cache_dir=cache)
    real = provider.get_token().access_token
    provider.refresh()  # written through the open directory
    attacker = tmp_path / "attacker"
    attacker.mkdir(mode=0o700)
    for name in os.listdir(cache):
        if name.endswith(".json"):
            (attacker / name).write_text(
                json.dumps({"access_token": "PLANTED", "expires_at": 4e9, "expires_in": 3600})
            )
            os.chmod(attacker / name, 0o600)
    os.rename(cache, tmp_path / "moved")
    cache.symlink_to(attacker)
    fresh = TokenProvider(app.config, base_url=app.base_url, cache_dir=tmp_path / "moved")
    assert fresh.get_token().access_token != "PLANTED"
    # The first provider keeps its open directory: the swap does not redirect it.
    provider._default = None
    for slot in provider._slots.values():
        slot.token = None
    assert provider.get_token().access_token != "PLANTED"
    assert real


def test_a_planted_link_inside_the_cache_is_not_followed(app, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    provider = TokenProvider(app.config, base_url=app.base_url, cache_dir=cache)
    provider.get_token()
    planted = tmp_path / "planted.json"
    planted.write_text(
        json.dumps({"access_token": "PLANTED", "expires_at": 4e9, "expires_in": 3600})
    )
    os.chmod(planted, 0o600)
    for name in os.listdir(cache):
        if name.endswith(".json"):
            os.unlink(cache / name)
            (cache / name).symlink_to(planted)
    other = TokenProvider(app.config, base_url=app.base_url, cache_dir=cache)
    assert other.get_token().access_token != "PLANTED"


def test_a_cache_dir_others_can_enter_is_refused(app, tmp_path: Path) -> None:
    cache = tmp_path / "open"
    cache.mkdir()
    cache.chmod(0o755)
    proc = run_cli(
        "token", "--config", str(app.write_config(tmp_path / "c.json")), "--cache-dir", str(cache),
        env={"BOX_API_BASE_URL": app.base_url},
    )  # fmt: skip
    assert "chmod 700" in assert_clean_error(proc, 2)
