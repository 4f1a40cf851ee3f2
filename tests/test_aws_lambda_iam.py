"""The rotation function's documented IAM policy: enough for a whole rotation, and no more.

A moto server with IAM enforcement on: an admin sets things up, then the
handler runs as a user holding exactly the policy in docs/aws-lambda.md. moto
authorises Secrets Manager and SNS requests against the resource ``*``, so
the documented ARNs are replaced by ``*``: the actions are what is proven.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from box_secrets import errors
from box_secrets.aws_lambda import handler

from .lambda_support import start_rotation
from .rotation_support import new_rig

DOCS = Path(__file__).resolve().parent.parent / "docs" / "aws-lambda.md"


def documented_policy() -> dict[str, Any]:
    block = DOCS.read_text().split("<!-- rotation-policy -->")[1]
    policy: dict[str, Any] = json.loads(block.split("```json")[1].split("```")[0])
    return policy


def _actions(policy: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for statement in policy["Statement"]:
        action = statement["Action"]
        out += [action] if isinstance(action, str) else action
    return out


@pytest.fixture(scope="module")
def enforcing():  # type: ignore[no-untyped-def]
    from .services import MotoServer

    server = MotoServer()
    iam = boto3.Session().client("iam", endpoint_url=server.url, region_name="us-east-1")
    iam.create_user(UserName="admin")
    everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}  # fmt: skip
    iam.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=json.dumps(everything))
    admin = iam.create_access_key(UserName="admin")["AccessKey"]
    yield server, admin
    server.stop()


def _enforce(server: Any, on: bool) -> None:
    """Switch moto's IAM enforcement (its /moto-api/reset-auth control route)."""
    import urllib.request

    req = urllib.request.Request(
        server.url + "/moto-api/reset-auth",
        data=b"0" if on else b"inf",
        headers={"Content-Type": "text/plain"},
        method="POST",
    )
    urllib.request.urlopen(req, timeout=10).close()


def _as(monkeypatch, key: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])


def test_the_policy_in_the_docs_names_five_actions() -> None:
    assert sorted(_actions(documented_policy())) == [
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage",
        "sns:Publish",
    ]


@pytest.mark.parametrize(
    "without",
    [None, *sorted(_actions(documented_policy()))],
)
def test_a_rotation_needs_exactly_the_documented_actions(
    without: str | None, enforcing, make_app, tmp_path, monkeypatch, box_emulator
) -> None:
    server, admin = enforcing
    _as(monkeypatch, admin)
    admin_iam = boto3.Session().client("iam", endpoint_url=server.url, region_name="us-east-1")
    topic = (
        boto3.Session()
        .client("sns", endpoint_url=server.url, region_name="us-east-1")
        .create_topic(Name="box-secrets-person-needed")["TopicArn"]
    )
    app = make_app()
    uri = f"aws-sm://box/iam-{app.client_id[:10]}?region=us-east-1&endpoint_url={server.url}"
    rig = new_rig(uri, lambda: app)
    secret = uri.removeprefix("aws-sm://").partition("?")[0]
    token = start_rotation(server.url, secret)

    policy = documented_policy()
    for statement in policy["Statement"]:
        actions = statement["Action"]
        actions = [actions] if isinstance(actions, str) else actions
        statement["Action"] = [a for a in actions if a != without] or ["sns:ListTopics"]
        statement["Resource"] = "*"  # moto matches requests against "*" (see the docstring)
    user = f"rotation-{app.client_id[:10]}"
    admin_iam.create_user(UserName=user)
    admin_iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = admin_iam.create_access_key(UserName=user)["AccessKey"]
    # Set-up ran unenforced (moto's Lambda API fails signature checks when
    # enforcing); from here on every request is authorised against its policy.
    _enforce(server, on=True)
    monkeypatch.setattr(rig, "check", lambda: None)  # re-enabled below, as the admin

    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    monkeypatch.setenv("BOX_API_BASE_URL", box_emulator.base_url)
    monkeypatch.setenv("BOX_SECRETS_NOTIFY", f"sns://{topic}?region=us-east-1")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("BOX_SECRETS_STORES", uri)
    _as(monkeypatch, key)

    def rotation() -> dict[str, Any]:
        event = {"SecretId": secret, "ClientRequestToken": token}
        handler({"Step": "createSecret", **event}, None)
        handler({"Step": "setSecret", **event}, None)
        with pytest.raises(errors.PersonNeededError):
            handler({"Step": "testSecret", **event}, None)
        kid = rig.person_registers_pending()
        return handler(
            {"action": "register", "public_key_id": kid, "store": f"aws-sm://{secret}"}, None
        )

    try:
        if without is None:
            assert rotation()["stores"][0]["action"] == "promoted"
        else:
            with pytest.raises((errors.StoreAccessDeniedError, errors.NotifyError)):
                rotation()
    finally:
        _enforce(server, on=False)
    monkeypatch.undo()
    if without is None:
        _as(monkeypatch, admin)
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
        rig.check()
