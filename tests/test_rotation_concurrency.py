"""Concurrent runs never stage two keys or lose an update; readers never fail across a rotation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from box_secrets.rotation import RotationEngine
from box_secrets.stores import open_store

from .helpers import SIGNERS, make_signer_uri, make_store_uri
from .rotation_support import Collecting, new_rig, new_signer_rig

ROOT = Path(__file__).resolve().parent.parent


def _staged_events(rig) -> int:  # type: ignore[no-untyped-def]
    return sum(1 for e in rig.snap().record.history if e.action == "staged")


def _force_at_once(uri: str, base_url: str, n: int) -> list[str]:
    """``rotate --force`` from n threads released together; what each run did (none fails)."""
    barrier = threading.Barrier(n)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def run() -> None:
        engine = RotationEngine(open_store(uri), base_url=base_url, notifier=Collecting())
        barrier.wait()
        try:
            outcomes.append(engine.advance(force=True).action)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return outcomes


def test_eight_threads_force_one_pending(store_uri, make_app) -> None:
    rig = new_rig(store_uri, make_app)
    outcomes = _force_at_once(rig.uri, rig.base_url, 8)
    assert outcomes.count("staged") == 1, outcomes
    assert _staged_events(rig) == 1
    rig.check()


def test_eight_processes_force_one_pending(store_uri, make_app) -> None:
    rig = new_rig(store_uri, make_app)
    env = {**os.environ, "BOX_API_BASE_URL": rig.base_url}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "box_secrets",
                "rotate",
                "--force",
                "--store",
                store_uri,
                "--json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(8)
    ]
    results = [p.communicate(timeout=240) for p in procs]
    codes = [p.returncode for p in procs]
    assert codes == [3] * 8, (codes, [r[1] for r in results])  # all end waiting for a person
    actions = [json.loads(out[out.index("{\n") :])["action"] for out, _ in results]
    assert actions.count("staged") == 1, actions
    assert _staged_events(rig) == 1
    rig.check()


def test_concurrent_advance_during_promotion(store_uri, make_app) -> None:
    """Several runs see the registered key at once: exactly one promotion, one 'promoted' event."""
    rig = new_rig(store_uri, make_app)
    rig.engine.advance(force=True)
    rig.engine.register(rig.person_registers_pending())
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def run() -> None:
        engine = RotationEngine(open_store(store_uri), base_url=rig.base_url, notifier=Collecting())
        barrier.wait()
        outcomes.append(engine.advance().action)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("promoted") == 1, outcomes
    assert sum(1 for e in rig.snap().record.history if e.action == "promoted") == 1
    rig.check()


READER = """
import sys, time, json
from box_secrets.tokens import TokenProvider
uri, base, stop_file, progress = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
provider = TokenProvider(uri, base_url=base, deadline=20)
ok = failed = 0
errors = []
import os
while not os.path.exists(stop_file):
    try:
        provider.refresh()  # a new token every time: each one is signed with the key read now
        ok += 1
    except Exception as exc:
        failed += 1
        errors.append(f"{type(exc).__name__}: {exc}")
    with open(progress, "w") as fh:
        fh.write(str(ok + failed))
    time.sleep(0.02)
print(json.dumps({"ok": ok, "failed": failed, "errors": errors[:5]}))
"""


@pytest.mark.slow
def test_reader_never_fails_across_a_whole_rotation(store_uri, make_app, tmp_path: Path) -> None:
    rig = new_rig(store_uri, make_app)
    stop = tmp_path / "stop"
    progress = tmp_path / "progress"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, store_uri, rig.base_url, str(stop), str(progress)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def reader_mints(count: int = 3) -> None:
        """Wait until the reader has minted ``count`` more tokens in the current state."""

        seen = [0]

        def done() -> int:
            # The reader rewrites the file; a read mid-write may be empty: keep the last count.
            try:
                seen[0] = max(seen[0], int(progress.read_text()))
            except (OSError, ValueError):
                pass
            return seen[0]

        target = done() + count
        deadline = time.monotonic() + 30
        while done() < target:
            assert reader.poll() is None, "the reader died"
            assert time.monotonic() < deadline, "the reader stopped minting"
            time.sleep(0.01)

    try:
        reader_mints()
        for _ in range(2):  # two full rotations, each ending with the old key removed at Box
            old = rig.snap().record.active
            rig.engine.advance(force=True)
            reader_mints()
            kid = rig.person_registers_pending()
            rig.engine.register(kid)
            reader_mints()
            assert rig.engine.advance().action == "promoted"
            reader_mints()
            rig.person_removes(old.key_id)  # readers still holding the old key get refused now
            reader_mints()
            assert rig.engine.advance().action == "retired"
            rig.check()
            reader_mints()
    finally:
        stop.write_text("stop")
        out, _err = reader.communicate(timeout=60)
    result = json.loads(out)
    assert result["failed"] == 0, result["errors"]
    assert result["ok"] > 20


@pytest.mark.parametrize("signer", SIGNERS)
def test_eight_threads_force_one_pending_in_a_signer(
    signer: str, tmp_path: Path, request, make_app, vault, vault_token
) -> None:
    """Eight runs staging at once: one key reaches the record and a person; the others'
    KMS keys are discarded (Transit's extra versions are trimmed at the next retirement)."""
    moto = request.getfixturevalue("moto") if signer == "aws-kms" else None
    rig = new_signer_rig(
        make_store_uri("file", tmp_path, moto, vault),
        make_signer_uri(signer, moto, vault),
        make_app,
    )
    outcomes = _force_at_once(rig.uri, rig.base_url, 8)
    assert outcomes.count("staged") == 1, outcomes
    assert _staged_events(rig) == 2  # the first key's, and this one
    rig.check()
    if signer == "aws-kms":
        import boto3

        kms = boto3.Session().client("kms", endpoint_url=moto.url, region_name="us-east-1")
        pending = rig.snap().materials[rig.snap().record.pending.fingerprint].uri  # type: ignore[union-attr]
        alias = rig.snap().record.signer.split("://")[1].split("?")[0] + "-pending"  # type: ignore[union-attr]
        assert kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"] in pending
    rig.engine.register(rig.person_registers_pending(), verify=True)
    rig.check()
