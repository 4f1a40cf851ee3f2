"""The lifecycle through the engine, on every backend, checking the invariants after each step."""

from __future__ import annotations

import json

import pytest

from box_secrets import errors
from box_secrets.rotation import RotationEngine

from .helpers import pem_chunks
from .rotation_support import new_rig


@pytest.fixture
def store_uri(store_uri_and_openbao: str) -> str:
    """Every backend, and the Vault store on a real OpenBao server as well as the emulator."""
    return store_uri_and_openbao


@pytest.fixture
def rig(store_uri, make_app):  # type: ignore[no-untyped-def]
    return new_rig(store_uri, make_app)


def test_full_lifecycle(rig) -> None:
    first = rig.snap().record.active
    assert first is not None and first.verified_at is not None
    assert rig.engine.advance().action == "nothing"  # young key: nothing due

    staged = rig.engine.advance(force=True)
    assert staged.action == "staged" and staged.waiting
    rig.check()
    note = rig.notes.sent[-1]
    pending = rig.snap().record.pending
    assert note.kind == "register" and note.public_key_pem == pending.public_key_pem
    assert note.fingerprint_sha256 == pending.fingerprint and "register" in note.next_command

    kid = rig.person_registers_pending()
    assert rig.engine.register(kid).action == "registered"
    rig.check()
    promoted = rig.engine.advance()
    assert promoted.action == "promoted" and not promoted.waiting
    rig.check()
    rig.active_works_with_box_sdk_gen()
    assert rig.reader_token().token_type == "bearer"
    assert rig.store.read_current().public_key_id == kid
    assert rig.notes.sent[-1].kind == "remove" and rig.notes.sent[-1].key_id == first.key_id

    waiting = rig.engine.advance()
    assert waiting.waiting and waiting.action == "waiting"  # old key still at Box
    rig.person_removes(first.key_id)
    retired = rig.engine.advance()
    assert retired.action == "retired"
    rig.check()
    assert first.fingerprint not in rig.store.stored_fingerprints()
    assert rig.snap().record.state == "active"
    rig.active_works_with_box_sdk_gen()


KEY_VIEW = {
    "key_id",
    "fingerprint_sha256",
    "public_key_pem",
    "origin",
    "created_at",
    "activated_at",
    "signer",
}


def test_status_json_shape(rig) -> None:
    # One key view for every role (a superset of 0.1's per-role fields, which all remain).
    status = rig.engine.status()
    assert set(status) == {
        "state",
        "active",
        "pending",
        "previous",
        "next_action",
        "person_needed",
        "key_age_days",
    }
    assert set(status["active"]) == KEY_VIEW
    assert status["pending"] is None and status["previous"] is None
    assert status["person_needed"] is False and status["key_age_days"] == 0
    rig.engine.advance(force=True)
    status = rig.engine.status()
    assert set(status["pending"]) == KEY_VIEW
    assert status["pending"]["key_id"] is None and status["state"] == "staged"
    assert status["person_needed"] is True
    assert "register" in status["next_action"]
    rig.engine.register(rig.person_registers_pending(), verify=True)
    status = rig.engine.status()
    assert set(status["previous"]) == KEY_VIEW
    assert status["state"] == "overlap"
    for role in ("active", "previous"):
        assert "PRIVATE" not in json.dumps(status[role])


def test_force_never_replaces_a_staged_key(rig) -> None:
    rig.engine.advance(force=True)
    pending = rig.snap().record.pending
    again = rig.engine.advance(force=True)
    assert again.waiting and "already under way" in again.message
    assert rig.snap().record.pending.fingerprint == pending.fingerprint


def test_wrong_key_id_goes_back_to_staged(rig, keys) -> None:
    rig.engine.advance(force=True)
    other = rig.console.add_key(
        rig.client_id, keys.stranger.public_key_pem
    )  # a real ID for another key
    rig.engine.register(other)
    refused = rig.engine.advance()
    assert refused.action == "refused" and refused.waiting and other in refused.message
    rig.check()
    pending = rig.snap().record.pending
    assert pending.key_id is None and other in pending.refused_key_ids
    assert rig.notes.sent[-1].kind == "reregister"
    rig.person_removes(other)
    right = rig.person_registers_pending()
    assert rig.engine.register(right, verify=True).action == "promoted"
    rig.check()


def test_register_verify_with_wrong_id_changes_only_the_refusal_log(rig) -> None:
    rig.engine.advance(force=True)
    outcome = rig.engine.register("zz99zz99", verify=True)
    assert outcome.action == "refused" and outcome.waiting
    assert rig.snap().record.pending.key_id is None
    rig.check()


def test_register_bad_input(rig) -> None:
    with pytest.raises(errors.InvalidTransitionError, match="no key is waiting"):
        rig.engine.register("abcd1234")
    rig.engine.advance(force=True)
    before = rig.snap().revision
    with pytest.raises(errors.InputError, match="does not look like"):
        rig.engine.register("not an id!")
    active_kid = rig.snap().record.active.key_id
    with pytest.raises(errors.InputError, match="belongs to the active key"):
        rig.engine.register(active_kid)
    assert rig.snap().revision == before  # bad input changed nothing


def test_abandon_destroys_the_staged_key(rig) -> None:
    rig.engine.advance(force=True)
    pending = rig.snap().record.pending
    outcome = rig.engine.abandon()
    assert outcome.action == "abandoned"
    rig.check()
    assert rig.snap().record.pending is None
    assert pending.fingerprint not in rig.store.stored_fingerprints()
    assert rig.engine.abandon().action == "nothing"  # idempotent


def test_abandon_a_registered_key_says_to_remove_it_at_box(rig) -> None:
    rig.engine.advance(force=True)
    kid = rig.person_registers_pending()
    rig.engine.register(kid)
    assert kid in rig.engine.abandon().message


