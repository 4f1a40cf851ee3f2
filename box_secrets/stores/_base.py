"""The store interface: what rotation writes through and readers read from.

A store keeps one Box app's key material and its rotation record. Readers
call :meth:`Store.read_current`; writers :meth:`Store.load` a snapshot, edit a
copy, and :meth:`Store.commit` it against the revision they read. A commit
based on a stale read raises :class:`~box_secrets.errors.ConflictError` and
changes nothing; the writer then reads again and decides again.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from box_secrets._support import faults as _faults
from box_secrets.errors import ConfigError, StoreCorruptError
from box_secrets.stores._config import BoxAppConfig, config_from_document

if TYPE_CHECKING:
    # The writers' model; readers never need it, so it is not imported at run time here.
    from box_secrets.stores._document import Snapshot

__all__ = ["Store"]


class Store(ABC):
    """One Box app's credentials in one backend, named by a URI."""

    #: The backend's name as used in URIs: ``file``, ``aws-sm`` or ``vault``.
    scheme: str = ""

    #: True when :meth:`purge` really removes every copy of a key's private
    #: material (file, Vault). False for Secrets Manager, which cannot delete one
    #: version of a secret: a retired key's versions lose their labels but stay
    #: readable by version ID until Secrets Manager deletes them (see
    #: :attr:`retention_note`). The history then says "unlabelled", never "destroyed".
    destroys_material: bool = True

    #: One sentence on what remains of a retired key, for backends that keep it.
    retention_note: str = ""

    def __init__(self, uri: str) -> None:
        self.uri = uri

    # -- the readers' path ---------------------------------------------------------

    @abstractmethod
    def read_current_data(self) -> dict[str, Any]:
        """The JSON object holding the active key's Box config (one backend read)."""

    def read_current(self) -> BoxAppConfig:
        """The active key's Box config, in Box's own format.

        Values box-secrets wrote were validated then, so their RSA check is skipped.

        Raises:
            StoreNotFoundError: the store holds nothing yet.
            NoActiveKeyError: the first key is not registered at Box yet.
            StoreCorruptError: the stored value is not a Box config.
            StoreAccessDeniedError, StoreUnavailableError: the backend refused or failed.
        """
        return config_from_store_data(self.read_current_data(), self.uri)

    # -- the writers' path ---------------------------------------------------------

    @abstractmethod
    def load(self) -> Snapshot:
        """The whole state with its revision; :class:`StoreNotFoundError` when empty."""

    def commit(self, snapshot: Snapshot, expected: str | None) -> str:
        """Write ``snapshot`` if the store is still at ``expected`` (None: still empty).

        Returns the new revision.

        Raises:
            ConflictError: another writer got there first; nothing was changed.
            StoreError: the backend refused or failed (one sentence; nothing half-written).
        """
        _faults.crashpoint("store.commit", "before")
        snapshot.record.seq += 1
        try:
            revision = self._commit(snapshot, expected)
        except BaseException:
            snapshot.record.seq -= 1
            raise
        _faults.crashpoint("store.commit", "after")
        snapshot.revision = revision
        return revision

    @abstractmethod
    def _commit(self, snapshot: Snapshot, expected: str | None) -> str: ...

    @abstractmethod
    def current_revision(self) -> str | None:
        """The revision a commit must name to replace whatever is stored, even
        if it is not a valid Box config (for ``store import --force``)."""

    def purge(self, fingerprint: str) -> None:
        """Remove a retired key's private material as far as the backend allows.

        The current state must not reference the key any more; this deletes it
        from kept history and leftovers (file), destroys old versions (Vault),
        or strips every staging label from its versions (Secrets Manager, where
        :attr:`destroys_material` is False). Idempotent.
        """
        _faults.crashpoint("store.purge", "before")
        self._purge(fingerprint)
        _faults.crashpoint("store.purge", "after")

    @abstractmethod
    def _purge(self, fingerprint: str) -> None: ...

    def repair(self, snapshot: Snapshot) -> None:  # noqa: B027 - optional hook
        """Bring derived state (labels) in line with the committed record."""

    @abstractmethod
    def stored_fingerprints(self) -> set[str]:
        """Fingerprints of the private keys :meth:`purge` is responsible for.

        Every copy the backend keeps where :attr:`destroys_material` is True;
        only the versions a staging label reaches for Secrets Manager.
        """

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """A non-secret view of the backend (versions, labels)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.uri!r})"


def _written_by_us(data: dict[str, Any]) -> bool:
    return isinstance(data.get("boxSecrets"), dict)


def config_from_store_data(data: dict[str, Any], where: str) -> BoxAppConfig:
    """Parse a stored value; a bad one is the store's fault (exit 1), not the caller's input."""
    try:
        return config_from_document(data, trusted=_written_by_us(data), where=where)
    except ConfigError as exc:
        raise StoreCorruptError(str(exc)) from None


def fingerprints_in(data: Any) -> set[str]:
    """Fingerprints of the private keys inside one stored JSON document.

    Read from the record box-secrets wrote beside each private key (the
    fingerprint of its public key), never by decrypting private keys; only a
    plain Developer Console config, which has no record, is fingerprinted from
    its key. A private key without a readable fingerprint counts as
    ``"unreadable-key"``, so a checker still sees that material is there.
    """
    from box_secrets.stores._record import RECORD_KEY

    out: set[str] = set()
    if not isinstance(data, dict):
        return out
    settings = data.get("boxAppSettings")
    auth = settings.get("appAuth") if isinstance(settings, dict) else None
    has_active = isinstance(auth, dict) and isinstance(auth.get("privateKey"), str)
    record = data.get(RECORD_KEY)
    if not isinstance(record, dict):
        if has_active:
            out.add(_fingerprint_of_plain(auth))  # type: ignore[arg-type]
        return out
    if has_active:
        claimed = record.get("fingerprint") if record.get("kind") == "key" else None
        active = record.get("active")
        if claimed is None and isinstance(active, dict):
            claimed = active.get("fingerprint")
        out.add(claimed if isinstance(claimed, str) and claimed else "unreadable-key")
    for slot in ("pending", "previous"):
        entry = record.get(slot)
        if isinstance(entry, dict) and isinstance(entry.get("privateKey"), str):
            fp = entry.get("fingerprint")
            out.add(fp if isinstance(fp, str) and fp else "unreadable-key")
    return out


def _fingerprint_of_plain(auth: dict[str, Any]) -> str:
    from box_secrets.stores._record import KeyMaterial

    try:
        return KeyMaterial(auth["privateKey"], str(auth.get("passphrase") or "")).fingerprint()
    except Exception:
        return "unreadable-key"
