"""Minting, caching and refreshing Box access tokens.

:class:`TokenProvider` is for services: one per app, shared by all threads.
:func:`access_token` is for cloud functions: it keeps one provider per source
per process, so a warm Lambda reuses its cached token.

What it does that Box's SDKs do not: a token is refreshed a safety margin
before it expires (not after a 401); concurrent callers wait for one request
(single-flight); every retry signs a new assertion with a new ``jti``; clock
skew is corrected from Box's ``Date`` header; a key Box rejects is re-read
from its source once (surviving a rotation); the private key is parsed once.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .config import BoxAppConfig
from .errors import (
    BoxAuthError,
    BoxResponseError,
    BoxUnavailableError,
    ConfigError,
    InputError,
    KeyRejectedError,
)
from .signing import ALGORITHMS, RSASigner, build_assertion, new_jti
from .sources import ConfigFileSource, KeySource, StaticSource

if TYPE_CHECKING:
    from ._filecache import TokenCacheDir
    from ._http import HttpClient, HttpResponse

__all__ = ["DEFAULT_BASE_URL", "AccessToken", "TokenProvider", "access_token", "get_provider"]

log = logging.getLogger("box_secrets.tokens")
# A library stays quiet unless the application configures logging.
logging.getLogger("box_secrets").addHandler(logging.NullHandler())

DEFAULT_BASE_URL = "https://api.box.com"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105
#: Seconds a JWT assertion lives; Box allows at most 60.
ASSERTION_TTL = 30

_monotonic = time.monotonic
_EXP = re.compile(r"\bexp\b", re.IGNORECASE)
_JTI = re.compile(r"\bjti\b", re.IGNORECASE)
_KID = re.compile(r"\bkid\b", re.IGNORECASE)


class AccessToken:
    """A Box access token. ``repr()`` and ``str()`` never show the token itself."""

    __slots__ = (
        "_value",
        "expires_at",
        "expires_in",
        "issued_token_type",
        "restricted_to",
        "token_type",
    )

    def __init__(
        self,
        access_token: str,
        *,
        expires_at: float,
        expires_in: int,
        token_type: str = "bearer",  # noqa: S107
        restricted_to: list[Any] | None = None,
        issued_token_type: str | None = None,
    ) -> None:
        self._value = access_token
        self.expires_at = expires_at
        self.expires_in = expires_in
        self.token_type = token_type
        self.restricted_to = restricted_to or []
        self.issued_token_type = issued_token_type

    @property
    def access_token(self) -> str:
        return self._value

    @property
    def expires_at_rfc3339(self) -> str:
        from ._time import rfc3339

        return rfc3339(self.expires_at)

    def to_dict(self) -> dict[str, Any]:
        """The token as JSON-ready data (holds the secret: print only on purpose)."""
        out: dict[str, Any] = {
            "access_token": self._value,
            "expires_at": self.expires_at_rfc3339,
            "expires_in": max(0, int(self.expires_at - time.time())),
            "token_type": self.token_type,
            "restricted_to": self.restricted_to,
        }
        if self.issued_token_type:
            out["issued_token_type"] = self.issued_token_type
        return out

    def __repr__(self) -> str:
        return (
            f"AccessToken(token_type={self.token_type!r}, expires_at={self.expires_at_rfc3339!r}, "
            f"restricted_to={self.restricted_to!r})"
        )

    __str__ = __repr__


class _Slot:
    """One cache entry; its lock makes concurrent misses wait for one request."""

    __slots__ = ("expires_mono", "lock", "refresh_at", "token")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.token: AccessToken | None = None
        self.refresh_at = 0.0
        self.expires_mono = 0.0


_CacheKey = tuple[str, str, tuple[str, ...] | None, str | None, str | None]


def _as_source(source: KeySource | BoxAppConfig | str | os.PathLike[str]) -> KeySource:
    if isinstance(source, BoxAppConfig):
        return StaticSource(source)
    if isinstance(source, str | os.PathLike):
        text = os.fspath(source)
        if "://" in text or text.startswith("file:"):
            from .stores.reader import StoreSource

            return StoreSource(text)
        return ConfigFileSource(text)
    if isinstance(source, KeySource):
        return source
    raise TypeError("source must be a KeySource, a BoxAppConfig, a config path or a store URI")


class TokenProvider:
    """Mints and caches Box access tokens for one app.

    ``source`` is a :class:`~box_secrets.sources.KeySource`, a
    :class:`BoxAppConfig`, a config file path, or a store URI.
    """

    def __init__(
        self,
        source: KeySource | BoxAppConfig | str | os.PathLike[str],
        *,
        base_url: str | None = None,
        algorithm: str = "RS256",
        refresh_margin: float = 300.0,
        max_attempts: int = 5,
        deadline: float = 60.0,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        cache_dir: str | os.PathLike[str] | None = None,
        http: HttpClient | None = None,
    ) -> None:
        if algorithm not in ALGORITHMS:
            raise InputError(
                f"algorithm {algorithm!r} is not supported; use one of {', '.join(ALGORITHMS)}"
            )
        if max_attempts < 1:
            raise InputError("max_attempts must be at least 1")
        self._source = _as_source(source)
        from ._urls import check_url

        base = base_url or os.environ.get("BOX_API_BASE_URL") or DEFAULT_BASE_URL
        self.base_url = check_url(base, what="the Box API base URL").rstrip("/")
        self.algorithm = algorithm
        self.refresh_margin = float(refresh_margin)
        self.max_attempts = max_attempts
        self.deadline = float(deadline)
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._cache: TokenCacheDir | None = None
        if cache_dir is not None:
            from ._filecache import TokenCacheDir

            self._cache = TokenCacheDir(os.fspath(cache_dir))
        self._http = http
        self._slots: dict[_CacheKey, _Slot] = {}
        self._slots_lock = threading.Lock()
        self._default: _Slot | None = None
        self._signers: dict[tuple[str, str], RSASigner] = {}
        self._skew = 0.0  # Box's clock minus ours, learned from the Date header

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
        """
        if as_user is None and scopes is None and resource is None and shared_link is None:
            slot = self._default
            if slot is not None:
                tok = slot.token
                if tok is not None and slot.refresh_at > _monotonic():
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
        """Mint a new token now, replacing the cached one."""
        stype, sid = ("user", str(as_user)) if as_user is not None else self._default_subject()
        key: _CacheKey = (stype, sid, None, None, None)
        slot = self._slot(key)
        with slot.lock:
            tok = self._mint(stype, sid, self._deadline_at())
            self._store(slot, tok)
            if self._cache is not None:
                file_key = self._file_key(key)
                with self._cache.locked(file_key):
                    self._cache.write(file_key, tok)
            return tok

    def downscope(
        self,
        token: AccessToken | str,
        scopes: Iterable[str],
        *,
        resource: str | None = None,
        shared_link: str | None = None,
    ) -> AccessToken:
        """Exchange ``token`` for a new one restricted to ``scopes`` (not cached)."""
        scope_list = list(scopes)
        if not scope_list:
            raise InputError("scopes must name at least one Box scope, such as item_preview")
        if resource is not None and shared_link is not None:
            raise InputError("give a resource or a shared link, not both")
        subject = token.access_token if isinstance(token, AccessToken) else token
        return self._exchange(subject, scope_list, resource, shared_link, self._deadline_at())

    def revoke(self, token: AccessToken | str) -> None:
        """Send ``token`` to Box for revocation and forget every copy this provider cached.

        Box answers 200 to any string (RFC 7009), so success here means Box was
        told, not that the token existed. The in-process and the cross-process
        caches drop it even if the request fails, so it is never served again.
        """
        value = token.access_token if isinstance(token, AccessToken) else token
        self._forget(value)
        config = self._source.load()
        fields = {
            "client_id": config.client_id,
            "client_secret": config.client_secret,
            "token": value,
        }
        resp = self._send(
            f"{self.base_url}/oauth2/revoke", lambda: fields, self._deadline_at(), "revoke"
        )
        if resp.status != 200:
            raise self._auth_error(resp, "revoking the token")

    def _forget(self, value: str) -> None:
        with self._slots_lock:
            for slot in self._slots.values():
                if slot.token is not None and slot.token.access_token == value:
                    slot.token = None
                    slot.refresh_at = 0.0
        if self._cache is not None:
            self._cache.drop_token(value)

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
        return _monotonic() + self.deadline

    def _get(self, key: _CacheKey, slot: _Slot | None = None) -> AccessToken:
        slot = slot or self._slot(key)
        tok = slot.token
        if tok is not None and slot.refresh_at > _monotonic():
            return tok
        with slot.lock:
            tok = slot.token
            now = _monotonic()
            if tok is not None and slot.refresh_at > now:
                return tok  # another thread refreshed it while we waited
            try:
                tok = self._get_shared(key) if self._cache is not None else self._fetch(key)
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
            return tok

    def _store(self, slot: _Slot, tok: AccessToken) -> None:
        now_wall = time.time()
        now = _monotonic()
        remaining = tok.expires_at - now_wall
        slot.token = tok
        slot.expires_mono = now + remaining
        slot.refresh_at = now + remaining - self._margin(remaining)

    def _margin(self, lifetime: float) -> float:
        # A token shorter than the margin would be refreshed on every call, so it
        # is kept for half its life instead.
        return self.refresh_margin if self.refresh_margin < lifetime else lifetime / 2

    def _fetch(self, key: _CacheKey) -> AccessToken:
        stype, sid, scopes, resource, shared_link = key
        deadline_at = self._deadline_at()
        if scopes is None:
            return self._mint(stype, sid, deadline_at)
        base = self._get((stype, sid, None, None, None))
        return self._exchange(base.access_token, list(scopes), resource, shared_link, deadline_at)

    def _file_key(self, key: _CacheKey) -> str:
        config = self._source.load()
        material = json.dumps([self.base_url, config.client_id, *key])
        return hashlib.sha256(material.encode()).hexdigest()

    def _get_shared(self, key: _CacheKey) -> AccessToken:
        cache = self._cache
        assert cache is not None
        file_key = self._file_key(key)
        with cache.locked(file_key):
            tok = cache.read(file_key)
            if tok is not None and tok.expires_at - time.time() > self._margin(tok.expires_in):
                return tok
            tok = self._fetch(key)
            cache.write(file_key, tok)
            return tok

    # -- talking to Box ----------------------------------------------------------

    def _signer(self, config: BoxAppConfig) -> RSASigner:
        kid = config.public_key_id
        if not kid:
            raise ConfigError(
                "boxAppSettings.appAuth.publicKeyID is empty; register the public key in "
                "the Developer Console and put the key ID Box shows here",
                field="boxAppSettings.appAuth.publicKeyID",
            )
        cache_key = (kid, config.fingerprint or "")
        signer = self._signers.get(cache_key)
        if signer is None:
            signer = RSASigner(config.private_key, kid)
            if len(self._signers) > 8:
                self._signers.clear()
            self._signers[cache_key] = signer
        return signer

    def _grant_fields(self, config: BoxAppConfig, stype: str, sid: str) -> dict[str, str]:
        if not config.uses_jwt:
            return {
                "grant_type": "client_credentials",
                "client_id": config.client_id,
                "client_secret": config.client_secret,
                "box_subject_type": stype,
                "box_subject_id": sid,
            }
        assertion = build_assertion(
            self._signer(config),
            client_id=config.client_id,
            subject_type=stype,
            subject_id=sid,
            exp=int(time.time() + self._skew) + ASSERTION_TTL,
            jti=new_jti(),
            algorithm=self.algorithm,
        )
        return {
            "grant_type": JWT_GRANT,
            "assertion": assertion,
            "client_id": config.client_id,
            "client_secret": config.client_secret,
        }

    def _mint(self, stype: str, sid: str, deadline_at: float) -> AccessToken:
        """One token from Box, with Box's recoverable refusals retried once each."""
        config = self._source.load()
        retried: set[str] = set()
        url = f"{self.base_url}/oauth2/token"
        while True:
            build = functools.partial(self._grant_fields, config, stype, sid)
            resp = self._send(url, build, deadline_at, "token")
            if resp.status == 200:
                tok = self._parse_token(resp)
                log.debug("minted a token for %s %s (expires in %d s)", stype, sid, tok.expires_in)
                return tok
            body = _error_body(resp)
            error, desc = body.get("error", ""), body.get("error_description", "")
            if error == "invalid_grant" and _EXP.search(desc) and "exp" not in retried:
                retried.add("exp")
                self._learn_skew(resp)
                log.info("Box refused the assertion's exp; retrying with Box's clock")
                continue
            if error == "invalid_grant" and _JTI.search(desc) and "jti" not in retried:
                retried.add("jti")
                log.info("Box refused the assertion's jti; retrying with a new one")
                continue
            if _is_key_rejection(error, desc) and config.uses_jwt and "key" not in retried:
                retried.add("key")
                fresh = self._source.load(force_refresh=True)
                if (fresh.public_key_id, fresh.fingerprint) != (
                    config.public_key_id,
                    config.fingerprint,
                ):
                    log.info(
                        "Box rejected key %s; retrying with key %s from %s",
                        config.public_key_id,
                        fresh.public_key_id,
                        self._source.name,
                    )
                    config = fresh
                    continue
            raise self._auth_error(resp, "minting a token", config)

    def _exchange(
        self,
        subject_token: str,
        scopes: list[str],
        resource: str | None,
        shared_link: str | None,
        deadline_at: float,
    ) -> AccessToken:
        fields = {
            "grant_type": EXCHANGE_GRANT,
            "subject_token": subject_token,
            "subject_token_type": ACCESS_TOKEN_TYPE,
            "scope": " ".join(scopes),
        }
        if resource is not None:
            fields["resource"] = resource
        if shared_link is not None:
            fields["box_shared_link"] = shared_link
        resp = self._send(f"{self.base_url}/oauth2/token", lambda: fields, deadline_at, "downscope")
        if resp.status != 200:
            raise self._auth_error(resp, "downscoping the token")
        return self._parse_token(resp)

    def _send(
        self,
        url: str,
        build: Callable[[], Mapping[str, str]],
        deadline_at: float,
        what: str,
    ) -> HttpResponse:
        """POST, retrying 429 (after Retry-After), 5xx and network errors with backoff.

        ``build`` is called per attempt, so every attempt carries a new assertion.
        """
        from . import _faults

        http = self._http
        if http is None:
            from ._http import default_client

            http = self._http = default_client()
        last = "no attempt"
        for attempt in range(1, self.max_attempts + 1):
            fields = dict(build())
            _faults.crashpoint("box.call", "before")
            try:
                resp = http.request("POST", url, fields=fields)
            except BoxUnavailableError as exc:
                last = str(exc)
                wait = self._backoff(attempt)
            else:
                _faults.crashpoint("box.call", "after")
                if resp.status == 429:
                    last = "HTTP 429 (rate limited)"
                    wait = _retry_after(resp) or self._backoff(attempt)
                elif resp.status >= 500:
                    last = f"HTTP {resp.status}"
                    wait = self._backoff(attempt)
                else:
                    return resp
            if attempt == self.max_attempts:
                break
            if _monotonic() + wait > deadline_at:
                raise BoxUnavailableError(
                    f"gave up {what} after {attempt} attempt(s): {last}, and waiting "
                    f"{wait:.1f} s more would pass the {self.deadline:.0f} s deadline; "
                    "try again later"
                )
            # INFO, not WARNING: a retry that then succeeds is not the caller's problem.
            log.info(
                "%s: %s; retrying in %.2f s (attempt %d of %d)",
                what,
                last,
                wait,
                attempt + 1,
                self.max_attempts,
            )
            time.sleep(wait)
        raise BoxUnavailableError(
            f"gave up {what} after {self.max_attempts} attempts: {last}; try again later"
        )

    def _backoff(self, attempt: int) -> float:
        ceiling = min(float(self.backoff_cap), self.backoff_base * 2.0 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not crypto

    def _learn_skew(self, resp: HttpResponse) -> None:
        date = resp.headers.get("date")
        if not date:
            return
        from email.utils import parsedate_to_datetime

        try:
            server = parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            return
        self._skew = server - time.time()
        log.info("Box's clock differs from ours by %.0f s; assertions now use Box's", self._skew)

    def _parse_token(self, resp: HttpResponse) -> AccessToken:
        data = resp.json()
        if not isinstance(data, dict):
            raise BoxResponseError("Box's token response is not a JSON object")
        value = data.get("access_token")
        expires_in = data.get("expires_in")
        if not isinstance(value, str) or not value or not isinstance(expires_in, int | float):
            raise BoxResponseError("Box's token response lacks access_token or expires_in")
        restricted = data.get("restricted_to")
        return AccessToken(
            value,
            expires_at=time.time() + float(expires_in),
            expires_in=int(expires_in),
            token_type=str(data.get("token_type", "bearer")),
            restricted_to=restricted if isinstance(restricted, list) else [],
            issued_token_type=data.get("issued_token_type"),
        )

    def _auth_error(
        self, resp: HttpResponse, doing: str, config: BoxAppConfig | None = None
    ) -> BoxAuthError:
        body = _error_body(resp)
        error = str(body.get("error") or f"http_{resp.status}")
        desc = str(body.get("error_description") or "")
        cls = KeyRejectedError if _is_key_rejection(error, desc) else BoxAuthError
        hint = _HINTS.get(error, "")
        if cls is KeyRejectedError:
            kid = config.public_key_id if config is not None else None
            hint = (
                f"Box does not accept key {kid!r}: register its public key in the Developer "
                "Console or fix publicKeyID"
            )
        message = f"Box refused {doing}: {error}"
        if desc:
            message += f" ({desc.rstrip('.')})"
        if hint:
            message += f"; {hint}"
        return cls(message, status=resp.status, error=error, error_description=desc)

    def __repr__(self) -> str:
        return f"TokenProvider(source={self._source.name!r}, base_url={self.base_url!r})"


_HINTS = {
    "invalid_client": "check clientID and clientSecret against the Developer Console",
    "unauthorized_client": "an enterprise admin must authorize the app in the Admin Console",
    "invalid_request": "check the app's authentication method in the Developer Console",
}


def _is_key_rejection(error: str, desc: str) -> bool:
    return error == "invalid_grant" and bool(_KID.search(desc) or "signature" in desc.lower())


def _error_body(resp: HttpResponse) -> dict[str, str]:
    try:
        data = json.loads(resp.body)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    from ._urls import clean_text

    # Box's token errors are short; clip and flatten anyway, so a hostile or broken
    # server cannot flood a log or forge lines on a terminal.
    return {k: clean_text(str(v)) for k, v in data.items() if k in ("error", "error_description")}


def _retry_after(resp: HttpResponse) -> float | None:
    value = resp.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when: float = parsedate_to_datetime(value).timestamp()
        return max(0.0, when - time.time())
    except (TypeError, ValueError):
        return None


# -- one provider per process, for cloud functions -----------------------------------

_providers: dict[tuple[str, str | None], TokenProvider] = {}
_providers_lock = threading.Lock()


def get_provider(
    source: str | os.PathLike[str] | None = None, *, base_url: str | None = None
) -> TokenProvider:
    """The process-wide provider for ``source`` (a store URI or config path).

    Without ``source``, ``BOX_SECRETS_STORE`` or ``BOX_SECRETS_CONFIG`` names it.
    """
    if source is None:
        source = os.environ.get("BOX_SECRETS_STORE") or os.environ.get("BOX_SECRETS_CONFIG")
        if not source:
            raise InputError(
                "no Box credentials given; pass a store URI or config path, or set "
                "BOX_SECRETS_STORE"
            )
    key = (os.fspath(source), base_url)
    provider = _providers.get(key)
    if provider is None:
        with _providers_lock:
            provider = _providers.get(key)
            if provider is None:
                provider = _providers[key] = TokenProvider(key[0], base_url=base_url)
    return provider


def access_token(
    source: str | os.PathLike[str] | None = None,
    *,
    as_user: str | None = None,
    scopes: Iterable[str] | None = None,
    resource: str | None = None,
    base_url: str | None = None,
) -> str:
    """A valid Box access token, from a provider kept for the life of the process."""
    return (
        get_provider(source, base_url=base_url)
        .get_token(as_user=as_user, scopes=scopes, resource=resource)
        .access_token
    )
