"""The file store under attack and misuse: links, leftovers, stray files, locks, full disks."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from box_secrets.rotation import import_config
from box_secrets.rotation._invariants import InvariantChecker
from box_secrets.stores import open_store

from .helpers import assert_clean_error, run_cli


def _history(store_file: Path) -> Path:
    return store_file.parent / f".{store_file.name}.history"


def test_a_symlinked_store_is_written_beside_its_target(make_app, tmp_path: Path) -> None:
    a, b = make_app(0), make_app(1)
    real = tmp_path / "real"
    real.mkdir()
    target = real / "app.json"
    link = tmp_path / "link.json"
    link.symlink_to(target)
    uri = f"file://{link}"
    import_config(open_store(uri), a.config)
    b_config = a.config_for(b.key, b.kid)
    import_config(open_store(uri), b_config, force=True)
    assert link.is_symlink(), "a write replaced the link with a copy"
    assert json.loads(target.read_text())["boxAppSettings"]["appAuth"]["publicKeyID"] == b.kid
    assert _history(target).is_dir() and not _history(link).exists()
    store = open_store(uri)
    assert a.key.fingerprint not in store.stored_fingerprints()
    assert InvariantChecker(store).check() == []


def test_a_crash_leftover_in_the_history_is_seen_and_then_removed(make_app, tmp_path: Path) -> None:
    app = make_app()
    store_file = tmp_path / "s.json"
    uri = f"file://{store_file}"
    import_config(open_store(uri), app.config)
    env = {
        "BOX_API_BASE_URL": app.base_url,
        "BOX_SECRETS_TEST_HOOKS": "1",
        "BOX_SECRETS_CRASH_AT": "file.rename:before#1",
    }
    crashed = run_cli("rotate", "--force", "--store", uri, env=env)
    assert crashed.returncode == 75, crashed.stderr  # killed while keeping a history copy
    leftovers = [p for p in _history(store_file).iterdir() if ".tmp-box-secrets-" in p.name]
    assert leftovers, "the crash left no temporary file: the test proves nothing"
    store = open_store(uri)
    assert app.key.fingerprint in store.stored_fingerprints()  # the checker can see it
    done = run_cli("rotate", "--force", "--store", uri, env={"BOX_API_BASE_URL": app.base_url})
    assert done.returncode == 3, done.stderr
    assert not [p for p in _history(store_file).iterdir() if ".tmp-box-secrets-" in p.name]


def test_a_leftover_holding_a_destroyed_key_violates_invariant_5(make_app, tmp_path: Path) -> None:
    a, b = make_app(0), make_app(1)
    store_file = tmp_path / "s.json"
    store = open_store(f"file://{store_file}")
    import_config(store, a.config)
    with_a = store_file.read_bytes()
    import_config(store, a.config_for(b.key, b.kid), force=True)  # a is destroyed
    checker = InvariantChecker(store)
    assert checker.check() == []
    planted = _history(store_file) / ".00000042.json.tmp-box-secrets-0123456789ab"
    planted.write_bytes(with_a)
    assert any(p.startswith("5:") for p in InvariantChecker(store).check())
    store.purge(a.key.fingerprint)  # a purge clears leftovers too
    assert not planted.exists() and InvariantChecker(store).check() == []


def test_reimporting_a_destroyed_key_is_not_a_violation(make_app, tmp_path: Path) -> None:
    a, b = make_app(0), make_app(1)
    cfg_a = a.write_config(tmp_path / "a.json")
    cfg_b = a.write_config(tmp_path / "b.json", b.key, b.kid)
    uri = f"file://{tmp_path / 's.json'}"
    for args in (
        ("--config", cfg_a),
        ("--config", cfg_b, "--force"),
        ("--config", cfg_a, "--force"),
    ):
        # Offline: config b pairs app a with a key Box does not know (the point here).
        proc = run_cli("store", "import", "--no-verify", "--store", uri, *map(str, args))
        assert proc.returncode == 0, proc.stderr
    check = run_cli("status", "--check", "--store", uri, env={"BOX_API_BASE_URL": a.base_url})
    assert check.returncode == 0, check.stderr


def test_a_stray_file_in_the_history_is_ignored(make_app, tmp_path: Path) -> None:
    a, b = make_app(0), make_app(1)
    store_file = tmp_path / "s.json"
    store = open_store(f"file://{store_file}")
    import_config(store, a.config)
    import_config(store, a.config_for(b.key, b.kid), force=True)
    (_history(store_file) / "notes.json").write_text("my notes")
    (_history(store_file) / "README").write_text("x")
    import_config(store, a.config, force=True)
    assert store.read_current().public_key_id == a.kid


def test_a_held_lock_makes_writers_give_up_naming_it(app, tmp_path: Path) -> None:
    store_file = tmp_path / "s.json"
    uri = f"file://{store_file}"
    import_config(open_store(uri), app.config)
    before = store_file.read_bytes()
    with open(f"{store_file}.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        started = time.monotonic()
        proc = run_cli(
            "rotate", "--force", "--store", uri,
            env={"BOX_API_BASE_URL": app.base_url, "BOX_SECRETS_LOCK_TIMEOUT": "0.5"},
        )  # fmt: skip
        took = time.monotonic() - started
    err = assert_clean_error(proc, 1)
    assert f"{store_file}.lock" in err and took < 20
    assert store_file.read_bytes() == before
    bad = run_cli("rotate", "--store", uri, env={"BOX_SECRETS_LOCK_TIMEOUT": "nan"})
    assert "BOX_SECRETS_LOCK_TIMEOUT" in assert_clean_error(bad, 2)


def test_planted_links_for_the_lock_and_history_are_refused(app, tmp_path: Path) -> None:
    store_file = tmp_path / "s.json"
    uri = f"file://{store_file}"
    import_config(open_store(uri), app.config)
    elsewhere = tmp_path / "elsewhere"
    os.unlink(f"{store_file}.lock")  # the import above made the real one
    Path(f"{store_file}.lock").symlink_to(elsewhere)
    proc = run_cli("rotate", "--force", "--store", uri, env={"BOX_API_BASE_URL": app.base_url})
    assert "symbolic link" in assert_clean_error(proc, 1)
    assert not elsewhere.exists()
    os.unlink(f"{store_file}.lock")
    history = _history(store_file)
    shutil.rmtree(history, ignore_errors=True)
    (tmp_path / "attacker").mkdir()
    history.symlink_to(tmp_path / "attacker")
    proc = run_cli("rotate", "--force", "--store", uri, env={"BOX_API_BASE_URL": app.base_url})
    assert "not a plain directory" in assert_clean_error(proc, 1)
    assert not list((tmp_path / "attacker").iterdir())


@pytest.mark.parametrize("problem", ["foreign", "world-writable", "group-open"])
def test_an_unsafe_history_directory_is_refused(app, tmp_path: Path, problem: str) -> None:
    store_file = tmp_path / "s.json"
    uri = f"file://{store_file}"
    import_config(open_store(uri), app.config)
    history = _history(store_file)
    history.mkdir(mode=0o700, exist_ok=True)
    if problem == "foreign":
        os.chown(history, 65534, 65534)
    else:
        history.chmod(0o777 if problem == "world-writable" else 0o770)
    before = store_file.read_bytes()
    proc = run_cli("rotate", "--force", "--store", uri, env={"BOX_API_BASE_URL": app.base_url})
    words = "another user" if problem == "foreign" else "open to other users"
    assert words in assert_clean_error(proc, 1)
    assert store_file.read_bytes() == before


def test_a_store_others_can_read_is_reported_and_refused_when_strict(app, tmp_path: Path) -> None:
    store_file = tmp_path / "s.json"
    import_config(open_store(f"file://{store_file}"), app.config)
    store_file.chmod(0o644)
    env = {"BOX_API_BASE_URL": app.base_url}
    loose = run_cli("status", "--store", f"file://{store_file}", env=env)
    assert loose.returncode == 0 and "readable by other users" in loose.stderr
    strict = run_cli("status", "--store", f"file://{store_file}?strict=true", env=env)
    assert "chmod 600" in assert_clean_error(strict, 2)


def test_a_future_mtime_does_not_postpone_rotation(app, tmp_path: Path) -> None:
    cfg = app.write_config(tmp_path / "plain.json")
    far = time.time() + 10 * 365 * 86400
    os.utime(cfg, (far, far))
    proc = run_cli(
        "status", "--json", "--store", f"file://{cfg}", env={"BOX_API_BASE_URL": app.base_url}
    )
    assert proc.returncode == 0, proc.stderr
    when = json.loads(proc.stdout)["active"]["created_at"]
    assert when[:4] == time.strftime("%Y", time.gmtime()), when


_FULL_DISK = r"""
import json, os, subprocess, sys
d = sys.argv[1]
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", d], check=True)
uri = "file://" + d + "/s.json"
cli = [sys.executable, "-m", "box_secrets"]
first = subprocess.run(cli + ["store", "import", "--no-verify", "--config", sys.argv[2], "--store", uri], capture_output=True, text=True)
assert first.returncode == 0, first.stderr
size = os.path.getsize(d + "/s.json")
fd = os.open(d + "/filler", os.O_WRONLY | os.O_CREAT)  # fill the disk,
try:
    while True:
        os.write(fd, b"\0" * 4096)
