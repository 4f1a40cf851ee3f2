"""The token provider: one per app, shared by all threads (see the package docstring)."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from box_secrets._support import retry as _retry
from box_secrets.errors import (
    BoxAuthError,
    BoxUnavailableError,
    InputError,
)
from box_secrets.signers import ALGORITHMS, Signer
from box_secrets.stores._config import BoxAppConfig
from box_secrets.tokens._box import BoxEndpoint
from box_secrets.tokens._oauth import (
    DEFAULT_BASE_URL,
    auth_error,
)
from box_secrets.tokens._sources import KeySource, as_source
from box_secrets.tokens._token import AccessToken
from box_secrets.tokens.cache import FROM_ENV, FromEnv, shared_for

if TYPE_CHECKING:
    from box_secrets._support.http import HttpClient
    from box_secrets.tokens.cache import TokenCache
    from box_secrets.tokens.cache._seal import Codec

__all__ = ["TokenProvider"]

log = logging.getLogger("box_secrets.tokens")
# A library stays quiet unless the application configures logging.
logging.getLogger("box_secrets").addHandler(logging.NullHandler())


def _margin(value: object) -> float:
    """``refresh_margin`` judged: a number of seconds, 0 or more (a negative one would serve
    tokens after they expire)."""
    import math

    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise InputError(
            f"refresh_margin must be a number of seconds, 0 or more, not {str(value)[:20]!r}"
        )
    return float(value)


class _Slot:
    """One cache entry; its lock makes concurrent misses wait for one request."""

    __slots__ = ("expires_mono", "lock", "refresh_at", "token")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.token: AccessToken | None = None
        self.refresh_at = 0.0
        self.expires_mono = 0.0


_CacheKey = tuple[str, str, tuple[str, ...] | None, str | None, str | None]


class TokenProvider:
    """Mints and caches Box access tokens for one app.

    ``source`` is a :class:`~box_secrets.tokens._sources.KeySource`, a
    :class:`BoxAppConfig`, a config file path, or a store URI.

    ``token_cache`` shares tokens beyond this process (see
    :mod:`box_secrets.tokens.cache`): a URI such as ``dir:/path``,
    ``rediss://host:6379/0`` or ``dynamodb://TABLE``, a
    :class:`~box_secrets.tokens.cache.TokenCache`, or None for none. By default
    it is ``BOX_SECRETS_TOKEN_CACHE``. ``cache_dir=PATH`` is ``token_cache="dir:PATH"``.
    """

    def __init__(
        self,
        source: KeySource | BoxAppConfig | str | os.PathLike[str],
        *,
        base_url: str | None = None,
        algorithm: str = "RS256",
        refresh_margin: float = 300.0,
        max_attempts: int | None = None,
        deadline: float | None = None,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        cache_dir: str | os.PathLike[str] | None = None,
        token_cache: str | TokenCache | FromEnv | None = FROM_ENV,
        http: HttpClient | None = None,
        signer: Signer | None = None,
    ) -> None:
        """Raises :class:`InputError` for a bad argument, URL or environment value."""
        if algorithm not in ALGORITHMS:
            raise InputError(
                f"algorithm {algorithm!r} is not supported; use one of {', '.join(ALGORITHMS)}"
            )
        self.retry = _retry.RetryPolicy(
            max_attempts=max_attempts,
            deadline=deadline,
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
        )
        self._source = as_source(source)
        from box_secrets._urls import check_url

        base = base_url or os.environ.get("BOX_API_BASE_URL") or DEFAULT_BASE_URL
        self.base_url = check_url(base, what="the Box API base URL").rstrip("/")
        self.algorithm = algorithm
        self.refresh_margin = _margin(refresh_margin)
        self._shared = shared_for(cache_dir, token_cache, deadline=self.retry.deadline)
        self._box = BoxEndpoint(
            self.base_url, retry=self.retry, algorithm=algorithm, http=http, signer=signer
        )
        self._slots: dict[_CacheKey, _Slot] = {}
        self._slots_lock = threading.Lock()
        self._default: _Slot | None = None

    @property
    def token_cache(self) -> TokenCache | None:
        """The shared token cache, if any."""
        return self._shared.cache if self._shared is not None else None

    @property
    def max_attempts(self) -> int:
        return self.retry.max_attempts

    @property
    def deadline(self) -> float:
        return self.retry.deadline

    @property
    def source(self) -> KeySource:
        return self._source

    # -- public API --------------------------------------------------------------

    def get_token(
        self,
        *,
        as_user: str | None = None,
        scopes: Iterable[str] | None = None,
        resource: str | None = None,
        shared_link: str | None = None,
    ) -> AccessToken:
        """A valid token for the app's default subject, a user, or a downscoped view.

        Cached until ``refresh_margin`` seconds before expiry; concurrent callers
        missing the cache share one request to Box.

        Raises:
            InputError: bad arguments (exit code 2 in the CLI).
            ConfigError: the config is unusable (no key ID, nothing to sign with).
            KeyRejectedError: Box does not accept the key, even after re-reading it.
            BoxAuthError: Box refused for another reason (client, authorization).
            BoxUnavailableError: Box kept failing until the retry policy gave up.
            BoxResponseError: Box answered something its API does not promise.
            StoreError: the key's store could not be read.
            SignerError: a KMS or Transit key could not sign (SignerUnavailableError
                once throttling outlasted the deadline).
        """
        if as_user is None and scopes is None and resource is None and shared_link is None:
            slot = self._default
            if slot is not None:
                tok = slot.token
                # The module lookup lets a test move the clock; no extra call frame here.
                if tok is not None and slot.refresh_at > _retry._monotonic():
                    return tok
            return self._get_default()
        scope_key = tuple(sorted(set(scopes))) if scopes is not None else None
        if scope_key is not None and not scope_key:
            raise InputError("scopes must name at least one Box scope, such as item_preview")
        if scope_key is None and (resource is not None or shared_link is not None):
            raise InputError("a resource or shared link needs scopes to downscope to")
        if resource is not None and shared_link is not None:
            raise InputError("give a resource or a shared link, not both")
        if as_user is not None:
            as_user = str(as_user)
            if not as_user.strip():
                raise InputError("as_user must be a Box user ID")
            key: _CacheKey = ("user", as_user, scope_key, resource, shared_link)
        else:
            stype, sid = self._default_subject()
            key = (stype, sid, scope_key, resource, shared_link)
        return self._get(key)

    def access_token(self, **kwargs: Any) -> str:
        """Like :meth:`get_token`, returning the bare token string."""
        return self.get_token(**kwargs).access_token

    def refresh(self, *, as_user: str | None = None) -> AccessToken:
        """A token other than the one held: what to call when Box refuses it (401).

        The held token is dropped here and from the shared cache (only if the cache
        still holds it); then a token is fetched as by :meth:`get_token`, so a newer
        one another process already minted is used rather than minting again.
        Raises as :meth:`get_token`.
        """
        stype, sid = ("user", str(as_user)) if as_user is not None else self._default_subject()
        key: _CacheKey = (stype, sid, None, None, None)
        held = self._slot(key).token
        if held is not None:
            self.invalidate(held)
        return self._get(key)

    def invalidate(self, token: AccessToken | str) -> None:
        """Forget ``token`` here and in the shared cache, without telling Box.

        For a token Box refused (401): no process of the fleet serves it again.
        """
        self._forget(token.access_token if isinstance(token, AccessToken) else token)

    def downscope(
        self,
        token: AccessToken | str,
        scopes: Iterable[str],
        *,
        resource: str | None = None,
        shared_link: str | None = None,
    ) -> AccessToken:
        """Exchange ``token`` for a new one restricted to ``scopes`` (not cached).

        Raises:
            InputError: no scopes, or both a resource and a shared link.
            BoxAuthError: Box refused the exchange (``invalid_scope``, ``invalid_grant``).
            BoxUnavailableError: Box kept failing until the retry policy gave up.
        """
        scope_list = list(scopes)
        if not scope_list:
            raise InputError("scopes must name at least one Box scope, such as item_preview")
        if resource is not None and shared_link is not None:
            raise InputError("give a resource or a shared link, not both")
        subject = token.access_token if isinstance(token, AccessToken) else token
        return self._box.exchange(subject, scope_list, resource, shared_link, self._deadline_at())

    def revoke(self, token: AccessToken | str) -> None:
        """Send ``token`` to Box for revocation and forget every copy this provider cached.

        Box answers 200 to any string (RFC 7009), so success here means Box was
        told, not that the token existed. The in-process and the cross-process
        caches drop it even if the request fails, so it is never served again.

        Raises:
            BoxAuthError: Box refused the request (wrong client credentials).
            BoxUnavailableError: Box kept failing until the retry policy gave up.
        """
        value = token.access_token if isinstance(token, AccessToken) else token
        self._forget(value)
        config = self._source.load()
        fields = {
            "client_id": config.client_id,
            "client_secret": config.client_secret,
            "token": value,
        }
        resp = self._box.send(
            f"{self.base_url}/oauth2/revoke", lambda: fields, self._deadline_at(), "revoke"
        )
        if resp.status != 200:
            raise auth_error(resp, "revoking the token")

    def _forget(self, value: str) -> None:
        keys: list[_CacheKey] = []
        with self._slots_lock:
            for key, slot in self._slots.items():
                if slot.token is not None and slot.token.access_token == value:
                    slot.token = None
                    slot.refresh_at = 0.0
                    keys.append(key)
        shared = self._shared
        if shared is None:
            return
        # Where this provider held the token, and its default subject's entry.
        keys.append((*self._default_subject(), None, None, None))
        codec = shared.codec(self._source.load())
        shared.forget(value, codec, [self._shared_name(codec, key) for key in keys])

    # -- cache ---------------------------------------------------------------------

    def _default_subject(self) -> tuple[str, str]:
        config = self._source.load()
        if config.enterprise_id is not None:
            return "enterprise", config.enterprise_id
        assert config.user_id is not None
        return "user", config.user_id

    def _slot(self, key: _CacheKey) -> _Slot:
        slot = self._slots.get(key)
        if slot is None:
            with self._slots_lock:
                slot = self._slots.setdefault(key, _Slot())
        return slot

    def _get_default(self) -> AccessToken:
        stype, sid = self._default_subject()
        slot = self._slot((stype, sid, None, None, None))
        self._default = slot
        return self._get((stype, sid, None, None, None), slot)

    def _deadline_at(self) -> float:
        return self.retry.deadline_at()

    def _get(self, key: _CacheKey, slot: _Slot | None = None) -> AccessToken:
        slot = slot or self._slot(key)
        tok = slot.token
        if tok is not None and slot.refresh_at > _retry._monotonic():
            return tok
        with slot.lock:
            tok = slot.token
            now = _retry._monotonic()
            if tok is not None and slot.refresh_at > now:
                return tok  # another thread refreshed it while we waited
            stale = False
            try:
                if self._shared is not None:
                    tok, stale = self._get_shared(key)
                else:
                    tok = self._fetch(key)
            except (BoxUnavailableError, BoxAuthError) as exc:
                old = slot.token
                if old is not None and slot.expires_mono - now > 10:
                    # Serve the still-valid token and try again soon rather than fail
                    # a caller whose token works for a while yet.
                    log.warning("token refresh failed (%s); serving the cached token", exc)
                    slot.refresh_at = now + min(30.0, (slot.expires_mono - now) / 4)
                    return old
                raise
            self._store(slot, tok)
            if stale:  # another process is refreshing it: look again shortly
                slot.refresh_at = now + min(2.0, max(0.0, slot.expires_mono - now) / 4)
            return tok

    def _store(self, slot: _Slot, tok: AccessToken) -> None:
        now_wall = time.time()
        now = _retry._monotonic()
        remaining = tok.expires_at - now_wall
        slot.token = tok
        slot.expires_mono = now + remaining
        slot.refresh_at = now + remaining - self._margin(remaining)

    def _margin(self, lifetime: float) -> float:
        # A token shorter than the margin would be refreshed on every call, so it
        # is kept for half its life instead.
        return self.refresh_margin if self.refresh_margin < lifetime else lifetime / 2

    def _fetch(self, key: _CacheKey, deadline_at: float | None = None) -> AccessToken:
        stype, sid, scopes, resource, shared_link = key
        if deadline_at is None:
            deadline_at = self._deadline_at()
        if scopes is None:
            return self._box.mint(self._source, stype, sid, deadline_at)
        base = self._get((stype, sid, None, None, None))
        return self._box.exchange(
            base.access_token, list(scopes), resource, shared_link, deadline_at
        )

    def _shared_name(self, codec: Codec, key: _CacheKey) -> str:
        return codec.name([self.base_url, *key])

    def _get_shared(self, key: _CacheKey) -> tuple[AccessToken, bool]:
        shared = self._shared
        assert shared is not None
        codec = shared.codec(self._source.load())
        return shared.get(
            self._shared_name(codec, key),
            codec,
            lambda deadline_at: self._fetch(key, deadline_at),
            self._deadline_at(),
            self._margin,
        )

    def __repr__(self) -> str:
        return f"TokenProvider(source={self._source.name!r}, base_url={self.base_url!r})"
