"""Functions that mint tokens inside Lambda: the Parameters and Secrets extension read path.

The extension is a stand-in that follows AWS's documented HTTP API, in front
of the moto server; the consumer is a real child process where that matters
(what it imports).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from box_secrets.stores import _reader, _sm_extension
from box_secrets.tokens import TokenProvider

from .helpers import make_store_uri
from .rotation_support import new_rig
from .services import SecretsExtension

SESSION = "session-token-for-tests"


@pytest.fixture
def extension(moto):  # type: ignore[no-untyped-def]
    ext = SecretsExtension(moto.url, SESSION, ttl=3600)
    yield ext
    ext.stop()


@pytest.fixture
def in_lambda(monkeypatch, extension, moto, box_emulator):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "consumer")
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", str(extension.port))
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.url)  # boto3's fallback reaches moto too
    monkeypatch.setenv("BOX_API_BASE_URL", box_emulator.base_url)
    _reader.clear_cache()
    yield
    _reader.clear_cache()


def _rig(make_app, tmp_path, moto):  # type: ignore[no-untyped-def]
    app = make_app()
    rig = new_rig(make_store_uri("aws", tmp_path, moto, None), lambda: app)
    return rig, app, rig.uri.removeprefix("aws-sm://").partition("?")[0]


def test_a_consumer_never_imports_boto3(in_lambda, make_app, tmp_path, moto, extension) -> None:
    _, _, secret = _rig(make_app, tmp_path, moto)
    script = textwrap.dedent(
        f"""
        import sys
        import box_secrets
        token = box_secrets.access_token("aws-sm://{secret}")
        assert token.startswith("1!"), "not a Box token"
        loaded = sorted(m for m in ("boto3", "botocore", "hvac") if m in sys.modules)
        print(",".join(loaded) or "none")
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "none"
    assert extension.hits == 1


def test_a_rejected_key_is_refreshed_past_the_extension_cache(
    in_lambda, make_app, tmp_path, moto, extension
) -> None:
    rig, app, secret = _rig(make_app, tmp_path, moto)
    provider = TokenProvider(f"aws-sm://{secret}")
    assert provider.get_token().access_token
    # A rotation completes and the old key is removed at Box; the extension
    # still serves the old key from its cache for up to an hour.
    rig.engine.advance(force=True)
    rig.engine.register(rig.person_registers_pending())
    rig.engine.advance()
    rig.person_removes(app.kid)
    _reader.clear_cache()  # past this process's own TTL
    hits = extension.hits
    token = provider.refresh()  # Box rejects the cached key; one forced read through boto3
    assert token.access_token and extension.hits == hits + 1
    assert provider.source.load().public_key_id == rig.snap().record.active.key_id


@pytest.mark.parametrize("status", [401, 404, 500])
def test_extension_errors_fall_back_to_secrets_manager(
    status, in_lambda, make_app, tmp_path, moto, extension
) -> None:
    _, _, secret = _rig(make_app, tmp_path, moto)
    extension.fail_with = status
    assert TokenProvider(f"aws-sm://{secret}").get_token().access_token
    assert extension.hits == 1


def test_a_wrong_session_token_is_refused_and_falls_back(
    in_lambda, make_app, tmp_path, moto, extension, monkeypatch
) -> None:
    _, _, secret = _rig(make_app, tmp_path, moto)
    monkeypatch.setenv("AWS_SESSION_TOKEN", "someone-elses")
    assert TokenProvider(f"aws-sm://{secret}").get_token().access_token
    assert extension.hits == 1  # answered 401, then boto3 read it


def test_no_extension_listening_is_remembered(in_lambda, make_app, tmp_path, moto, monkeypatch):  # type: ignore[no-untyped-def]
    _, _, secret = _rig(make_app, tmp_path, moto)
    monkeypatch.setenv("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", "9")  # nothing listens
    from box_secrets.stores._uri import parse_store_uri

    reader = _sm_extension.extension_reader(parse_store_uri(f"aws-sm://{secret}"))
    assert reader is not None and reader.read() is None
    assert _sm_extension._absent  # later reads go straight to boto3
    assert TokenProvider(f"aws-sm://{secret}").get_token().access_token


def test_the_extension_is_not_used_where_it_cannot_apply(monkeypatch) -> None:
    from box_secrets.stores._uri import parse_store_uri

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "consumer")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    for uri in (
        "aws-sm://x?endpoint_url=http://127.0.0.1:1",  # another endpoint
        "aws-sm://x?profile=other",
        "aws-sm://x?region=eu-west-1",  # another region
        "vault://secret/x?addr=http://127.0.0.1:1&auth=token",
    ):
        assert _sm_extension.extension_reader(parse_store_uri(uri)) is None, uri
    monkeypatch.setenv("BOX_SECRETS_SECRETS_EXTENSION", "0")
    assert _sm_extension.extension_reader(parse_store_uri("aws-sm://x")) is None
    monkeypatch.delenv("BOX_SECRETS_SECRETS_EXTENSION")
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME")
    assert _sm_extension.extension_reader(parse_store_uri("aws-sm://x")) is None
