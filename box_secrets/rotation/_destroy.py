"""Finishing a retirement: purge each key in ``destroying`` from the store, then drop it.

Used by the rotation engine and by ``store import --force``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._document import Snapshot
    from ..stores import Store

__all__ = ["finish_destruction"]


def finish_destruction(store: Store, snap: Snapshot) -> Snapshot:
    """Purge each key in ``destroying`` from the store, then drop it from the record.

    Two steps, each idempotent: a key leaves ``destroying`` only once the
    backend purged it. The history says "destroyed" where the backend really
    removes every copy, and "unlabelled" for Secrets Manager (see
    :attr:`Store.destroys_material`).
    """
    while snap.record.destroying:
        key = snap.record.destroying[0]
        store.purge(key.fingerprint)
        nxt = snap.copy()
        nxt.record.destroying = [
            k for k in nxt.record.destroying if k.fingerprint != key.fingerprint
        ]
        nxt.materials.pop(key.fingerprint, None)
        if store.destroys_material:
            nxt.record.log("destroyed", key=key, detail="private key destroyed in the store")
        else:
            nxt.record.log("unlabelled", key=key, detail=store.retention_note)
        store.commit(nxt, snap.revision)
        snap = nxt
    return snap
