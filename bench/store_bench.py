"""The read path per store: cache hit and miss, and a cold process's first token end to end,
against box-sdk-gen's first token from the same key (read from a config file).

    .venv/bin/python bench/store_bench.py

Starts its own Box emulator, Vault emulator and moto server.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from _common import ROOT, Emulator, child_seconds, fmt, make_app, per_call, ratio

sys.path.insert(0, str(ROOT))

from tests.services import MotoServer


def main() -> None:
    from box_secrets.emulator._vault import VaultEmulator
    from box_secrets.rotation import import_config
    from box_secrets.stores import open_store
    from box_secrets.stores._reader import StoreSource

    emu = Emulator()
    vault = VaultEmulator().start()
    os.environ.update(
        VAULT_TOKEN=vault.root_token,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
    )
    moto = MotoServer()
    try:
        config = make_app(emu)
        tmp = Path(tempfile.mkdtemp())
        downloaded = str(tmp / "downloaded.json")
        config.save(downloaded)
        stores = {
            "file": f"file:{tmp / 'store.json'}",
            "vault": f"vault://secret/bench/app?addr={vault.addr}",
            "aws-sm": f"aws-sm://bench/app?region=us-east-1&endpoint_url={moto.url}",
        }
        sdk_first = child_seconds(
            "import time\n"
            "from box_sdk_gen import BaseUrls, BoxJWTAuth, JWTConfig, NetworkSession\n"
            "t = time.perf_counter()\n"
            f"ns = NetworkSession(base_urls=BaseUrls(base_url={emu.base_url!r}))\n"
            f"BoxJWTAuth(config=JWTConfig.from_config_file({downloaded!r})).retrieve_token(network_session=ns)\n"
            "print(time.perf_counter() - t)\n"
        )
        head = (
            "store",
            "read, cache hit",
            "read, cache miss",
            "cold first token",
            "box-sdk-gen first token",
            "ratio",
        )
        rows = []
        for name, uri in stores.items():
            import_config(open_store(uri), config)
            source = StoreSource(uri)
            source.load()
            hit = per_call(source.load, 100_000)
            miss = per_call(lambda source=source: source.load(force_refresh=True), 30)
            # Backend clients (hvac, boto3) are imported before timing: import cost is
            # measured in token_bench; here we measure the work.
            pre = {"file": "", "vault": "import hvac, requests\n", "aws-sm": "import boto3\n"}[name]
            first = child_seconds(
                "import time, urllib3, cryptography.hazmat.primitives.serialization\n"
                + pre
                + "from box_secrets.tokens import TokenProvider\n"
                "t = time.perf_counter()\n"
                f"TokenProvider({uri!r}, base_url={emu.base_url!r}).get_token()\n"
                "print(time.perf_counter() - t)\n",
                env={"VAULT_TOKEN": vault.root_token},
            )
            rows.append(
                (name, fmt(hit), fmt(miss), fmt(first), fmt(sdk_first), ratio(first, sdk_first))
            )
        widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
        print("### The read path per store, and a cold process's first token\n")
        print("| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |")
        print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        for r in rows:
            print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
    finally:
        moto.stop()
        vault.stop()
        emu.stop()


if __name__ == "__main__":
    main()
