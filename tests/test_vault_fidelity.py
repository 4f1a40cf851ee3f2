"""The Vault emulator against Vault's own source, rule by rule, with hvac as the client.

Each test names the Vault source file whose behaviour it pins (see _vault_kv.py).
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
import uuid
from typing import Any

import hvac
import hvac.exceptions
import pytest

MERGE = "application/merge-patch+json"


@pytest.fixture
def kv(vault):  # type: ignore[no-untyped-def]
    return hvac.Client(url=vault.addr, token=vault.root_token).secrets.kv.v2


@pytest.fixture
def path() -> str:
    return f"fid/{uuid.uuid4().hex[:10]}"


def _http(  # type: ignore[no-untyped-def]
    vault,
    method: str,
    path: str,
    body: Any = None,
    token: str | None = None,
    ctype: str = "application/json",
):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"X-Vault-Token": token or vault.root_token, "Content-Type": ctype}
    req = urllib.request.Request(vault.addr + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def test_oldest_version_is_zero_until_the_window_moves(kv, path: str) -> None:
    # path_data.go KeyMetadata.AddVersion
    kv.create_or_update_secret(path=path, secret={"n": 1})
    assert kv.read_secret_metadata(path=path)["data"]["oldest_version"] == 0
    for n in range(2, 11):
        kv.create_or_update_secret(path=path, secret={"n": n})
    meta = kv.read_secret_metadata(path=path)["data"]
    assert meta["oldest_version"] == 1 and sorted(map(int, meta["versions"])) == list(range(1, 11))
    kv.create_or_update_secret(path=path, secret={"n": 11})
    meta = kv.read_secret_metadata(path=path)["data"]
    assert meta["oldest_version"] == 2 and "1" not in meta["versions"]


def test_lowering_max_versions_prunes_on_the_next_write(kv, path: str) -> None:
    # path_metadata.go pathMetadataWrite stores the setting; AddVersion prunes
    for n in range(5):
        kv.create_or_update_secret(path=path, secret={"n": n})
    kv.update_metadata(path=path, max_versions=2)
    assert len(kv.read_secret_metadata(path=path)["data"]["versions"]) == 5
    kv.create_or_update_secret(path=path, secret={"n": 5})
    meta = kv.read_secret_metadata(path=path)["data"]
    assert sorted(map(int, meta["versions"])) == [5, 6] and meta["oldest_version"] == 5


def test_list_at_the_mount_root(vault, kv) -> None:
    # path_metadata.go pathMetadataList with an empty path
    kv.create_or_update_secret(path="rootlist/a", secret={"k": "v"})
    keys = kv.list_secrets(path="")["data"]["keys"]
    assert "rootlist/" in keys


def test_403_before_routing_for_a_token_without_access(vault) -> None:
    # vault/request_handling.go: the ACL check precedes routing
    _, body = _http(vault, "POST", "/_emulator/tokens", {"policies": []})
    token = body["token"]
    client = hvac.Client(url=vault.addr, token=token)
    with pytest.raises(hvac.exceptions.Forbidden):
        client.secrets.kv.v2.read_secret_version(
            path="x", mount_point="not-mounted", raise_on_deleted_version=False
        )
    root = hvac.Client(url=vault.addr, token=vault.root_token)
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.secrets.kv.v2.read_secret_version(
            path="x", mount_point="not-mounted", raise_on_deleted_version=False
        )


@pytest.mark.parametrize(("method", "sub"), [("GET", "get"), ("POST", "put"), ("DELETE", "delete")])
def test_v1_style_paths_are_404_with_vaults_warning(vault, method: str, sub: str) -> None:
    # backend.go pathInvalid
    status, body = _http(vault, method, "/v1/secret/a/b", {"k": "v"} if method == "POST" else None)
    assert status == 404
    assert body["data"] is None and "errors" not in body
    assert body["warnings"] == [
        "Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate "
        f"API endpoints to use. If using the Vault CLI, use 'vault kv {sub}' for this operation."
    ]


@pytest.mark.parametrize("cas", ["abc", [1], {"a": 1}, 1.5])
def test_an_unparsable_cas_is_400(vault, path: str, cas: Any) -> None:
    # path_data.go validateCheckAndSetOption (mapstructure.WeakDecode)
    status, body = _http(
        vault, "POST", f"/v1/secret/data/{path}", {"data": {"a": 1}, "options": {"cas": cas}}
    )
    assert status == 400 and body == {"errors": ["error parsing check-and-set parameter"]}


def test_a_numeric_string_cas_is_decoded_weakly(vault, path: str) -> None:
    status, _ = _http(
        vault, "POST", f"/v1/secret/data/{path}", {"data": {"a": 1}, "options": {"cas": "0"}}
    )
    assert status == 200


def test_times_are_rfc3339_nano_with_trailing_zeros_trimmed(kv, path: str) -> None:
    kv.create_or_update_secret(path=path, secret={"a": 1})
    meta = kv.read_secret_metadata(path=path)["data"]
    for value in (
        meta["created_time"],
        meta["updated_time"],
        meta["versions"]["1"]["created_time"],
    ):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z", value), value
    assert meta["versions"]["1"]["deletion_time"] == ""


def test_custom_metadata_is_replaced_by_a_write_and_merged_by_a_patch(vault, kv, path: str) -> None:
    kv.create_or_update_secret(path=path, secret={"a": 1})
    assert kv.read_secret_metadata(path=path)["data"]["custom_metadata"] is None
    kv.update_metadata(path=path, custom_metadata={"team": "id", "tier": "1"})
    kv.update_metadata(path=path, custom_metadata={"team": "platform"})
    assert kv.read_secret_metadata(path=path)["data"]["custom_metadata"] == {"team": "platform"}
    status, _ = _http(
        vault,
        "PATCH",
        f"/v1/secret/metadata/{path}",
        {"custom_metadata": {"tier": "2"}},
        ctype=MERGE,
    )
    assert status == 204
    assert kv.read_secret_metadata(path=path)["data"]["custom_metadata"] == {
        "team": "platform",
        "tier": "2",
    }
    read = kv.read_secret_version(path=path, raise_on_deleted_version=False)
    assert read["data"]["metadata"]["custom_metadata"] == {"team": "platform", "tier": "2"}


def test_custom_metadata_limits(vault, kv, path: str) -> None:
    kv.create_or_update_secret(path=path, secret={"a": 1})
    status, body = _http(
        vault,
        "POST",
        f"/v1/secret/metadata/{path}",
        {"custom_metadata": {f"k{i}": "v" for i in range(65)}},
    )
    assert status == 400 and "at most 64 keys" in body["errors"][0]


def test_patch_merges_with_the_merge_patch_media_type(vault, kv, path: str) -> None:
    # path_data.go pathDataPatch (RFC 7396); http/logical.go requires the merge patch type.
    # (hvac 2.4's kv.v2.patch reads and rewrites client-side, so this speaks HTTP.)
    kv.create_or_update_secret(path=path, secret={"a": 1, "b": {"c": 2, "d": 3}})
    patch = {"data": {"b": {"d": None, "e": 4}, "f": 5}, "options": {"cas": 1}}
    status, body = _http(vault, "PATCH", f"/v1/secret/data/{path}", patch, ctype=MERGE)
    assert status == 200 and body["data"]["version"] == 2
    data = kv.read_secret_version(path=path, raise_on_deleted_version=False)["data"]
    assert data["data"] == {"a": 1, "b": {"c": 2, "e": 4}, "f": 5}
    status, _ = _http(vault, "PATCH", f"/v1/secret/data/{path}", {"data": {"a": 9}})
    assert status == 415  # a JSON content type is not a merge patch
    status, _ = _http(
        vault,
        "PATCH",
        f"/v1/secret/data/{path}",
        {"data": {"a": 9}, "options": {"cas": 1}},
        ctype=MERGE,
    )
    assert status == 400  # stale cas
    status, _ = _http(
        vault, "PATCH", f"/v1/secret/data/{path}-missing", {"data": {"a": 1}}, ctype=MERGE
    )
    assert status == 404


def test_delete_version_after_round_trips_as_a_go_duration(kv, path: str) -> None:
    kv.create_or_update_secret(path=path, secret={"a": 1})
    kv.update_metadata(path=path, delete_version_after="1h30m")
    assert kv.read_secret_metadata(path=path)["data"]["delete_version_after"] == "1h30m0s"
    written = kv.create_or_update_secret(path=path, secret={"a": 2})["data"]
    assert written["deletion_time"] != ""  # path_data.go: a future deletion_time is set


def test_the_cli_preflight_mount_lookup(vault) -> None:
    # vault/logical_system.go pathInternalUIMountRead, used by `vault kv get`
    status, body = _http(vault, "GET", "/v1/sys/internal/ui/mounts/secret/some/path")
    assert status == 200
    assert body["data"]["type"] == "kv" and body["data"]["options"] == {"version": "2"}
    assert body["data"]["path"] == "secret/"


def test_mount_config_starts_at_zero(kv) -> None:
    # path_config.go: an unset config reads as zeros (the default of 10 applies in AddVersion)
    config = kv.read_configuration()["data"]
    assert config["max_versions"] == 0 and config["delete_version_after"] == "0s"


@pytest.mark.parametrize("versions", [["x"], "a,b", [], None])
def test_bad_version_lists_are_400(vault, path: str, versions: Any) -> None:
    status, _ = _http(vault, "POST", f"/v1/secret/destroy/{path}", {"versions": versions})
    assert status == 400
