"""The AWS Secrets Manager store (``pip install 'box-secrets[aws]'``).

Secrets Manager's own mechanics carry the lifecycle:

- every version's SecretString is a complete Box config;
- ``AWSCURRENT`` is the active key (what readers and Box's SDKs read),
  ``AWSPENDING`` the key waiting for registration or verification,
  ``AWSPREVIOUS`` the previous key during the overlap;
- ``BOXSECRETS_RECORD`` marks the version holding the rotation record (the
  active config plus ``boxSecrets``), which is the commit point: a write puts
  a new record version and moves the label with ``RemoveFromVersionId`` set to
  the version it read, which fails if another writer moved it first;
- the three AWS labels are then brought in line with the record; a retired
  key's versions keep no label, so Secrets Manager deprecates them;
- a key waiting for registration rides inside the record version until a
  person supplies its key ID, and only then gets a version of its own (a
  complete Box config, as every version must be). A rotation's
  ``ClientRequestToken`` reserves that version (``KeyInfo.slot``): the
  store fills Secrets Manager's ``AWSPENDING`` placeholder rather than
  moving the label away, and never touches a placeholder another rotation
  attempt is about to fill.

Every read names a stage or a version id (moto may serve a stale value
otherwise), and every put passes a ClientRequestToken derived from what it
writes, so a retried write is a no-op.
"""

from __future__ import annotations

import contextlib
import hashlib
from typing import TYPE_CHECKING, Any, TypeVar

from box_secrets._support.faults import crashpoint
from box_secrets._support.optional import require
from box_secrets.errors import (
    ConflictError,
    InputError,
    StoreCorruptError,
    StoreNotFoundError,
)
from box_secrets.stores._aws_sm_api import (
    CURRENT,
    PENDING,
    PREVIOUS,
    RECORD,
    WRITING,
    SecretsManagerAPI,
    _dumps,
    _token,
)
from box_secrets.stores._base import Store, fingerprints_in
from box_secrets.stores._uri import StoreURI

if TYPE_CHECKING:
    from box_secrets.stores._document import Snapshot
    from box_secrets.stores._record import KeyInfo

if TYPE_CHECKING:
    import boto3
    import botocore.config
    import botocore.exceptions
else:  # one sentence naming the extra when boto3 is missing
    boto3 = require("boto3")
    botocore = require("botocore")
    require("botocore.config")
    require("botocore.exceptions")

__all__ = ["SecretsManagerStore"]

T = TypeVar("T")


