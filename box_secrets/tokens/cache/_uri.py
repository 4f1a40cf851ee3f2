"""Token cache URIs: ``dir:/path``, ``redis://``/``rediss://`` and ``dynamodb://``.

Parsed once; the parsed form is what connects. A Redis URL is judged by the
one URL parser (:mod:`box_secrets._urls`) as ``rediss`` = https and ``redis`` =
http: plain ``redis://`` is for a loopback server unless
``BOX_SECRETS_ALLOW_INSECURE_HTTP=1``. Credentials never ride in a URI (the
parser refuses ``user:pass@``); a Redis ACL user and password come from
``BOX_SECRETS_REDIS_USERNAME`` and ``BOX_SECRETS_REDIS_PASSWORD``.
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple
from urllib.parse import parse_qsl

from box_secrets.errors import InputError

__all__ = ["CacheURI", "parse_cache_uri"]

#: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html
_TABLE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]$")
_PARAMS = {
    "redis": frozenset({"timeout", "ca_cert"}),
    "dynamodb": frozenset({"region", "endpoint_url", "timeout"}),
}
_EXAMPLES = "dir:/var/cache/box-secrets, rediss://cache.example.com:6379/0, dynamodb://TABLE"


class CacheURI(NamedTuple):
    kind: str  # "dir", "redis" or "dynamodb"
    target: str  # the directory, the canonical redis(s):// URL, or the table name
    params: dict[str, str]
    timeout: float  # seconds any one cache call may take


def _timeout(value: str | None) -> float:
    if value is None:
        return 0.5
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or not 0.05 <= seconds <= 10:
        raise InputError(
            f"the token cache's timeout must be 0.05 to 10 seconds, not {value[:20]!r}"
        )
    return seconds


def _query(kind: str, query: str) -> dict[str, str]:
    pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=False)
    params: dict[str, str] = {}
    for name, value in pairs:
        if name not in _PARAMS[kind]:
            allowed = ", ".join(sorted(_PARAMS[kind]))
            raise InputError(
                f"the token cache URI has an unknown parameter {name[:30]!r}; {kind} takes "
                f"{allowed}"
            )
        if name in params:
            raise InputError(f"the token cache URI names {name!r} twice")
        params[name] = value
    return params


def parse_cache_uri(text: str) -> CacheURI:
    """Judge a token cache URI; one sentence (:class:`InputError`) when it is not usable."""
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"the token cache URI is empty; give one like {_EXAMPLES}")
    text = text.strip()
    scheme, colon, rest = text.partition(":")
    scheme = scheme.lower()
    if scheme == "dir" and colon:
        path = rest[2:] if rest.startswith("//") else rest
        if not path or "\x00" in path:
            raise InputError("dir: needs a directory path, like dir:/var/cache/box-secrets")
        return CacheURI("dir", path, {}, 0.0)
    if scheme in ("redis", "rediss") and rest.startswith("//"):
        from box_secrets._urls import judge_url

        as_web = ("https" if scheme == "rediss" else "http") + ":" + rest
        url = judge_url(as_web, what="the Redis token cache URL")
        db = url.path.strip("/") or "0"
        if not db.isdigit() or int(db) > 15 or len(db) > 2:
            raise InputError(
                f"the Redis token cache URL's path must be a database number 0-15, not {db[:10]!r}"
            )
        params = _query("redis", url.query)
        port = url.port or 6379
        host = f"[{url.host}]" if ":" in url.host else url.host
        target = f"{scheme}://{host}:{port}/{int(db)}"
        return CacheURI("redis", target, params, _timeout(params.get("timeout")))
    if scheme == "dynamodb" and rest.startswith("//"):
        table, _, query = rest[2:].partition("?")
        if not _TABLE.match(table):
            raise InputError(
                f"dynamodb:// needs a table name (3-255 letters, digits, '_', '-', '.'), not "
                f"{table[:40]!r}"
            )
        params = _query("dynamodb", query)
        region = params.get("region")
        if region is not None and not _REGION.match(region):
            raise InputError(f"region {region[:30]!r} is not an AWS region name like eu-west-1")
        if "endpoint_url" in params:
            from box_secrets._urls import check_url

            params["endpoint_url"] = check_url(
                params["endpoint_url"], what="the DynamoDB endpoint_url"
            )
        return CacheURI("dynamodb", table, params, _timeout(params.get("timeout")))
    # Only the scheme is echoed: the rest may hold a password typed in the wrong place.
    raise InputError(
        f"the token cache URI (scheme {scheme[:12]!r}) is not one box-secrets knows; give one "
        f"like {_EXAMPLES}"
    )
