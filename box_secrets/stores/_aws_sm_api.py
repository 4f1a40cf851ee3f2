"""Secrets Manager's calls as the store makes them: one client, AWS's errors in the
store's words, labels, versions, puts and label moves (each a crash point)."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from box_secrets._support.faults import crashpoint
from box_secrets._support.optional import require
from box_secrets.errors import (
    ConflictError,
    StoreAccessDeniedError,
    StoreCorruptError,
    StoreError,
    StoreNotFoundError,
    StoreUnavailableError,
)

if TYPE_CHECKING:
    pass

if TYPE_CHECKING:
    import boto3
    import botocore.config
    import botocore.exceptions
else:  # one sentence naming the extra when boto3 is missing
    boto3 = require("boto3")
    botocore = require("botocore")
    require("botocore.config")
    require("botocore.exceptions")

__all__ = ["CURRENT", "PENDING", "PREVIOUS", "RECORD", "WRITING", "SecretsManagerAPI"]

CURRENT, PENDING, PREVIOUS = "AWSCURRENT", "AWSPENDING", "AWSPREVIOUS"
RECORD = "BOXSECRETS_RECORD"
WRITING = "BOXSECRETS_WRITING"  # a put must name a label, or it moves AWSCURRENT
_NS = uuid.UUID("6f6b1f38-1d7e-4c59-9d2f-3b0f2f6c7a11")
T = TypeVar("T")


def _token(*parts: str) -> str:
    return str(uuid.uuid5(_NS, "|".join(parts)))


def _dumps(data: dict[str, Any]) -> str:
    # Deterministic, so a retried put of the same value is byte-identical.
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


class SecretsManagerAPI:
    """The wire half of :class:`~box_secrets.stores._aws_sm.SecretsManagerStore`."""

    secret_id: str
    params: dict[str, str]
    region: str | None
    endpoint_url: str | None
    rotation_token: str | None
    _client: Any
    _seen_labels: dict[str, list[str]] | None
    _versions: dict[str, tuple[dict[str, Any], str, float | None]]

    @property
    def client(self) -> Any:
        if self._client is None:
            from box_secrets._aws import client

            self._client = client(
                "secretsmanager",
                region=self.region,
                endpoint_url=self.endpoint_url,
                profile=self.params.get("profile"),
            )
        return self._client

    def _call(self, doing: str, fn: Callable[[Any], T], *, cas: bool = False) -> T:
        """``fn(client)``, with every botocore error in this store's words.

        ``cas``: a label move checked against where it was read, so Secrets Manager's
        ``InvalidParameterException`` (the label is no longer there) means another writer won.
        """
        try:
            return fn(self.client)
        except botocore.exceptions.ClientError as exc:
            if cas and exc.response.get("Error", {}).get("Code") == "InvalidParameterException":
                raise ConflictError(
                    f"secret {self.secret_id} changed since it was read; nothing was committed"
                ) from exc
            raise self._translate(exc, doing) from exc
        except botocore.exceptions.NoCredentialsError as exc:
            raise StoreAccessDeniedError(
                "no AWS credentials found; configure a profile, environment variables or a role"
            ) from exc
        except botocore.exceptions.ParamValidationError as exc:
            from box_secrets._aws import invalid_parameter

            raise invalid_parameter(exc, "Secrets Manager", doing) from None
        except botocore.exceptions.NoRegionError as exc:
            raise StoreAccessDeniedError(
                "the AWS region is unknown; add ?region=... to the store URI, name the secret "
                "by its ARN, or set AWS_REGION"
            ) from exc
        except botocore.exceptions.BotoCoreError as exc:
            raise StoreUnavailableError(
                f"cannot reach Secrets Manager while {doing} ({type(exc).__name__}); retry later"
            ) from exc

    def _translate(self, exc: botocore.exceptions.ClientError, doing: str) -> StoreError:
        from box_secrets._aws import error_class, error_code

        code = error_code(exc)
        cls = error_class(code)
        # The class comes from the one AWS table; the words are this store's.
        messages: dict[type[StoreError], str] = {
            StoreNotFoundError: f"secret {self.secret_id} does not exist; import a config with "
            "`box-secrets store import`",
            StoreAccessDeniedError: f"AWS denied {doing} ({code}); the role needs the actions "
            f"listed in `box-secrets help stores` on {self.secret_id}",
            StoreUnavailableError: f"Secrets Manager is throttling or failing ({code}) while "
            f"{doing}; retry later",
            ConflictError: f"secret {self.secret_id} changed while {doing}; nothing was written",
        }
        return cls(messages.get(cls, f"Secrets Manager refused {doing} ({code})"))

    @staticmethod
    def _holder(labels: dict[str, list[str]], label: str) -> list[str]:
        return [v for v, stages in labels.items() if label in stages]

    def _put(self, token: str, text: str, *, stage: str = WRITING) -> None:
        kwargs = {
            "SecretId": self.secret_id,
            "ClientRequestToken": token,
            "SecretString": text,
            "VersionStages": [stage],
        }
        if self.rotation_token:
            kwargs["RotationToken"] = self.rotation_token
        self._seen_labels = None
        crashpoint("aws.put", "before")
        self._call("writing a secret version", lambda c: c.put_secret_value(**kwargs))
        crashpoint("aws.put", "after")

    def _move(self, label: str, to: str | None, from_: str | None, *, cas: bool = False) -> None:
        kwargs: dict[str, str] = {"SecretId": self.secret_id, "VersionStage": label}
        if to is not None:
            kwargs["MoveToVersionId"] = to
        if from_ is not None:
            kwargs["RemoveFromVersionId"] = from_
        self._seen_labels = None
        crashpoint("aws.label", "before")
        self._call(
            f"moving label {label}",
            lambda c: c.update_secret_version_stage(**kwargs),
            cas=cas,
        )
        crashpoint("aws.label", "after")

    def _value(self, version: str) -> dict[str, Any] | None:
        """A version's Box config, or None for a value-less rotation placeholder."""
        try:
            return self._get(version=version)[0]
        except StoreNotFoundError:
            return None

    def _get(
        self, *, stage: str | None = None, version: str | None = None
    ) -> tuple[dict[str, Any], str, float | None]:
        if version is not None and version in self._versions:
            data, vid, created = self._versions[version]
            return copy.deepcopy(data), vid, created
        kwargs: dict[str, str] = {"SecretId": self.secret_id}
        if version is not None:
            kwargs["VersionId"] = version
        else:
            kwargs["VersionStage"] = stage or CURRENT
        resp = self._call("reading the secret", lambda c: c.get_secret_value(**kwargs))
        text = resp.get("SecretString")
        if not isinstance(text, str):
            raise StoreCorruptError(f"secret {self.secret_id} holds binary data, not a Box config")
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            raise StoreCorruptError(
                f"secret {self.secret_id} is not JSON; it must hold a Box config"
            ) from None
        if not isinstance(data, dict):
            raise StoreCorruptError(f"secret {self.secret_id} does not hold a Box config")
        created = resp.get("CreatedDate")
        found = (data, resp["VersionId"], created.timestamp() if created is not None else None)
        self._versions[found[1]] = (copy.deepcopy(data), found[1], found[2])
        return found
