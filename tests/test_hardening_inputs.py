"""Hostile and careless input: one sentence, exit 2 (or 1 where the environment is at fault),
no traceback, and nothing stored changes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from box_secrets.rotation import import_config
from box_secrets.stores import open_store

from .helpers import assert_clean_error, run_cli


def _digest(path: Path) -> bytes | None:
    return path.read_bytes() if path.exists() else None


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--max-age-days", "nan"),
        ("--max-age-days", "inf"),
        ("--max-age-days", "1e308"),
        ("--max-age-days", "0.5"),
        ("--grace-days", "nan"),
        ("--grace-days", "-1"),
        ("--renotify-hours", "inf"),
        ("--renotify-hours", "0"),
    ],
)
def test_policy_values_must_be_finite_and_bounded(
    app, tmp_path: Path, flag: str, value: str
) -> None:
    store_file = tmp_path / "s.json"
    import_config(open_store(f"file://{store_file}"), app.config)
    before = store_file.read_bytes()
    proc = run_cli(
        "init", "--store", f"file://{store_file}", "--config", str(app.write_config(tmp_path / "c.json")),
        flag, value, env={"BOX_API_BASE_URL": app.base_url},
    )  # fmt: skip
    assert "finite number" in assert_clean_error(proc, 2)
    assert store_file.read_bytes() == before


def test_a_stored_nan_policy_is_reported_not_obeyed(app, tmp_path: Path) -> None:
    store_file = tmp_path / "s.json"
    import_config(open_store(f"file://{store_file}"), app.config)
    text = store_file.read_text().replace('"grace_days": 7.0', '"grace_days": NaN')
    assert "NaN" in text
    store_file.write_text(text)
    for args in (("status",), ("retire", "--force"), ("rotate",)):
        proc = run_cli(
            *args, "--store", f"file://{store_file}", env={"BOX_API_BASE_URL": app.base_url}
        )
        assert "policy is invalid" in assert_clean_error(proc, 1)
    assert store_file.read_text() == text


def test_written_stores_are_strict_json(make_app, tmp_path: Path) -> None:
    app = make_app()
    store_file = tmp_path / "s.json"
    proc = run_cli(
        "init", "--store", f"file://{store_file}", "--config", str(app.write_config(tmp_path / "c.json")),
        "--max-age-days", "30", env={"BOX_API_BASE_URL": app.base_url},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr

    def refuse(token: str) -> None:
        raise ValueError(token)

    json.loads(store_file.read_text(), parse_constant=refuse)


def _cases(tmp: Path) -> dict[str, tuple[list[str], str]]:
    deep = tmp / "deep.json"
    deep.write_text("[" * 30_000 + "]" * 30_000)  # under the size cap, far past the depth
    big = tmp / "big.json"
    with open(big, "wb") as fh:
        fh.truncate(60 * 1024 * 1024)  # sparse: 60 MB without writing them
    fifo = tmp / "fifo.json"
    os.mkfifo(fifo)
    good = f"file://{tmp / 'store.json'}"
    return {
        "deep config": (["token", "--config", str(deep)], "nested"),
        "deep config import": (
            ["store", "import", "--config", str(deep), "--store", good],
            "nested",
        ),
        "huge config": (["store", "import", "--config", str(big), "--store", good], "limit"),
        "dev zero config": (["token", "--config", "/dev/zero"], "not a regular file"),
        "fifo config": (["token", "--config", str(fifo)], "not a regular file"),
        "dev zero store": (["status", "--store", "file:/dev/zero"], "not a regular file"),
        "nul in path": (["status", "--store", "file:app.json%00.txt"], "control character"),
        "endpoint not a url": (
            ["status", "--store", "aws-sm://x?endpoint_url=notaurl"],
            "https://",
        ),
        "endpoint remote http": (
            ["status", "--store", "aws-sm://x?endpoint_url=http://example.com"],
            "cleartext",
        ),
        "missing ca cert": (
            ["status", "--store", "vault://secret/x?addr=https://127.0.0.1:1&ca_cert=/nonexistent"],
            "CA certificate",
        ),
        "vault remote http": (
            ["status", "--store", "vault://secret/x?addr=http://example.com"],
            "cleartext",
        ),
        "vault dotdot": (
            ["status", "--store", "vault://secret/../../sys/health?addr=http://127.0.0.1:1"],
            "'..'",
        ),
        "vault encoded dotdot": (
            ["status", "--store", "vault://secret/%2e%2e/x?addr=http://127.0.0.1:1"],
            "'..'",
        ),
        "vault double encoded": (
            ["status", "--store", "vault://secret/%252e%252e/x?addr=http://127.0.0.1:1"],
            "'..'",
        ),
        "vault jwt_path": (
            [
                "status",
                "--store",
                "vault://secret/x?addr=http://127.0.0.1:1&auth=kubernetes&role=r&jwt_path=/etc/shadow",
            ],
            "not known",
        ),
        "bad region": (["status", "--store", "aws-sm://x?region=../../x"], "region"),
        "unknown profile": (
            ["status", "--store", "aws-sm://x?region=us-east-1&profile=doesnotexist"],
            "profile",
        ),
        "base url bracket": (
            ["--box-base-url", "http://[::1", "token", "--config", "/x"],
            "not a valid URL",
        ),
        "base url no scheme": (
            ["--box-base-url", "notaurl", "token", "--config", "/x"],
            "https://",
        ),
        "base url ftp": (
            ["--box-base-url", "ftp://127.0.0.1/", "token", "--config", "/x"],
            "https://",
        ),
        "base url port": (
            ["--box-base-url", "http://127.0.0.1:99999", "token", "--config", "/x"],
            "port",
        ),
        "base url remote http": (
            ["--box-base-url", "http://example.com", "token", "--config", "/x"],
            "cleartext",
        ),
        "notify remote http": (
            ["rotate", "--force", "--store", good, "--notify", "http://example.com/hook"],
            "cleartext",
        ),
        "import into missing dir": (
            [
                "store",
                "import",
                "--config",
                str(tmp / "c.json"),
                "--store",
                "file:/nonexistent-dir/x.json",
            ],
            "does not exist",
        ),
        "enterprise id": (
            [
                "init",
                "--store",
                good,
                "--client-id",
                "abc",
                "--client-secret-env",
                "HOME",
                "--enterprise-id",
                "12ab",
            ],
            "numeric",
        ),
    }


CASES = [
    "deep config", "deep config import", "huge config", "dev zero config", "fifo config", "dev zero store", "nul in path",
    "endpoint not a url", "endpoint remote http", "missing ca cert", "vault remote http",
    "vault dotdot", "vault encoded dotdot", "vault double encoded", "vault jwt_path", "bad region",
    "unknown profile", "base url bracket", "base url no scheme", "base url ftp", "base url port",
    "base url remote http", "notify remote http", "import into missing dir", "enterprise id",
]  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_sentence_and_exit_2(app, tmp_path: Path, case: str) -> None:
    app.write_config(tmp_path / "c.json")
    import_config(open_store(f"file://{tmp_path / 'store.json'}"), app.config)
    before = _digest(tmp_path / "store.json")
    args, words = _cases(tmp_path)[case]
    env = {"BOX_API_BASE_URL": app.base_url, "VAULT_TOKEN": "t", "AWS_MAX_ATTEMPTS": "1"}
    proc = run_cli(*args, env=env, timeout=30)
    err = assert_clean_error(proc, 2)
    assert words in err, err
    assert _digest(tmp_path / "store.json") == before


def test_insecure_http_opt_out_warns_every_time(tmp_path: Path) -> None:
    env = {"BOX_SECRETS_ALLOW_INSECURE_HTTP": "1"}
    # `store show` sends nothing to Box: the check runs, the warning prints, no traffic leaves.
    for _ in range(2):
        proc = run_cli(
            "--box-base-url", "http://192.0.2.1:9", "store", "show",
            "--store", f"file://{tmp_path / 'none.json'}", env=env,
        )  # fmt: skip
        assert "plain http to http://192.0.2.1:9" in proc.stderr


def test_crash_points_are_a_test_only_opt_in(app, tmp_path: Path) -> None:
    store = f"file://{tmp_path / 's.json'}"
    cfg = str(app.write_config(tmp_path / "c.json"))
    stray = run_cli(
        "store",
        "import",
        "--no-verify",
        "--config",
        cfg,
        "--store",
        store,
        env={"BOX_SECRETS_CRASH_AT": "store.commit:before"},
    )
    assert stray.returncode == 0, stray.stderr  # ignored without the opt-in
    assert "ignored" in stray.stderr
    bad = run_cli(
        "store", "show", "--store", store,
        env={"BOX_SECRETS_CRASH_AT": "store.commit#x", "BOX_SECRETS_TEST_HOOKS": "1"},
    )  # fmt: skip
    assert "BOX_SECRETS_CRASH_AT" in assert_clean_error(bad, 2)
    # The library never arms them, whatever the environment says.
    code = (
        "import os; os.environ['BOX_SECRETS_CRASH_AT'] = 'store.commit:before';"
        "os.environ['BOX_SECRETS_TEST_HOOKS'] = '1';"
        "from box_secrets._support import faults as _faults; import box_secrets.stores;"
        "assert _faults._hook is None"
    )
    import subprocess
    import sys

    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_emulator_refuses_the_same_app_twice(app, tmp_path: Path) -> None:
    cfg = str(app.write_config(tmp_path / "a.json"))
    proc = run_cli("emulator", "--app-config", cfg, "--app-config", cfg, timeout=30)
    assert "preloaded twice" in assert_clean_error(proc, 2)


def test_rotate_json_prints_json_only(app, tmp_path: Path) -> None:
    store = f"file://{tmp_path / 's.json'}"
    import_config(open_store(store), app.config)
    proc = run_cli(
        "rotate", "--force", "--json", "--store", store, env={"BOX_API_BASE_URL": app.base_url}
    )
    assert proc.returncode == 3, proc.stderr
    assert json.loads(proc.stdout)["action"] == "staged"
    assert "BEGIN PUBLIC KEY" in proc.stderr  # the log notifier's banner went to stderr


def test_an_outside_config_with_a_record_is_still_validated(app, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    numbers = app.key.key.private_numbers()
    broken = rsa.RSAPrivateNumbers(
        p=numbers.p, q=numbers.q, d=numbers.d, dmp1=numbers.dmp1, dmq1=numbers.dmq1,
        iqmp=(numbers.iqmp + 1) % numbers.p, public_numbers=numbers.public_numbers,
    ).private_key(unsafe_skip_rsa_key_validation=True)  # fmt: skip
    pem = broken.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    data = json.loads(app.config.to_json())
    data["boxAppSettings"]["appAuth"].update(privateKey=pem, passphrase="")
    data["boxSecrets"] = {"format": 1}
    cfg = tmp_path / "claims-trusted.json"
    cfg.write_text(json.dumps(data))
    proc = run_cli("token", "--config", str(cfg), env={"BOX_API_BASE_URL": app.base_url})
    assert "privateKey" in assert_clean_error(proc, 2)
