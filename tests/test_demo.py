"""``make demo`` runs the real job; this keeps it from rotting."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_demo_walks_the_whole_lifecycle(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "box_secrets._demo"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    for phrase in (
        "box-secrets emulator",
        "register a new public key",
        "is active",
        "remove the old public key",
        "retired key",
        "state:       active",
        "sent the token to Box for revocation",
    ):
        assert phrase in out, phrase
    assert "Traceback" not in out + proc.stderr
