"""Where a rotation keeps keys in AWS KMS: a new key per rotation behind a moving alias."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from box_secrets.errors import ConfigError, ConflictError, SignerError
from box_secrets.signers._kms import (
    BITS,
    DEFAULT_DELETION_DAYS,
    SPECS,
    TAG_APP,
    TAG_STATE,
    KmsSigner,
    _call,
    _Exists,
    _NotFound,
)
from box_secrets.signers._material import NewKey, RemoteKey, pem_fingerprint
from box_secrets.signers._uri import SignerURI, as_signer_uri, parse_signer_uri

if TYPE_CHECKING:
    from box_secrets.stores._document import Snapshot
    from box_secrets.stores._entries import RetireAction

__all__ = ["KmsHome"]

T = TypeVar("T")


class KmsHome:
    """Where a rotation keeps its keys in KMS: ``aws-kms://alias/NAME?region=...``.

    The alias names the active key; ``alias/NAME-pending`` names the key being
    staged, so a run that crashed after creating it finds it again instead of
    making another.
    """

    kind = "aws-kms"

    def __init__(self, uri: str | SignerURI) -> None:
        self.uri = as_signer_uri(uri, field="the signer")
        if not self.uri.is_alias:
            raise ConfigError(
                "a rotated KMS signer must name an alias, like aws-kms://alias/box-app?region=..."
                ": each rotation creates a new key and moves the alias to it",
                field="signer",
            )
        # An alias ARN (arn:aws:kms:REGION:ACCOUNT:alias/NAME) names alias/NAME.
        self.alias = self.uri.key.split(":", 5)[-1]
        self.pending_alias = f"{self.alias}-pending"
        from box_secrets._urls import trusted_endpoint

        trusted_endpoint(  # before anything is written
            self.uri.params.get("endpoint_url"),
            env=("AWS_ENDPOINT_URL_KMS", "AWS_ENDPOINT_URL"),
            what="the aws-kms endpoint_url",
        )
        days = self.uri.params.get("deletion_days")
        self.deletion_days = int(days) if days else DEFAULT_DELETION_DAYS

    def _change(self, doing: str, fn: Callable[[Any], T], key: str | None = None) -> T:
        """A call that changes KMS: a crash point on each side, for the fault matrix."""
        from box_secrets._support import faults as _faults

        _faults.crashpoint("signer.change", "before")
        out = _call(self.uri, doing, fn, key=key)
        _faults.crashpoint("signer.change", "after")
        return out

    def _key_uri(self, key_id: str) -> str:
        return str(self.uri.with_key(key_id, deletion_days=None))

    def _describe(self, ref: str) -> dict[str, Any] | None:
        try:
            out = _call(self.uri, "describing a key", lambda c: c.describe_key(KeyId=ref), key=ref)
        except _NotFound:
            return None
        return dict(out["KeyMetadata"])

    def _new_key(self, key_id: str, meta: dict[str, Any]) -> NewKey:
        uri = self._key_uri(key_id)
        return NewKey(
            RemoteKey(uri),
            KmsSigner(uri, "").public_key_pem(),
            bits=BITS.get(str(meta.get("KeySpec")), 2048),
        )

    def _check(self, meta: dict[str, Any], name: str) -> None:
        if meta.get("KeyUsage") != "SIGN_VERIFY" or meta.get("KeySpec") not in BITS:
            raise ConfigError(
                f"{name} names a KMS key that cannot sign RS256 (KeySpec "
                f"{meta.get('KeySpec')}, KeyUsage {meta.get('KeyUsage')}); name an alias of an "
                "RSA SIGN_VERIFY key, or a new alias and box-secrets creates the key",
                field="signer",
            )

    def _tag(self, key_id: str, state: str) -> None:
        self._change(
            "tagging a key",
            lambda c: c.tag_resource(KeyId=key_id, Tags=[{"TagKey": TAG_STATE, "TagValue": state}]),
            key_id,
        )

    def _point(self, alias: str, key_id: str, *, exists: bool) -> None:
        if exists:
            self._change(
                f"moving {alias}",
                lambda c: c.update_alias(AliasName=alias, TargetKeyId=key_id),
            )
        else:
            self._change(
                f"creating {alias}",
                lambda c: c.create_alias(AliasName=alias, TargetKeyId=key_id),
            )

    def _create(self, snap: Snapshot) -> str:
        bits = snap.record.policy.key_size
        out = self._change(
            "creating a key",
            lambda c: c.create_key(
                KeySpec=SPECS[bits],
                KeyUsage="SIGN_VERIFY",
                Description=f"box-secrets: JWT signing key of Box app {snap.client_id}",
                Tags=[
                    {"TagKey": TAG_APP, "TagValue": snap.client_id},
                    {"TagKey": TAG_STATE, "TagValue": "staged"},
                ],
            ),
        )
        return str(out["KeyMetadata"]["KeyId"])

    def check(self) -> None:
        """The key behind the alias, if any, must be an RSA SIGN_VERIFY key.

        Raises:
            ConfigError: it is not.
            SignerError: KMS refused or failed.
        """
        meta = self._describe(self.alias)
        if meta is not None:
            self._check(meta, self.alias)

    def new_key(self, snap: Snapshot) -> NewKey:
        """The key to stage: the one an alias already names if it is usable, else a new one.

        Raises:
            ConfigError: the alias names a key that cannot sign RS256 or is disabled.
            SignerError: KMS refused or failed.
        """
        first = snap.record.active is None
        alias = self.alias if first else self.pending_alias
        meta = self._describe(alias)
        if meta is not None:
            key_id = str(meta["KeyId"])
            if first:
                self._check(meta, alias)
            enabled = meta.get("KeyState") == "Enabled"
            if enabled and meta.get("KeyUsage") == "SIGN_VERIFY" and meta.get("KeySpec") in BITS:
                candidate = self._new_key(key_id, meta)
                if candidate.fingerprint not in snap.record.spent():
                    self._tag(key_id, "staged")
                    return candidate
            elif first and not _gave_up_keys(snap):
                raise ConfigError(
                    f"{alias} names a KMS key that is {meta.get('KeyState')}; enable it, or "
                    "name a new alias and box-secrets creates the key",
                    field="signer",
                )
        key_id = self._create(snap)
        try:
            self._point(alias, key_id, exists=meta is not None)
        except _Exists:
            # A concurrent run staged its key under the alias first: ours was never
            # shown to anyone, so it goes, and the engine reads again and decides again.
            self._discard(key_id)
            raise ConflictError(
                f"another run is staging a key in {alias}; nothing was changed"
            ) from None
        return self._new_key(key_id, {"KeySpec": SPECS[snap.record.policy.key_size]})

    def _discard(self, key_id: str) -> None:
        self._change("disabling an unused key", lambda c: c.disable_key(KeyId=key_id), key_id)
        self._change(
            "scheduling an unused key's deletion",
            lambda c: c.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7),
            key_id,
        )

    def promoted(self, snap: Snapshot) -> None:
        """Point the alias at the active key (idempotent; what ``repair`` runs too)."""
        active = snap.record.active
        material = snap.materials.get(active.fingerprint) if active else None
        if not isinstance(material, RemoteKey) or material.kind != self.kind:
            return
        key_id = parse_signer_uri(material.uri).key
        meta = self._describe(self.alias)
        if meta is None or meta.get("KeyId") != key_id:
            self._tag(key_id, "active")  # first: once the alias moved, this run may end
            self._point(self.alias, key_id, exists=meta is not None)
        pending = self._describe(self.pending_alias)
        if pending is not None and pending.get("KeyId") == key_id:
            self._change(
                f"deleting {self.pending_alias}",
                lambda c: c.delete_alias(AliasName=self.pending_alias),
            )

    repair = promoted

    def _ours(self, key_id: str, meta: dict[str, Any], material: RemoteKey, snap: Snapshot) -> None:
        """Refuse to touch a key this app did not make, whatever the store says.

        The record is data, and whoever can write the store could point it at any
        key the function may use (in a Lambda serving several apps, another app's).
        So before anything destructive: the key carries this app's tag, which only
        box-secrets sets, and (while it can still sign) its public key is the one
        the record holds for it. A key this run already disabled is known by the
        ``retired`` state tag, set before it was disabled.
        """
        out = _call(
            self.uri,
            "reading a key's tags",
            lambda c: c.list_resource_tags(KeyId=key_id),
            key=key_id,
        )
        tags = {str(t.get("TagKey")): str(t.get("TagValue")) for t in out.get("Tags") or []}
        refusal = (
            f"the store names KMS key {key_id} as one of its keys, but "
            + "{why}; box-secrets changes only keys it made for this app, so nothing was "
            "changed: restore the store from its history, or retire the key by hand"
        )
        if tags.get(TAG_APP) != snap.client_id:
            raise SignerError(refusal.format(why=f"it is not tagged {TAG_APP}={snap.client_id}"))
        if meta.get("KeyState") == "Enabled":
            recorded = snap.fingerprint_of(material)
            actual = pem_fingerprint(KmsSigner(self._key_uri(key_id), "").public_key_pem())
            if recorded != actual:
                raise SignerError(
                    refusal.format(why="its public key is not the one the record holds for it")
                )
        elif tags.get(TAG_STATE) != "retired":
            raise SignerError(
                refusal.format(
                    why=f"it is {meta.get('KeyState')} and was not retired by box-secrets"
                )
            )

    def retire(self, material: RemoteKey, snap: Snapshot) -> tuple[RetireAction, str]:
        """Disable the key and schedule its deletion (idempotent): (history action, detail).

        Raises:
            SignerError: the key is not this app's (see :meth:`_ours`), or KMS failed.
        """
        key_id = parse_signer_uri(material.uri).key
        meta = self._describe(key_id)
        days = self.deletion_days
        if meta is None or meta.get("KeyState") == "PendingDeletion":
            return "disabled", f"KMS key {key_id} is disabled and scheduled for deletion"
        self._ours(key_id, meta, material, snap)
        self._tag(key_id, "retired")
        if meta.get("KeyState") != "Disabled":
            self._change("disabling a key", lambda c: c.disable_key(KeyId=key_id), key_id)
        self._change(
            "scheduling a key's deletion",
            lambda c: c.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=days),
            key_id,
        )
        return "disabled", (
            f"KMS key {key_id} disabled (it can no longer sign) and scheduled for deletion "
            f"in {days} days"
        )


def _gave_up_keys(snap: Snapshot) -> bool:
    """True once this store abandoned or retired a key: a disabled key behind the alias is
    then one of ours (KMS cannot show a disabled key's public key to tell)."""
    return any(e.action in ("abandoned", "retired") for e in snap.record.history)
