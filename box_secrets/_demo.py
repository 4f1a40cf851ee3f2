"""``make demo``: a key's whole life, against the local Box emulator and a file store.

Every step runs the real ``box-secrets`` command and prints it with its
output. Where Box needs a person (adding or deleting a public key in the
Developer Console), the demo plays that person through the emulator's console
API and says so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from box_secrets.emulator._console import Console

WORK = Path.cwd() / "demo-work"
STORE = f"file:{WORK / 'box_config.json'}"
EXIT_MEANING = {0: "done", 1: "failure", 2: "bad input", 3: "waiting for a person"}
_step = 0


def say(title: str) -> None:
    global _step
    _step += 1
    print(f"\n\033[1m{_step}. {title}\033[0m")


def person(text: str) -> None:
    print(f"   \033[36m[person in the Box Developer Console]\033[0m {text}")


def run(
    *args: str,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    expect: tuple[int, ...] = (0,),
    show: int = 40,
    secret_output: bool = False,
) -> str:
    shown = " ".join(["box-secrets", *args])
    print(f"   $ {shown}")
    proc = subprocess.run(
        [sys.executable, "-m", "box_secrets", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        input=stdin,
        timeout=120,
    )
    out = proc.stdout.rstrip()
    if secret_output and out:
        out = "\n".join(_shorten_token(line) for line in out.splitlines())
    lines = out.splitlines()
    for line in lines[:show]:
        print(f"   | {line}".rstrip())
    if len(lines) > show:
        print(f"   | ... ({len(lines) - show} more lines)")
    if proc.stderr.strip():
        print(textwrap.indent(proc.stderr.rstrip(), "   ! "))
    print(f"   (exit {proc.returncode}: {EXIT_MEANING.get(proc.returncode, '?')})")
    if proc.returncode not in expect:
        raise SystemExit(f"demo failed at: {shown}")
    return proc.stdout


def _shorten_token(line: str) -> str:
    # The command prints the whole token (that is its job); the demo need not.
    start = line.find("1!")
    if start < 0:
        return line
    end = start + 12
    return (
        line[:end] + "...(shortened by the demo)" + ('",' if line.rstrip().endswith('",') else "")
    )


def status(env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "box_secrets", "status", "--store", STORE, "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=True,
    ).stdout
    data: dict[str, Any] = json.loads(out)
    return data


def main() -> None:
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir()
    print("box-secrets demo: a Box JWT key pair's whole life, with no Box account.")
    print(f"Store: {STORE} (the embedded default). Box: the local emulator.")

    say("Start the local Box emulator")
    print("   $ box-secrets emulator    (in the background; it prints one JSON line)")
    emulator = subprocess.Popen(
        [sys.executable, "-m", "box_secrets", "emulator"], stdout=subprocess.PIPE, text=True
    )
    try:
        line = emulator.stdout.readline()  # type: ignore[union-attr]
        base_url = json.loads(line)["base_url"]
        print(f"   | {line.strip()}")
        walk(base_url)
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
    print(
        "\nDone. Everything above ran the real commands; see `box-secrets help runbook` "
        "for the real console."
    )


def walk(base_url: str) -> None:
    console = Console(base_url)
    env = {"BOX_API_BASE_URL": base_url}

    say("Create a Box app (a Platform app with server authentication, JWT)")
    app = console.create_app()
    person(f"created app {app['client_id']} in enterprise {app['enterprise_id']}; no key yet")
    env["BOX_CLIENT_SECRET"] = app["client_secret"]

    say("Initialise the store: generate a first key pair and ask a person to register it")
    run(
        "init",
        "--store",
        STORE,
        "--client-id",
        app["client_id"],
        "--client-secret-env",
        "BOX_CLIENT_SECRET",
        "--enterprise-id",
        app["enterprise_id"],
        env=env,
        expect=(3,),
        show=30,
    )

    say("The person registers the public key at Box")
    pem = status(env)["pending"]["public_key_pem"]
    kid1 = console.add_key(app["client_id"], pem)
    person(f"Configuration > Add a Public Key > pasted the key > Box shows key ID {kid1}")
    run("register", "--store", STORE, "--public-key-id", kid1, env=env)
    run("rotate", "--store", STORE, env=env)

    say("Mint an enterprise token (what a service or Lambda does)")
    run("token", "--store", STORE, env=env, secret_output=True)

    say("Mint a token as an app user")
    uid = console.create_user(app["client_id"], "Demo App User")
    person(f"created app user {uid}")
    run("token", "--store", STORE, "--as-user", uid, "--json", env=env, secret_output=True)

    say("Downscope a token to one file, then revoke it")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "box_secrets",
            "token",
            "--store",
            STORE,
            "--scope",
            "item_preview",
            "--resource",
            "https://api.box.com/2.0/files/123",
            "--json",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=True,
    ).stdout
    scoped = json.loads(out)
    print(
        "   $ box-secrets token --store ... --scope item_preview "
        "--resource https://api.box.com/2.0/files/123 --json"
    )
    print(f"   | restricted_to: {json.dumps(scoped['restricted_to'])}")
    print(f"   | expires_at: {scoped['expires_at']}")
    run("revoke", "--store", STORE, stdin=scoped["access_token"], env=env)

    say("Rotate: stage a new key pair now (normally when the key reaches 90 days)")
    run("rotate", "--store", STORE, "--force", env=env, expect=(3,), show=30)

    say("The person registers the new public key at Box (the app now holds two keys)")
    pem = status(env)["pending"]["public_key_pem"]
    kid2 = console.add_key(app["client_id"], pem)
    person(f"added the new key; Box shows key ID {kid2}")
    run("register", "--store", STORE, "--public-key-id", kid2, env=env)

    say("Verify the new key with Box and promote it (readers switch over; the old key still works)")
    run("rotate", "--store", STORE, env=env, show=20)
    run("token", "--store", STORE, env=env, secret_output=True)
    run("status", "--store", STORE, env=env)

    say("The person removes the old key at Box")
    console.delete_key(app["client_id"], kid1)
    person(f"deleted public key {kid1}")

    say("Retire the old key: Box refuses it now, so its private key is destroyed")
    run("rotate", "--store", STORE, env=env)
    run("status", "--store", STORE, "--check", env=env)


if __name__ == "__main__":
    main()