class SecretsManagerStore(SecretsManagerAPI, Store):
    scheme = "aws-sm"
    # Secrets Manager cannot delete a single version, and every version must stay
    # a complete Box config for Box's SDKs; so a retired key loses its labels but
    # its versions remain readable by VersionId (docs/stores.md, "What retiring a
    # key leaves behind").
    destroys_material = False
    retention_note = (
        "Secrets Manager keeps its earlier versions without a staging label, readable by "
        "version ID to anyone whose policy allows GetSecretValue without the "
        "secretsmanager:VersionStage condition, until Secrets Manager deletes them"
    )

    def __init__(
        self, uri: StoreURI, *, client: Any = None, rotation_token: str | None = None
    ) -> None:
        super().__init__(str(uri))
        self.secret_id = uri.location
        self.params = uri.params
        self._client = client
        # The RotationToken of the rotation event being served: passed on to
        # PutSecretValue (cross-account rotation), never logged or stored.
        self.rotation_token = rotation_token
        # Versions are immutable (AWS: "PutSecretValue ... creates a new version"),
        # so a version read once is never read again by this store object.
        self._versions: dict[str, tuple[dict[str, Any], str, float | None]] = {}
        # The labels as last described, until this object writes: a repair right
        # after a load starts from them instead of describing the secret again
        # (every move is still checked by Secrets Manager against its source).
        self._seen_labels: dict[str, list[str]] | None = None
        from box_secrets._aws import endpoint_for, region_for

        # A secret's ARN names its region (a contradicting region= is refused).
        self.region = region_for(self.secret_id, self.params.get("region"))

        # SecretString travels to it: refused now (cleartext to a remote host, a
        # parser trick) rather than at the first call; the client connects to this form.
        self.endpoint_url = endpoint_for("secretsmanager", uri.params.get("endpoint_url"))

    # -- reading -----------------------------------------------------------------------

    def _labels(self) -> dict[str, list[str]]:
        return self.rotation_state()[1]

    def rotation_state(self) -> tuple[bool, dict[str, list[str]]]:
        """(rotation enabled, each version's labels): what a rotation Lambda checks first."""
        desc = self._call(
            "describing the secret", lambda c: c.describe_secret(SecretId=self.secret_id)
        )
        labels = {v: list(s) for v, s in (desc.get("VersionIdsToStages") or {}).items()}
        self._seen_labels = {v: list(s) for v, s in labels.items()}
        return bool(desc.get("RotationEnabled")), labels

    def current_revision(self) -> str | None:
        try:
            labels = self._labels()
        except StoreNotFoundError:
            return None
        holders = self._holder(labels, RECORD)
        if holders:
            return holders[0]
        current = self._holder(labels, CURRENT)
        return f"current:{current[0]}" if current else None

    def read_current_data(self) -> dict[str, Any]:
        return self._get(stage=CURRENT)[0]

    def load(self) -> Snapshot:
        from box_secrets.signers._material import material_from_auth
        from box_secrets.stores._document import Snapshot

        labels = self._labels()
        holders = self._holder(labels, RECORD)
        where = f"secret {self.secret_id}"
        if holders:
            data, vid, created = self._get(version=holders[0])
            snap = Snapshot.from_document(data, revision=vid, adopted_at=created, where=where)
        else:
            # Never written by box-secrets: adopt the current value.
            data, vid, created = self._get(stage=CURRENT)
            snap = Snapshot.from_document(
                data, revision=f"current:{vid}", adopted_at=created, where=where
            )
            if snap.record.active is not None and snap.record.active.ref is None:
                snap.record.active.ref = vid
        for key in (snap.record.pending, snap.record.previous):
            if key is not None and key.fingerprint not in snap.materials:
                if key.ref is None:
                    raise StoreCorruptError(f"{where}: the record names a key without a version")
                kdata, _, _ = self._get(version=key.ref)
                auth = (kdata.get("boxAppSettings") or {}).get("appAuth") or {}
                try:
                    material = material_from_auth(auth)
                except InputError:
                    material = None
                if material is None:
                    raise StoreCorruptError(f"{where}: key version {key.ref} holds no key")
                snap.materials[key.fingerprint] = material
        return snap

    # -- writing -------------------------------------------------------------------------

    def _key_token(self, key: KeyInfo) -> str:
        return _token(self.secret_id, "key", key.fingerprint, key.key_id or "")

    def _put_key_versions(self, snapshot: Snapshot) -> None:
        """Give every registered key its own version (idempotent) before the record names it.

        Versions are immutable and each one is a complete Box config, so a key
        gets its version once its key ID is known (the transitions clear
        ``ref`` when the ID changes). A key with a ``slot`` fills that reserved
        version, keeping Secrets Manager's ``AWSPENDING`` label on it.
        """
        record = snapshot.record
        for key in (record.active, record.pending, record.previous):
            if key is None or key.ref is not None:
                continue
            if key is record.pending and key.key_id is None:
                continue  # rides inside the record until registered
            from box_secrets.stores._record import FORMAT, RECORD_KEY

            data = snapshot.box_dict(key)
            data[RECORD_KEY] = {"format": FORMAT, "kind": "key", "fingerprint": key.fingerprint}
            if key is record.pending and key.slot is not None:
                self._put(key.slot, _dumps(data), stage=PENDING)
                key.ref, key.slot = key.slot, None
            else:
                key.ref = self._key_token(key)
                self._put(key.ref, _dumps(data))

    def _commit(self, snapshot: Snapshot, expected: str | None) -> str:
        if expected is None:
            return self._create(snapshot)
        self._put_key_versions(snapshot)
        pending = snapshot.record.pending
        unversioned = {pending.fingerprint} if pending and pending.ref is None else set()
        text = _dumps(snapshot.to_document(embed=unversioned))
        adopting = expected.startswith("current:")
        base = expected[len("current:") :] if adopting else expected
        new = _token(self.secret_id, "record", expected, hashlib.sha256(text.encode()).hexdigest())
        if adopting:
            labels = self._labels()
            if self._holder(labels, RECORD) or base not in self._holder(labels, CURRENT):
                raise ConflictError(
                    f"secret {self.secret_id} changed since it was read; nothing was committed"
                )
        self._put(new, text)
        # The commit point. Real AWS also refuses the label-less first move when
        # another writer attached the label meanwhile; moto does not (docs/stores.md).
        self._move(RECORD, new, None if adopting else base, cas=True)
        self._repair(snapshot, new)
        return new

    def _create(self, snapshot: Snapshot) -> str:
        # The first version is self-contained (keys embedded), so a crash right
        # after creating it leaves a store that loads.
        text = _dumps(snapshot.to_document(embed=True))
        token = _token(self.secret_id, "create", hashlib.sha256(text.encode()).hexdigest())
        self._seen_labels = None
        crashpoint("aws.put", "before")
        if self.secret_id.startswith("arn:") or self._exists_empty():
            # A secret made empty beforehand (the Terraform module's, named by its ARN or
            # name): its first value, AWSCURRENT by default. CreateSecret would refuse
            # (ResourceExistsException), and an ARN is no name to create a secret under.
            self._call(
                "writing the secret's first value",
                lambda c: c.put_secret_value(
                    SecretId=self.secret_id, SecretString=text, ClientRequestToken=token
                ),
            )
        else:
            self._call(
                "creating the secret",
                lambda c: c.create_secret(
                    Name=self.secret_id,
                    SecretString=text,
                    ClientRequestToken=token,
                    Description="Box app credentials managed by box-secrets",
                ),
            )
        crashpoint("aws.put", "after")
        self._move(RECORD, token, None)
        return token

    def _exists_empty(self) -> bool:
        """True when the secret exists with no AWSCURRENT value; False when it does not exist.

        Raises:
            ConflictError: it holds a value already (another writer got there first).
        """
        try:
            labels = self._labels()
        except StoreNotFoundError:
            return False
        if self._holder(labels, CURRENT):
            raise ConflictError(
                f"secret {self.secret_id} got a value since it was read; nothing was written"
            )
        return True

    def repair(self, snapshot: Snapshot) -> None:
        if snapshot.revision is not None and not snapshot.revision.startswith("current:"):
            self._repair(snapshot, snapshot.revision)

    def _repair(self, snapshot: Snapshot, record_version: str) -> None:
        """Put AWSCURRENT, AWSPENDING and AWSPREVIOUS where the record says (idempotent).

        One move at a time, each after a fresh look, and only while this record
        is still the committed one: a newer writer repairs for its own record.
        """
        record = snapshot.record
        # With no active key yet, AWSCURRENT follows the record (readers then learn
        # there is no active key rather than reading an abandoned one).
        pending = record.pending
        want = {
            CURRENT: record.active.ref if record.active and record.active.ref else record_version,
            PENDING: (pending.ref or pending.slot) if pending else None,
            PREVIOUS: record.previous.ref if record.previous else None,
            WRITING: None,
        }
        for _ in range(12):
            labels = self._seen_labels or self._labels()
            if self._holder(labels, RECORD) != [record_version]:
                return
            move = self._next_move(labels, want)
            if move is None:
                return
            if move[0] == PENDING and move[2] is not None and self._value(move[2]) is None:
                # Secrets Manager's placeholder for a rotation attempt about to
                # run createSecret: that attempt adopts the pending key.
                want[PENDING] = move[2]
                continue
            try:
                self._move(*move, cas=True)
            except ConflictError:
                continue  # the labels changed under us: look again

    def _next_move(
        self, labels: dict[str, list[str]], want: dict[str, str | None]
    ) -> tuple[str, str | None, str | None] | None:
        for label in (CURRENT, PENDING, PREVIOUS, WRITING):
            have = self._holder(labels, label)
            target = want[label]
            stray = [v for v in have if v != target]
            if target is not None and target not in have:
                return label, target, stray[0] if stray else None
            if stray:
                return label, None, stray[0]
        return None

    def drop_pending_label(self, version: str) -> None:
        """Take ``AWSPENDING`` off ``version`` (an abandoned rotation attempt), if it has it."""
        if PENDING in self._labels().get(version, []):
            with contextlib.suppress(ConflictError):  # already gone
                self._move(PENDING, None, version, cas=True)

    def _purge(self, fingerprint: str) -> None:
        # A version without labels is deprecated by Secrets Manager; strip every
        # label from any version still holding this key.
        for attempt in range(2):
            holding = [
                (vid, stages)
                for vid, stages in self._labels().items()
                if stages
                and RECORD not in stages  # the committed record no longer holds it
                and fingerprint in fingerprints_in(self._value(vid) or {})
            ]
            if any(CURRENT in stages for _, stages in holding):
                if attempt == 0:
                    self.repair(self.load())  # a crashed writer left AWSCURRENT behind
                    continue
                raise StoreCorruptError(
                    f"secret {self.secret_id}: the key being destroyed is still AWSCURRENT; "
                    "run the rotation command again to repair the labels"
                )
            for vid, stages in holding:
                for stage in stages:
                    with contextlib.suppress(ConflictError):  # already gone
                        self._move(stage, None, vid, cas=True)
            return

    # -- diagnostics -----------------------------------------------------------------------

    def stored_fingerprints(self) -> set[str]:
        found: set[str] = set()
        for vid, stages in self._labels().items():
            if stages:
                found |= fingerprints_in(self._value(vid) or {})
        return found

    def describe(self) -> dict[str, Any]:
        labels = self._labels()
        return {
            "backend": "aws-sm",
            "secret": self.secret_id,
            "versions": {vid: sorted(stages) for vid, stages in labels.items() if stages},
        }
