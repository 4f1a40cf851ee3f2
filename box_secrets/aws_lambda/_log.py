"""One structured JSON line per step, and CloudWatch embedded-metric lines.

Lambda sends stdout to CloudWatch Logs, where a JSON line is searchable by
field and an embedded-metric line becomes a metric without any API call
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
Lines carry names, fingerprints and outcomes only: never key material,
tokens, the ``RotationToken`` or a webhook address. Messages pass through the
CLI's redaction filter too, in case a third-party error quoted something.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any, TextIO

__all__ = ["METRICS_ENV", "NAMESPACE", "emit", "metrics"]

METRICS_ENV = "BOX_SECRETS_METRICS"
NAMESPACE = "BoxSecrets"

#: Where lines go; tests point it elsewhere.
stream: TextIO = sys.stdout


def _clean(text: str) -> str:
    from box_secrets._support.redact import redact

    return redact(text)


def _store(uri: str) -> str:
    from box_secrets._urls import redact_uri

    return redact_uri(uri)


def emit(level: str, **fields: Any) -> dict[str, Any]:
    """Write one JSON line (``level`` is INFO, WARNING or ERROR) and return it."""
    line: dict[str, Any] = {"level": level, "logger": "box_secrets.aws_lambda", **fields}
    if isinstance(line.get("message"), str):
        line["message"] = _clean(line["message"])
    if isinstance(line.get("store"), str):
        line["store"] = _store(line["store"])
    stream.write(json.dumps(line, sort_keys=True, default=str) + "\n")
    stream.flush()
    return line


_reported_cache_errors = 0


def token_cache_errors() -> int:
    """Shared token cache failures since the last metric line of this process (see
    ``box_secrets.tokens.cache.cache_errors``); 0 when no cache was ever used."""
    global _reported_cache_errors
    from box_secrets.tokens.cache import cache_errors

    total = cache_errors()
    new, _reported_cache_errors = total - _reported_cache_errors, total
    return max(0, new)


def metrics(store: str, *, person_needed: bool, key_age_days: float | None, failed: bool) -> None:
    """One embedded-metric line per store (off with ``BOX_SECRETS_METRICS=0``)."""
    if os.environ.get(METRICS_ENV, "1") == "0":
        return
    names = [("PersonNeeded", "Count"), ("RotationErrors", "Count"), ("TokenCacheErrors", "Count")]
    values: dict[str, Any] = {
        "PersonNeeded": int(person_needed),
        "RotationErrors": int(failed),
        "TokenCacheErrors": token_cache_errors(),
    }
    if key_age_days is not None:
        names.append(("KeyAgeDays", "None"))
        values["KeyAgeDays"] = key_age_days
    line = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [["Store"]],
                    "Metrics": [{"Name": n, "Unit": u} for n, u in names],
                }
            ],
        },
        "Store": _store(store),
        **values,
    }
    stream.write(json.dumps(line, sort_keys=True) + "\n")
    stream.flush()
