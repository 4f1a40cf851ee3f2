"""Put a config into a store as its active key, and show a store: ``box-secrets store``.

They read and write the rotation record (who is active, what is destroyed), so
they live with the rotation, not with the stores they take as an argument.
"""

from __future__ import annotations

from typing import Any

from box_secrets._support.conflicts import retry_conflicts
from box_secrets._support.times import now
from box_secrets.errors import InputError, StoreCorruptError, StoreNotFoundError
from box_secrets.stores import Store
from box_secrets.stores._config import BoxAppConfig
from box_secrets.stores._document import Snapshot

__all__ = ["import_config", "show"]


def import_config(store: Store, config: BoxAppConfig, *, force: bool = False) -> str:
    """Put a Developer Console config into ``store`` as its active key.

    Returns ``"imported"``, ``"replaced"`` or ``"unchanged"``. Refuses to replace
    a different key without ``force``; with it, the keys the store held are
    destroyed in the store (they stay registered at Box until removed there).
    """

    def attempt() -> tuple[str, Snapshot | None]:
        try:
            old: Snapshot | None = store.load()
            expected = old.revision if old else None
        except StoreNotFoundError:
            old, expected = None, None
        except StoreCorruptError:
            if not force:
                raise
            old, expected = None, store.current_revision()
        if old is not None and old.record.roles():
            active = old.record.active
            if (
                active is not None
                and active.fingerprint == config.fingerprint
                and active.key_id == config.public_key_id
                and old.client_id == config.client_id
                and old.client_secret == config.client_secret
            ):
                return "unchanged", None
            if not force:
                held = f"key {active.key_id}" if active else "a key waiting for registration"
                raise InputError(
                    f"{store.uri} already holds {held}; pass --force to replace it with this config"
                )
        snap = _snapshot_of(config, old)
        store.commit(snap, expected)  # a conflict: retry_conflicts reads and decides again
        return ("replaced" if old is not None and old.record.roles() else "imported"), snap

    outcome, snap = retry_conflicts(attempt, where=store.uri, attempts=5)
    if snap is not None and snap.record.destroying:
        from box_secrets.rotation._destroy import finish_destruction

        finish_destruction(store, snap)
    return outcome


def _snapshot_of(config: BoxAppConfig, old: Snapshot | None) -> Snapshot:
    snap = Snapshot.from_config(config, origin="imported", at=now())
    record = snap.record
    if old is not None:
        record.policy = old.record.policy
        # New keys keep being made where the store made them; the replaced keys are
        # retired there too (a KMS key disabled, a Transit version trimmed).
        record.signer = old.record.signer
        record.history = list(old.record.history)
        record.seq = old.record.seq
        replaced = [*old.record.destroying, *(k for _, k in old.record.roles())]
        record.destroying = [k for k in replaced if k.fingerprint != config.fingerprint]
        snap.materials = {**old.materials, **snap.materials}
    if record.active is not None:
        record.log("imported", key=record.active, old=old.record.active if old else None)
    else:
        record.log("imported", detail="client credentials app (no key pair)")
    return snap


def show(store: Store) -> dict[str, Any]:
    """The non-secret view of a store: never a private key, passphrase or client secret."""
    from box_secrets.rotation._views import key_view

    snap = store.load()
    record = snap.record
    return {
        "store": store.uri,
        "client_id": snap.client_id,
        "enterprise_id": snap.base.get("enterpriseID"),
        "user_id": snap.base.get("userID"),
        "state": record.state,
        "active": key_view(record.active),
        "pending": key_view(record.pending),
        "previous": key_view(record.previous),
        "policy": record.policy.to_json(),
        "history_entries": len(record.history),
        "backend": store.describe(),
    }
