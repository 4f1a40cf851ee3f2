"""One list of environment variables: the docs match it, and the code reads no other."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import box_secrets
from box_secrets._env import VARIABLES, markdown

ROOT = Path(__file__).resolve().parent.parent


def test_the_docs_page_is_generated_from_the_list() -> None:
    assert (ROOT / "docs" / "environment.md").read_text() == markdown(), (
        "run: python -m box_secrets._env > docs/environment.md"
    )


def test_the_code_reads_no_unlisted_variable() -> None:
    listed = {v.name for v in VARIABLES}
    used: set[str] = set()
    for path in (ROOT / "box_secrets").rglob("*.py"):
        if path.name == "_demo.py":  # the demo names its own variable for --client-secret-env
            continue
        used |= set(re.findall(r'"((?:BOX|VAULT|AWS|PARAMETERS)_[A-Z0-9_]+)"', path.read_text()))
    used -= {"BOX_AUDIENCE"}  # a constant's name in __all__, not a variable
    assert used <= listed, sorted(used - listed)
    assert listed - used <= {"AWS_MAX_ATTEMPTS"}, sorted(listed - used)  # read by botocore


def test_store_ttl_comes_from_the_environment(monkeypatch, tmp_path: Path, app) -> None:
    from box_secrets.rotation import import_config
    from box_secrets.stores import open_store
    from box_secrets.stores._reader import StoreSource

    uri = f"file://{tmp_path / 's.json'}"
    import_config(open_store(uri), app.config)
    monkeypatch.setenv("BOX_SECRETS_STORE_TTL", "12.5")
    assert StoreSource(uri).ttl == 12.5
    monkeypatch.setenv("BOX_SECRETS_STORE_TTL", "nan")
    with pytest.raises(box_secrets.errors.InputError, match="BOX_SECRETS_STORE_TTL"):
        StoreSource(uri)


def test_clear_caches_resets_providers_and_store_reads(app, tmp_path: Path) -> None:
    from box_secrets.rotation import import_config
    from box_secrets.stores import open_store
    from box_secrets.tokens._process import _providers

    uri = f"file://{tmp_path / 's.json'}"
    import_config(open_store(uri), app.config)
    box_secrets.get_provider(uri, base_url=app.base_url)
    assert _providers
    box_secrets.clear_caches()
    assert not _providers
