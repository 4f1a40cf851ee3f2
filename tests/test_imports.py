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
    for name in (*HEAVY, "urllib3", "cryptography", "jwt", "click"):
        assert name not in mods, name


def test_public_api_is_pinned() -> None:
    assert sorted(box_secrets.__all__) == sorted(
        [
            "AccessToken",
            "BoxAppConfig",
            "BoxAuthError",
            "BoxSecretsError",
            "BoxUnavailableError",
            "ConfigFileSource",
            "ConflictError",
            "KeyRejectedError",
            "KeySource",
            "RSASigner",
            "RotationEngine",
            "Signer",
            "StaticSource",
            "Store",
            "StoreSource",
            "TokenProvider",
            "__version__",
            "access_token",
            "clear_caches",
            "get_provider",
            "open_store",
        ]
    )
    for name in box_secrets.__all__:
        assert getattr(box_secrets, name) is not None


def test_minting_from_a_config_file_loads_no_cloud_sdk(app, tmp_path: Path) -> None:
    path = app.write_config(tmp_path / "box.json")
    mods = loaded_after(
        f"import box_secrets\nbox_secrets.access_token({str(path)!r}, base_url={app.base_url!r})"
    )
    for name in HEAVY:
        assert name not in mods, name
    assert "urllib3" in mods  # the HTTP client loads when a request is made


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
