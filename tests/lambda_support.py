"""What the Lambda tests share: rotation switched on in moto, and an invocation relay.

Secrets Manager rotation needs a Lambda function to exist; moto keeps one
without running it. ``Relay`` is the other half of tests/services.py's
patched moto: moto POSTs each invocation here and the real handler runs in
the test process, stopping a rotation at its first failed step as AWS does.
"""

from __future__ import annotations

import glob
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import warnings
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3

from box_secrets.aws_lambda import handler


def aws(service: str, moto_url: str) -> Any:
    # A new session each time: the default one caches the credentials it first saw.
    return boto3.Session().client(service, endpoint_url=moto_url, region_name="us-east-1")


def rotation_function(moto_url: str, name: str = "box-secrets-rotation") -> str:
    """A Lambda function moto knows about (it never runs its code); returns its ARN."""
    lam = aws("lambda", moto_url)
    try:
        return str(lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"])
    except lam.exceptions.ResourceNotFoundException:
        pass
    role = aws("iam", moto_url).create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")[
        "Role"
    ]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("placeholder.py", "")
    return str(
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="box_secrets.aws_lambda.handler",
            Code={"ZipFile": buf.getvalue()},
        )["FunctionArn"]
    )


def start_rotation(moto_url: str, secret_id: str, function_arn: str | None = None) -> str:
    """Switch rotation on (moto creates the AWSPENDING placeholder); the new version's token."""
    sm = aws("secretsmanager", moto_url)
    before = set(sm.describe_secret(SecretId=secret_id).get("VersionIdsToStages", {}))
    sm.rotate_secret(
        SecretId=secret_id,
        RotationLambdaARN=function_arn or rotation_function(moto_url),
        RotationRules={"AutomaticallyAfterDays": 30},
    )
    labels = sm.describe_secret(SecretId=secret_id)["VersionIdsToStages"]
    (token,) = [v for v, s in labels.items() if "AWSPENDING" in s and v not in before]
    return str(token)


def labels(moto_url: str, secret_id: str) -> dict[str, list[str]]:
    """Secrets Manager's own labels (AWSCURRENT, AWSPENDING, AWSPREVIOUS) per version."""
    stages = aws("secretsmanager", moto_url).describe_secret(SecretId=secret_id)
    out = {
        v: sorted(x for x in s if x.startswith("AWS"))
        for v, s in stages.get("VersionIdsToStages", {}).items()
    }
    return {v: s for v, s in out.items() if s}


def holder(moto_url: str, secret_id: str, label: str) -> str | None:
    found = [v for v, s in labels(moto_url, secret_id).items() if label in s]
    assert len(found) <= 1
    return found[0] if found else None


class Relay:
    """Runs the handler for each invocation moto relays; remembers what happened."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []  # (step, outcome or error class)
        self._failed: set[str] = set()
        self._lock = threading.Lock()
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                relay.invoke(event)
                body = b'"ok"'
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/invoke"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def invoke(self, event: dict[str, Any]) -> None:
        token = event.get("ClientRequestToken", "")
        with self._lock:
            if token in self._failed:  # AWS stops a rotation at its first failed step
                return
        try:
            result = handler(event, None)
            outcome = str(result.get("outcome"))
        except Exception as exc:
            outcome = type(exc).__name__
            with self._lock:
                self._failed.add(token)
        with self._lock:
            self.calls.append((str(event.get("Step")), outcome))

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


#: The Python of the Lambda runtime the package is built for.
RUNTIME = "3.12"


def runtime_python() -> tuple[str, str]:
    """(python executable, its version) for the Lambda runtime, or the running one."""
    candidates = [shutil.which(f"python{RUNTIME}") or ""]
    candidates += sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{RUNTIME}*/bin/python3")))
    for exe in candidates:
        if exe and subprocess.run([exe, "-c", "pass"], capture_output=True).returncode == 0:
            return exe, RUNTIME
    current = f"{sys.version_info.major}.{sys.version_info.minor}"
    warnings.warn(
        f"no Python {RUNTIME} here: the Lambda zip was built and run for Python {current}",
        stacklevel=2,
    )
    return sys.executable, current
