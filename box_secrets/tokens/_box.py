"""The part of the token provider that talks to Box's token endpoint.

It signs assertions (with the given signer, or one for the config's key, kept
per key), sends the grant through the one retry policy, learns Box's clock from
its ``Date`` header, and retries Box's recoverable refusals once each: a stale
``exp`` (with Box's clock), a spent ``jti`` (with a new one), and a key Box
rejects (with the key read again from its source, which is how readers survive
a rotation). The provider around it caches and single-flights.
"""

from __future__ import annotations

import functools
import logging
import time
from typing import TYPE_CHECKING, Any

from box_secrets._support import retry as _retry
from box_secrets.errors import ConfigError, SignerUnavailableError
from box_secrets.signers import Signer, signer_for
from box_secrets.stores._config import BoxAppConfig
from box_secrets.tokens._assertion import build_assertion, new_jti
from box_secrets.tokens._oauth import (
    ACCESS_TOKEN_TYPE,
    ASSERTION_TTL,
    EXCHANGE_GRANT,
    JWT_GRANT,
    auth_error,
    error_body,
    parse_token,
    refusal,
    server_time,
)
from box_secrets.tokens._sources import KeySource
from box_secrets.tokens._token import AccessToken

if TYPE_CHECKING:
    from box_secrets._support.http import HttpClient, HttpResponse

__all__ = ["BoxEndpoint"]

log = logging.getLogger("box_secrets.tokens")


class BoxEndpoint:
    """Box's ``/oauth2/token`` as one provider uses it (its base URL, retries, signer, clock)."""

    def __init__(
        self,
        base_url: str,
        *,
        retry: _retry.RetryPolicy,
        algorithm: str,
        http: HttpClient | None,
        signer: Signer | None,
    ) -> None:
        self.base_url = base_url
        self.retry = retry
        self.algorithm = algorithm
        self._http = http
        self.given_signer = signer
        self._signers: dict[tuple[str, str], Signer] = {}
        self._skew = 0.0  # Box's clock minus ours, learned from the Date header

    def signer(self, config: BoxAppConfig) -> Signer:
        """The given signer, or one for the config's private key (parsed once, kept)."""
        if self.given_signer is not None:
            return self.given_signer
        kid = config.public_key_id
        if not kid:
            raise ConfigError(
                "boxAppSettings.appAuth.publicKeyID is empty; register the public key in "
                "the Developer Console and put the key ID Box shows here",
                field="boxAppSettings.appAuth.publicKeyID",
            )
        if config.private_key_pem is None and config.signer_uri is None:
            raise ConfigError(
                "the config holds no private key and no signer was given; give TokenProvider "
                "a signer, or put the key in boxAppSettings.appAuth.privateKey",
                field="boxAppSettings.appAuth.privateKey",
            )
        cache_key = (kid, config.fingerprint or config.signer_uri or "")
        signer = self._signers.get(cache_key)
        if signer is None:
            signer = signer_for(config.key_material(), kid)
            if len(self._signers) > 8:
                self._signers.clear()
            self._signers[cache_key] = signer
        return signer

    def assertion(self, config: BoxAppConfig, stype: str, sid: str, deadline_at: float) -> str:
        """A signed assertion; a remote signer that is busy is retried within the deadline."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return build_assertion(
                    self.signer(config),
                    client_id=config.client_id,
                    subject_type=stype,
                    subject_id=sid,
                    exp=int(time.time() + self._skew) + ASSERTION_TTL,
                    jti=new_jti(),
                    algorithm=self.algorithm,
                )
            except SignerUnavailableError as exc:
                if not exc.retry:
                    raise
                self.retry.pause(
                    attempt,
                    self.retry.backoff(attempt),
                    deadline_at=deadline_at,
                    what="signing the assertion",
                    last=str(exc),
                    error=SignerUnavailableError,
                )

    def grant_fields(
        self, config: BoxAppConfig, stype: str, sid: str, deadline_at: float
    ) -> dict[str, str]:
        if not config.uses_jwt and self.given_signer is None:
            return {
                "grant_type": "client_credentials",
                "client_id": config.client_id,
                "client_secret": config.client_secret,
                "box_subject_type": stype,
                "box_subject_id": sid,
            }
        assertion = self.assertion(config, stype, sid, deadline_at)
        return {
            "grant_type": JWT_GRANT,
            "assertion": assertion,
            "client_id": config.client_id,
            "client_secret": config.client_secret,
        }

    def key_id(self, config: BoxAppConfig) -> str | None:
        return self.given_signer.key_id if self.given_signer else config.public_key_id

    def mint(self, source: KeySource, stype: str, sid: str, deadline_at: float) -> AccessToken:
        """One token from Box, with Box's recoverable refusals retried once each."""
        config = source.load()
        retried: set[str] = set()
        url = f"{self.base_url}/oauth2/token"
        log.debug("asking %s for a token for %s %s", self.base_url, stype, sid)
        while True:
            build = functools.partial(self.grant_fields, config, stype, sid, deadline_at)
            resp = self.send(url, build, deadline_at, "token")
            if resp.status == 200:
                tok = parse_token(resp)
                log.info("minted a token for %s %s (expires in %d s)", stype, sid, tok.expires_in)
                return tok
            body = error_body(resp)
            kind = refusal(body.get("error", ""), body.get("error_description", ""))
            if kind == "exp" and kind not in retried:
                retried.add(kind)
                self.learn_skew(resp)
                log.info("Box refused the assertion's exp; retrying with Box's clock")
                continue
            if kind == "jti" and kind not in retried:
                retried.add(kind)
                log.info("Box refused the assertion's jti; retrying with a new one")
                continue
            if kind == "key" and kind not in retried and self.given_signer is None:
                # Re-read the key once: a rotation may have replaced it meanwhile.
                retried.add(kind)
                fresh = source.load(force_refresh=True)
                if (fresh.public_key_id, fresh.fingerprint, fresh.signer_uri) != (
                    config.public_key_id,
                    config.fingerprint,
                    config.signer_uri,
                ):
                    log.info(
                        "Box rejected key %s; retrying with key %s from %s",
                        config.public_key_id,
                        fresh.public_key_id,
                        source.name,
                    )
                    config = fresh
                    continue
            raise auth_error(resp, "minting a token", self.key_id(config))

    def exchange(
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
        resp = self.send(f"{self.base_url}/oauth2/token", lambda: fields, deadline_at, "downscope")
        if resp.status != 200:
            raise auth_error(resp, "downscoping the token")
        return parse_token(resp)

    def send(self, url: str, build: Any, deadline_at: float, what: str) -> HttpResponse:
        http = self._http
        if http is None:
            from box_secrets._support.http import default_client

            http = self._http = default_client()
        return self.retry.send(http, url, build, deadline_at, what)

    def learn_skew(self, resp: HttpResponse) -> None:
        server = server_time(resp)
        if server is None:
            return
        self._skew = server - time.time()
        log.info("Box's clock differs from ours by %.0f s; assertions now use Box's", self._skew)
