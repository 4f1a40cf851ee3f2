"""The fault-injection matrix: every transition, crashed before and after every store write,
Box call and notification, on all three backends. After each crash the invariants hold, and
running the same command again converges to the state an uncrashed run reaches.

A crash is a :class:`SimulatedCrash` raised at the k-th crash point the command passes
(k = 1, 2, ... until the command completes without reaching k). Separate tests kill real
processes at those points (``BOX_SECRETS_CRASH_AT``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from box_secrets._support import faults as _faults
from box_secrets.stores._config import BoxAppConfig

from .helpers import BACKENDS, SIGNERS, make_signer_uri, make_store_uri
from .rotation_support import Rig, new_rig, new_signer_rig


@dataclass
class Scenario:
    name: str
    setup: Callable[[Rig, Any], Any]  # returns what the action needs (the person's key ID)
    action: Callable[[Rig, Any], Any]
    expect: Callable[[Rig], None]


def _staged_and_pasted(rig: Rig, keys: Any) -> str:
    rig.engine.advance(force=True)
    return rig.person_registers_pending()


def _staged(rig: Rig, keys: Any) -> None:
    rig.engine.advance(force=True)


def _registered(rig: Rig, keys: Any) -> None:
    rig.engine.advance(force=True)
    rig.engine.register(rig.person_registers_pending())


def _overlap_removed_at_box(rig: Rig, keys: Any) -> None:
    old = rig.snap().record.active
    rig.engine.advance(force=True)
    rig.engine.register(rig.person_registers_pending(), verify=True)
    rig.person_removes(old.key_id)


def _overlap_after_grace(rig: Rig, keys: Any) -> None:
    rig.engine.advance(force=True)
    rig.engine.register(rig.person_registers_pending(), verify=True)
    rig.clock.advance(8 * 86400)


def _registered_wrong(rig: Rig, keys: Any) -> None:
    rig.engine.advance(force=True)
    rig.engine.register("zz00zz00")


def _nothing(rig: Rig, keys: Any) -> None:
    pass


def _import_config(rig: Rig, keys: Any) -> BoxAppConfig:
    key = keys.other
    kid = next(
        (
            e["id"]
            for e in rig.console.list_keys(rig.client_id)
            if e["fingerprint_sha256"] == key.fingerprint
        ),
        None,
    ) or rig.console.add_key(rig.client_id, key.public_key_pem)
    current = rig.store.read_current()
    return BoxAppConfig(
        client_id=rig.client_id,
        client_secret=current.client_secret,
        enterprise_id=current.enterprise_id,
        public_key_id=kid,
        private_key_pem=key.private_key_pem,
        passphrase=key.passphrase,
    )


def expect_state(state: str, **checks: Any) -> Callable[[Rig], None]:
    def check(rig: Rig) -> None:
        r = rig.snap().record
        assert r.state == state, (r.state, state)
        if checks.get("pending_registered") is not None:
            assert (r.pending.key_id is not None) == checks["pending_registered"]
        if checks.get("notified"):
            role = checks["notified"]
            assert getattr(r, role).notified_at is not None, (
                f"the {role} key's notification was lost"
            )
        if checks.get("box_sdk"):
            rig.active_works_with_box_sdk_gen()

    return check


SCENARIOS = [
    Scenario(
        "stage",
        _nothing,
        lambda rig, _: rig.engine.advance(force=True),
        expect_state("staged", notified="pending"),
    ),
    Scenario(
        "register",
        _staged_and_pasted,
        lambda rig, kid: rig.engine.register(kid),
        expect_state("registered", pending_registered=True),
    ),
    Scenario(
        "verify-and-promote",
        _registered,
        lambda rig, _: rig.engine.advance(),
        expect_state("overlap", notified="previous", box_sdk=True),
    ),
    Scenario(
        "register-verify",
        _staged_and_pasted,
        lambda rig, kid: rig.engine.register(kid, verify=True),
        expect_state("overlap", notified="previous", box_sdk=True),
    ),
    Scenario(
        "refused",
        _registered_wrong,
        lambda rig, _: rig.engine.advance(),
        expect_state("staged", pending_registered=False, notified="pending"),
    ),
    Scenario(
        "retire",
        _overlap_removed_at_box,
        lambda rig, _: rig.engine.advance(),
        expect_state("active", box_sdk=True),
    ),
    Scenario(
        "retire-force",
        _overlap_after_grace,
        lambda rig, _: rig.engine.retire(force=True),
        expect_state("active", box_sdk=True),
    ),
    Scenario("abandon", _staged, lambda rig, _: rig.engine.abandon(), expect_state("active")),
]


class CrashAt:
    """Crash at the k-th point the command passes (of those ``only`` admits)."""

    def __init__(self, k: int, only: Callable[[str], bool] = lambda point: True) -> None:
        self.k = k
        self.only = only
        self.hits: list[str] = []

    def __call__(self, point: str) -> None:
        if not self.only(point):
            return
        self.hits.append(point)
        if len(self.hits) == self.k:
            raise _faults.SimulatedCrash(point)


def _points_for(backend: str) -> Callable[[str], bool]:
    """The engine's points (store commits, Box calls, notifications) behave the same on
    every store, so every one of them is crashed on the cheap backends (file, Vault).
    Secrets Manager, whose set-up costs ten times more, is crashed at its own internal
    points (before each put and label move) in the scenarios that take every path:
    staging (new key versions), promotion (AWSCURRENT and AWSPREVIOUS move), retirement
    and abandonment (labels stripped)."""
    if backend == "aws":
        # Before each put and each label move: a crash after one is a crash before the
        # next, so the ':after' points would repeat the same states at twice the cost.
        return lambda point: point.startswith("aws.") and point.endswith(":before")
    return lambda point: True


_AWS_SCENARIOS = {"stage", "register-verify", "retire", "abandon"}


def _run_matrix(
    scenario: Scenario,
    backend: str,
    tmp_path: Any,
    request: Any,
    keys: Any,
    make_app: Any,
    *,
    first: int = 1,
    step: int = 1,
    signer: str | None = None,
) -> list[str]:
    """Crash at points first, first + step, ... until the command completes."""
    needs_moto = backend == "aws" or signer == "aws-kms"
    moto = request.getfixturevalue("moto") if needs_moto else None
    vault = request.getfixturevalue("vault")
    if backend == "openbao":  # the Vault store (and Transit) on a real OpenBao server
        vault = request.getfixturevalue("openbao")
        request.getfixturevalue("monkeypatch").setenv("VAULT_TOKEN", vault.root_token)
        backend = "vault"
    crashed_at: list[str] = []
    k = first
    while True:
        store = make_store_uri(backend, tmp_path, moto, vault)
        if signer is None:
            rig = new_rig(store, make_app)
            only = _points_for(backend)
        else:
            rig = new_signer_rig(store, make_signer_uri(signer, moto, vault), make_app)
            # The engine's own points are crashed in the matrix above; here, the calls
            # that change KMS or Transit and the store commits around them.
            only = lambda point: point.startswith(("signer.", "store.commit"))  # noqa: E731
        context = scenario.setup(rig, keys)
        rig.check()
        hook = CrashAt(k, only)
        _faults.install(hook)
        try:
            scenario.action(rig, context)
            completed = True
        except _faults.SimulatedCrash:
            completed = False
        finally:
            _faults.uninstall()
        rig.check()
        if completed:
            scenario.expect(rig)
            return crashed_at
        crashed_at.append(hook.hits[-1])
        # The same command again, now without a crash: it must converge.
        scenario.action(rig, context)
        rig.check()
        scenario.expect(rig)
        k += step
        if k > 80:
            raise AssertionError("the command passes too many crash points; is it looping?")


# Every scenario on the file store; on Vault, the two that pass the most points (its CAS
# writes behave like the file's revisions; the store contract tests cover the rest).
_MATRIX = [(s, "file") for s in SCENARIOS] + [
    (s, server)
    for server in ("vault", "openbao")
    for s in SCENARIOS
    if s.name in ("register-verify", "retire")
]


@pytest.mark.slow
@pytest.mark.parametrize(("scenario", "backend"), _MATRIX, ids=lambda v: getattr(v, "name", v))
def test_crash_anywhere_then_converge(
    scenario: Scenario, backend: str, tmp_path, request, keys, make_app, vault_token
) -> None:
    points = _run_matrix(scenario, backend, tmp_path, request, keys, make_app)
    # every transition writes the store and most talk to Box or a person
    assert any(p.startswith("store.commit") for p in points), points
    if scenario.name in ("verify-and-promote", "register-verify", "refused", "retire"):
        assert any(p.startswith("box.call") for p in points), points


@pytest.mark.slow
@pytest.mark.parametrize("half", [0, 1])
@pytest.mark.parametrize(
    "scenario", [s for s in SCENARIOS if s.name in _AWS_SCENARIOS], ids=lambda s: s.name
)
def test_secrets_manager_crash_anywhere_then_converge(
    scenario: Scenario, half: int, tmp_path, request, keys, make_app, vault_token
) -> None:
    # The odd crash points in one test, the even ones in the other: together, every point.
    points = _run_matrix(scenario, "aws", tmp_path, request, keys, make_app, first=1 + half, step=2)
    assert half == 1 or any(p.startswith("aws.label") for p in points), points


# retire-force makes the same calls at home as retire.
_SIGNER_SCENARIOS = {"stage", "register-verify", "retire", "abandon"}
_SIGNER_MATRIX = [
    (s, signer, "file") for signer in SIGNERS for s in SCENARIOS if s.name in _SIGNER_SCENARIOS
] + [
    # Transit on a real OpenBao server: staging (rotate) and retiring (config, trim).
    (s, "vault-transit", "openbao")
    for s in SCENARIOS
    if s.name in ("stage", "retire")
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("scenario", "signer", "backend"), _SIGNER_MATRIX, ids=lambda v: getattr(v, "name", v)
)
def test_signer_crash_anywhere_then_converge(
    scenario: Scenario, signer: str, backend: str, tmp_path, request, keys, make_app, vault_token
) -> None:
    """Keys in KMS or Transit: crashed at every call that changes them, and every commit."""
    points = _run_matrix(scenario, backend, tmp_path, request, keys, make_app, signer=signer)
    # Transit promotes in the record alone, and cannot trim a version above the active one.
    if signer == "aws-kms" or scenario.name in ("stage", "retire"):
        assert any(p.startswith("signer.change") for p in points), points


@pytest.mark.parametrize("backend", BACKENDS)
def test_import_crash_anywhere_then_converge(
    backend: str, tmp_path, request, keys, make_app, vault_token
) -> None:
    moto = request.getfixturevalue("moto") if backend == "aws" else None
    vault = request.getfixturevalue("vault")
    k = 1
    while True:
        rig = new_rig(make_store_uri(backend, tmp_path, moto, vault), make_app)
        config = _import_config(rig, keys)
        hook = CrashAt(k, _points_for(backend))
        _faults.install(hook)
        try:
            rig.engine.import_pending(config)
            completed = True
        except _faults.SimulatedCrash:
            completed = False
        finally:
            _faults.uninstall()
        rig.check()
        rig.engine.import_pending(config)
        rig.check()
        assert rig.engine.advance().action == "promoted"
        rig.check()
        if completed:
            assert k > 1, "import passed no crash point: the test would prove nothing"
            return
        k += 1
        if k > 40:
            raise AssertionError("import passes too many crash points; is it looping?")


# -- real processes killed at a crash point ---------------------------------------------------


def _cli(rig: Rig, *args: str, crash: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BOX_API_BASE_URL": rig.base_url}
    if crash:
        env["BOX_SECRETS_CRASH_AT"] = crash
        env["BOX_SECRETS_TEST_HOOKS"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "box_secrets", *args, "--store", rig.uri],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


_ENGINE_POINTS = [
    "store.commit:after#1",
    "box.call:after#1",
    "notify:before#1",
    "store.commit:before#2",
]
# The engine's points on the file store; one on Vault; on Secrets Manager (a boto3
# import per process) one engine point and one of its own label moves.
_KILLS = [(p, "file") for p in _ENGINE_POINTS] + [
    ("store.commit:after#1", "vault"),
    ("store.commit:after#1", "aws"),
    ("aws.label:before#2", "aws"),
]


@pytest.mark.parametrize(("point", "backend"), _KILLS)
def test_killed_process_then_rerun(
    backend: str, point: str, tmp_path, request, make_app, vault_token
) -> None:
    moto = request.getfixturevalue("moto") if backend == "aws" else None
    rig = new_rig(
        make_store_uri(backend, tmp_path, moto, request.getfixturevalue("vault")), make_app
    )
    codes = [_cli(rig, "rotate", "--force", crash=point).returncode]
    assert codes[-1] in (3, 75)
    rig.check()
    again = _cli(rig, "rotate", "--force")
    assert again.returncode == 3, again.stderr
    rig.check()
    assert rig.snap().record.pending is not None
    kid = rig.person_registers_pending()
    codes.append(_cli(rig, "register", "--public-key-id", kid, crash=point).returncode)
    assert codes[-1] in (0, 75)
    rig.check()
    codes.append(_cli(rig, "rotate", crash=point).returncode)
    assert codes[-1] in (0, 75)
    rig.check()
    assert 75 in codes, f"{point} never fired: the test would prove nothing"
    final = _cli(rig, "rotate")
    assert final.returncode in (0, 3), final.stderr
    rig.check()
    assert rig.snap().record.state == "overlap"
    rig.active_works_with_box_sdk_gen()
