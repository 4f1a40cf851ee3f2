"""The standard-library SigV4 signer (DynamoDB token cache) held to botocore's own signer."""

from __future__ import annotations

import datetime

import pytest

from box_secrets._support import sigv4

NOW = datetime.datetime(2026, 12, 5, 12, 34, 56, tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize("token", [None, "session-token/with+odd=chars"])
@pytest.mark.parametrize(
    "url",
    [
        "https://dynamodb.eu-west-1.amazonaws.com/",
        "http://127.0.0.1:5000/",
        "https://example.com/a/b?x=1&a=b~c&empty=",
    ],
)
def test_the_signature_is_botocores(monkeypatch, url: str, token: str | None) -> None:
    from botocore import auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    monkeypatch.setattr(auth, "get_current_datetime", lambda: NOW.replace(tzinfo=None))
    body = b'{"TableName": "t", "Key": {"pk": {"S": "box-secrets:x"}}}'
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "DynamoDB_20120810.GetItem",
    }
    request = AWSRequest(method="POST", url=url, data=body, headers=dict(headers))
    auth.SigV4Auth(
        Credentials("AKIDEXAMPLE", "secret/key+x", token), "dynamodb", "eu-west-1"
    ).add_auth(request)
    ours = sigv4.sign(
        sigv4.Credentials("AKIDEXAMPLE", "secret/key+x", token),
        method="POST",
        url=url,
        headers=headers,
        body=body,
        region="eu-west-1",
        service="dynamodb",
        now=NOW.timestamp(),
    )
    assert ours["Authorization"] == request.headers["Authorization"]
    assert ours["X-Amz-Date"] == request.headers["X-Amz-Date"]
    assert ours.get("X-Amz-Security-Token") == request.headers.get("X-Amz-Security-Token")


def test_credentials_never_show_in_repr() -> None:
    creds = sigv4.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI", "tok")
    assert "wJalr" not in repr(creds) and "AKID" not in repr(creds) and "tok" not in repr(creds)


def test_without_keys_in_the_environment_botocores_chain_is_asked(tmp_path, monkeypatch) -> None:
    """A profile in a credentials file (as on a laptop or with SSO's cache): found once."""
    (tmp_path / "credentials").write_text(
        "[bench]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = from-the-profile\n"
    )
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_PROFILE", "bench")
    monkeypatch.setattr(sigv4, "_chain", {})
    creds = sigv4.credentials()
    assert creds is not None and creds.access_key == "AKIDPROFILE"
    assert creds.secret_key == "from-the-profile" and creds.token is None
