"""Every command reads and behaves the same: help with examples that parse, one sentence for a
missing store, help texts that match what the command really prints."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from box_secrets.cli import cli

from .helpers import assert_clean_error, run_cli


def _commands(group: click.Group = cli, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))


COMMANDS = sorted(_commands())


def _rest(ctx: click.Context) -> list[str]:
    """A group context's unparsed words (click 8 keeps the subcommand in protected_args)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return [*getattr(ctx, "protected_args", []), *ctx.args]


def _help(path: tuple[str, ...]) -> str:
    group: click.Command = cli
    ctx = click.Context(cli, info_name="box-secrets")
    for name in path:
        assert isinstance(group, click.Group)
        sub = group.get_command(ctx, name)
        assert sub is not None
        ctx = click.Context(sub, info_name=name, parent=ctx)
        group = sub
    return group.get_help(ctx)


def _examples(text: str) -> list[list[str]]:
    """The example command lines of a help text, joined across backslash continuations."""
    block = text.split("Example", 1)[1] if "Example" in text else ""
    joined = re.sub(r"\\\n\s*", " ", block)
    out = []
    for raw in joined.splitlines():
        line = raw.split("#", 1)[0].strip()
        if "box-secrets " not in line:
            continue
        # In a pipeline, the last box-secrets command is the one this help is about.
        segment = [s for s in line.split(" | ") if "box-secrets " in s][-1]
        words = shlex.split(segment)
        words = [w for w in words if w != "&"]
        out.append(words[words.index("box-secrets") + 1 :])
    return out


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_has_examples_that_parse(path: tuple[str, ...]) -> None:
    text = _help(path)
    command = cli
    for name in path:
        command = command.get_command(click.Context(command), name)  # type: ignore[union-attr,assignment]
    if isinstance(command, click.Group):
        return  # a group lists its commands; each has its own examples
    examples = _examples(text)
    assert examples, f"box-secrets {' '.join(path)} --help has no example"
    for words in examples:
        if words[0] == "terraform":  # the program reads stdin; its operations are checked below
            assert words[1] in ("status", "public-key", "token")
            continue
        # Parse as click would, down to the command: an unknown option fails here.
        ctx = cli.make_context("box-secrets", list(words), resilient_parsing=False)
        current: click.Command = cli
        args = _rest(ctx)
        while isinstance(current, click.Group):
            name, sub, args = current.resolve_command(ctx, args)
            assert sub is not None, words
            ctx = sub.make_context(name or "", list(args), parent=ctx)
            current = sub
            args = _rest(ctx)
        assert current.name == path[-1], (words, path)


def test_the_command_list_shows_whole_summaries() -> None:
    text = _help(())
    listing = text.split("Commands:", 1)[1]
    assert not any(line.rstrip().endswith("...") for line in listing.splitlines()), listing


@pytest.mark.parametrize(
    "args",
    [
        ["status"],
        ["rotate"],
        ["register", "--public-key-id", "123"],
        ["retire"],
        ["store", "show"],
        ["store", "import", "--config", "x.json"],
        ["init", "--config", "x.json"],
    ],
    ids=" ".join,
)
def test_a_missing_store_is_one_sentence_everywhere(args: list[str]) -> None:
    proc = run_cli(*args)
    err = assert_clean_error(proc, 2)
    assert "say which store: --store URI (or set BOX_SECRETS_STORE)" in err, err
    help_text = " ".join(run_cli(*args, "--help").stdout.split())
    store_line = help_text.split("--store URI", 1)[1].split(" --", 1)[0]
    assert "[required]" not in store_line and "BOX_SECRETS_STORE" in store_line


def test_token_json_help_names_the_fields_it_prints(app, tmp_path: Path) -> None:
    cfg = app.write_config(tmp_path / "c.json")
    env = {"BOX_API_BASE_URL": app.base_url}
    proc = run_cli("token", "--config", str(cfg), "--scope", "item_preview", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    printed = set(json.loads(proc.stdout))
    help_text = " ".join(run_cli("token", "--help").stdout.split())
    described = help_text.split("--json Print JSON", 1)[1].split("--cache-dir", 1)[0]
    named = set(re.findall(r"[a-z]+_[a-z_]+", described))
    assert printed <= named, printed - named


def test_verbose_logs_token_and_rotate_steps(app, tmp_path: Path) -> None:
    cfg = app.write_config(tmp_path / "c.json")
    env = {"BOX_API_BASE_URL": app.base_url}
    token = run_cli("-v", "token", "--config", str(cfg), env=env)
    assert "INFO box_secrets.tokens: minted a token" in token.stderr, token.stderr
    store = f"file:{tmp_path / 's.json'}"
    assert run_cli("init", "--config", str(cfg), "--store", store, env=env).returncode == 0
    rotate = run_cli("-v", "rotate", "--store", store, env=env)
    assert "INFO box_secrets.rotation:" in rotate.stderr, rotate.stderr


@pytest.mark.parametrize("operation", ["status", "public-key", "token"])
def test_terraform_operation_help_is_the_operations_own(operation: str) -> None:
    proc = run_cli("terraform", operation, "--help")
    assert proc.returncode == 0
    assert proc.stdout.startswith(f"Usage: box-secrets terraform {operation}")
    assert "Query keys" in proc.stdout and "store" in proc.stdout


def test_a_closed_pipe_is_not_an_internal_error() -> None:
    import subprocess
    import sys

    # `true` reads nothing and exits at once: every write meets a closed pipe.
    proc = subprocess.run(
        f"{sys.executable} -m box_secrets help stores | true",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.stderr == "", proc.stderr
