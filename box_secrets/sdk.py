"""box-sdk-gen adapter (``pip install 'box-secrets[sdk]'``).

:func:`client` gives a ready ``BoxClient`` that takes its tokens from a
:class:`~box_secrets.tokens.TokenProvider` (cached with a safety margin,
single-flight, read from a secret store) and talks to the provider's Box, the
emulator included::

    from box_secrets import TokenProvider
    from box_secrets.sdk import client

    box = client(TokenProvider("file:box.json"))
    print(box.users.get_user_me().name)

``BoxClient(auth=BoxSecretsAuth(provider))`` is the same without the base
URLs: it always calls api.box.com.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from box_secrets.errors import MissingExtraError

try:
    from box_sdk_gen.networking.auth import Authentication
    from box_sdk_gen.schemas.access_token import AccessToken as SdkAccessToken
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError("sdk", "box-sdk-gen") from exc

if TYPE_CHECKING:
    from box_secrets.tokens import AccessToken, TokenProvider

__all__ = ["BoxSecretsAuth", "base_urls", "client"]

#: Where box-sdk-gen sends each kind of call when the provider talks to Box itself.
_BOX = "https://api.box.com"


def base_urls(provider: TokenProvider) -> Any:
    """box-sdk-gen's ``BaseUrls`` for the provider's Box.

    box-sdk-gen appends ``/2.0/...`` and ``/oauth2/token`` to ``base_url`` itself
    (its defaults: ``https://api.box.com``, uploads at ``https://upload.box.com/api``,
    OAuth pages at ``https://account.box.com/api/oauth2``), so the base is the
    provider's as it is (a ``/2.0`` suffix would make ``/2.0/2.0/users/me``);
    uploads and OAuth pages go to the same host for anything but Box itself.
    """
    from box_sdk_gen import BaseUrls

    base = provider.base_url.rstrip("/")
    if base == _BOX:
        return BaseUrls()
    return BaseUrls(base_url=base, upload_url=f"{base}/api", oauth_2_url=f"{base}/api/oauth2")


def client(provider: TokenProvider, *, as_user: str | None = None) -> Any:
    """A ``box_sdk_gen.BoxClient`` on ``provider``'s tokens and its Box (``base_url``).

    Raises:
        MissingExtraError: box-sdk-gen is not installed (``box-secrets[sdk]``).
    """
    try:
        from box_sdk_gen import BoxClient, NetworkSession
    except ImportError as exc:
        raise MissingExtraError("sdk", "box-sdk-gen") from exc
    session = NetworkSession(base_urls=base_urls(provider))
    return BoxClient(auth=BoxSecretsAuth(provider, as_user=as_user), network_session=session)


def _to_sdk(tok: AccessToken) -> Any:
    data: dict[str, Any] = {
        "access_token": tok.access_token,
        "expires_in": tok.expires_in,
        "token_type": "bearer",
    }
    if tok.restricted_to:
        data["restricted_to"] = tok.restricted_to
    if tok.issued_token_type:
        data["issued_token_type"] = tok.issued_token_type
    return SdkAccessToken.from_dict(data)


class BoxSecretsAuth(Authentication):  # type: ignore[misc]
    """A box-sdk-gen ``Authentication`` backed by a box-secrets token provider."""

    def __init__(self, provider: TokenProvider, *, as_user: str | None = None) -> None:
        super().__init__()
        self.provider = provider
        self.as_user = as_user

    def retrieve_token(self, *, network_session: Any = None) -> Any:
        return _to_sdk(self.provider.get_token(as_user=self.as_user))

    def refresh_token(self, *, network_session: Any = None) -> Any:
        return _to_sdk(self.provider.refresh(as_user=self.as_user))

    def retrieve_authorization_header(self, *, network_session: Any = None) -> str:
        return "Bearer " + self.provider.get_token(as_user=self.as_user).access_token

    def revoke_token(self, *, network_session: Any = None) -> None:
        self.provider.revoke(self.provider.get_token(as_user=self.as_user))

    def downscope_token(
        self,
        scopes: list[str],
        *,
        resource: str | None = None,
        shared_link: str | None = None,
        network_session: Any = None,
    ) -> Any:
        base = self.provider.get_token(as_user=self.as_user)
        return _to_sdk(
            self.provider.downscope(base, scopes, resource=resource, shared_link=shared_link)
        )

    def with_user_subject(self, user_id: str) -> BoxSecretsAuth:
        """The same provider, acting as ``user_id``."""
        return BoxSecretsAuth(self.provider, as_user=user_id)
