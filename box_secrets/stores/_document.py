"""The store document: a Box config (the active key's) with the box-secrets record beside it.

Every backend stores this one shape (``boxAppSettings`` / ``appAuth`` /
``boxSecrets``): :class:`Snapshot` parses and writes it. The readers' path to
the active key, :func:`~box_secrets.stores._config.config_from_document`, lives in
``_config.py`` so that readers never import this writers' model. A
document is always a Box config that Box's SDKs load as it is.
"""

from __future__ import annotations

import copy
from typing import Any

from box_secrets._support.times import now
from box_secrets.errors import InputError, StoreCorruptError
from box_secrets.stores._config import BoxAppConfig, config_from_document
from box_secrets.stores._entries import Event, KeyInfo, Origin
from box_secrets.stores._record import RECORD_KEY, Material, RotationRecord

__all__ = ["Snapshot", "config_from_document"]


class Snapshot:
    """Everything a store holds for one app at one revision.

    ``base`` is the Box config without any key (client ID and secret,
    enterprise, extra keys); ``materials`` maps fingerprints to private keys.
    """

    def __init__(
        self,
        base: dict[str, Any],
        record: RotationRecord,
        materials: dict[str, Material],
        revision: str | None = None,
    ) -> None:
        self.base = base
        self.record = record
        self.materials = materials
        self.revision = revision

    @property
    def client_id(self) -> str:
        return str(self.base["boxAppSettings"]["clientID"])

    @property
    def client_secret(self) -> str:
        return str(self.base["boxAppSettings"]["clientSecret"])

    def fingerprint_of(self, material: Material) -> str | None:
        """The fingerprint this snapshot keeps ``material`` under (None: nowhere)."""
        return next((fp for fp, m in self.materials.items() if m == material), None)

    def copy(self) -> Snapshot:
        """A deep copy to edit; materials are shared (they are immutable)."""
        return Snapshot(
            copy.deepcopy(self.base),
            copy.deepcopy(self.record),
            dict(self.materials),
            self.revision,
        )

    def config_for(self, key: KeyInfo, *, with_record: bool = False) -> BoxAppConfig:
        """The Box config that signs with ``key`` (kid may be empty while staged)."""
        data = self.box_dict(key)
        if with_record:
            data[RECORD_KEY] = self.record.to_json()
        return BoxAppConfig.from_dict(data, trusted=True, require_key_id=False)

    def box_dict(self, key: KeyInfo | None) -> dict[str, Any]:
        """The Box config dict for ``key`` (no ``appAuth`` when ``key`` is None)."""
        data = copy.deepcopy(self.base)
        settings = data["boxAppSettings"]
        if key is not None:
            material = self.materials[key.fingerprint]
            auth = {
                k: v
                for k, v in (settings.get("appAuth") or {}).items()
                if k not in ("privateKey", "passphrase", "signer")
            }
            settings["appAuth"] = {
                **auth,
                "publicKeyID": key.key_id or "",
                **material.auth_fields(),
            }
        else:
            settings.pop("appAuth", None)
        return data

    def to_document(self, *, embed: bool | set[str] = True) -> dict[str, Any]:
        """The stored document: the active key's Box config plus the record.

        With ``embed`` the pending and previous private keys ride inside the
        record (file and Vault); with ``False``, the backend keeps them
        elsewhere; with a set of fingerprints, only those keys ride inside.
        """
        data = self.box_dict(self.record.active)
        if embed is True:
            materials: dict[str, Material] | None = self.materials
        elif embed is False:
            materials = None
        else:
            materials = {fp: m for fp, m in self.materials.items() if fp in embed}
        record = self.record.to_json()
        for role in ("pending", "previous"):  # their private keys ride inside the record
            key = getattr(self.record, role)
            material = materials.get(key.fingerprint) if key and materials is not None else None
            if material is not None:
                record[role].update(material.auth_fields())
        data[RECORD_KEY] = record
        return data

    @classmethod
    def from_config(cls, config: BoxAppConfig, *, origin: Origin, at: float) -> Snapshot:
        """A store's content holding ``config``'s key as the active key (no history yet)."""
        base = config.to_dict()
        base.pop(RECORD_KEY, None)
        base["boxAppSettings"].pop("appAuth", None)
        record = RotationRecord(auth="jwt" if config.uses_jwt else "ccg")
        materials: dict[str, Material] = {}
        if config.uses_jwt:
            record.active = KeyInfo.from_config(config, origin=origin, at=at)
            record.active.activated_at = at
            materials[record.active.fingerprint] = config.key_material()
        return cls(base, record, materials)

    def active_config(self) -> BoxAppConfig | None:
        return self.config_for(self.record.active) if self.record.active else None

    @classmethod
    def from_document(
        cls,
        data: Any,
        *,
        revision: str | None,
        adopted_at: float | None = None,
        where: str = "the store",
    ) -> Snapshot:
        """Parse a stored document, or adopt a plain Developer Console config."""
        if not isinstance(data, dict) or not isinstance(data.get("boxAppSettings"), dict):
            raise StoreCorruptError(
                f"{where} does not hold a Box config (no boxAppSettings); import one with "
                "`box-secrets store import`"
            )
        raw_record = data.get(RECORD_KEY)
        trusted = isinstance(raw_record, dict)
        if isinstance(raw_record, dict) and raw_record.get("kind") == "key":
            raw_record = None  # a bare key version (Secrets Manager): adopt it
        base = {k: copy.deepcopy(v) for k, v in data.items() if k != RECORD_KEY}
        settings = base["boxAppSettings"]
        auth = settings.get("appAuth")
        try:
            if raw_record is None:
                record, materials = _adopted(data, trusted=trusted, adopted_at=adopted_at)
            else:
                record = RotationRecord.from_json(raw_record)
                materials = _materials_in(raw_record, record)
                if record.active is not None:
                    from box_secrets.signers._material import material_from_auth

                    material = material_from_auth(auth)
                    if material is None:
                        raise StoreCorruptError(f"{where}: the active key's private key is missing")
                    materials[record.active.fingerprint] = material
                # validate the client fields the same way a config load would
                BoxAppConfig.from_dict(
                    {
                        **base,
                        "boxAppSettings": {k: v for k, v in settings.items() if k != "appAuth"},
                    }
                )
        except StoreCorruptError:
            raise
        except Exception as exc:
            from box_secrets.errors import ConfigError

            if isinstance(exc, ConfigError):
                raise StoreCorruptError(f"{where}: {exc}") from None
            raise
        settings.pop("appAuth", None)
        return cls(base, record, materials, revision)

    def __repr__(self) -> str:
        return (
            f"Snapshot(client_id={self.client_id!r}, state={self.record.state!r}, "
            f"revision={self.revision!r})"
        )


