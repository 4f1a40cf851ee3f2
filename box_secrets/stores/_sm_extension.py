"""Read ``AWSCURRENT`` through AWS's Parameters and Secrets Lambda Extension.

Inside Lambda, AWS recommends this extension (a layer) for reading secrets: it
caches ``GetSecretValue`` and serves it over localhost, so a function that
mints Box tokens never imports boto3 or builds a client on its hot path
(https://docs.aws.amazon.com/secretsmanager/latest/userguide/retrieving-secrets_lambda.html).

- ``GET http://localhost:PORT/secretsmanager/get?secretId=ID&versionStage=AWSCURRENT``,
  ``PORT`` from ``PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`` (default 2773);
- header ``X-Aws-Parameters-Secrets-Token`` with ``AWS_SESSION_TOKEN``;
- the body is the ``GetSecretValue`` JSON.

Anything else (no extension listening, a non-200 answer, a body that is not
that JSON) falls back to boto3, which then reports the real error; so does a
forced refresh after Box rejects a key, because the extension's cache may
still hold the old one for up to its TTL. AWS does not document every error
status, so any non-200 answer is treated the same way (the stricter choice).

``BOX_SECRETS_SECRETS_EXTENSION``: ``0`` never uses it; ``1`` uses it outside
Lambda too (tests); unset, it is tried inside Lambda only.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.parse
from typing import Any

from box_secrets._support.caches import cache_reset
from box_secrets.stores._uri import StoreURI

__all__ = ["ENV", "ExtensionReader", "extension_reader"]

ENV = "BOX_SECRETS_SECRETS_EXTENSION"
PORT_ENV = "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"

log = logging.getLogger("box_secrets.stores")

#: Set once no extension answered: this process stops trying (until caches are cleared).
_absent = False


@cache_reset
def forget_absence() -> None:
    """Try the extension again (``box_secrets.clear_caches``)."""
    global _absent
    _absent = False


def extension_reader(uri: StoreURI) -> ExtensionReader | None:
    """A reader for ``uri`` through the extension, or None when it cannot apply."""
    mode = os.environ.get(ENV, "")
    if mode == "0" or uri.scheme != "aws-sm":
        return None
    if mode != "1" and not os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return None
    params = uri.params
    if params.get("endpoint_url") or params.get("profile"):
        return None  # the extension reads the function's own account and endpoint
    from box_secrets._aws import arn_region

    region = params.get("region") or arn_region(uri.location)
    if region and region != os.environ.get("AWS_REGION", region):
        return None
    return ExtensionReader(uri.location)


class ExtensionReader:
    __slots__ = ("secret_id",)

    def __init__(self, secret_id: str) -> None:
        self.secret_id = secret_id

    def read(self) -> dict[str, Any] | None:
        """The current Box config from the extension, or None to read Secrets Manager directly."""
        global _absent
        token = os.environ.get("AWS_SESSION_TOKEN")
        port = os.environ.get(PORT_ENV, "2773")
        if _absent or not token or not (port.isdigit() and 0 < int(port) < 65536):
            return None
        from box_secrets._support.http import TransportError, default_client

        query = urllib.parse.urlencode({"secretId": self.secret_id, "versionStage": "AWSCURRENT"})
        url = f"http://localhost:{int(port)}/secretsmanager/get?{query}"
        try:
            resp = default_client().request(
                "GET", url, headers={"X-Aws-Parameters-Secrets-Token": token}
            )
        except TransportError:
            _absent = True
            log.info("no Parameters and Secrets extension on port %s; reading directly", port)
            return None
        if resp.status != 200:
            log.info("the secrets extension answered HTTP %d; reading directly", resp.status)
            return None
        try:
            text = resp.json()["SecretString"]
            data = json.loads(text)
        except (ValueError, KeyError, TypeError, RecursionError):
            log.info("the secrets extension sent no usable SecretString; reading directly")
            return None
        return data if isinstance(data, dict) else None


def forget() -> None:
    """Try the extension again (tests; ``box_secrets.clear_caches``)."""
    global _absent
    _absent = False
