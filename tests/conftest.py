"""Shared fixtures: the Box emulator, apps with registered keys, and a CLI runner.

Everything runs over real HTTP against the in-repo emulators; the CLI runs as
a real child process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

from box_secrets.config import BoxAppConfig
from box_secrets.emulator.console import Console
from box_secrets.keys import GeneratedKey, generate_key

ROOT = Path(__file__).resolve().parent.parent


class KeyPool:
    """RSA key generation is slow; tests draw from a few keys made once per worker.

    Keys 0 to 2 are apps' first keys, 4 and 5 are "another key" in tests;
    ``staging`` hands the rotation engine keys from 10 on, so no example pays
    for RSA key generation.
    """

    STAGING = range(10, 16)

    def __init__(self) -> None:
        self._keys: list[GeneratedKey] = []
        self._lock = threading.Lock()

    def get(self, index: int) -> GeneratedKey:
        with self._lock:
            while len(self._keys) <= index:
                self._keys.append(generate_key(2048))
            return self._keys[index]

    def staging(self, held: Callable[[], set[str]]) -> Callable[[int], GeneratedKey]:
        """A key factory for RotationEngine: the next staging key the store does not hold."""
        turn = iter(range(10**9))

        def factory(bits: int) -> GeneratedKey:
            busy = held()
            for _ in range(len(self.STAGING)):
                key = self.get(self.STAGING[next(turn) % len(self.STAGING)])
                if key.fingerprint not in busy:
                    return key
            raise AssertionError("every staging key is held by the store")

        return factory


_POOL = KeyPool()


@pytest.fixture(scope="session")
def keys() -> KeyPool:
    return _POOL


@dataclass
class App:
    console: Console
    base_url: str
    client_id: str
    client_secret: str
    enterprise_id: str
    key: GeneratedKey
    kid: str

    @property
    def config(self) -> BoxAppConfig:
        return self.config_for(self.key, self.kid)

    def config_for(self, key: GeneratedKey, kid: str | None) -> BoxAppConfig:
        return BoxAppConfig(
            client_id=self.client_id,
            client_secret=self.client_secret,
            enterprise_id=self.enterprise_id,
            public_key_id=kid,
            private_key_pem=key.private_key_pem,
            passphrase=key.passphrase,
            require_key_id=kid is not None,
        )

    def write_config(
        self, path: Path, key: GeneratedKey | None = None, kid: str | None = None
    ) -> Path:
        cfg = self.config_for(key or self.key, kid or self.kid)
        path.write_text(cfg.to_json())
        return path

    def secrets(self) -> list[str]:
        """Values that must never appear in output."""
        return [self.client_secret, self.key.passphrase, *pem_chunks(self.key.private_key_pem)]


def pem_chunks(pem: str) -> list[str]:
    """Base64 lines of a PEM body: a leak of any of them is a leak of the key."""
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


@pytest.fixture
def console(box_emulator) -> Console:  # type: ignore[no-untyped-def]
    return Console(box_emulator.base_url)


@pytest.fixture
def make_app(box_emulator, console: Console, keys: KeyPool):  # type: ignore[no-untyped-def]
    counter = iter(range(1000))

    def _make(key_index: int | None = None, **app_options: object) -> App:
        info = console.create_app(**app_options)
        key = keys.get(next(counter) % 3 if key_index is None else key_index)
        kid = console.add_key(info["client_id"], key.public_key_pem)
        return App(
            console,
            box_emulator.base_url,
            info["client_id"],
            info["client_secret"],
            info["enterprise_id"],
            key,
            kid,
        )

    return _make


@pytest.fixture
def app(make_app) -> App:  # type: ignore[no-untyped-def]
    return make_app()


def run_cli(
    *args: str,
    env: dict[str, str] | None = None,
    input: str | None = None,
    timeout: float = 120,
    cwd: str | os.PathLike[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m box_secrets`` as a real child process."""
    full_env = dict(os.environ)
    full_env.pop("BOX_SECRETS_STORE", None)
    full_env.pop("BOX_API_BASE_URL", None)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "box_secrets", *args],
        capture_output=True,
        text=True,
        env=full_env,
        input=input,
        timeout=timeout,
        cwd=cwd,
    )


def assert_clean_error(
    proc: subprocess.CompletedProcess[str], code: int, secrets: Iterable[str] = ()
) -> str:
    """A user error: the exit code, one line on stderr, no traceback, no secret."""
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    err = proc.stderr.strip()
    assert "Traceback" not in proc.stderr
    assert err, "expected a message on stderr"
    lines = [line for line in err.splitlines() if not line.startswith(("Usage:", "Try "))]
    assert len([line for line in lines if line.strip()]) == 1, err
    for secret in secrets:
        assert secret not in proc.stderr and secret not in proc.stdout
    return err


def assert_no_secrets(text: str, secrets: Iterable[str]) -> None:
    for secret in secrets:
        assert secret not in text, "a secret value leaked"


def json_line(text: str) -> dict[str, object]:
    data = json.loads(text)
    assert isinstance(data, dict)
    return data


# -- secret stores over real HTTP ------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def _aws_test_credentials():  # type: ignore[no-untyped-def]
    """Fake credentials for the moto server; never real ones."""
    saved = {
        k: os.environ.get(k)
        for k in (
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_DEFAULT_REGION",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
        )
    }
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1"
    )
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def moto():  # type: ignore[no-untyped-def]
    from .services import MotoServer

    server = MotoServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def vault():  # type: ignore[no-untyped-def]
    from box_secrets.emulator.vault import VaultEmulator

    with VaultEmulator() as emulator:
        yield emulator


def _unique(prefix: str) -> str:
    import uuid

    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def vault_token(vault, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("VAULT_TOKEN", vault.root_token)
    monkeypatch.delenv("VAULT_NAMESPACE", raising=False)
    return vault.root_token


def make_store_uri(kind: str, tmp_path: Path, moto, vault) -> str:  # type: ignore[no-untyped-def]
    if kind == "file":
        return f"file://{tmp_path / _unique('box')}.json"
    if kind == "aws":
        return f"aws-sm://box/{_unique('app')}?region=us-east-1&endpoint_url={moto.url}"
    return f"vault://secret/box/{_unique('app')}?addr={vault.addr}"


BACKENDS = ["file", "aws", "vault"]


@pytest.fixture(params=BACKENDS)
def store_uri(request, tmp_path: Path, vault_token) -> str:  # type: ignore[no-untyped-def]
    moto = request.getfixturevalue("moto") if request.param == "aws" else None
    vault = request.getfixturevalue("vault")
    return make_store_uri(request.param, tmp_path, moto, vault)
