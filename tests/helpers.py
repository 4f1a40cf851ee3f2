"""What the tests share besides fixtures: the key pool, an app, the CLI runner, assertions.

Tests import these from here (``from .helpers import ...``); conftest.py
holds only fixtures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from box_secrets.emulator._console import Console
from box_secrets.signers._keys import GeneratedKey, generate_key
from box_secrets.stores._config import BoxAppConfig

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

    # Named keys: an app's usual first keys, and two others for "a different key".
    @property
    def first(self) -> GeneratedKey:
        return self.get(0)

    @property
    def second(self) -> GeneratedKey:
        return self.get(1)

    @property
    def other(self) -> GeneratedKey:
        """A key no app starts with: a new key pair in tests."""
        return self.get(4)

    @property
    def stranger(self) -> GeneratedKey:
        """Another key no app starts with: the wrong key in tests."""
        return self.get(5)

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


def _unique(prefix: str) -> str:
    import uuid

    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def make_store_uri(kind: str, tmp_path: Path, moto, vault) -> str:  # type: ignore[no-untyped-def]
    if kind == "file":
        return f"file://{tmp_path / _unique('box')}.json"
    if kind == "aws":
        return f"aws-sm://box/{_unique('app')}?region=us-east-1&endpoint_url={moto.url}"
    return f"vault://secret/box/{_unique('app')}?addr={vault.addr}"


BACKENDS = ["file", "aws", "vault"]


def vault_control(vault, route: str, body: dict[str, object] | None = None) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """POST to the Vault emulator's control API (as a user's CI would), not its internals."""
    req = urllib.request.Request(
        f"{vault.addr}/_emulator/{route}",
        data=json.dumps(body or {}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else {}


SIGNERS = ["aws-kms", "vault-transit"]


def make_signer_uri(kind: str, moto, vault) -> str:  # type: ignore[no-untyped-def]
    """A fresh signer home: a new KMS alias on moto, or a new Transit key on the emulator."""
    if kind == "aws-kms":
        return f"aws-kms://alias/{_unique('box')}?endpoint_url={moto.url}&region=us-east-1"
    vault.mount_transit("transit")
    return f"vault-transit://transit/{_unique('box')}?addr={vault.addr}"
