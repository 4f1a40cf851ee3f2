"""The inputs and outputs tables of each module's README, from its variables.tf and outputs.tf.

    .venv/bin/python -m tests.terraform_docs   # rewrite the tables (make terraform-docs)

tests/test_terraform.py fails when a README's tables differ from what this
renders, so a README never drifts from the module.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted((ROOT / "terraform" / "modules").iterdir())
BEGIN, END = "<!-- generated: inputs and outputs -->", "<!-- end generated -->"


def _unquote(value: Any) -> Any:
    """python-hcl2 keeps HCL's quotes and ${} wrappers; take them off."""
    if isinstance(value, str):
        if len(value) >= 2 and value[0] == value[-1] == '"':
            return json.loads(value) if "\\" in value else value[1:-1]
        if value.startswith("${") and value.endswith("}"):
            return value[2:-1]
    if isinstance(value, list):
        return [_unquote(v) for v in value]
    if isinstance(value, dict):
        return {_unquote(k): _unquote(v) for k, v in value.items() if k != "__is_block__"}
    return value


def blocks(path: Path, kind: str) -> dict[str, dict[str, Any]]:
    import hcl2

    with path.open() as f:
        parsed = hcl2.load(f)
    out: dict[str, dict[str, Any]] = {}
    for block in parsed.get(kind, []):
        for name, body in block.items():
            out[_unquote(name)] = _unquote(body)
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _default(body: dict[str, Any]) -> str:
    if "default" not in body:
        return "required"
    value = body["default"]
    if value is None or value == "null":
        return "`null`"
    return f"`{json.dumps(value)}`"


def tables(module: Path) -> str:
    inputs = blocks(module / "variables.tf", "variable")
    outputs = blocks(module / "outputs.tf", "output")
    lines = [
        BEGIN,
        "",
        "## Inputs",
        "",
        "| name | type | default | description |",
        "|---|---|---|---|",
    ]
    for name, body in inputs.items():
        kind = str(body.get("type", "any"))
        lines.append(
            f"| `{name}` | `{_cell(kind)}` | {_cell(_default(body))} | "
            f"{_cell(str(body.get('description', '')))} |"
        )
    lines += ["", "## Outputs", "", "| name | description |", "|---|---|"]
    for name, body in outputs.items():
        lines.append(f"| `{name}` | {_cell(str(body.get('description', '')))} |")
    lines += ["", END]
    return "\n".join(lines)


def render(module: Path) -> str:
    """The module's README with its generated tables replaced."""
    text = (module / "README.md").read_text()
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return head + tables(module) + tail


if __name__ == "__main__":
    for module in MODULES:
        (module / "README.md").write_text(render(module))
        print(f"wrote {module.relative_to(ROOT)}/README.md")
