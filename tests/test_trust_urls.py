"""One URL parser: what it accepts, every parser that connects reads the same way.

The review's attack: ``urllib.parse`` judged ``http://OTHER\\@127.0.0.1:8200`` as
127.0.0.1 while urllib3 (our client, hvac through requests, botocore) connected
to OTHER. Here every hostile form is either refused, or its canonical form
names the same host to urllib.parse, urllib3 and requests, and ``http://`` is
accepted only when that host is a literal loopback address or ``localhost``.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator

import pytest
import requests
import urllib3

from box_secrets import TokenProvider, errors
from box_secrets._urls import check_url, is_loopback, parse_url, redact_url, trusted_endpoint

from .services import ConnectionCounter

# Each form has been used somewhere to make two parsers disagree on the host, or
# to pass a loopback check by name. O is a host we must never connect to.
HOSTILE = [
    "http://O\\@127.0.0.1:8200",
    "http://O%5C@127.0.0.1:8200",
    "http://127.0.0.1:8200\\@O",
    "http://127.0.0.1\\.O",
    "http://O\\\\@127.0.0.1",
    "http://O/\\@127.0.0.1",
    "http://O#@127.0.0.1",
    "http://O?@127.0.0.1",
    "http://O;@127.0.0.1",
    "http://O@127.0.0.1",
    "http://user:pw@127.0.0.1",
    "http://127.0.0.1@O",
    "http://127.0.0.1:80@O",
    "http://127.0.0.1%40O",
    "http://127.0.0.1%2fO",
    "http://127.0.0.1%00O",
    "http://O%2e127.0.0.1",
    "http://O\t@127.0.0.1",
    "http://O\n@127.0.0.1",
    "http://O\r\n@127.0.0.1",
    "http://O @127.0.0.1",
    "http://O\u3000@127.0.0.1",
    "http:/\\O",
    "http:\\\\O",
    "http:O",
    "http:///O",
    "HTTP://O\\@127.0.0.1",
    "http://127.1",
    "http://127.0.1",
    "http://0x7f.0.0.1",
    "http://0177.0.0.1",
    "http://2130706433",
    "http://0x7f000001",
    "http://127.0.0.1.",
    "http://127.000.000.001",
    "http://[::ffff:127.0.0.1]",
    "http://[0:0:0:0:0:ffff:7f00:1]",
    "http://[::1%25eth0]",
    "http://[::1]O",
    "http://[::1]:80O",
    "http://[O]",
    "http://x.localhost",
    "http://localhost.O",
    "http://localhost.",
    "http://LOCALHOST\\@O",
    "http://O.nip.io",
    "http://127.0.0.1.nip.io",
    "http://ⓛocalhost",
    "http://l\u043ecalhost",  # a Cyrillic o
    "http://localhost\u200b",
    "http://local\u00adhost",
    "http://127.0.0.1\u2024O",
    "http://127。0。0。1",
    "http://127.0.0.1:8200:80",
    "http://127.0.0.1:+80",
    "http://127.0.0.1:0x50",
    "http://127.0.0.1:080a",
    "http://127.0.0.1: 80",
    "http://127.0.0.1:65536",
    "http://127.0.0.1:0",
    "http://127.0.0.1:-1",
    "http://O\u2028@127.0.0.1",
    "http://O\u202e@127.0.0.1",
    "https://O\\@127.0.0.1/v1",
    "https://O#frag",
    "http://O",
    "http://10.0.0.1",
    "http://[fe80::1]",
    "http://",
    "http://:80",
    "//127.0.0.1",
    "ftp://127.0.0.1",
    "file:///etc/passwd",
    "javascript://127.0.0.1",
    " http://O\\@127.0.0.1",
    "http://O<@127.0.0.1",
    'http://O"@127.0.0.1',
    "http://O`@127.0.0.1",
    "http://O{@127.0.0.1",
    "http://O|@127.0.0.1",
    "http://O^@127.0.0.1",
]

ACCEPTED = [
    "http://127.0.0.1:8200",
    "http://127.0.0.1:8200/",
    "http://127.8.9.10/v1?x=1",
    "http://localhost:8200",
    "http://LocalHost:8200",
    "http://[::1]:8200",
    "https://vault.example.com",
    "https://vault.example.com:8200/path?q=a&b=c%20d",
    "https://10.0.0.1:8443",
    "https://[2001:db8::1]:8200",
    "https://xn--bcher-kva.example",
    "https://a_b.example.com",
]


def _hosts(url: str) -> set[str]:
    """The host each connecting parser reads from ``url``."""
    by_urllib3 = urllib3.util.parse_url(url).host or ""
    by_urllib = urllib.parse.urlsplit(url).hostname or ""
    prepared = requests.Request("GET", url).prepare().url or ""
    by_requests = urllib3.util.parse_url(prepared).host or ""
    return {_norm(h) for h in (by_urllib3, by_urllib, by_requests)}


def _norm(host: str) -> str:
    import ipaddress

    host = host.strip("[]").lower()
    try:
        return ipaddress.ip_address(host).compressed
    except ValueError:
        return host


@pytest.mark.parametrize("url", HOSTILE)
def test_hostile_forms_are_refused_or_agreed_on(url: str) -> None:
    assert len(HOSTILE) > 80
    try:
        canonical = parse_url(url, what="the URL")
    except errors.InputError as exc:
        assert "\n" not in str(exc) and "pw" not in str(exc)
        return
    # Accepted (for instance a plain remote name): every parser reads one host,
    # both from the canonical text and from what the person typed.
    hosts = _hosts(canonical.text) | _hosts(url.strip())
    assert hosts == {_norm(canonical.host)}, (url, hosts)


@pytest.mark.parametrize("url", HOSTILE)
def test_plain_http_passes_only_to_a_literal_loopback(url: str, monkeypatch) -> None:
    monkeypatch.delenv("BOX_SECRETS_ALLOW_INSECURE_HTTP", raising=False)
    try:
        text = check_url(url, what="the URL")
    except errors.InputError:
        return
    if text.startswith("http://"):
        (host,) = _hosts(text)
        assert host in ("localhost", "::1") or host.startswith("127."), url


@pytest.mark.parametrize("url", ACCEPTED)
def test_plain_urls_pass_in_canonical_form(url: str) -> None:
    text = check_url(url, what="the URL")
    assert _hosts(text) == _hosts(url)
    assert check_url(text, what="the URL") == text  # canonical is a fixed point


def test_loopback_is_literal() -> None:
    assert is_loopback("localhost") and is_loopback("127.0.0.1") and is_loopback("[::1]")
    for name in ("x.localhost", "localhost.", "127.1", "0x7f.0.0.1", "[::ffff:127.0.0.1]"):
        assert not is_loopback(name), name


def test_messages_never_hold_a_password() -> None:
    for url in ("http://u:hunter2@127.0.0.1", "http://u:hunter2\\@x@127.0.0.1", "x://a:hunter2@"):
        assert "hunter2" not in redact_url(url)
        with pytest.raises(errors.InputError) as raised:
            check_url(url, what="X")
        assert "hunter2" not in str(raised.value)


def test_stored_and_configured_endpoints_compare_in_canonical_form(monkeypatch) -> None:
    monkeypatch.setenv("VAULT_ADDR", "http://LOCALHOST:8200/")
    assert (
        trusted_endpoint("http://localhost:8200", env=("VAULT_ADDR",), what="addr")
        == "http://localhost:8200"
    )
    for stored in (
        "http://O\\@localhost:8200",
        "http://localhost:8200\\@O",
        "http://localhost.:8200",
        "http://127.0.0.1:8200",  # the same machine, but not the address configured
    ):
        with pytest.raises(errors.InputError):
            trusted_endpoint(stored, env=("VAULT_ADDR",), what="addr")


@pytest.fixture
def listener() -> Iterator[ConnectionCounter]:
    it = ConnectionCounter()
    yield it
    it.close()


def _sites(port: int, tmp_path) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Every place a URL enters, each given the backslash trick."""
    from box_secrets.rotation import open_notifier
    from box_secrets.stores import open_store

    evil = f"http://127.0.0.2:{port}\\@127.0.0.1:{port}"
    quoted = urllib.parse.quote(evil, safe="")
    config = tmp_path / "c.json"
    return {
        "TokenProvider(base_url=)": lambda: TokenProvider(str(config), base_url=evil),
        "vault://?addr=": lambda: open_store(f"vault://secret/box/app?addr={quoted}"),
        "aws-sm://?endpoint_url=": lambda: open_store(
            f"aws-sm://box/app?region=us-east-1&endpoint_url={quoted}"
        ),
        "--notify webhook": lambda: open_notifier(evil),
        "sns endpoint_url": lambda: open_notifier(
            f"sns://arn:aws:sns:us-east-1:123456789012:t?endpoint_url={quoted}"
        ),
    }


