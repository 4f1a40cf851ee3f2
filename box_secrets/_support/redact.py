"""Logging without secrets: box-secrets' own records, and the libraries it drives.

The first line of defence is that box-secrets never logs a secret. The second
is here, because the libraries it drives do: botocore logs whole request and
response bodies at DEBUG (a ``GetSecretValue`` answer is the private key), and
requests, urllib3 and hvac log request lines.

- The CLI and the Lambda handler *hold* those loggers at WARNING
  (:func:`hold_third_party`) unless ``BOX_SECRETS_UNSAFE_THIRD_PARTY_DEBUG=1``
  asks for them, whatever level the root logger has (Lambda's advanced logging
  controls set the root logger's level, so DEBUG there would otherwise reach
  botocore).
- As a library, box-secrets does not change a host application's levels. It
  installs, once, when it first builds an AWS, Vault or HTTP client, a log
  record factory (:func:`install_record_redaction`) that passes every record
  *created by* those libraries' loggers through :func:`redact` before any
  handler sees it: PEM blocks, secret JSON and form fields, credential headers
  and URL passwords are replaced by ``[REDACTED]``, and their tracebacks are cut
  to the exception's type. Records of every other logger are left untouched.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from typing import TextIO

__all__ = [
    "THIRD_PARTY",
    "UNSAFE_DEBUG_ENV",
    "RedactingFilter",
    "configure_cli_logging",
    "hold_third_party",
    "install_record_redaction",
    "redact",
]

UNSAFE_DEBUG_ENV = "BOX_SECRETS_UNSAFE_THIRD_PARTY_DEBUG"
THIRD_PARTY = (
    "botocore",
    "boto3",
    "s3transfer",
    "urllib3",
    "hvac",
    "requests",
    "box_sdk_gen",
    "redis",
)

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


def _scrub(record: logging.LogRecord) -> None:
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


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (arguments merged in) through :func:`redact`."""

    def filter(self, record: logging.LogRecord) -> bool:
        _scrub(record)
        return True


_installed = False


def _third_party(name: str) -> bool:
    return any(name == lib or name.startswith(lib + ".") for lib in THIRD_PARTY)


def install_record_redaction() -> None:
    """Redact every record the third-party loggers create, in this process, from now on.

    Idempotent, and chained to whatever factory was installed before (so a
    host application's own factory still runs). Costs nothing for records of
    other loggers beyond a name check, and nothing at all for records below a
    logger's level, which are never created.
    """
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if _third_party(record.name):
            _scrub(record)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


def hold_third_party(*, unsafe: bool = False) -> None:
    """Hold the third-party loggers at WARNING (DEBUG if ``unsafe``), whatever the root says."""
    for name in THIRD_PARTY:
        logging.getLogger(name).setLevel(logging.DEBUG if unsafe else logging.WARNING)


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
    hold_third_party(unsafe=unsafe)
    install_record_redaction()
    for name in THIRD_PARTY:
        lib = logging.getLogger(name)
        if unsafe and handler not in lib.handlers:
            lib.addHandler(handler)
            lib.propagate = False
    if unsafe:
        handler.stream.write(
            f"box-secrets: warning: {UNSAFE_DEBUG_ENV}=1 logs third-party request and response "
            "bodies; known secret shapes are redacted, but do not share this output\n"
        )
