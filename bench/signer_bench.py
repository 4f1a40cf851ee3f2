"""The cost of a mint with each signer: in-process RSA, AWS KMS (moto) and Vault Transit
(the emulator), all over loopback, next to box-sdk-gen's refresh with a key in a file.

    .venv/bin/python bench/signer_bench.py

box-sdk-gen cannot sign with KMS or Transit at all; its column is the same
reference in every row (a refresh with the private key in the config file).
Prints a Markdown table (docs/benchmarks.md records one run and this command).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from _common import Emulator, fmt, make_app, per_call, ratio, table


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Services:
    """moto and the Vault emulator, each in its own process (neither shares our GIL)."""

    def __init__(self) -> None:
        port = _free_port()
        self.moto = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.moto_url = f"http://127.0.0.1:{port}"
        self.vault = subprocess.Popen(
            [sys.executable, "-m", "box_secrets", "vault-emulator", "--transit", "transit"],
            stdout=subprocess.PIPE,
            text=True,
        )
        info = json.loads(self.vault.stdout.readline())  # type: ignore[union-attr]
        self.vault_addr, self.root_token = info["addr"], info["root_token"]
        for _ in range(200):
            try:
                urllib.request.urlopen(self.moto_url + "/moto-api/", timeout=1)
                break
            except OSError:
                time.sleep(0.05)

    def stop(self) -> None:
        for proc in (self.moto, self.vault):
            proc.terminate()
            proc.wait(timeout=10)


def _store_for(emu: Emulator, config: object, signer: str, tmp: Path) -> str:
    """A file store whose active key lives in ``signer``, registered at the Box emulator."""
    from box_secrets.rotation import RotationEngine

    store = f"file://{tmp / (signer.split(':', maxsplit=1)[0] + '.json')}"
    engine = RotationEngine(store, base_url=emu.base_url)
    engine.init(
        client_id=config.client_id,  # type: ignore[attr-defined]
        client_secret=config.client_secret,  # type: ignore[attr-defined]
        enterprise_id=config.enterprise_id,  # type: ignore[attr-defined]
        signer=signer,
    )
    pending = engine.store.load().record.pending
    assert pending is not None
    kid = emu.console.add_key(config.client_id, pending.public_key_pem)  # type: ignore[attr-defined]
    engine.register(kid, verify=True)
    return store


def main() -> None:
    from box_sdk_gen import BaseUrls, BoxJWTAuth, JWTConfig, NetworkSession

    from box_secrets.stores._reader import StoreSource
    from box_secrets.tokens import TokenProvider

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    emu, services = Emulator(), Services()
    os.environ["VAULT_TOKEN"] = services.root_token
    try:
        tmp = Path(tempfile.mkdtemp())
        pem_app = make_app(emu)
        path = str(tmp / "box_config.json")
        pem_app.save(path)
        auth = BoxJWTAuth(config=JWTConfig.from_config_file(path))
        ns = NetworkSession(base_urls=BaseUrls(base_url=emu.base_url))
        theirs = per_call(lambda: auth.refresh_token(network_session=ns), 20)

        sources = {"in-process RSA (key in the store)": path}
        kms_app = emu.console.create_app()
        transit_app = emu.console.create_app()
        for label, info, signer in (
            (
                "AWS KMS (moto over loopback)",
                kms_app,
                f"aws-kms://alias/bench?endpoint_url={services.moto_url}&region=us-east-1",
            ),
            (
                "Vault Transit (emulator over loopback)",
                transit_app,
                f"vault-transit://transit/bench?addr={services.vault_addr}",
            ),
        ):
            from box_secrets.stores._config import BoxAppConfig

            config = BoxAppConfig(
                client_id=info["client_id"],
                client_secret=info["client_secret"],
                enterprise_id=info["enterprise_id"],
            )
            sources[label] = _store_for(emu, config, signer, tmp)

        rows: list[tuple[str, str, str, str]] = []
        for label, where in sources.items():
            source = StoreSource(where) if "://" in where else where
            provider = TokenProvider(source, base_url=emu.base_url)
            provider.refresh()  # warm: the key parsed, the client built, the connection open
            ours = per_call(provider.refresh, 20)
            rows.append((f"mint (refresh), {label}", fmt(ours), fmt(theirs), ratio(ours, theirs)))
            signer = provider._signer(provider.source.load())
            sign = per_call(lambda s=signer: s.sign(b"x" * 300, "RS256"), 50)
            rows.append((f"  of which the signature, {label}", fmt(sign), "-", "-"))
        cached = TokenProvider(sources["AWS KMS (moto over loopback)"], base_url=emu.base_url)
        cached.get_token()
        hit = per_call(cached.get_token, 100_000)
        rows.append(("cached token, any signer (no signature)", fmt(hit), "-", "-"))
        print(
            table(
                f"A mint with each signer (Python {sys.version.split()[0]})",
                rows,
                theirs="box-sdk-gen refresh (key in file)",
            )
        )
    finally:
        services.stop()
        emu.stop()


if __name__ == "__main__":
    main()
