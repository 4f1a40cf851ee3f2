"""One contract, three backends: file, Secrets Manager (moto server) and Vault (emulator via hvac)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from box_secrets.errors import ConflictError, InputError, StoreNotFoundError
from box_secrets.rotation import import_config, show
from box_secrets.stores import open_store
from box_secrets.stores._reader import StoreSource, clear_cache
from box_secrets.stores._record import Event
from box_secrets.tokens import TokenProvider

from .helpers import assert_no_secrets


@pytest.fixture
def store_uri(store_uri_and_openbao: str) -> str:
    """Every backend, and the Vault store on a real OpenBao server as well as the emulator."""
    return store_uri_and_openbao


def test_empty_store_is_not_found(store_uri: str) -> None:
    with pytest.raises(StoreNotFoundError):
        open_store(store_uri).load()
    with pytest.raises(StoreNotFoundError):
        open_store(store_uri).read_current()


def test_import_then_read_back_unchanged(store_uri: str, app) -> None:
    store = open_store(store_uri)
    assert import_config(store, app.config) == "imported"
    assert import_config(store, app.config) == "unchanged"
    current = store.read_current()
    assert current.client_id == app.client_id and current.client_secret == app.client_secret
    assert current.public_key_id == app.kid and current.fingerprint == app.key.fingerprint
    assert current.private_key_pem == app.key.private_key_pem


def test_box_sdk_gen_loads_the_stored_value_unchanged(store_uri: str, app) -> None:
    from box_sdk_gen import JWTConfig
    from box_sdk_gen.internal.utils import DefaultPrivateKeyDecryptor

    store = open_store(store_uri)
    import_config(store, app.config)
    sdk = JWTConfig.from_config_json_string(json.dumps(store.read_current_data()))
    assert (sdk.client_id, sdk.client_secret, sdk.jwt_key_id, sdk.enterprise_id) == (
        app.client_id,
        app.client_secret,
        app.kid,
        app.enterprise_id,
    )
    key = DefaultPrivateKeyDecryptor().decrypt_private_key(
        sdk.private_key, sdk.private_key_passphrase
    )
    assert key.private_numbers() == app.key.key.private_numbers()


def test_token_from_each_store(store_uri: str, app) -> None:
    import_config(open_store(store_uri), app.config)
    clear_cache()
    provider = TokenProvider(store_uri, base_url=app.base_url)
    assert provider.get_token().token_type == "bearer"


def test_import_refuses_to_replace_without_force(store_uri: str, make_app, app) -> None:
    store = open_store(store_uri)
    import_config(store, app.config)
    other = make_app(key_index=2)
    replacement = app.config_for(other.key, "newkid01")
    with pytest.raises(InputError, match="--force"):
        import_config(store, replacement)
    assert store.read_current().public_key_id == app.kid  # nothing changed
    assert import_config(store, replacement, force=True) == "replaced"
    assert store.read_current().public_key_id == "newkid01"
    # the replaced key's private material is gone from the store
    assert app.key.fingerprint not in store.stored_fingerprints()
    assert other.key.fingerprint in store.stored_fingerprints()


def test_two_writers_from_one_read_one_conflicts(store_uri: str, app) -> None:
    store = open_store(store_uri)
    import_config(store, app.config)
    first, second = store.load(), store.load()
    a, b = first.copy(), second.copy()
    a.record.policy.max_age_days = 30
    b.record.policy.max_age_days = 60
    store.commit(a, first.revision)
    with pytest.raises(ConflictError):
        store.commit(b, second.revision)
    assert store.load().record.policy.max_age_days == 30  # the loser changed nothing


def _append_events(uri: str, writer: str, count: int) -> None:
    store = open_store(uri)
    done = 0
    while done < count:
        snap = store.load()
        nxt = snap.copy()
        nxt.record.history.append(Event(at=0.0, action="test", actor=writer, detail=str(done)))
        try:
            store.commit(nxt, snap.revision)
        except ConflictError:
            continue
        done += 1


def test_many_threads_no_lost_update(store_uri: str, app) -> None:
    import_config(open_store(store_uri), app.config)
    threads = [
        threading.Thread(target=_append_events, args=(store_uri, f"t{i}", 4)) for i in range(6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    events = [e for e in open_store(store_uri).load().record.history if e.action == "test"]
    assert sorted((e.actor, e.detail) for e in events) == sorted(
        (f"t{i}", str(n)) for i in range(6) for n in range(4)
    )


def test_many_processes_no_lost_update(store_uri: str, app) -> None:
    import_config(open_store(store_uri), app.config)
    code = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r})\n"
        "from tests.test_stores_contract import _append_events\n"
        "_append_events(sys.argv[1], sys.argv[2], 3)\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, store_uri, f"p{i}"]) for i in range(4)]
    assert all(p.wait(timeout=240) == 0 for p in procs)
    events = [e for e in open_store(store_uri).load().record.history if e.action == "test"]
    assert sorted((e.actor, e.detail) for e in events) == sorted(
        (f"p{i}", str(n)) for i in range(4) for n in range(3)
    )


def test_reader_cache_ttl_and_force_refresh(store_uri: str, app, make_app) -> None:
    store = open_store(store_uri)
    import_config(store, app.config)
    clear_cache()
    source = StoreSource(store_uri, ttl=300)
    first = source.load()
    assert source.load() is first  # served from the cache
    other = make_app(key_index=2)
    import_config(store, app.config_for(other.key, "rotated1"), force=True)
    assert source.load() is first  # still cached
    assert source.load(force_refresh=True).public_key_id == "rotated1"
    assert StoreSource(store_uri, ttl=300).load().public_key_id == "rotated1"  # module-level cache


def test_show_never_reveals_secrets(store_uri: str, app) -> None:
    store = open_store(store_uri)
    import_config(store, app.config)
    view = show(store)
    text = json.dumps(view)
    assert view["active"]["key_id"] == app.kid and view["state"] == "active"
    assert_no_secrets(text, app.secrets())


def test_repr_of_store_and_snapshot_hide_secrets(store_uri: str, app) -> None:
    store = open_store(store_uri)
    import_config(store, app.config)
    snap = store.load()
    text = repr(store) + repr(snap) + repr(snap.materials)
    assert_no_secrets(text, app.secrets())
