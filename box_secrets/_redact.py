"""Logging for the CLI: box-secrets' own records only, with secrets scrubbed as a second line.

The first line of defence is that box-secrets never logs a secret. The second
is here: third-party loggers (botocore logs whole request and response bodies
at DEBUG, urllib3 logs request paths) stay at WARNING unless
``BOX_SECRETS_UNSAFE_THIRD_PARTY_DEBUG=1`` asks for them, and every record
that reaches the CLI's handler passes :class:`RedactingFilter`.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from typing import TextIO

__all__ = ["THIRD_PARTY", "UNSAFE_DEBUG_ENV", "RedactingFilter", "configure_cli_logging", "redact"]

UNSAFE_DEBUG_ENV = "BOX_SECRETS_UNSAFE_THIRD_PARTY_DEBUG"
THIRD_PARTY = ("botocore", "boto3", "s3transfer", "urllib3", "hvac", "requests", "box_sdk_gen")

_MARK = "[REDACTED]"
# A PEM block, also inside JSON where newlines are escaped, also cut off at the end.
_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]+-----.*?(?:-----END [A-Z0-9 ]+-----|\Z)", re.DOTALL)
# "name": "value" in JSON, in JSON inside a JSON string (\"name\": \"value\"), or in a repr.
_FIELDS = (
    "clientSecret|client_secret|passphrase|privateKey|private_key|access_token|refresh_token|"
    "assertion|subject_token|actor_token|SecretString|SecretBinary|secret_id|client_token|"
    "RotationToken|token|jwt|password"
)
_JSON_FIELD = re.compile(
    rf"""((?:{_FIELDS})\\*["']\s*:\s*\\*["'])(?:[^"'\\]|\\[^"'\\])*""", re.IGNORECASE
)
# name=value in a form body or query string.
_FORM_FIELD = re.compile(rf"(\b(?:{_FIELDS})=)[^&\s'\"]+", re.IGNORECASE)
# Authorization, Vault and AWS session headers, in any dict or wire form.
_HEADER = re.compile(
    r"((?:authorization|x-vault-token|x-amz-security-token|x-aws-parameters-secrets-token)"
    r"""\\*["']?\s*[:=]\s*\\*["']?)(?:bearer\s+)?[^"'\\\s,}]+""",
    re.IGNORECASE,
)
_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/\s@'\"]+@", re.IGNORECASE)
# A Slack-style webhook's path is its secret.
_WEBHOOK = re.compile(r"(hooks\.slack\.com/services/)[^\s'\"]+", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with PEM blocks, secret fields, credential headers and URL passwords removed."""
    text = _PEM.sub(_MARK, text)
    text = _JSON_FIELD.sub(lambda m: m.group(1) + _MARK, text)
    text = _FORM_FIELD.sub(lambda m: m.group(1) + _MARK, text)
    text = _HEADER.sub(lambda m: m.group(1) + _MARK, text)
    text = _USERINFO.sub(lambda m: m.group(1) + _MARK + "@", text)
    return _WEBHOOK.sub(lambda m: m.group(1) + _MARK, text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (arguments merged in) through :func:`redact`."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: keep only its template
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # Tracebacks may quote a secret in an exception message: keep the type only.
            record.exc_text = f"{type(record.exc_info[1]).__name__} (traceback hidden)"
            record.exc_info = None
        return True


def configure_cli_logging(verbosity: int, stream: TextIO | None = None) -> None:
    """Show box-secrets' warnings always, info with -v and debug with -vv, all redacted."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    level = logging.DEBUG if verbosity > 1 else logging.INFO if verbosity else logging.WARNING
    ours = logging.getLogger("box_secrets")
    for old in [h for h in ours.handlers if getattr(h, "_box_secrets_cli", False)]:
        ours.removeHandler(old)
    handler._box_secrets_cli = True  # type: ignore[attr-defined]
    ours.addHandler(handler)
    ours.setLevel(level)
    ours.propagate = False
    unsafe = os.environ.get(UNSAFE_DEBUG_ENV) == "1" and verbosity > 1
    for name in THIRD_PARTY:
        lib = logging.getLogger(name)
        lib.setLevel(logging.DEBUG if unsafe else logging.WARNING)
        if unsafe and handler not in lib.handlers:
            lib.addHandler(handler)
            lib.propagate = False
    if unsafe:
        handler.stream.write(
            f"box-secrets: warning: {UNSAFE_DEBUG_ENV}=1 logs third-party request and response "
            "bodies; known secret shapes are redacted, but do not share this output\n"
        )
