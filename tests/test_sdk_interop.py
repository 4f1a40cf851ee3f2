"""box-sdk-gen, a client no one here wrote, against the emulator; and our adapter inside it."""

from __future__ import annotations

from box_sdk_gen import BaseUrls, BoxClient, BoxJWTAuth, JWTConfig, NetworkSession

from box_secrets.sdk import BoxSecretsAuth
from box_secrets.tokens import TokenProvider


def session(base_url: str) -> NetworkSession:
    return NetworkSession(base_urls=BaseUrls(base_url=base_url))


def test_box_sdk_gen_jwt_auth_against_emulator(app) -> None:
    auth = BoxJWTAuth(config=JWTConfig.from_config_json_string(app.config.to_json()))
    client = BoxClient(auth=auth, network_session=session(app.base_url))
    me = client.users.get_user_me()
    assert me.type == "user" and me.login.endswith("@boxdevedition.com")


def test_box_sdk_gen_as_user(app) -> None:
    uid = app.console.create_user(app.client_id, "SDK user")
    auth = BoxJWTAuth(
        config=JWTConfig.from_config_json_string(app.config.to_json())
    ).with_user_subject(uid)
    me = BoxClient(auth=auth, network_session=session(app.base_url)).users.get_user_me()
    assert me.id == uid


def test_our_auth_inside_box_sdk_gen(app) -> None:
    provider = TokenProvider(app.config, base_url=app.base_url)
    auth = BoxSecretsAuth(provider)
    client = BoxClient(auth=auth, network_session=session(app.base_url))
    assert client.users.get_user_me().type == "user"
    before = app.console.stats()["POST /oauth2/token"]
    for _ in range(5):
        client.users.get_user_me()
    assert app.console.stats()["POST /oauth2/token"] == before  # cached
    scoped = auth.downscope_token(["item_preview"], resource="https://api.box.com/2.0/files/5")
    assert scoped.restricted_to[0].scope == "item_preview"
    uid = app.console.create_user(app.client_id)
    assert (
        BoxClient(auth=auth.with_user_subject(uid), network_session=session(app.base_url))
        .users.get_user_me()
        .id
        == uid
    )


def test_sdk_recovers_after_revoke_via_refresh(app) -> None:
    provider = TokenProvider(app.config, base_url=app.base_url)
    auth = BoxSecretsAuth(provider)
    client = BoxClient(auth=auth, network_session=session(app.base_url))
    client.users.get_user_me()
    auth.revoke_token()
    # box-sdk-gen retries a 401 after calling refresh_token on the auth.
    assert client.users.get_user_me().type == "user"
