"""Build the AWS Lambda package: ``make lambda-zip`` (``python -m box_secrets._lambda_zip``).

The zip holds box-secrets and its dependencies as manylinux wheels for the
Lambda runtime (``--python``, default 3.12; ``--arch`` x86_64 or arm64),
pinned by ``constraints.txt`` in a clone (installed from a wheel, with no
clone: ``python -m box_secrets._lambda_zip``, the newest releases the
requirements allow). boto3 and botocore are left out: the runtime
provides them. The same inputs give a byte-identical zip (sorted entries, a
fixed timestamp and modes, no bytecode, no build paths), so Terraform does
not redeploy for nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
#: Lambda provides these; bundling them only adds megabytes.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six")
#: Not needed to run the handler or mint tokens.
LEFT_OUT = (
    "box_secrets/emulator",
    "box_secrets/_demo.py",
    "box_secrets/_lambda_zip.py",
    "box_secrets/_docs",
    "box_secrets/_terraform_modules",
)
_PLATFORMS = {
    "x86_64": ("manylinux2014_x86_64", "manylinux_2_28_x86_64"),
    "arm64": ("manylinux2014_aarch64", "manylinux_2_28_aarch64"),
}
_EPOCH = (1980, 1, 1, 0, 0, 0)


def _requirements(extras: list[str]) -> list[str]:
    """The installed project's requirements: the core ones and those of ``extras``."""
    from importlib.metadata import requires

    reqs = []
    for line in requires("box-secrets") or []:
        spec, _, marker = line.partition(";")
        extra = marker.split("extra ==")[-1].strip().strip("'\"") if "extra ==" in marker else None
        if extra is None or extra in extras:
            reqs.append(spec.strip())
    return reqs


def _pip_target(python: str, arch: str) -> list[str]:
    args = ["--only-binary=:all:", "--implementation", "cp"]
    args += ["--python-version", python, "--abi", f"cp{python.replace('.', '')}"]
    for platform in _PLATFORMS[arch]:
        args += ["--platform", platform]
    return args


def _pins(extras: list[str]) -> list[str]:
    constraints = ROOT / "constraints.txt"  # a clone's pins; a wheel install has none
    pinned = ["-c", str(constraints)] if constraints.is_file() else []
    return [*pinned, *_requirements(extras)]


def _install(target: Path, python: str, arch: str, extras: list[str], wheels: Path) -> None:
    """Install from the fetched wheels only (no index), then add box-secrets itself."""
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", "--no-index"]
    cmd += ["--find-links", str(wheels), "--target", str(target), *_pip_target(python, arch)]
    subprocess.run([*cmd, *_pins(extras)], check=True)  # noqa: S603 - our own pip, fixed arguments
    shutil.copytree(
        PACKAGE,
        target / "box_secrets",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )


def _prune(target: Path) -> None:
    for entry in list(target.iterdir()):
        name = entry.name.lower()
        top = name.split("-")[0]
        if top in RUNTIME_PROVIDED or name in ("bin", "__pycache__"):
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    for name in LEFT_OUT:
        full = target / name
        if full.is_dir():
            shutil.rmtree(full)
        elif full.exists():
            full.unlink()
    for path in list(target.rglob("*")):
        # Bytecode and install records hold build-time facts (paths, the installer).
        if path.is_dir() and path.name == "__pycache__":
            shutil.rmtree(path)
        elif path.is_file() and (
            path.suffix == ".pyc" or path.name in ("RECORD", "INSTALLER", "direct_url.json")
        ):
            path.unlink()


def _zip(source: Path, out: Path) -> None:
    files = sorted(
        (p for p in source.rglob("*") if p.is_file()),
        key=lambda p: p.relative_to(source).as_posix(),
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), date_time=_EPOCH)
            executable = path.stat().st_mode & stat.S_IXUSR or path.suffix == ".so"
            info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
            info.create_system = 3  # unix, whatever machine builds it
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes(), compresslevel=9)
    os.replace(tmp, out)


def build(
    out: Path,
    *,
    python: str = "3.12",
    arch: str = "x86_64",
    extras: list[str],
    wheels: Path | None = None,
) -> int:
    """Build the zip at ``out``; returns its size in bytes.

    ``wheels``: a directory already holding the wheels of an earlier build with
    the same inputs (nothing is downloaded then).
    """
    if arch not in _PLATFORMS:
        raise SystemExit(f"ARCH must be x86_64 or arm64, not {arch!r}")
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "package"
        if wheels is None:
            wheels = Path(tmp) / "wheels"
            fetch(wheels, python=python, arch=arch, extras=extras)
        _install(target, python, arch, extras, wheels)
        _prune(target)
        _zip(target, out)
    return out.stat().st_size


def fetch(wheels: Path, *, python: str = "3.12", arch: str = "x86_64", extras: list[str]) -> None:
    """Download the wheels a build needs into ``wheels`` (for later offline builds)."""
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--dest", str(wheels)]
    subprocess.run([*cmd, *_pip_target(python, arch), *_pins(extras)], check=True)  # noqa: S603


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="dist/box-secrets-lambda.zip")
    parser.add_argument("--python", default="3.12", help="the Lambda runtime's Python version")
    parser.add_argument("--arch", default="x86_64", choices=sorted(_PLATFORMS))
    parser.add_argument(
        "--extras", default="vault", help="comma-separated extras to bundle (default: vault)"
    )
    args = parser.parse_args()
    extras = [e for e in args.extras.split(",") if e]
    size = build(Path(args.out), python=args.python, arch=args.arch, extras=extras)
    print(f"{args.out}: {size / 1e6:.1f} MB (python{args.python}, {args.arch})")  # noqa: T201


if __name__ == "__main__":
    main()