def test_every_url_site_refuses_the_backslash_trick(listener, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("VAULT_ADDR", raising=False)
    for name, make in _sites(listener.port, tmp_path).items():
        with pytest.raises(errors.InputError, match="backslash"):
            make()  # type: ignore[operator]
        assert listener.connections == 0, name


@pytest.mark.parametrize(
    "variable",
    [
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER",
        "AWS_ENDPOINT_URL_KMS",
        "AWS_ENDPOINT_URL_SNS",
    ],
)
def test_aws_endpoint_variables_are_judged_like_any_url(variable: str, monkeypatch) -> None:
    from box_secrets._aws import endpoint_for

    service = {"SECRETS_MANAGER": "secretsmanager"}.get(
        variable.removeprefix("AWS_ENDPOINT_URL_"), variable.removeprefix("AWS_ENDPOINT_URL_")
    ).lower()
    service = "secretsmanager" if service == "aws_endpoint_url" else service
    monkeypatch.delenv("BOX_SECRETS_ALLOW_INSECURE_HTTP", raising=False)
    monkeypatch.setenv(variable, "http://example.com")
    with pytest.raises(errors.InputError, match="cleartext"):
        endpoint_for(service, None)
    monkeypatch.setenv(variable, "http://O\\@127.0.0.1:5000")
    with pytest.raises(errors.InputError, match="backslash"):
        endpoint_for(service, None)
    monkeypatch.setenv(variable, "HTTP://LOCALHOST:5000")
    assert endpoint_for(service, None) == "http://localhost:5000"


def test_the_cli_refuses_the_trick_with_one_sentence(tmp_path) -> None:
    from .helpers import assert_clean_error, run_cli

    for args, env in (
        (["--box-base-url", "http://O\\@127.0.0.1:9", "token", "--config", "/x"], {}),
        (["token", "--config", "/x"], {"BOX_API_BASE_URL": "http://O\\@127.0.0.1:9"}),
        (
            ["status", "--store", "vault://secret/x?addr=http%3A%2F%2FO%5C%40127.0.0.1%3A9"],
            {"VAULT_TOKEN": "t"},
        ),
    ):
        err = assert_clean_error(run_cli(*args, env=env), 2)
        assert "backslash" in err, err


def test_every_site_refuses_every_form_the_parser_refuses(listener, tmp_path, monkeypatch) -> None:
    """Each URL-taking site, given each hostile form (percent-encoded where it sits in a query)."""
    from box_secrets.rotation import open_notifier
    from box_secrets.stores import open_store

    monkeypatch.delenv("VAULT_ADDR", raising=False)
    monkeypatch.delenv("BOX_SECRETS_ALLOW_INSECURE_HTTP", raising=False)
    config = str(tmp_path / "c.json")
    sites = {
        "TokenProvider": lambda url, q: TokenProvider(config, base_url=url),
        "vault addr": lambda url, q: open_store(f"vault://secret/box/app?addr={q}"),
        "aws-sm endpoint_url": lambda url, q: open_store(
            f"aws-sm://box/app?region=us-east-1&endpoint_url={q}"
        ),
        "webhook": lambda url, q: open_notifier(url),
        "sns endpoint_url": lambda url, q: open_notifier(
            f"sns://arn:aws:sns:us-east-1:123456789012:t?endpoint_url={q}"
        ),
    }
    tried = 0
    for form in HOSTILE:
        url = form.replace("O", f"127.0.0.2:{listener.port}")
        try:
            check_url(url, what="the URL")
            continue  # an acceptable URL: nothing to refuse
        except errors.InputError:
            pass
        for name, make in sites.items():
            if name == "webhook" and not url.lower().startswith(("http://", "https://")):
                continue  # not a webhook at all: open_notifier refuses it by scheme
            with pytest.raises(errors.InputError):
                make(url, urllib.parse.quote(url, safe=""))
            tried += 1
    assert tried > 300 and listener.connections == 0