def test_import_box_generated_pair(rig, keys) -> None:
    new_key = keys.other
    kid = rig.console.add_key(
        rig.client_id, new_key.public_key_pem
    )  # "Generate a Public/Private Keypair"
    from box_secrets.stores._config import BoxAppConfig

    active_config = rig.store.read_current()
    downloaded = BoxAppConfig(
        client_id=rig.client_id,
        client_secret=active_config.client_secret,
        enterprise_id=active_config.enterprise_id,
        public_key_id=kid,
        private_key_pem=new_key.private_key_pem,
        passphrase=new_key.passphrase,
    )
    assert rig.engine.import_pending(downloaded).action == "imported"
    rig.check()
    assert rig.engine.import_pending(downloaded).action == "nothing"  # idempotent
    assert rig.engine.advance().action == "promoted"
    rig.check()
    assert rig.store.read_current().public_key_id == kid


def test_import_refuses_while_a_key_is_staged(rig, keys) -> None:
    rig.engine.advance(force=True)
    from box_secrets.stores._config import BoxAppConfig

    current = rig.store.read_current()
    other = BoxAppConfig(
        client_id=rig.client_id,
        client_secret=current.client_secret,
        enterprise_id=current.enterprise_id,
        public_key_id="k0000000",
        private_key_pem=keys.other.private_key_pem,
        passphrase=keys.other.passphrase,
    )
    with pytest.raises(errors.InvalidTransitionError, match="abandon it first"):
        rig.engine.import_pending(other)


def test_retire_force_respects_grace(rig) -> None:
    rig.engine.advance(force=True)
    rig.engine.register(rig.person_registers_pending(), verify=True)
    with pytest.raises(errors.InvalidTransitionError, match="grace period"):
        rig.engine.retire(force=True)
    assert rig.engine.retire().waiting  # Box still accepts the old key
    rig.clock.advance(7 * 86400 + 1)
    old = rig.snap().record.previous
    assert rig.engine.retire(force=True).action == "retired"
    rig.check()
    assert old.fingerprint not in rig.store.stored_fingerprints()


def test_rotation_due_by_age_and_renotify_interval(rig) -> None:
    assert rig.engine.advance().action == "nothing"
    rig.clock.advance(91 * 86400)
    assert rig.engine.advance().action == "staged"
    sent = len(rig.notes.sent)
    assert rig.engine.advance().action == "waiting"  # reminded at most once per interval
    assert len(rig.notes.sent) == sent
    rig.clock.advance(25 * 3600)
    assert rig.engine.advance().action == "notified"
    assert len(rig.notes.sent) == sent + 1
    rig.check()


def test_bootstrap_first_key(store_uri, make_app) -> None:
    app = make_app()
    app.console.delete_key(app.client_id, app.kid)  # a brand-new app with no key yet
    from .rotation_support import Rig

    rig = Rig(store_uri, app.console, app.base_url, app.client_id)
    out = rig.engine.init(
        client_id=app.client_id, client_secret=app.client_secret, enterprise_id=app.enterprise_id
    )
    assert out.action == "staged" and out.waiting
    rig.check()
    with pytest.raises(errors.NoActiveKeyError):
        rig.store.read_current()
    assert rig.engine.init(
        client_id=app.client_id, client_secret=app.client_secret, enterprise_id=app.enterprise_id
    ).waiting  # idempotent
    rig.engine.register(rig.person_registers_pending())
    assert rig.engine.advance().action == "promoted"
    rig.check()
    rig.active_works_with_box_sdk_gen()


def test_init_refuses_a_config_box_rejects(store_uri, make_app) -> None:
    app = make_app()
    app.console.delete_key(app.client_id, app.kid)
    engine = RotationEngine(store_uri, base_url=app.base_url)
    with pytest.raises(errors.KeyRejectedError):
        engine.init(config=app.config)
    with pytest.raises(errors.StoreNotFoundError):
        engine.store.load()  # nothing was written


def test_notifications_hold_no_private_material(rig) -> None:
    rig.engine.advance(force=True)
    rig.engine.register(rig.person_registers_pending(), verify=True)
    snap = rig.snap()
    secrets = [snap.client_secret]
    for material in snap.materials.values():
        secrets += [material.passphrase, *pem_chunks(material.pem)]
    for note in rig.notes.sent:
        text = note.text + repr(note.to_json())
        for secret in secrets:
            assert secret not in text


# -- single steps for a rotation Lambda, and the typed status view -----------------------------


def test_single_steps_stage_verify_promote(store_uri, make_app) -> None:
    from .rotation_support import new_rig

    rig = new_rig(store_uri, make_app)
    staged = rig.engine.stage(ref="c0ffee00-0000-4000-8000-000000000001")
    assert staged.action == "staged" and staged.waiting
    assert rig.engine.stage().action == "nothing"  # idempotent: never a second pending key
    pending = rig.snap().record.pending
    assert pending is not None
    waiting = rig.engine.verify_pending()
    assert waiting.waiting and pending.fingerprint in waiting.message
    kid = rig.person_registers_pending()
    rig.engine.register(kid)
    assert rig.engine.verify_pending().action == "verified"
    assert rig.snap().record.state == "registered"  # verifying changed nothing
    assert rig.engine.promote().action == "promoted"
    assert rig.engine.promote().action == "nothing"
    with pytest.raises(errors.InvalidTransitionError):
        rig.engine.stage()  # the previous key is still held
    view = rig.engine.status()
    assert view["state"] == "overlap" and view["person_needed"] is True
    assert view["active"] is not None and view["active"]["key_id"] == kid
    assert view["previous"] is not None and view["key_age_days"] is not None
    rig.check()