def _adopted(
    data: dict[str, Any], *, trusted: bool, adopted_at: float | None
) -> tuple[RotationRecord, dict[str, Material]]:
    """A plain Developer Console config found in a store: its key becomes the active one."""
    config = BoxAppConfig.from_dict(data, trusted=trusted)
    record = RotationRecord(auth="jwt" if config.uses_jwt else "ccg")
    materials: dict[str, Material] = {}
    if config.uses_jwt:
        when = adopted_at if adopted_at is not None else now()
        record.active = KeyInfo.from_config(config, origin="adopted", at=when)
        record.active.activated_at = when
        materials[record.active.fingerprint] = config.key_material()
        record.history.append(
            Event(
                at=when,
                action="adopted",
                actor="box-secrets",
                key_id=config.public_key_id,
                new_fingerprint=config.fingerprint,
                detail="a Box config found in the store, taken as the active key",
            )
        )
    return record, materials


def _materials_in(raw_record: dict[str, Any], record: RotationRecord) -> dict[str, Material]:
    """The pending and previous keys' material that rides inside a stored record."""
    from box_secrets.signers._material import material_from_auth

    out: dict[str, Material] = {}
    for role in ("pending", "previous"):
        key = getattr(record, role)
        if key is None:
            continue
        try:
            material = material_from_auth(raw_record.get(role))
        except InputError:
            raise StoreCorruptError(f"the record's {role} key names a malformed signer") from None
        if material is not None:
            out[key.fingerprint] = material
    return out
