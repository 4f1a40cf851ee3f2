"""Whoever may invoke the rotation function gets no credential out of it, and no log holds one.

Against a moto server and the Box emulator over real HTTP: events may only
choose among the stores the function is configured for, never a connection
parameter; and with the root logger at DEBUG (as Lambda's advanced logging
controls set it) a whole rotation and a consumer's mint log nothing secret.
"""

from __future__ import annotations

import json
import logging
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest

from box_secrets import errors
from box_secrets._support.redact import THIRD_PARTY
from box_secrets.aws_lambda import handler

from .helpers import make_store_uri, pem_chunks
from .lambda_support import start_rotation
from .rotation_support import new_rig
from .services import ConnectionCounter


@pytest.fixture
def attacker() -> Iterator[ConnectionCounter]:
    it = ConnectionCounter()
    yield it
    it.close()


def test_events_may_not_name_a_store_or_its_connection(
    env, attacker, make_app, tmp_path, moto, monkeypatch
) -> None:
    app = make_app()
    rig = new_rig(make_store_uri("aws", tmp_path, moto, None), lambda: app)
    secret = rig.uri.removeprefix("aws-sm://").partition("?")[0]
    addr = urllib.parse.quote(attacker.url, safe="")
    hostile = [
        f"vault://secret/box/app?addr={addr}&auth=aws&role=R",
        f"vault://secret/box/app?addr={addr}&auth=approle",
        f"aws-sm://{secret}?region=us-east-1&endpoint_url={addr}",
        f"aws-sm://{secret}?profile=other",
        f"vault://secret/box/app?addr={addr}&ca_cert=/etc/hosts",
        f"file:{tmp_path / 'elsewhere.json'}",
    ]
    # With nothing configured, no event may name a store at all.
    for uri in hostile:
        for event in (
            {"action": "status", "store": uri},
            {"action": "register", "public_key_id": "123", "store": uri},
            {"action": "remind", "stores": [uri]},
            {"stores": [uri]},
        ):
            with pytest.raises(errors.InputError, match="BOX_SECRETS_STORES"):
                handler(event, None)
    # Configured for one store: the same store with other parameters is still refused.
    monkeypatch.setenv("BOX_SECRETS_STORES", rig.uri)
    for uri in hostile:
        with pytest.raises(errors.InputError):
            handler({"action": "status", "store": uri}, None)
    assert attacker.connections == 0
    # The configured store, by its URI or its bare name, works; its parameters are the function's.
    for named in (rig.uri, f"aws-sm://{secret}"):
        result = handler({"action": "status", "store": named}, None)
        assert result["stores"][0]["store"] == rig.uri
        assert result["stores"][0]["status"]["state"] == "active"


def test_a_register_event_names_exactly_one_store(env, make_app, tmp_path, monkeypatch) -> None:
    app = make_app()
    rig = new_rig(make_store_uri("file", tmp_path, None, None), lambda: app)
    other = f"file:{tmp_path / 'other.json'}"
    monkeypatch.setenv("BOX_SECRETS_STORES", f"{rig.uri} {other}")
    with pytest.raises(errors.InputError, match="exactly one store"):
        handler({"action": "register", "public_key_id": "123", "stores": [rig.uri, other]}, None)
    # With two configured stores, a register event must say which.
    with pytest.raises(errors.InputError, match="exactly one store"):
        handler({"action": "register", "public_key_id": "123"}, None)


def test_arn_and_name_name_the_same_configured_secret(env, monkeypatch) -> None:
    from box_secrets.aws_lambda._events import resolve_store

    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/box-app-GNIYdB"
    monkeypatch.setenv("BOX_SECRETS_STORES", f"aws-sm://{arn}")
    assert resolve_store("aws-sm://prod/box-app") == f"aws-sm://{arn}"
    assert resolve_store(f"aws-sm://{arn}") == f"aws-sm://{arn}"
    with pytest.raises(errors.InputError):
        resolve_store("aws-sm://prod/box-app-2")


def _capture_everything() -> tuple[logging.Handler, list[logging.LogRecord]]:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler_ = Keep(level=logging.DEBUG)
    handler_.setFormatter(logging.Formatter("%(name)s %(message)s"))
    return handler_, records


def _text(handler_: logging.Handler, records: list[logging.LogRecord]) -> str:
    return "\n".join(handler_.format(r) for r in records)


@pytest.fixture
def root_at_debug(monkeypatch) -> Iterator[tuple[logging.Handler, list[logging.LogRecord]]]:
    """The root logger at DEBUG and the libraries' own levels unset, as in a new process."""
    root = logging.getLogger()
    handler_, records = _capture_everything()
    saved = {name: logging.getLogger(name).level for name in THIRD_PARTY}
    for name in THIRD_PARTY:
        logging.getLogger(name).setLevel(logging.NOTSET)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(handler_)
    try:
        yield handler_, records
    finally:
        root.removeHandler(handler_)
        root.setLevel(old_level)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def test_a_whole_rotation_at_debug_logs_no_secret(
    env, root_at_debug, make_app, tmp_path, moto, logs, monkeypatch
) -> None:
    handler_, records = root_at_debug
    app = make_app()
    rig = new_rig(make_store_uri("aws", tmp_path, moto, None), lambda: app)
    monkeypatch.setenv("BOX_SECRETS_STORES", rig.uri)
    secret = rig.uri.removeprefix("aws-sm://").partition("?")[0]
    token = start_rotation(moto.url, secret)
    rotation_token = "rt-" + "7" * 40
    records.clear()
    event = {"SecretId": secret, "ClientRequestToken": token}
    handler({"Step": "createSecret", **event, "RotationToken": rotation_token}, None)
    handler({"Step": "setSecret", **event}, None)
    kid = rig.person_registers_pending()
    handler({"action": "register", "public_key_id": kid, "store": rig.uri}, None)
    secrets = [app.client_secret, rotation_token]
    for material in rig.snap().materials.values():
        secrets += [material.passphrase, *pem_chunks(material.pem)]
    text = _text(handler_, records) + logs.getvalue()
    assert records, "nothing was logged, so nothing was scanned"
    for value in secrets:
        assert value not in text


def test_a_consumer_at_debug_logs_no_secret(
    env, root_at_debug, make_app, tmp_path, moto, monkeypatch
) -> None:
    """Library use: the host application's levels are left alone; the records are redacted."""
    from box_secrets import TokenProvider, clear_caches

    handler_, records = root_at_debug
    app = make_app()
    rig = new_rig(make_store_uri("aws", tmp_path, moto, None), lambda: app)
    clear_caches()
    records.clear()
    token = TokenProvider(rig.uri, base_url=app.base_url).get_token()
    text = _text(handler_, records)
    botocore_lines = [r for r in records if r.name.startswith("botocore")]
    assert botocore_lines, "botocore logged nothing at DEBUG, so nothing was scanned"
    assert "[REDACTED]" in text  # GetSecretValue's answer was there, and was cut
    secrets = [app.client_secret, token.access_token]
    for material in rig.snap().materials.values():
        secrets += [material.passphrase, *pem_chunks(material.pem)]
    for value in secrets:
        assert value not in text


def test_the_store_field_and_metric_dimension_hold_no_password(env, logs, monkeypatch) -> None:
    monkeypatch.setenv(
        "BOX_SECRETS_STORES", "vault://secret/box/app?addr=http://u:hunter2@127.0.0.1:9"
    )
    with pytest.raises(errors.BoxSecretsError):
        handler({"action": "status"}, None)
    assert "hunter2" not in logs.getvalue()
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    assert lines, "nothing was logged"


def _unused(*_: Any) -> None:
    return None
