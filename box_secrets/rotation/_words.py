"""The words of rotation: next-action hints, notices to a person, commands to run.

Kept apart from the engine's decisions, so the text can change (or be
translated) without touching what is decided, and so every tool that shows a
next step (status, a Lambda's summary, Terraform) shows the same one.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from box_secrets._support.times import rfc3339
from box_secrets.rotation._views import DAY

if TYPE_CHECKING:
    from box_secrets.rotation._notify import Notification
    from box_secrets.stores import Store
    from box_secrets.stores._document import Snapshot
    from box_secrets.stores._record import KeyInfo, Policy, RotationRecord

__all__ = ["Words", "policy_text"]


class Words:
    """What box-secrets says about one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def cmd(self, *args: str) -> str:
        """The command a person runs next, with this store."""
        return " ".join(["box-secrets", *args, "--store", shlex.quote(self.store.uri)])

    def next_action(self, r: RotationRecord, now: float) -> str:
        """One sentence: what happens next, and who does it."""
        if r.state == "client-credentials":
            return "nothing: a Client Credentials app has no key pair to rotate"
        if r.destroying:
            return f"run `{self.cmd('rotate')}` to finish destroying retired keys"
        if r.pending is not None and r.pending.key_id is None:
            return (
                f"add the pending public key in the Box Developer Console, then run "
                f"`{self.cmd('register', '--public-key-id', 'ID')}` with the ID Box shows"
            )
        if r.pending is not None:
            return (
                f"run `{self.cmd('rotate')}` to verify key {r.pending.key_id} with Box "
                "and promote it"
            )
        if r.previous is not None:
            return (
                f"remove key {r.previous.key_id} in the Box Developer Console, then run "
                f"`{self.cmd('rotate')}`"
            )
        if r.active is None:
            return f"run `{self.cmd('rotate')}` to stage a first key"
        due = (r.active.activated_at or r.active.created_at) + r.policy.max_age_days * DAY
        if due <= now:
            return f"rotation is due: run `{self.cmd('rotate')}`"
        return (
            f"nothing until {rfc3339(due)}, when key {r.active.key_id} reaches "
            f"{r.policy.max_age_days:g} days"
        )

    def gone(self, snap: Snapshot | None = None, key: KeyInfo | None = None) -> str:
        """What happened to a retired key's private material, as the history recorded it.

        ``finish_destruction`` logs one entry per key: destroyed (file, Vault),
        unlabelled (Secrets Manager), disabled (KMS: disabled and scheduled for
        deletion) or kept (a Transit version not trimmable yet); each is said as it is.
        """
        entry = None
        if snap is not None and key is not None:
            entry = next(
                (
                    e
                    for e in reversed(snap.record.history)
                    if e.new_fingerprint == key.fingerprint
                    and e.action in ("destroyed", "unlabelled", "disabled", "kept")
                ),
                None,
            )
        at_home = entry is not None and (
            entry.action in ("disabled", "kept") or (snap is not None and snap.record.signer)
        )
        if entry is not None and at_home and entry.detail:
            return entry.detail  # what KMS or Transit did, in the home's own words
        if self.store.destroys_material:
            return "its private key is destroyed in the store"
        return f"its labels are removed, but {self.store.retention_note}"

    def register_notice(
        self, snap: Snapshot, key: KeyInfo, refused: str | None = None
    ) -> Notification:
        title = "Box key rotation: register a new public key"
        steps = [
            "Open https://app.box.com/developers/console and choose the app with client ID "
            f"{snap.client_id}.",
            "Go to Configuration, section 'Add and Manage Public Keys'.",
            "Click 'Add a Public Key', paste the public key below, and confirm with 2FA.",
            "Box shows the new key's ID in the list of public keys: copy it.",
        ]
        if refused:
            title = f"Box refused key ID {refused}: register the public key again"
            steps.insert(
                0,
                f"Box refused key ID {refused} for this key: that ID belongs to another key "
                "or was mistyped. Check the fingerprint below against the key you registered.",
            )
        from box_secrets.rotation._notify import Notification

        return Notification(
            kind="reregister" if refused else "register",
            title=title,
            client_id=snap.client_id,
            store=self.store.uri,
            steps=steps,
            public_key_pem=key.public_key_pem,
            fingerprint_sha256=key.fingerprint,
            next_command=self.cmd("register", "--public-key-id", "<ID shown by Box>", "--verify"),
        )

    def remove_notice(self, snap: Snapshot, key: KeyInfo) -> Notification:
        from box_secrets.rotation._notify import Notification

        return Notification(
            kind="remove",
            title=f"Box key rotation: remove the old public key {key.key_id}",
            client_id=snap.client_id,
            store=self.store.uri,
            key_id=key.key_id,
            fingerprint_sha256=key.fingerprint,
            steps=[
                "Open https://app.box.com/developers/console and choose the app with client ID "
                f"{snap.client_id}.",
                "Go to Configuration, section 'Add and Manage Public Keys'.",
                f"Delete the public key with ID {key.key_id} (the new key is already in use).",
            ],
            next_command=self.cmd("rotate"),
        )


def policy_text(p: Policy) -> str:
    return (
        f"{p.key_size}-bit keys, rotate after {p.max_age_days:g} days, "
        f"{p.grace_days:g} days of grace, "
        f"re-notify every {p.renotify_hours:g} h"
    )
