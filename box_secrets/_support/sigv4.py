"""AWS Signature Version 4 for one JSON-protocol request, with the standard library only.

For the DynamoDB token cache on a Lambda cold start, where importing boto3
costs more than the whole rest of the path. The algorithm is AWS's
("Create a signed AWS API request",
https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html):
a canonical request, a string to sign under ``AWS4-HMAC-SHA256``, and a key
derived by HMAC-SHA256 from the secret key, the date, the region and the
service. A test holds it to botocore's own signer.

Credentials come from the environment (``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``), which is where Lambda puts
them; anywhere else (profiles, SSO, instance roles), :func:`credentials` asks
botocore's chain, and pays its import only there.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
import urllib.parse
from typing import Any, NamedTuple

__all__ = ["Credentials", "credentials", "sign"]

_ALGORITHM = "AWS4-HMAC-SHA256"


class Credentials(NamedTuple):
    access_key: str
    secret_key: str
    token: str | None

    def __repr__(self) -> str:  # never the keys
        return "Credentials(<hidden>)"


_chain: dict[str | None, Any] = {}  # profile -> botocore's credentials (refreshing themselves)


def credentials(profile: str | None = None) -> Credentials | None:
    """The environment's credentials, else botocore's chain (None when there are none).

    Read for every request: Lambda and tests change the environment's keys, and
    botocore's credentials refresh themselves before they expire.
    """
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if key and secret and not profile:
        return Credentials(key, secret, os.environ.get("AWS_SESSION_TOKEN") or None)
    found = _chain.get(profile)
    if found is None:
        from box_secrets._support.optional import require

        session = require("botocore.session").get_session()
        if profile:
            session.set_config_variable("profile", profile)
        found = session.get_credentials()
        if found is None:
            return None
        _chain[profile] = found
    frozen = found.get_frozen_credentials()
    return Credentials(frozen.access_key, frozen.secret_key, frozen.token or None)


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def sign(
    creds: Credentials,
    *,
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    region: str,
    service: str,
    now: float | None = None,
) -> dict[str, str]:
    """``headers`` plus ``Host``, ``X-Amz-Date``, the session token and ``Authorization``."""
    parts = urllib.parse.urlsplit(url)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
    day = stamp[:8]
    signed = {k.lower(): " ".join(v.split()) for k, v in headers.items()}
    signed["host"] = parts.netloc
    signed["x-amz-date"] = stamp
    if creds.token:
        signed["x-amz-security-token"] = creds.token
    names = sorted(signed)
    query = "&".join(
        f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
        for k, v in sorted(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    )
    canonical = "\n".join(
        [
            method,
            urllib.parse.quote(parts.path or "/", safe="/-_.~"),
            query,
            "".join(f"{n}:{signed[n]}\n" for n in names),
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join([_ALGORITHM, stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(("AWS4" + creds.secret_key).encode(), day)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    out = {**headers, "Host": parts.netloc, "X-Amz-Date": stamp}
    if creds.token:
        out["X-Amz-Security-Token"] = creds.token
    out["Authorization"] = (
        f"{_ALGORITHM} Credential={creds.access_key}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return out
