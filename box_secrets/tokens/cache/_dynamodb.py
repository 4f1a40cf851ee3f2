"""A token cache on a DynamoDB table: ``dynamodb://TABLE?region=&endpoint_url=``.

For Lambda fleets, which reach DynamoDB without a VPC. The table has one
string partition key ``pk`` and TTL on the number attribute ``exp``
(``terraform/modules`` create it so). Operations, from the DynamoDB API
reference (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/):

- an entry is an item ``{pk: name, v: sealed bytes, exp: epoch seconds}``,
  read with ``GetItem`` (strongly consistent). TTL deletes expired items
  lazily, typically within days, so a reader also checks the token's own
  expiry;
- the lease is an item ``{pk: name:lease, owner: fence, exp}`` created by a
  ``PutItem`` conditional on ``attribute_not_exists(pk)``, and deleted only
  by its owner (``owner = :fence``). Hosts' clocks may disagree, so a lease
  is not judged by ``exp``: a waiter that has seen the same owner for longer
  than the lease's life takes it over with a ``PutItem`` conditional on that
  owner (the record-version scheme of AWS's DynamoDB Lock Client).

No boto3: on a Lambda cold start its import costs more than the rest of the
path, so each call is one HTTPS POST of DynamoDB's JSON protocol
(``X-Amz-Target: DynamoDB_20120810.<Operation>``), signed with SigV4 by
``_support/sigv4`` and sent by box-secrets' one HTTP client with the URI's
timeout; botocore is imported only to find credentials that are not in the
environment (profiles, SSO, instance roles). The endpoint is judged like
every URL (``endpoint_url=``, ``AWS_ENDPOINT_URL_DYNAMODB``,
``AWS_ENDPOINT_URL``, else AWS's own).
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import secrets
import threading
import time
from typing import Any

from box_secrets import _aws
from box_secrets._support import retry as _retry
from box_secrets._support.http import HttpClient
from box_secrets.errors import InputError

__all__ = ["Conditional", "DynamoError", "DynamoLease", "DynamoTokenCache"]

_MAX_LIFE = 60.0  # the longest lease a waiter honours, whatever the item claims
_SPARE = 3600  # TTL slack: a lease item outlives its use by an hour, then DynamoDB drops it


class Conditional(Exception):
    """A conditional write or delete found the item otherwise (not a failure)."""


class DynamoError(Exception):
    """DynamoDB refused or failed (holds the error's type, never a request or an item)."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class DynamoLease:
    __slots__ = ("fence", "name")

    def __init__(self, name: str, fence: str) -> None:
        self.name = name
        self.fence = fence


class DynamoTokenCache:
    """One DynamoDB table as a token cache (entries sealed by the caller)."""

    kind = "dynamodb"
    sealed = True

    def __init__(
        self, table: str, *, region: str | None, endpoint_url: str | None, timeout: float
    ) -> None:
        self._table = table
        found = _aws.region_for(table, region)
        if not found:
            raise InputError(
                f"dynamodb://{table} needs a region: add ?region=... to the URI or set AWS_REGION"
            )
        self._region: str = found
        suffix = ".amazonaws.com.cn" if found.startswith("cn-") else ".amazonaws.com"
        self._url = (
            _aws.endpoint_for("dynamodb", endpoint_url) or f"https://dynamodb.{found}{suffix}"
        )
        self._http = HttpClient(connect_timeout=timeout, read_timeout=timeout, max_connections=8)
        self._seen: dict[str, tuple[str, float]] = {}  # lease name -> (owner, first seen)
        self._seen_lock = threading.Lock()

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        """One DynamoDB operation; :class:`Conditional` when its condition failed."""
        from box_secrets._support import sigv4

        creds = sigv4.credentials()
        if creds is None:
            raise DynamoError("no AWS credentials were found for the DynamoDB token cache")
        body = json.dumps({"TableName": self._table, **params}).encode()
        headers = sigv4.sign(
            creds,
            method="POST",
            url=self._url,
            headers={
                "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Target": f"DynamoDB_20120810.{operation}",
            },
            body=body,
            region=self._region,
            service="dynamodb",
        )
        resp = self._http.request("POST", self._url, body=body, headers=headers)
        try:
            answer: Any = resp.json()
        except ValueError:
            answer = None
        if resp.status == 200 and isinstance(answer, dict):
            return answer
        kind = (
            str((answer or {}).get("__type", "")).rsplit("#", 1)[-1]
            if isinstance(answer, dict)
            else ""
        )
        if kind == "ConditionalCheckFailedException":
            raise Conditional(operation)
        raise DynamoError(f"DynamoDB answered {operation} with {resp.status} {kind[:80]}".rstrip())

    @property
    def name(self) -> str:
        return f"dynamodb://{self._table}"

    def get(self, name: str) -> tuple[bytes, float | None] | None:
        item = self._call("GetItem", Key={"pk": {"S": name}}, ConsistentRead=True).get("Item")
        value = item.get("v", {}).get("B") if isinstance(item, dict) else None
        if not isinstance(value, str):
            return None
        try:
            data = base64.b64decode(value, validate=True)
        except ValueError:
            return None
        return data, None  # no server clock: the token's expiry decides

    def put(self, name: str, data: bytes, ttl: float) -> None:
        self._call(
            "PutItem",
            Item={
                "pk": {"S": name},
                "v": {"B": _b64(data)},
                "exp": {"N": str(int(time.time() + ttl) + 1)},
            },
        )

    def delete(self, name: str, data: bytes) -> None:
        # A failed condition: already replaced by a newer token, or gone.
        with contextlib.suppress(Conditional):
            self._call(
                "DeleteItem",
                Key={"pk": {"S": name}},
                ConditionExpression="v = :v",
                ExpressionAttributeValues={":v": {"B": _b64(data)}},
            )

    def lease(self, name: str, ttl: float) -> DynamoLease | None:
        lock = f"{name}:lease"
        fence = secrets.token_hex(16)
        item = {
            "pk": {"S": lock},
            "owner": {"S": fence},
            "life": {"N": str(round(ttl, 3))},  # how long the holder may keep it
            "exp": {"N": str(int(time.time() + ttl) + _SPARE)},
        }
        try:
            self._call("PutItem", Item=item, ConditionExpression="attribute_not_exists(pk)")
            return DynamoLease(lock, fence)
        except Conditional:
            pass
        owner, life = self._holder(lock)
        if owner is None:
            return None  # released meanwhile: the next try may take it
        now = _retry._monotonic()
        with self._seen_lock:
            seen = self._seen.get(lock)
            if seen is None or seen[0] != owner:
                self._seen[lock] = (owner, now)
                return None
            if now - seen[1] < (life if life is not None else ttl):
                return None
            del self._seen[lock]
        try:  # the same owner for a whole lease life: it died holding it
            self._call(
                "PutItem",
                Item=item,
                ConditionExpression="#o = :old",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":old": {"S": owner}},
            )
            return DynamoLease(lock, fence)
        except Conditional:
            return None

    def _holder(self, lock: str) -> tuple[str | None, float | None]:
        """The lease's owner and the life it claimed (bounded: a planted item holds no one long)."""
        item: Any = self._call("GetItem", Key={"pk": {"S": lock}}, ConsistentRead=True).get("Item")
        if not isinstance(item, dict):
            item = {}
        owner = item.get("owner", {}).get("S")
        try:
            claimed = float(item["life"]["N"])
        except (KeyError, TypeError, ValueError):
            claimed = math.nan
        life = min(_MAX_LIFE, max(0.0, claimed)) if math.isfinite(claimed) else None
        return (owner if isinstance(owner, str) else None), life

    def release(self, lease: object) -> None:
        if not isinstance(lease, DynamoLease):
            return
        # A failed condition: taken over after we outlived the lease, not ours to delete.
        with contextlib.suppress(Conditional):
            self._call(
                "DeleteItem",
                Key={"pk": {"S": lease.name}},
                ConditionExpression="#o = :me",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":me": {"S": lease.fence}},
            )

    def __repr__(self) -> str:
        return f"DynamoTokenCache({self._table!r})"
