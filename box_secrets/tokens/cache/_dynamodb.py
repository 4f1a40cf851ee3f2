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

Through boto3 (the ``aws`` extra), with botocore's retries off and the URI's
timeout on every call.
"""

from __future__ import annotations

import contextlib
import math
import secrets
import threading
import time
from typing import Any

from box_secrets import _aws
from box_secrets._support import retry as _retry

__all__ = ["DynamoLease", "DynamoTokenCache"]

_MAX_LIFE = 60.0  # the longest lease a waiter honours, whatever the item claims
_SPARE = 3600  # TTL slack: a lease item outlives its use by an hour, then DynamoDB drops it


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
        self._client = _aws.client(
            "dynamodb",
            region=_aws.region_for(table, region),
            endpoint_url=endpoint_url,
            max_attempts=1,
            timeout=timeout,
        )
        self._seen: dict[str, tuple[str, float]] = {}  # lease name -> (owner, first seen)
        self._seen_lock = threading.Lock()
        self._conditional = self._client.exceptions.ConditionalCheckFailedException

    @property
    def name(self) -> str:
        return f"dynamodb://{self._table}"

    def get(self, name: str) -> tuple[bytes, float | None] | None:
        item = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": name}}, ConsistentRead=True
        ).get("Item")
        if not item or "v" not in item or "B" not in item["v"]:
            return None
        return bytes(item["v"]["B"]), None  # no server clock: the token's expiry decides

    def put(self, name: str, data: bytes, ttl: float) -> None:
        self._client.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": name},
                "v": {"B": data},
                "exp": {"N": str(int(time.time() + ttl) + 1)},
            },
        )

    def delete(self, name: str, data: bytes) -> None:
        # A failed condition: already replaced by a newer token, or gone.
        with contextlib.suppress(self._conditional):
            self._client.delete_item(
                TableName=self._table,
                Key={"pk": {"S": name}},
                ConditionExpression="v = :v",
                ExpressionAttributeValues={":v": {"B": data}},
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
            self._client.put_item(
                TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)"
            )
            return DynamoLease(lock, fence)
        except self._conditional:
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
            self._client.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="#o = :old",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":old": {"S": owner}},
            )
            return DynamoLease(lock, fence)
        except self._conditional:
            return None

    def _holder(self, lock: str) -> tuple[str | None, float | None]:
        """The lease's owner and the life it claimed (bounded: a planted item holds no one long)."""
        item: Any = (
            self._client.get_item(
                TableName=self._table, Key={"pk": {"S": lock}}, ConsistentRead=True
            ).get("Item")
            or {}
        )
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
        with contextlib.suppress(self._conditional):
            self._client.delete_item(
                TableName=self._table,
                Key={"pk": {"S": lease.name}},
                ConditionExpression="#o = :me",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":me": {"S": lease.fence}},
            )

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"DynamoTokenCache({self._table!r})"
