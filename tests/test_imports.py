"""Import cost: the package, its token path and its CLI never load what they do not use."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import box_secrets

HEAVY = ("boto3", "botocore", "hvac", "box_sdk_gen")


def loaded_after(code: str) -> set[str]:
    probe = code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_import_box_secrets_is_cheap() -> None:
    mods = loaded_after("import box_secrets")
    for name in (*HEAVY, "urllib3", "http.client", "ssl", "cryptography", "jwt", "click"):
        assert name not in mods, name


def test_public_api_is_pinned() -> None:
    assert sorted(box_secrets.__all__) == sorted(
        [
            "AccessToken",
            "BoxAppConfig",
            "BoxAuthError",
            "BoxError",
            "BoxResponseError",
            "BoxSecretsError",
            "BoxUnavailableError",
            "ConfigError",
            "ConfigFileSource",
            "ConflictError",
            "InputError",
            "InvalidTransitionError",
            "KeyMaterial",
            "KeyRejectedError",
            "KeySource",
            "MissingExtraError",
            "NoActiveKeyError",
            "NotifyError",
            "PersonNeededError",
            "RSASigner",
            "RetryPolicy",
            "RotationEngine",
            "Signer",
            "SignerError",
            "SignerUnavailableError",
            "StaticSource",
            "Store",
            "StoreAccessDeniedError",
            "StoreCorruptError",
            "StoreError",
            "StoreNotFoundError",
            "StoreSource",
            "StoreURIError",
            "StoreUnavailableError",
            "TokenProvider",
            "__version__",
            "access_token",
            "clear_caches",
            "get_provider",
            "open_store",
            "signer_for",
        ]
    )
    for name in box_secrets.__all__:
        assert getattr(box_secrets, name) is not None


def test_minting_from_a_config_file_loads_no_cloud_sdk(app, tmp_path: Path) -> None:
    path = app.write_config(tmp_path / "box.json")
    mods = loaded_after(
        f"import box_secrets\nbox_secrets.access_token({str(path)!r}, base_url={app.base_url!r})"
    )
    for name in (*HEAVY, "urllib3"):
        assert name not in mods, name
    assert "http.client" in mods  # the HTTP client loads when a request is made


def test_cli_token_loads_no_cloud_sdk(app, tmp_path: Path) -> None:
    path = app.write_config(tmp_path / "box.json")
    code = (
        "import sys\nfrom box_secrets.cli import cli\n"
        f"sys.argv=['box-secrets','--box-base-url',{app.base_url!r},'token','--config',{str(path)!r}]\n"
        "try:\n    cli.main(standalone_mode=False)\nexcept SystemExit:\n    pass\n"
    )
    mods = loaded_after(code)
    for name in HEAVY:
        assert name not in mods, name


def test_the_whole_error_tree_is_exported() -> None:
    from box_secrets import errors

    for name in errors.__all__:
        assert getattr(box_secrets, name) is getattr(errors, name), name


def test_no_import_cycles_between_modules() -> None:
    """Module imports (function-level ones included) form no cycle, TYPE_CHECKING aside."""
    import ast
    import itertools

    root = Path(box_secrets.__file__).parent
    graph: dict[str, set[str]] = {}
    for path in root.rglob("*.py"):
        rel = path.relative_to(root.parent).with_suffix("")
        name = ".".join(rel.parts).removesuffix(".__init__")
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        tree = ast.parse(path.read_text())
        skip = {
            id(n)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for n in ast.walk(node)
        }
        edges: set[str] = set()
        for node in ast.walk(tree):
            if id(node) in skip or not isinstance(node, ast.ImportFrom) or not node.level:
                continue
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            target = f"{base}.{node.module}" if node.module else base
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                edges.add(
                    sub
                    if (root.parent / sub.replace(".", "/")).with_suffix(".py").exists()
                    else target
                )
        graph[name] = {e for e in edges if e != name}

    def cycle_from(start: str) -> list[str] | None:
        stack, seen = [(start, [start])], set()
        while stack:
            node, trail = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start:
                    return [*trail, nxt]
                # a package importing its own submodules (registration) is not a cycle
                if nxt not in seen and not nxt.startswith(start + "."):
                    seen.add(nxt)
                    stack.append((nxt, [*trail, nxt]))
        return None

    cycles = [
        c
        for m in graph
        if (c := cycle_from(m))
        and not any(
            a.startswith(b + ".") or b.startswith(a + ".") for a, b in itertools.pairwise(c)
        )
    ]
    assert not cycles, cycles[0]


def test_the_store_read_path_loads_no_writers_model() -> None:
    mods = loaded_after("from box_secrets.stores._reader import StoreSource")
    for name in (
        "box_secrets.stores._record",
        "box_secrets.stores._document",
        "box_secrets.rotation",
    ):
        assert name not in mods, name


def test_the_token_path_loads_no_store_classes() -> None:
    # tokens imports stores._config, which imports the stores package: its faces load lazily.
    mods = loaded_after("import box_secrets.tokens")
    for name in ("box_secrets.stores._base", "box_secrets.stores._open"):
        assert name not in mods, name
    from box_secrets.stores import Store, open_store

    assert callable(open_store) and isinstance(Store, type)


def test_clear_caches_reaches_every_module_cache() -> None:
    """Every module-level cache joined the one registry; clearing empties each of them."""
    import box_secrets
    from box_secrets import _aws, tokens
    from box_secrets._support import caches as _caches
    from box_secrets._support import http as _http
    from box_secrets.stores import _file, _reader, _sm_extension

    for reset in (
        _reader.clear_cache,
        tokens.clear_providers,
        _http.reset_default_client,
        _file.forget_warnings,
        _aws.reset_clients,
        _sm_extension.forget_absence,
    ):
        assert reset in _caches._RESETS, reset.__name__
    _aws._clients[("x",)] = object()
    _sm_extension._absent = True
    box_secrets.clear_caches()
    assert not _aws._clients and _sm_extension._absent is False
