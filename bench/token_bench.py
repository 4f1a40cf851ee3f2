"""Token minting and caching: box-secrets against box-sdk-gen's BoxJWTAuth, same emulator, same run.

    .venv/bin/python bench/token_bench.py

Prints a Markdown table (docs/benchmarks.md records one run and this command).
"""

from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path

from _common import Emulator, child_seconds, fmt, make_app, per_call, ratio, table, wall_seconds


def first_token(path: str, base_url: str) -> tuple[float, float]:
    ours = child_seconds(
        "import time, urllib3, cryptography.hazmat.primitives.serialization\n"
        "from box_secrets.tokens import TokenProvider\n"
        "t = time.perf_counter()\n"
        f"TokenProvider({path!r}, base_url={base_url!r}).get_token()\n"
        "print(time.perf_counter() - t)\n"
    )
    theirs = child_seconds(
        "import time\n"
        "from box_sdk_gen import BaseUrls, BoxJWTAuth, JWTConfig, NetworkSession\n"
        "t = time.perf_counter()\n"
        f"ns = NetworkSession(base_urls=BaseUrls(base_url={base_url!r}))\n"
        f"BoxJWTAuth(config=JWTConfig.from_config_file({path!r})).retrieve_token(network_session=ns)\n"
        "print(time.perf_counter() - t)\n"
    )
    return ours, theirs


def main() -> None:
    from box_sdk_gen import BaseUrls, BoxJWTAuth, JWTConfig, NetworkSession

    from box_secrets.tokens import TokenProvider

    emu = Emulator()
    try:
        config = make_app(emu)
        tmp = Path(tempfile.mkdtemp())
        path = str(tmp / "box_config.json")
        config.save(path)
        ns = NetworkSession(base_urls=BaseUrls(base_url=emu.base_url))
        rows: list[tuple[str, str, str, str]] = []

        ours_first, theirs_first = first_token(path, emu.base_url)
        rows.append(
            (
                "(a) first token from a config file (fresh process)",
                fmt(ours_first),
                fmt(theirs_first),
                ratio(ours_first, theirs_first),
            )
        )

        provider = TokenProvider(path, base_url=emu.base_url)
        auth = BoxJWTAuth(config=JWTConfig.from_config_file(path))
        provider.get_token()
        auth.retrieve_token(network_session=ns)
        ours_refresh = per_call(provider.refresh, 40)
        theirs_refresh = per_call(lambda: auth.refresh_token(network_session=ns), 40)
        rows.append(
            (
                "(a) refresh: a new token, cache bypassed",
                fmt(ours_refresh),
                fmt(theirs_refresh),
                ratio(ours_refresh, theirs_refresh),
            )
        )

        ours_cached = per_call(provider.get_token, 200_000)
        theirs_cached = per_call(lambda: auth.retrieve_token(network_session=ns), 200_000)
        rows.append(
            (
                "(b) cached token (ours checks expiry; theirs does not)",
                fmt(ours_cached),
                fmt(theirs_cached),
                ratio(ours_cached, theirs_cached),
            )
        )

        def burst(get: object) -> int:
            before = emu.token_requests()
            barrier = threading.Barrier(64)

            def run() -> None:
                barrier.wait()
                get()  # type: ignore[operator]

            threads = [threading.Thread(target=run) for _ in range(64)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            return emu.token_requests() - before

        fresh = TokenProvider(path, base_url=emu.base_url)
        fresh_auth = BoxJWTAuth(config=JWTConfig.from_config_file(path))
        ours_burst = burst(fresh.get_token)
        theirs_burst = burst(lambda: fresh_auth.retrieve_token(network_session=ns))
        rows.append(
            (
                "(c) 64 threads ask at once: token requests to Box",
                str(ours_burst),
                str(theirs_burst),
                f"{theirs_burst - ours_burst} fewer",
            )
        )

        env = {"BOX_API_BASE_URL": emu.base_url}
        python_pass = wall_seconds([sys.executable, "-c", "pass"])
        ours_cli = wall_seconds(
            [sys.executable, "-m", "box_secrets", "token", "--config", path], env=env
        )
        theirs_script = wall_seconds(
            [
                sys.executable,
                "-c",
                "from box_sdk_gen import BaseUrls, BoxJWTAuth, JWTConfig, NetworkSession\n"
                f"ns = NetworkSession(base_urls=BaseUrls(base_url={emu.base_url!r}))\n"
                f"print(BoxJWTAuth(config=JWTConfig.from_config_file({path!r})).retrieve_token("
                "network_session=ns).access_token)",
            ]
        )
        rows.append(
            (
                "(d) one token as a process (wall), minus `python -c pass`",
                fmt(ours_cli - python_pass),
                fmt(theirs_script - python_pass),
                ratio(ours_cli - python_pass, theirs_script - python_pass),
            )
        )
        import_ours = wall_seconds([sys.executable, "-c", "import box_secrets"]) - python_pass
        import_token_path = (
            wall_seconds(
                [sys.executable, "-c", "from box_secrets import TokenProvider, BoxAppConfig"]
            )
            - python_pass
        )
        import_theirs = wall_seconds([sys.executable, "-c", "import box_sdk_gen"]) - python_pass
        rows.append(
            (
                "(d) `import box_secrets` / `import box_sdk_gen`",
                fmt(max(import_ours, 0)),
                fmt(import_theirs),
                ratio(max(import_ours, 1e-4), import_theirs),
            )
        )
        rows.append(
            (
                "(d) import of the token path (TokenProvider, BoxAppConfig)",
                fmt(max(import_token_path, 0)),
                fmt(import_theirs),
                ratio(max(import_token_path, 1e-4), import_theirs),
            )
        )
        rows.append(
            (
                "`python -c pass` on this machine (for scale)",
                fmt(python_pass),
                fmt(python_pass),
                "-",
            )
        )
        print(table("Token module against box-sdk-gen " + _versions(), rows))
    finally:
        emu.stop()


def _versions() -> str:
    from importlib.metadata import version

    return (
        f"(box-secrets {version('box-secrets')}, box-sdk-gen {version('box-sdk-gen')}, "
        f"Python {sys.version.split()[0]})"
    )


if __name__ == "__main__":
    main()
