"""The Vault emulator reproduces Vault's KV v2 HTTP shapes (Vault's API docs and source), with hvac as the client."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import hvac
import hvac.exceptions
import pytest

from box_secrets.rotation import import_config
from box_secrets.stores import open_store

from .helpers import vault_control


def vault_token_for(vault, policies: list[dict[str, object]]) -> str:  # type: ignore[no-untyped-def]
    return str(vault_control(vault, "tokens", {"policies": policies})["token"])


def raw(
    vault,
    method: str,
    path: str,
    body: Any = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    data = json.dumps(body).encode() if body is not None else None
    hdrs = {
        "X-Vault-Token": token if token is not None else vault.root_token,
        **({"Content-Type": "application/json"} if data is not None else {}),
        **(headers or {}),
    }
    req = urllib.request.Request(vault.addr + path, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.fixture
def path() -> str:
    return f"shapes/{uuid.uuid4().hex[:10]}"


@pytest.fixture
def client(vault) -> hvac.Client:
    return hvac.Client(url=vault.addr, token=vault.root_token)


def test_write_and_read_envelopes(vault, path: str) -> None:
    status, headers, body = raw(vault, "POST", f"/v1/secret/data/{path}", {"data": {"a": "1"}})
    assert status == 200 and headers["Content-Type"] == "application/json"
    env = json.loads(body)
    assert set(env) == {
        "request_id",
        "lease_id",
        "renewable",
        "lease_duration",
        "data",
        "wrap_info",
        "warnings",
        "auth",
        "mount_type",
    }
    assert env["data"]["version"] == 1 and env["data"]["deletion_time"] == ""
    # Go's RFC3339Nano, trailing zeros trimmed (test_vault_fidelity checks the format).
    assert re.fullmatch(r"[\d-]{10}T[\d:]{8}(\.\d*[1-9])?Z", env["data"]["created_time"])
    status, _, body = raw(vault, "GET", f"/v1/secret/data/{path}")
    env = json.loads(body)
    assert env["data"]["data"] == {"a": "1"}
    assert set(env["data"]["metadata"]) == {
        "created_time",
        "custom_metadata",
        "deletion_time",
        "destroyed",
        "version",
    }


def test_missing_and_deleted_404_bodies_differ(vault, path: str) -> None:
    status, _, body = raw(vault, "GET", f"/v1/secret/data/{path}")
    assert status == 404 and json.loads(body) == {"errors": []}
    raw(vault, "POST", f"/v1/secret/data/{path}", {"data": {"a": "1"}})
    status, _, body = raw(vault, "GET", f"/v1/secret/data/{path}?version=7")
    assert status == 404 and json.loads(body) == {"errors": []}
    assert raw(vault, "DELETE", f"/v1/secret/data/{path}")[0] == 204
    status, _, body = raw(vault, "GET", f"/v1/secret/data/{path}")
    env = json.loads(body)
    assert (
        status == 404 and env["data"]["data"] is None and env["data"]["metadata"]["deletion_time"]
    )


def test_cas_rules(vault, path: str) -> None:
    url = f"/v1/secret/data/{path}"
    status, _, body = raw(vault, "POST", url, {"data": {"a": 1}, "options": {"cas": 3}})
    assert status == 400 and json.loads(body) == {
        "errors": ["check-and-set parameter did not match the current version"]
    }
    assert raw(vault, "POST", url, {"data": {"a": 1}, "options": {"cas": 0}})[0] == 200
    assert raw(vault, "POST", url, {"data": {"a": 2}, "options": {"cas": 0}})[0] == 400
    assert raw(vault, "POST", url, {"data": {"a": 2}, "options": {"cas": 1}})[0] == 200
    assert raw(vault, "POST", f"/v1/secret/metadata/{path}", {"cas_required": True})[0] == 204
    status, _, body = raw(vault, "POST", url, {"data": {"a": 3}})
    assert status == 400 and json.loads(body) == {
        "errors": ["check-and-set parameter required for this call"]
    }


def test_hvac_maps_statuses(client, vault, path: str) -> None:
    client.secrets.kv.v2.create_or_update_secret(
        path=path, secret={"a": 1}, cas=0, mount_point="secret"
    )
    with pytest.raises(hvac.exceptions.InvalidRequest, match="check-and-set"):
        client.secrets.kv.v2.create_or_update_secret(
            path=path, secret={"a": 1}, cas=0, mount_point="secret"
        )
    with pytest.raises(hvac.exceptions.InvalidPath):
        client.secrets.kv.v2.read_secret_version(
            path=path + "x", mount_point="secret", raise_on_deleted_version=True
        )
    client.secrets.kv.v2.delete_latest_version_of_secret(path=path, mount_point="secret")
    deleted = client.secrets.kv.v2.read_secret_version(
        path=path, mount_point="secret", raise_on_deleted_version=False
    )
    assert deleted["data"]["data"] is None
    with pytest.raises(hvac.exceptions.Forbidden):
        hvac.Client(url=vault.addr, token="nope").secrets.kv.v2.read_secret_version(
            path=path, mount_point="secret", raise_on_deleted_version=True
        )


def test_metadata_versions_and_max_versions(client, path: str) -> None:
    client.secrets.kv.v2.update_metadata(path=path, max_versions=3, mount_point="secret")
    for n in range(5):
        client.secrets.kv.v2.create_or_update_secret(
            path=path, secret={"n": n}, mount_point="secret"
        )
    meta = client.secrets.kv.v2.read_secret_metadata(path=path, mount_point="secret")["data"]
    assert meta["current_version"] == 5 and meta["oldest_version"] == 3
    assert sorted(meta["versions"]) == ["3", "4", "5"] and meta["max_versions"] == 3
    client.secrets.kv.v2.destroy_secret_versions(path=path, versions=[4], mount_point="secret")
    meta = client.secrets.kv.v2.read_secret_metadata(path=path, mount_point="secret")["data"]
    assert meta["versions"]["4"]["destroyed"] is True
    client.secrets.kv.v2.undelete_secret_versions(path=path, versions=[4], mount_point="secret")
    assert client.secrets.kv.v2.read_secret_metadata(path=path, mount_point="secret")["data"][
        "versions"
    ]["4"]["destroyed"]
    client.secrets.kv.v2.delete_metadata_and_all_versions(path=path, mount_point="secret")
    with pytest.raises(hvac.exceptions.InvalidPath):
        client.secrets.kv.v2.read_secret_metadata(path=path, mount_point="secret")


def test_list(client, path: str) -> None:
    client.secrets.kv.v2.create_or_update_secret(
        path=f"{path}/a", secret={"x": 1}, mount_point="secret"
    )
    client.secrets.kv.v2.create_or_update_secret(
        path=f"{path}/b/c", secret={"x": 1}, mount_point="secret"
    )
    assert client.secrets.kv.v2.list_secrets(path=path, mount_point="secret")["data"]["keys"] == [
        "a",
        "b/",
    ]


def test_sealed_answers_503(vault, path: str) -> None:
    vault_control(vault, "seal")
    try:
        status, headers, body = raw(vault, "GET", f"/v1/secret/data/{path}")
        assert status == 503 and json.loads(body) == {"errors": ["Vault is sealed"]}
        assert headers["Content-Type"] == "application/json"
        with pytest.raises(hvac.exceptions.VaultDown):
            hvac.Client(url=vault.addr, token=vault.root_token).secrets.kv.v2.read_secret_version(
                path=path, mount_point="secret", raise_on_deleted_version=True
            )
    finally:
        vault_control(vault, "unseal")


def test_namespaces_are_isolated(vault, path: str) -> None:
    raw(
        vault,
        "POST",
        f"/v1/secret/data/{path}",
        {"data": {"where": "team1"}},
        headers={"X-Vault-Namespace": "team1"},
    )
    assert raw(vault, "GET", f"/v1/secret/data/{path}")[0] == 404
    assert (
        raw(vault, "GET", f"/v1/secret/data/{path}", headers={"X-Vault-Namespace": "team1"})[0]
        == 200
    )


def test_policies(vault, path: str) -> None:
    token = vault_token_for(vault, [{"path": f"secret/data/{path}", "capabilities": ["read"]}])
    raw(vault, "POST", f"/v1/secret/data/{path}", {"data": {"a": 1}})
    assert raw(vault, "GET", f"/v1/secret/data/{path}", token=token)[0] == 200
    status, _, body = raw(vault, "POST", f"/v1/secret/data/{path}", {"data": {"a": 2}}, token=token)
    assert status == 403 and "permission denied" in json.loads(body)["errors"][0]
    assert raw(vault, "GET", f"/v1/secret/data/{path}", token="")[0] == 403


def test_unknown_mount(vault) -> None:
    status, _, body = raw(vault, "GET", "/v1/nomount/data/x")
    assert status == 404 and "no handler for route" in json.loads(body)["errors"][0]


def test_store_in_a_namespace(vault, vault_token, app, monkeypatch) -> None:
    uri = f"vault://secret/ns/app?addr={vault.addr}&namespace=team2"
    import_config(open_store(uri), app.config)
    assert open_store(uri).read_current().public_key_id == app.kid
    assert raw(vault, "GET", "/v1/secret/data/ns/app")[0] == 404  # not in the root namespace
    monkeypatch.setenv("VAULT_NAMESPACE", "team2")
    assert (
        open_store(f"vault://secret/ns/app?addr={vault.addr}").read_current().public_key_id
        == app.kid
    )


def _policy(path: str) -> list[dict[str, Any]]:
    return [
        {"path": f"secret/data/{path}", "capabilities": ["read", "create", "update"]},
        {"path": f"secret/metadata/{path}", "capabilities": ["read"]},
        {"path": f"secret/destroy/{path}", "capabilities": ["update"]},
    ]


def test_approle_auth(vault, app, monkeypatch) -> None:
    raw(
        vault,
        "POST",
        "/_emulator/approle",
        {"role_id": "rid-1", "secret_id": "sid-1", "policies": _policy("ar/app")},
    )
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    monkeypatch.setenv("VAULT_ROLE_ID", "rid-1")
    monkeypatch.setenv("VAULT_SECRET_ID", "sid-1")
    uri = f"vault://secret/ar/app?addr={vault.addr}&auth=approle"
    import_config(open_store(uri), app.config)
    assert open_store(uri).read_current().public_key_id == app.kid
    monkeypatch.setenv("VAULT_SECRET_ID", "wrong")
    from box_secrets import errors

    with pytest.raises(errors.StoreAccessDeniedError) as exc:
        open_store(uri).read_current()
    assert "wrong" not in str(exc.value)


def test_kubernetes_auth(vault, app, monkeypatch, tmp_path: Path) -> None:
    jwt_file = tmp_path / "token"
    jwt_file.write_text("eyJhbGciOi.fake.sa-token")
    raw(
        vault,
        "POST",
        "/_emulator/kubernetes",
        {"role": "box", "jwt": "eyJhbGciOi.fake.sa-token", "policies": _policy("k8s/app")},
    )
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    monkeypatch.setenv("BOX_SECRETS_VAULT_JWT_PATH", str(jwt_file))
    uri = f"vault://secret/k8s/app?addr={vault.addr}&auth=kubernetes&role=box"
    import_config(open_store(uri), app.config)
    assert open_store(uri).read_current().public_key_id == app.kid


def test_aws_iam_auth(vault, app, monkeypatch) -> None:
    raw(
        vault,
        "POST",
        "/_emulator/aws",
        {"role": "lambda-box", "server_id": "vault.example.com", "policies": _policy("iam/app")},
    )
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    uri = f"vault://secret/iam/app?addr={vault.addr}&auth=aws&role=lambda-box&aws_header=vault.example.com"
    import_config(open_store(uri), app.config)
    assert open_store(uri).read_current().public_key_id == app.kid


def test_relogin_after_token_expiry(vault, app, monkeypatch) -> None:
    raw(
        vault,
        "POST",
        "/_emulator/approle",
        {"role_id": "rid-2", "secret_id": "sid-2", "policies": _policy("re/app")},
    )
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    monkeypatch.setenv("VAULT_ROLE_ID", "rid-2")
    monkeypatch.setenv("VAULT_SECRET_ID", "sid-2")
    store = open_store(f"vault://secret/re/app?addr={vault.addr}&auth=approle")
    import_config(store, app.config)
    store._client.auth.token.revoke_self()  # the login token is gone, as if expired
    assert store.read_current().public_key_id == app.kid  # logged in again