except OSError:
    pass
os.close(fd)  # then free room for one copy of the store only
pages = -(-size // 4096)
os.truncate(d + "/filler", max(0, os.path.getsize(d + "/filler") - pages * 4096))
before = open(d + "/s.json", "rb").read()
second = subprocess.run(cli + ["store", "import", "--no-verify", "--force", "--config", sys.argv[3], "--store", uri], capture_output=True, text=True)
history = d + "/.s.json.history"
print(json.dumps({
    "code": second.returncode, "stderr": second.stderr,
    "unchanged": open(d + "/s.json", "rb").read() == before,
    "history": sorted(os.listdir(history)) if os.path.isdir(history) else [],
    "leftovers": [n for n in os.listdir(d) if ".tmp-" in n],
}))
"""


def test_a_full_disk_is_one_sentence_and_changes_nothing(make_app, tmp_path: Path) -> None:
    a, b = make_app(0), make_app(1)
    cfg_a = a.write_config(tmp_path / "a.json")
    cfg_b = a.write_config(tmp_path / "b.json", b.key, b.kid)
    disk = tmp_path / "disk"
    disk.mkdir()
    # A private mount namespace: the small tmpfs disappears with the process.
    proc = subprocess.run(
        ["unshare", "-m", sys.executable, "-c", _FULL_DISK, str(disk), str(cfg_a), str(cfg_b)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["code"] == 1, result
    assert "No space left on device" in result["stderr"] and "Traceback" not in result["stderr"]
    assert len([line for line in result["stderr"].splitlines() if line.strip()]) == 1
    assert result["unchanged"] and result["history"] == [] and result["leftovers"] == []
