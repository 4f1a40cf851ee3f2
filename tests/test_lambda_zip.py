"""The Lambda package: built by ``make lambda-zip``'s builder, reproducible, and runnable alone.

The zip is unpacked into a clean directory and the handler runs from it under
the Lambda runtime's Python (3.12) with nothing else on the path but boto3,
which the runtime provides. Where no Python 3.12 exists on this machine the
zip is built for the running Python instead, and the run says so.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
import zipfile
from pathlib import Path

import pytest

from box_secrets import _lambda_zip

from .helpers import make_store_uri
from .lambda_support import runtime_python
from .rotation_support import new_rig


@pytest.fixture(scope="module")
def built(lambda_package) -> tuple[Path, str, Path, str]:  # type: ignore[no-untyped-def]
    out, wheels, version = lambda_package
    exe, _ = runtime_python()
    return out, exe, wheels, version


def test_the_zip_holds_what_lambda_needs_and_nothing_else(built) -> None:
    out, _, _, _ = built
    names = zipfile.ZipFile(out).namelist()
    assert names == sorted(names)
    tops = {n.split("/")[0] for n in names}
    assert {"box_secrets", "cryptography", "jwt", "click", "urllib3", "hvac"} <= tops
    for absent in ("boto3", "botocore", "tests", "bin"):
        assert absent not in tops
    assert not [n for n in names if n.startswith("box_secrets/emulator/")]
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]
    assert out.stat().st_size < 10_000_000
    for info in zipfile.ZipFile(out).infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0)


def test_the_same_inputs_give_the_same_bytes(built, tmp_path) -> None:
    out, _, wheels, version = built
    again = tmp_path / "again.zip"
    # Same wheels, a fresh install and zip: everything the build itself decides.
    _lambda_zip.build(again, python=version, extras=["vault"], wheels=wheels)
    assert again.read_bytes() == out.read_bytes()


def test_the_handler_runs_from_the_unpacked_zip(built, tmp_path, moto, make_app) -> None:
    out, exe, _, _ = built
    package = tmp_path / "task"
    zipfile.ZipFile(out).extractall(package)
    # What the runtime adds: boto3 and its dependencies, nothing of ours.
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    import boto3
    import botocore

    site = Path(boto3.__file__).parent.parent
    for name in ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py"):
        os.symlink(site / name, runtime / name)
    assert Path(botocore.__file__).parent.parent == site
    app = make_app()
    rig = new_rig(make_store_uri("aws", tmp_path, moto, None), lambda: app)
    rig.engine.advance(force=True)
    script = textwrap.dedent(
        f"""
        import json, sys
        sys.path[:0] = [{str(package)!r}, {str(runtime)!r}]
        from box_secrets.aws_lambda import handler
        result = handler({{"stores": [{rig.uri!r}]}}, None)
        import box_secrets, cryptography, boto3
        print(json.dumps({{
            "result": result,
            "ours": box_secrets.__file__,
            "cryptography": cryptography.__file__,
            "boto3": boto3.__file__,
            "version": sys.version_info[:2],
        }}))
        """
    )
    env = {
        "PATH": os.environ["PATH"],
        "BOX_API_BASE_URL": app.base_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "box-secrets-rotation",
        "BOX_SECRETS_METRICS": "0",
        "BOX_SECRETS_STORES": rig.uri,
    }
    proc = subprocess.run(
        [exe, "-S", "-c", script], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["ours"].startswith(str(package))
    assert report["cryptography"].startswith(str(package))
    assert report["boto3"].startswith(str(runtime))
    summary = report["result"]["stores"][0]
    assert summary["ok"] and summary["state"] == "staged" and summary["person_needed"]
    rig.check()
