"""The Vault half on a real Vault-API server: OpenBao's auth methods and the documented policies.

Every Vault policy in docs/stores.md and docs/signers.md is read from the docs
themselves, applied to OpenBao, and proven both ways: a whole rotation (a KV
store holding local keys, and one whose keys live in Transit) runs with only
the rotation job's policy, a token is minted with only the reader's, and the
calls the docs say are denied are denied by the real server (writes for
readers; export, backup and key-config changes for Transit, which only a real
server's ``allowed_parameters`` can refuse).

The identities log in with every auth method OpenBao can run here: token,
AppRole, JWT (a key the test makes), and Kubernetes against a stand-in API
server that answers only the TokenReview call (OpenBao's real plugin checks
the role and the claims). OpenBao ships no AWS auth method, so AWS IAM login
is tested against the emulator only (tests/test_aws_lambda.py).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt as pyjwt
import pytest

from box_secrets import TokenProvider, clear_caches, errors
from box_secrets.stores import open_store

from .helpers import ROOT
from .rotation_support import Rig, new_signer_rig

AUTH_METHODS = ["token", "approle", "jwt", "kubernetes"]


# -- the documented policies, read from the docs --------------------------------------------


def _hcl_blocks(doc: str) -> list[str]:
    text = (ROOT / "docs" / doc).read_text()
    return re.findall(r"```hcl\n(.*?)```", text, re.DOTALL)


def _split_by_comment(block: str) -> dict[str, str]:
    """An HCL block whose parts follow '# name' comment lines, as {name: hcl}."""
    parts: dict[str, str] = {}
    name = ""
    for line in block.splitlines():
        heading = re.match(r"^# (.+)$", line)
        if heading:
            name = heading.group(1)
            parts[name] = ""
        elif name:
            parts[name] += line + "\n"
    return parts


def documented_policies(path: str, key: str) -> dict[str, str]:
    """reader and rotation policies for a store at secret/PATH with keys in transit/KEY."""
    (store_block,) = [b for b in _hcl_blocks("stores.md") if "secret/data/box/app" in b]
    (transit_block,) = [b for b in _hcl_blocks("signers.md") if "transit/sign/box-app" in b]
    store = _split_by_comment(store_block)
    transit = _split_by_comment(transit_block)
    assert set(store) == {"services and Lambdas that only mint tokens", "the rotation job"}
    transit = {name.split(" (")[0]: hcl for name, hcl in transit.items()}
    assert set(transit) == {"readers", "the rotation job", "nobody"}

    def scoped(hcl: str) -> str:
        return hcl.replace("box/app", path).replace("box-app", key)

    return {
        "reader": scoped(store["services and Lambdas that only mint tokens"] + transit["readers"]),
        "rotation": scoped(
            store["the rotation job"] + transit["the rotation job"] + transit["nobody"]
        ),
    }


# -- identities, one per auth method --------------------------------------------------------


class TokenReviewer:
    """A stand-in Kubernetes API server answering only ``POST .../tokenreviews``.

    It says every token is authenticated as the service account its claims
    name, as the real API server does for a valid token
    (https://kubernetes.io/docs/reference/kubernetes-api/authentication-resources/token-review-v1/).
    """

    def __init__(self) -> None:
        self.reviews = 0
        reviewer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                claims = pyjwt.decode(body["spec"]["token"], options={"verify_signature": False})
                reviewer.reviews += 1
                answer = {
                    "apiVersion": "authentication.k8s.io/v1",
                    "kind": "TokenReview",
                    "status": {
                        "authenticated": True,
                        "user": {
                            "username": claims["sub"],
                            "uid": claims["kubernetes.io/serviceaccount/service-account.uid"],
                            "groups": ["system:serviceaccounts"],
                        },
                    },
                }
                data = json.dumps(answer).encode()
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _pem_pair(keys: Any) -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization

    key = keys.get(6).key
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def _self_signed_ca(keys: Any) -> str:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    key = keys.get(7).key
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


class Identities:
    """The reader and the rotation job, as OpenBao knows them under one auth method."""

    def __init__(self, bao: Any, method: str, keys: Any, tmp_path: Path, monkeypatch: Any) -> None:
        self.bao, self.method, self.monkeypatch = bao, method, monkeypatch
        self.mount = f"{method}-{uuid.uuid4().hex[:8]}"
        self.tmp_path = tmp_path
        self.env: dict[str, dict[str, str]] = {}
        self.reviewer: TokenReviewer | None = None
        if method == "token":
            return
        bao.api("POST", f"sys/auth/{self.mount}", {"type": method})
        if method == "jwt":
            self._private, public = _pem_pair(keys)
            bao.api("POST", f"auth/{self.mount}/config", {"jwt_validation_pubkeys": [public]})
        if method == "kubernetes":
            self.reviewer = TokenReviewer()
            self._private, _public = _pem_pair(keys)
            bao.api(
                "POST",
                f"auth/{self.mount}/config",
                {
                    "kubernetes_host": self.reviewer.url,
                    "kubernetes_ca_cert": _self_signed_ca(keys),
                    "disable_local_ca_jwt": True,
                },
            )

    def add(self, who: str, policy: str) -> None:
        """Create ``who`` (reader or rotation) holding only ``policy``."""
        bao, mount = self.bao, self.mount
        if self.method == "token":
            token = bao.api("POST", "auth/token/create", {"policies": [policy], "no_parent": True})
            self.env[who] = {"VAULT_TOKEN": token["auth"]["client_token"]}
        elif self.method == "approle":
            bao.api("POST", f"auth/{mount}/role/{who}", {"token_policies": [policy]})
            role_id = bao.api("GET", f"auth/{mount}/role/{who}/role-id")["data"]["role_id"]
            secret = bao.api("POST", f"auth/{mount}/role/{who}/secret-id")["data"]["secret_id"]
            self.env[who] = {"VAULT_ROLE_ID": role_id, "VAULT_SECRET_ID": secret}
        elif self.method == "jwt":
            bao.api(
                "POST",
                f"auth/{mount}/role/{who}",
                {
                    "role_type": "jwt",
                    "bound_audiences": ["box-secrets"],
                    "bound_subject": f"ci:{who}",
                    "user_claim": "sub",
                    "token_policies": [policy],
                },
            )
            now = int(time.time())
            claims = {"sub": f"ci:{who}", "aud": "box-secrets", "iat": now, "exp": now + 600}
            token = pyjwt.encode(claims, self._private, algorithm="RS256")
            self.env[who] = {"BOX_SECRETS_VAULT_JWT": token}
        else:  # kubernetes
            bao.api(
                "POST",
                f"auth/{mount}/role/{who}",
                {
                    "bound_service_account_names": [who],
                    "bound_service_account_namespaces": ["apps"],
                    "token_policies": [policy],
                },
            )
            path = self.tmp_path / f"{who}.jwt"
            path.write_text(self.service_account_jwt(who))
            self.env[who] = {"BOX_SECRETS_VAULT_JWT_PATH": str(path)}

    def service_account_jwt(self, name: str) -> str:
        """A well-formed service-account JWT, as the kubelet mounts one."""
        claims = {
            "iss": "kubernetes/serviceaccount",
            "sub": f"system:serviceaccount:apps:{name}",
            "kubernetes.io/serviceaccount/namespace": "apps",
            "kubernetes.io/serviceaccount/secret.name": f"{name}-token",
            "kubernetes.io/serviceaccount/service-account.name": name,
            "kubernetes.io/serviceaccount/service-account.uid": str(uuid.uuid4()),
        }
        return pyjwt.encode(claims, self._private, algorithm="RS256")

    def params(self, who: str) -> str:
        """The URI parameters that log in as ``who``."""
        if self.method == "token":
            return ""
        role = "" if self.method == "approle" else f"&role={who}"
        return f"&auth={self.method}&auth_mount={self.mount}{role}"

    def become(self, who: str) -> None:
        for name in (
            "VAULT_TOKEN",
            "VAULT_ROLE_ID",
            "VAULT_SECRET_ID",
            "BOX_SECRETS_VAULT_JWT",
            "BOX_SECRETS_VAULT_JWT_PATH",
        ):
            self.monkeypatch.delenv(name, raising=False)
        self.monkeypatch.setenv("HOME", str(self.tmp_path))  # no ~/.vault-token
        for name, value in self.env[who].items():
            self.monkeypatch.setenv(name, value)
        clear_caches()

    def close(self) -> None:
        if self.reviewer is not None:
            self.reviewer.stop()


@pytest.fixture
def policies(openbao) -> Iterator[dict[str, Any]]:
    """The documented reader and rotation policies for a new store path and Transit key."""
    unique = uuid.uuid4().hex[:10]
    path, key = f"box/{unique}", f"box-{unique}"
    names = {}
    for who, hcl in documented_policies(path, key).items():
        names[who] = f"{who}-{unique}"
        openbao.api("PUT", f"sys/policies/acl/{names[who]}", {"policy": hcl})
    openbao.mount_transit("transit")
    yield {"path": path, "key": key, "names": names}


@pytest.fixture(params=AUTH_METHODS)
def identities(request, openbao, policies, keys, tmp_path, monkeypatch) -> Iterator[Identities]:
    ids = Identities(openbao, request.param, keys, tmp_path, monkeypatch)
    for who, name in policies["names"].items():
        ids.add(who, name)
    yield ids
    ids.close()


def _rotate_twice(rig: Rig) -> None:
    for _ in range(2):
        old = rig.snap().record.active
        assert rig.engine.advance(force=True).action == "staged"
        rig.engine.register(rig.person_registers_pending(), verify=True)
        assert rig.snap().record.active.fingerprint != old.fingerprint
        rig.person_removes(old.key_id)
        assert rig.engine.advance().action == "retired"


def test_a_whole_rotation_with_only_the_documented_policies(
    identities: Identities, policies, openbao, make_app
) -> None:
    """Keys in Transit, the config in KV: the rotation job's policy suffices, and the reader's."""
    store_params = identities.params("rotation")
    uri = f"vault://secret/{policies['path']}?addr={openbao.addr}{store_params}"
    signer = f"vault-transit://transit/{policies['key']}?addr={openbao.addr}{store_params}"
    identities.become("rotation")
    rig = new_signer_rig(uri, signer, make_app)
    _rotate_twice(rig)
    # The reader logs in as itself: the signer URI in the store names the rotation job's
    # role, so the reader's own role is given through the environment instead.
    identities.become("reader")
    reader_uri = (
        f"vault://secret/{policies['path']}?addr={openbao.addr}{identities.params('reader')}"
    )
    if identities.method in ("jwt", "kubernetes"):
        identities.monkeypatch.setenv("BOX_SECRETS_VAULT_ROLE", "reader")
    clear_caches()
    token = TokenProvider(reader_uri, base_url=rig.base_url).get_token()
    assert token.access_token
    if identities.reviewer is not None:
        assert identities.reviewer.reviews >= 2  # OpenBao really asked the stand-in


def test_the_documented_policies_deny_what_the_docs_say(
    policies, openbao, make_app, monkeypatch
) -> None:
    import hvac
    import hvac.exceptions

    ids = Identities(openbao, "token", None, Path("/nonexistent"), monkeypatch)
    for who, name in policies["names"].items():
        ids.add(who, name)
    path, key = policies["path"], policies["key"]
    root = hvac.Client(url=openbao.addr, token=openbao.root_token)
    root.secrets.kv.v2.create_or_update_secret(path=path, secret={"x": "1"}, mount_point="secret")
    root.secrets.transit.create_key(name=key, key_type="rsa-2048", mount_point="transit")
    reader = hvac.Client(url=openbao.addr, token=ids.env["reader"]["VAULT_TOKEN"])
    rotation = hvac.Client(url=openbao.addr, token=ids.env["rotation"]["VAULT_TOKEN"])
    kv, transit = reader.secrets.kv.v2, reader.secrets.transit

    # What each is allowed, as a control: the denials below are not a broken login.
    kv.read_secret_version(path=path, mount_point="secret", raise_on_deleted_version=True)
    transit.sign_data(
        name=key, hash_input="aGk=", signature_algorithm="pkcs1v15", mount_point="transit"
    )
    rotation.secrets.transit.update_key_configuration(
        name=key, min_encryption_version=1, mount_point="transit"
    )

    denied = {
        "reader writes the config": lambda: kv.create_or_update_secret(
            path=path, secret={"x": "2"}, mount_point="secret"
        ),
        "reader deletes it": lambda: kv.delete_metadata_and_all_versions(
            path=path, mount_point="secret"
        ),
        "reader rotates the key": lambda: transit.rotate_key(name=key, mount_point="transit"),
        "reader reads the key": lambda: transit.read_key(name=key, mount_point="transit"),
        "rotation makes the key exportable": lambda: (
            rotation.secrets.transit.update_key_configuration(
                name=key, exportable=True, mount_point="transit"
            )
        ),
        "rotation allows plaintext backup": lambda: (
            rotation.secrets.transit.update_key_configuration(
                name=key, allow_plaintext_backup=True, mount_point="transit"
            )
        ),
        "rotation allows deletion": lambda: rotation.secrets.transit.update_key_configuration(
            name=key, deletion_allowed=True, mount_point="transit"
        ),
        "rotation exports the key": lambda: rotation.secrets.transit.export_key(
            name=key, key_type="signing-key", mount_point="transit"
        ),
        "rotation backs the key up": lambda: rotation.secrets.transit.backup_key(
            name=key, mount_point="transit"
        ),
        "rotation deletes the store": lambda: (
            rotation.secrets.kv.v2.delete_metadata_and_all_versions(path=path, mount_point="secret")
        ),
    }
    for what, call in denied.items():
        with pytest.raises(hvac.exceptions.Forbidden):
            call()
            pytest.fail(f"allowed: {what}")
    data = root.secrets.transit.read_key(name=key, mount_point="transit")["data"]
    assert data["exportable"] is False and data["allow_plaintext_backup"] is False


def test_jwt_login_failures_are_one_sentence(
    openbao, policies, keys, tmp_path, monkeypatch
) -> None:
    ids = Identities(openbao, "jwt", keys, tmp_path, monkeypatch)
    ids.add("reader", policies["names"]["reader"])
    uri = f"vault://secret/{policies['path']}?addr={openbao.addr}{ids.params('reader')}"
    ids.become("reader")
    monkeypatch.setenv("BOX_SECRETS_VAULT_JWT", ids.env["reader"]["BOX_SECRETS_VAULT_JWT"] + "x")
    with pytest.raises(errors.StoreAccessDeniedError) as refused:
        open_store(uri).load()
    assert "\n" not in str(refused.value)
    assert ids.env["reader"]["BOX_SECRETS_VAULT_JWT"] not in str(refused.value)
    monkeypatch.delenv("BOX_SECRETS_VAULT_JWT")
    with pytest.raises(errors.StoreAccessDeniedError, match="BOX_SECRETS_VAULT_JWT"):
        open_store(uri).load()
    monkeypatch.setenv("BOX_SECRETS_VAULT_JWT_PATH", "/dev/zero")
    with pytest.raises(errors.StoreAccessDeniedError, match="not a regular file"):
        open_store(uri).load()
