"""Property tests: any input gives a config or a ConfigError, and no error text holds a secret."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from box_secrets.errors import ConfigError
from box_secrets.stores._config import BoxAppConfig

from .helpers import _POOL

# Secret-looking values that cannot occur by chance in a message (hypothesis is
# adversarial: it once built "boxAppSettin", a field name, from the bare alphabet).
secret_text = st.text(
    alphabet="ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789", min_size=12, max_size=40
).map(lambda text: f"Zq7{text}")
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(strategy, json_values, st.just("__drop__"))


@st.composite
def configs(draw: st.DrawFn) -> tuple[dict[str, Any], list[str]]:
    key = _POOL.get(draw(st.integers(0, 1)))
    client_secret = draw(secret_text)
    passphrase = draw(st.one_of(st.just(key.passphrase), secret_text))
    pem = draw(
        st.one_of(
            st.just(key.private_key_pem),
            st.just(key.private_key_pem[:200]),
            st.just(key.private_key_pem.replace("\n", "")),
            secret_text,
        )
    )
    auth = {
        "publicKeyID": draw(maybe(st.text(max_size=10))),
        "privateKey": draw(maybe(st.just(pem))),
        "passphrase": draw(maybe(st.just(passphrase))),
    }
    settings_ = {
        "clientID": draw(maybe(st.text(min_size=1, max_size=20))),
        "clientSecret": draw(maybe(st.just(client_secret))),
        "appAuth": draw(maybe(st.just(auth))),
    }
    top = {
        "boxAppSettings": draw(maybe(st.just(settings_))),
        "enterpriseID": draw(maybe(st.text(max_size=10))),
        "userID": draw(maybe(st.text(max_size=10))),
    }

    def prune(d: dict[str, Any]) -> dict[str, Any]:
        return {
            k: (prune(v) if isinstance(v, dict) else v) for k, v in d.items() if v != "__drop__"
        }

    secrets = [
        client_secret,
        passphrase,
        *[line for line in key.private_key_pem.splitlines() if "-----" not in line],
    ]
    return prune(top), secrets


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_any_config_parses_or_raises_config_error(case: tuple[dict[str, Any], list[str]]) -> None:
    data, secrets = case
    try:
        cfg = BoxAppConfig.from_dict(data)
    except ConfigError as exc:
        message = str(exc)
        assert message
        for secret in secrets:
            assert secret not in message
        return
    assert cfg.client_id
    assert cfg.enterprise_id or cfg.user_id
    for secret in secrets:
        assert secret not in repr(cfg)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=200), st.binary(max_size=200), json_values.map(json.dumps)))
def test_any_text_parses_or_raises_config_error(text: str | bytes) -> None:
    try:
        BoxAppConfig.from_json(text)
    except ConfigError as exc:
        assert str(exc)
