"""box-sdk-gen adapter (``pip install 'box-secrets[sdk]'``).

``BoxClient(auth=BoxSecretsAuth(provider))`` makes Box's own SDK take its
tokens from a :class:`~box_secrets.tokens.TokenProvider`: cached with a
safety margin, single-flight, and read from a secret store::

    from box_sdk_gen import BoxClient
    from box_secrets import TokenProvider
    from box_secrets.sdk import BoxSecretsAuth

    client = BoxClient(auth=BoxSecretsAuth(TokenProvider("file:box_config.json")))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import MissingExtraError

try:
    from box_sdk_gen.networking.auth import Authentication
    from box_sdk_gen.schemas.access_token import AccessToken as SdkAccessToken
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError("sdk", "box-sdk-gen") from exc

if TYPE_CHECKING:
    from .tokens import AccessToken, TokenProvider

__all__ = ["BoxSecretsAuth"]


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
