"""Shared by the benchmarks: an emulator in its own process, an app, timing and a table."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# An installed package ships compiled bytecode (pip compiles it; box-sdk-gen has it);
# an editable checkout may not, and PYTHONDONTWRITEBYTECODE=1 (set on these machines)
# stops Python from writing it. Compile ours once so both sides start equal.
import compileall  # noqa: E402

compileall.compile_dir(str(ROOT / "box_secrets"), quiet=1)

from box_secrets.emulator._console import Console  # noqa: E402
from box_secrets.signers._keys import generate_key  # noqa: E402
from box_secrets.stores._config import BoxAppConfig  # noqa: E402


class Emulator:
    """The Box emulator in its own process, so it does not share our GIL."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "box_secrets", "emulator"], stdout=subprocess.PIPE, text=True
        )
        self.base_url = json.loads(self.proc.stdout.readline())["base_url"]  # type: ignore[union-attr]
        self.console = Console(self.base_url)

    def token_requests(self) -> int:
        return int(self.console.stats().get("POST /oauth2/token", 0))

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def make_app(emulator: Emulator) -> BoxAppConfig:
    info = emulator.console.create_app()
    key = generate_key(2048)
    kid = emulator.console.add_key(info["client_id"], key.public_key_pem)
    return BoxAppConfig(
        client_id=info["client_id"],
        client_secret=info["client_secret"],
        enterprise_id=info["enterprise_id"],
        public_key_id=kid,
        private_key_pem=key.private_key_pem,
        passphrase=key.passphrase,
    )


def per_call(fn: Callable[[], Any], n: int) -> float:
    """Median seconds per call over five rounds of n calls."""
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        rounds.append((time.perf_counter() - start) / n)
    return statistics.median(rounds)


def child_seconds(code: str, runs: int = 7, env: dict[str, str] | None = None) -> float:
    """Median of what a fresh process reports (it prints seconds on its last line)."""
    values = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, **(env or {})},
            cwd=ROOT,
        ).stdout
        values.append(float(out.strip().splitlines()[-1]))
    return statistics.median(values)


def wall_seconds(argv: list[str], runs: int = 9, env: dict[str, str] | None = None) -> float:
    values = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True, env={**os.environ, **(env or {})})
        values.append(time.perf_counter() - start)
    return statistics.median(values)


def fmt(seconds: float) -> str:
    if seconds < 1e-6:
        return f"{seconds * 1e9:.0f} ns"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    return f"{seconds * 1e3:.2f} ms"


def table(title: str, rows: list[tuple[str, str, str, str]], theirs: str = "box-sdk-gen") -> str:
    head = ("measure", "box-secrets", theirs, "ratio")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows
    ]
    return "\n".join([f"### {title}", "", line, sep, *body, ""])


def ratio(ours: float, theirs: float) -> str:
    if ours <= 0:
        return "-"
    return f"{theirs / ours:.1f}x faster" if theirs >= ours else f"{ours / theirs:.1f}x slower"
