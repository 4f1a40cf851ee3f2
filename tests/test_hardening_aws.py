"""Secrets Manager cannot delete a version: box-secrets says so, and never says "destroyed".

What remains of a retired key, and who can read it, is checked here against a
moto server; the reader policy's VersionStage condition is checked for shape
only, because moto does not evaluate condition keys outside STS (see
docs/stores.md, "What retiring a key leaves behind").
"""

from __future__ import annotations

import json

import boto3
import pytest

from box_secrets.rotation import RotationEngine, import_config
from box_secrets.rotation._invariants import InvariantChecker
from box_secrets.stores import open_store
from box_secrets.stores._base import fingerprints_in

from .rotation_support import Collecting

#: The reader policy docs/stores.md gives: only the AWSCURRENT stage is readable.
READER_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ReadOnlyTheCurrentBoxConfig",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*",
            "Condition": {"StringEquals": {"secretsmanager:VersionStage": "AWSCURRENT"}},
        }
    ],
}


def test_retiring_on_secrets_manager_unlabels_and_says_so(moto, make_app) -> None:
    app = make_app()
    uri = f"aws-sm://box/honest-{app.client_id[:8]}?region=us-east-1&endpoint_url={moto.url}"
    import_config(open_store(uri), app.config)
    engine = RotationEngine(uri, base_url=app.base_url, notifier=Collecting())
    engine.advance(force=True)
    kid = app.console.add_key(app.client_id, engine.store.load().record.pending.public_key_pem)
    assert engine.register(kid, verify=True).action == "promoted"
    app.console.delete_key(app.client_id, app.kid)
    outcome = engine.advance()
    assert outcome.action == "retired"
    assert "destroyed" not in outcome.message and "labels are removed" in outcome.message
    history = [e.action for e in engine.store.load().record.history]
    assert "unlabelled" in history and "destroyed" not in history
    assert InvariantChecker(engine.store).check() == []

    # What the docs say remains: versions without labels, readable by VersionId.
    client = boto3.client("secretsmanager", region_name="us-east-1", endpoint_url=moto.url)
    name = uri.split("//", 1)[1].split("?", 1)[0]
    versions = client.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)["Versions"]
    holding = [
        v
        for v in versions
        if app.key.fingerprint
        in fingerprints_in(
            json.loads(
                client.get_secret_value(SecretId=name, VersionId=v["VersionId"])["SecretString"]
            )
        )
    ]
    assert holding, "the retired key's versions are gone: then the backend could say destroyed"
    assert all(not v.get("VersionStages") for v in holding)


def test_the_status_message_names_what_remains(moto, make_app) -> None:
    app = make_app()
    uri = f"aws-sm://box/abandon-{app.client_id[:8]}?region=us-east-1&endpoint_url={moto.url}"
    import_config(open_store(uri), app.config)
    engine = RotationEngine(uri, base_url=app.base_url, notifier=Collecting())
    engine.advance(force=True)
    message = engine.abandon().message
    assert "destroyed" not in message and "version ID" in message


@pytest.fixture(scope="module")
def stage_reader():  # type: ignore[no-untyped-def]
    from .services import MotoServer

    server = MotoServer(env={"INITIAL_NO_AUTH_ACTION_COUNT": "6"})
    iam = boto3.client("iam", endpoint_url=server.url, region_name="us-east-1")
    iam.create_user(UserName="admin")
    iam.put_user_policy(
        UserName="admin",
        PolicyName="all",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            }
        ),
    )
    admin = iam.create_access_key(UserName="admin")["AccessKey"]
    iam.create_user(UserName="reader")
    # moto validates the document's grammar (operators, keys) when it is attached.
    iam.put_user_policy(UserName="reader", PolicyName="p", PolicyDocument=json.dumps(READER_POLICY))
    reader = iam.create_access_key(UserName="reader")["AccessKey"]
    yield server, admin, reader
    server.stop()


def test_the_documented_reader_policy_is_enough_to_mint(
    stage_reader, make_app, monkeypatch
) -> None:
    from box_secrets.stores._reader import clear_cache
    from box_secrets.tokens import TokenProvider

    server, admin, reader = stage_reader
    app = make_app()
    uri = f"aws-sm://box/reader-{app.client_id[:8]}?region=us-east-1&endpoint_url={server.url}"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", admin["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", admin["SecretAccessKey"])
    import_config(open_store(uri), app.config)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", reader["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", reader["SecretAccessKey"])
    clear_cache()
    # Readers always name the AWSCURRENT stage, so the condition admits them on AWS.
    assert TokenProvider(uri, base_url=app.base_url).get_token().token_type == "bearer"


def test_the_reader_policy_in_the_docs_is_the_tested_one() -> None:
    from pathlib import Path

    docs = (Path(__file__).resolve().parent.parent / "docs" / "stores.md").read_text()
    block = docs.split("<!-- reader-policy -->")[1].split("```json")[1].split("```")[0]
    documented = json.loads(block)
    statement = documented["Statement"][0]
    assert statement["Condition"] == READER_POLICY["Statement"][0]["Condition"]
    assert statement["Action"] == "secretsmanager:GetSecretValue"
