"""``box-secrets help [TOPIC]``: the documentation, shipped with the package.

A wheel carries docs/ as ``box_secrets/_docs`` (see pyproject.toml's
force-include), so people without a clone read the same pages that error
messages point at; in a checkout the pages are read from docs/ itself.
"""

from __future__ import annotations

import os

import click

from box_secrets.cli._group import cli

__all__ = ["docs_dir", "topics"]


def docs_dir() -> str | None:
    """Where the pages are: inside the installed package, else the checkout's docs/."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for candidate in (os.path.join(package, "_docs"), os.path.join(package, "..", "docs")):
        if os.path.isfile(os.path.join(candidate, "concepts.md")):
            return os.path.normpath(candidate)
    return None


def topics() -> list[str]:
    where = docs_dir()
    if where is None:
        return []
    return sorted(name[:-3] for name in os.listdir(where) if name.endswith(".md"))


@cli.command("help")
@click.argument("topic", required=False)
def help_cmd(topic: str | None) -> None:
    """Print a documentation page (the same text as docs/TOPIC.md); no TOPIC lists them.

    \b
    Examples:
      box-secrets help             # the topics
      box-secrets help runbook     # what a person does in the Box Developer Console
    """
    known = topics()
    if not known:
        raise click.ClickException("the documentation is not installed with this copy")
    if topic is None:
        click.echo("Topics (box-secrets help TOPIC):")
        for name in known:
            click.echo(f"  {name}")
        return
    name = topic.removesuffix(".md").lower()
    if name not in known:
        raise click.UsageError(f"no topic {topic[:40]!r}; choose one of {', '.join(known)}")
    where = docs_dir()
    assert where is not None
    with open(os.path.join(where, f"{name}.md"), encoding="utf-8") as fh:
        click.echo(fh.read().rstrip("\n"))
