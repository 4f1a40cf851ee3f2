"""Telling a person what to do: register a new key at Box, or remove an old one.

A :class:`Notification` holds only public facts (the public key PEM, its
SHA-256 fingerprint, key IDs, the console steps and the next command); the
notifiers cannot leak private material because they never receive it.

Notifiers are named by a URI (``--notify``, env ``BOX_SECRETS_NOTIFY``):

- ``log:`` (default) prints to standard output;
- ``https://...`` posts JSON with a Slack-compatible ``text`` field;
- ``sns://TOPIC-ARN?region=...&endpoint_url=...`` publishes to AWS SNS (``aws`` extra).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol, TextIO
from urllib.parse import parse_qsl

from box_secrets.errors import InputError, NotifyError

__all__ = [
    "LogNotifier",
    "Notification",
    "Notifier",
    "SNSNotifier",
    "WebhookNotifier",
    "open_notifier",
]


@dataclass
class Notification:
    kind: Literal["register", "reregister", "remove"]
    title: str
    client_id: str
    store: str
    steps: list[str]
    next_command: str
    fingerprint_sha256: str
    key_id: str | None = None
    public_key_pem: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        lines = [
            self.title,
            "",
            f"App (client ID): {self.client_id}",
            f"Store: {self.store}",
            f"Key fingerprint (SHA-256): {self.fingerprint_sha256}",
        ]
        if self.key_id:
            lines.append(f"Key ID: {self.key_id}")
        lines += ["", "Steps in the Box Developer Console:"]
        lines += [f"  {n}. {step}" for n, step in enumerate(self.steps, 1)]
        if self.public_key_pem:
            lines += ["", "Public key to paste:", self.public_key_pem.rstrip()]
        lines += ["", "Then run:", f"  {self.next_command}"]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["text"] = self.text
        return data


class Notifier(Protocol):
    def send(self, notification: Notification) -> None:
        """Deliver, or raise :class:`NotifyError`."""


class LogNotifier:
    """Prints the message (the default: cron mails it, CI shows it)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def send(self, notification: Notification) -> None:
        out = self._stream or sys.stdout
        bar = "=" * 72
        out.write(f"{bar}\n{notification.text}\n{bar}\n")
        out.flush()

    def __repr__(self) -> str:
        return "LogNotifier()"


class WebhookNotifier:
    """POSTs ``{"text": ..., "box_secrets": {...}}``: Slack incoming webhooks read ``text``."""

    def __init__(self, url: str) -> None:
        self.url = url

    def send(self, notification: Notification) -> None:
        from box_secrets._support.http import TransportError, default_client

        body = json.dumps({"text": notification.text, "box_secrets": notification.to_json()})
        try:
            resp = default_client().request(
                "POST", self.url, body=body.encode(), headers={"Content-Type": "application/json"}
            )
        except TransportError as exc:
            raise NotifyError(
                f"the notification webhook could not be reached ({self._host()})"
            ) from exc
        if not 200 <= resp.status < 300:
            raise NotifyError(
                f"the notification webhook answered HTTP {resp.status} ({self._host()})"
            )

    def _host(self) -> str:
        from box_secrets._urls import redact_url

        # The path of a Slack webhook URL is its secret, and userinfo is a password:
        # show only the host.
        return redact_url(self.url, keep_path=False)

    def __repr__(self) -> str:
        return f"WebhookNotifier(host={self._host()!r})"


class SNSNotifier:
    """Publishes to an SNS topic (email, SMS, chat via subscriptions)."""

    def __init__(
        self, topic_arn: str, *, region: str | None = None, endpoint_url: str | None = None
    ) -> None:
        from box_secrets._aws import client

        self.topic_arn = topic_arn
        self._client = client("sns", region=region, endpoint_url=endpoint_url)

    def send(self, notification: Notification) -> None:
        import botocore.exceptions

        try:
            self._client.publish(
                TopicArn=self.topic_arn,
                Subject=notification.title[:99],
                Message=notification.text,
                MessageAttributes={
                    "kind": {"DataType": "String", "StringValue": notification.kind}
                },
            )
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            raise NotifyError(
                f"publishing to SNS topic {self.topic_arn} failed ({type(exc).__name__})"
            ) from exc

    def __repr__(self) -> str:
        return f"SNSNotifier({self.topic_arn!r})"


def open_notifier(uri: str | None, *, log_stream: TextIO | None = None) -> Notifier:
    """The notifier a URI names (``None`` or ``log:``: print to ``log_stream``, default stdout)."""
    if not uri or uri in ("log", "log:", "stdout"):
        return LogNotifier(log_stream)
    if uri.startswith(("https://", "http://")):
        from box_secrets._urls import check_url

        return WebhookNotifier(check_url(uri, what="the --notify webhook"))
    if uri.startswith("sns://"):
        arn, _, query = uri[len("sns://") :].partition("?")
        params = dict(parse_qsl(query))
        unknown = set(params) - {"region", "endpoint_url"}
        if not arn.startswith("arn:") or unknown:
            raise InputError(
                "an SNS notifier looks like sns://arn:aws:sns:REGION:ACCOUNT:TOPIC?region=REGION"
            )
        from box_secrets._aws import endpoint_for

        # Judged now (and connected to in this canonical form), before any rotation step.
        endpoint = endpoint_for("sns", params.get("endpoint_url") or None)
        return SNSNotifier(arn, region=params.get("region"), endpoint_url=endpoint)
    raise InputError("--notify must be log:, an https:// webhook URL, or sns://TOPIC-ARN")
