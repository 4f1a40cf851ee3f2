"""Stateful property test: random sequences of every command, a person's right and wrong
moves, injected crashes, Box outages and clock jumps never break an invariant."""

from __future__ import annotations

import tempfile
import uuid

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from box_secrets import errors
from box_secrets._support import faults as _faults
from box_secrets.emulator import BoxEmulator
from box_secrets.emulator._console import Console, ConsoleError
from box_secrets.stores._config import BoxAppConfig

from .helpers import _POOL
from .rotation_support import Rig

_EMULATOR: BoxEmulator | None = None
EXPECTED = (errors.InputError, errors.BoxUnavailableError, _faults.SimulatedCrash)


def emulator() -> BoxEmulator:
    global _EMULATOR
    if _EMULATOR is None:
        _EMULATOR = BoxEmulator().start()
    return _EMULATOR


class CrashAt:
    def __init__(self, k: int) -> None:
        self.k, self.n = k, 0

    def __call__(self, point: str) -> None:
        self.n += 1
        if self.n == self.k:
            raise _faults.SimulatedCrash(point)


# Mostly no crash, so sequences get far; sometimes a crash at one of the first eight points.
crash = st.one_of(st.none(), st.none(), st.none(), st.integers(min_value=1, max_value=8))


class Lifecycle(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        emu = emulator()
        self.console = Console(emu.base_url)
        info = self.console.create_app()
        first = _POOL.first
        kid = self.console.add_key(info["client_id"], first.public_key_pem)
        self.app = info
        self.dir = tempfile.mkdtemp()
        self.rig = Rig(
            f"file:{self.dir}/{uuid.uuid4().hex}.json",
            self.console,
            emu.base_url,
            info["client_id"],
        )
        config = BoxAppConfig(
            client_id=info["client_id"],
            client_secret=info["client_secret"],
            enterprise_id=info["enterprise_id"],
            public_key_id=kid,
            private_key_pem=first.private_key_pem,
            passphrase=first.passphrase,
        )
        self.rig.engine.init(config=config)

    def _do(self, k: int | None, fn) -> None:  # type: ignore[no-untyped-def]
        if k is not None:
            _faults.install(CrashAt(k))
        try:
            outcome = fn()
            event(f"outcome: {getattr(outcome, 'action', outcome)}")
        except EXPECTED as exc:
            event(f"raised: {type(exc).__name__}")
        finally:
            _faults.uninstall()

    def _state(self) -> str:
        return self.rig.snap().record.state if hasattr(self, "rig") else "none"

    @rule(force=st.booleans(), k=crash)
    def advance(self, force: bool, k: int | None) -> None:
        self._do(k, lambda: self.rig.engine.advance(force=force))

    @precondition(lambda self: self._state() in ("registered", "overlap", "active"))
    @rule(k=crash)
    def advance_when_there_is_work(self, k: int | None) -> None:
        self._do(k, lambda: self.rig.engine.advance(force=self._state() == "active"))

    @precondition(lambda self: self._state() in ("staged", "registered"))
    @rule(verify=st.booleans(), k=crash)
    def person_registers_right_id(self, verify: bool, k: int | None) -> None:
        if self.rig.snap().record.pending is None:
            return
        try:
            kid = self.rig.person_registers_pending()
        except ConsoleError:
            return  # Box already holds two keys: the person cannot add a third
        self._do(k, lambda: self.rig.engine.register(kid, verify=verify))

    @precondition(lambda self: self._state() in ("staged", "registered", "overlap"))
    @rule(
        kid=st.sampled_from(["wrong001", "zzzz9999", "active", "previous"]),
        verify=st.booleans(),
        k=crash,
    )
    def person_registers_wrong_id(self, kid: str, verify: bool, k: int | None) -> None:
        r = self.rig.snap().record
        if kid in ("active", "previous"):
            key = getattr(r, kid)
            kid = key.key_id if key is not None and key.key_id else "absent00"
        self._do(k, lambda: self.rig.engine.register(kid, verify=verify))

    @precondition(lambda self: self._state() in ("staged", "registered"))
    @rule(k=crash)
    def abandon(self, k: int | None) -> None:
        self._do(k, self.rig.engine.abandon)

    @precondition(lambda self: self._state() == "overlap")
    @rule(force=st.booleans(), k=crash)
    def retire(self, force: bool, k: int | None) -> None:
        self._do(k, lambda: self.rig.engine.retire(force=force))

    @precondition(lambda self: self._state() == "overlap")
    @rule()
    def person_removes_previous_at_box(self) -> None:
        previous = self.rig.snap().record.previous
        if previous is not None:
            self.rig.person_removes(previous.key_id)

    @rule(k=crash)
    def import_box_generated_pair(self, k: int | None) -> None:
        key = _POOL.staging(self.rig.held)(2048)  # a pre-made key the store does not hold
        try:
            kid = self.console.add_key(self.app["client_id"], key.public_key_pem)
        except ConsoleError:
            return
        config = BoxAppConfig(
            client_id=self.app["client_id"],
            client_secret=self.app["client_secret"],
            enterprise_id=self.app["enterprise_id"],
            public_key_id=kid,
            private_key_pem=key.private_key_pem,
            passphrase=key.passphrase,
        )
        self._do(k, lambda: self.rig.engine.import_pending(config))
        if (
            self.rig.snap().record.pending is None
            or self.rig.snap().record.pending.fingerprint != key.fingerprint
        ):
            self.rig.person_removes(kid)  # refused: the person cleans up at Box

    @rule(days=st.floats(min_value=0.01, max_value=120))
    def clock_jumps(self, days: float) -> None:
        self.rig.clock.advance(days * 86400)

    @rule(count=st.integers(min_value=1, max_value=5))
    def box_has_an_outage(self, count: int) -> None:
        self.console.fault(503, count)

    @invariant()
    def invariants_hold(self) -> None:
        if hasattr(self, "rig"):
            self.rig.check()

    def teardown(self) -> None:
        if hasattr(self, "console"):
            self.console.clear_faults()


@pytest.mark.slow
@pytest.mark.parametrize("quarter", [0, 1, 2, 3])
def test_lifecycle_properties(quarter: int) -> None:
    # 4 x 7 examples of up to 40 steps: four tests, so the workers share them
    # and none runs for long.
    run = Lifecycle.TestCase
    run.settings = settings(
        max_examples=7,
        stateful_step_count=40,
        deadline=None,
        database=None,  # each quarter explores on its own; no replay of the others' examples
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    run().runTest()
