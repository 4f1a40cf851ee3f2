"""``box-secrets terraform status`` on a file store, against ``python -c pass``.

    .venv/bin/python bench/terraform_bench.py

The program runs at every ``terraform plan``; the aim is at most 60 ms over
Python's own start-up. Wall-clock medians of fresh processes, run the way
Terraform's external provider runs it (no shell, the query on stdin).
Prints a Markdown table (docs/benchmarks.md records one run and this command).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, fmt

sys.path.insert(0, str(ROOT))


def wall(argv: list[str], stdin: bytes, runs: int = 21) -> float:
    values = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, input=stdin, capture_output=True, check=True)
        values.append(time.perf_counter() - start)
    return statistics.median(values)


def main() -> None:
    from box_secrets.rotation import import_config
    from box_secrets.signers._keys import generate_key
    from box_secrets.stores import open_store
    from box_secrets.stores._config import BoxAppConfig

    key = generate_key(2048)
    config = BoxAppConfig(
        client_id="benchclient",
        client_secret="not-a-real-secret",
        enterprise_id="1",
        public_key_id="benchkid",
        private_key_pem=key.private_key_pem,
        passphrase=key.passphrase,
    )
    path = Path(tempfile.mkdtemp()) / "box.json"
    import_config(open_store(f"file:{path}"), config)
    query = json.dumps({"store": f"file:{path}"}).encode()
    program = str(Path(sys.executable).parent / "box-secrets")
    python = wall([sys.executable, "-c", "pass"], b"")
    status = wall([program, "terraform", "status"], query)
    public = wall([program, "terraform", "public-key"], query)
    rows = [
        ("`python -c pass`", fmt(python), "-"),
        ("`box-secrets terraform status` (file store)", fmt(status), fmt(status - python)),
        ("`box-secrets terraform public-key` (file store)", fmt(public), fmt(public - python)),
    ]
    print("| measure | wall (median of 21) | over `python -c pass` |")
    print("|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
