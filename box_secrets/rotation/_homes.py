"""Key homes: where a rotation makes, promotes and retires keys that never leave AWS KMS
or Vault Transit.

A store whose record names a signer (``RotationRecord.signer``) stages keys
in that home instead of generating RSA keys in this process. The engine sees
only this small interface; the KMS and Transit modules implement it beside
their signers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from box_secrets.signers._material import NewKey, RemoteKey
    from box_secrets.signers._uri import SignerURI
    from box_secrets.stores._document import Snapshot
    from box_secrets.stores._entries import RetireAction

__all__ = ["KeyHome", "home_for"]


class KeyHome(Protocol):
    kind: str
    uri: SignerURI

    def check(self) -> None:
        """Refuse, changing nothing, a key there that could never sign for Box."""

    def new_key(self, snap: Snapshot) -> NewKey:
        """The key to stage (an unused one found there, or a new one)."""

    def promoted(self, snap: Snapshot) -> None:
        """Bring the home in line with a promotion the record committed (idempotent)."""

    def repair(self, snap: Snapshot) -> None:
        """Same as :meth:`promoted`, run before every engine step (a crash may have cut it)."""

    def retire(self, material: RemoteKey, snap: Snapshot) -> tuple[RetireAction, str]:
        """Make a retired or abandoned key unusable where possible: (history action, detail).

        The action is ``destroyed`` (gone), ``disabled`` (cannot sign, deletion
        scheduled) or ``kept`` (not possible yet; a later retirement finishes it).
        """


def home_for(uri: str | SignerURI | None) -> KeyHome | None:
    """The home a signer URI names, or None for keys generated in this process.

    Raises:
        ConfigError: the URI is malformed or cannot be a rotation's home.
    """
    if uri is None:
        return None
    from box_secrets.signers._uri import as_signer_uri

    uri = as_signer_uri(uri, field="the signer")  # parsed once; the home takes it as it is
    kind = uri.kind
    if kind == "aws-kms":
        from box_secrets.rotation._kms_home import KmsHome

        return KmsHome(uri)
    from box_secrets.rotation._transit_home import TransitHome

    return TransitHome(uri)
