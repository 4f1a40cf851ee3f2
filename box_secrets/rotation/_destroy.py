"""Finishing a retirement: purge each key in ``destroying`` from the store, then drop it.

Used by the rotation engine and by ``store import --force``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from box_secrets.stores import Store
    from box_secrets.stores._document import Snapshot

__all__ = ["finish_destruction"]


def finish_destruction(store: Store, snap: Snapshot) -> Snapshot:
    """Purge each key in ``destroying`` from the store, then drop it from the record.

    Two steps, each idempotent: a key leaves ``destroying`` only once the
    backend purged it. A key held in AWS KMS or Vault Transit is first made
    unusable there (disabled, or its version trimmed). The history says
    "destroyed" where the backend really removes every copy, "unlabelled" for
    Secrets Manager (see :attr:`Store.destroys_material`), and what the home
    did for a remote key.
    """
    from box_secrets.signers._material import RemoteKey

    while snap.record.destroying:
        key = snap.record.destroying[0]
        material = snap.materials.get(key.fingerprint)
        at_home = None
        if isinstance(material, RemoteKey):
            from box_secrets.rotation._homes import home_for

            home = home_for(snap.record.signer)
            if home is not None:
                at_home = home.retire(material, snap)
        store.purge(key.fingerprint)
        nxt = snap.copy()
        nxt.record.destroying = [
            k for k in nxt.record.destroying if k.fingerprint != key.fingerprint
        ]
        nxt.materials.pop(key.fingerprint, None)
        if at_home is not None:
            action, detail = at_home
            nxt.record.log(action, key=key, detail=detail)
        elif store.destroys_material:
            nxt.record.log("destroyed", key=key, detail="private key destroyed in the store")
        else:
            nxt.record.log("unlabelled", key=key, detail=store.retention_note)
        store.commit(nxt, snap.revision)
        snap = nxt
    return snap
