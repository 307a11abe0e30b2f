"""Print the layers of the code as a Mermaid diagram, read from the import contract in
pyproject.toml ([tool.importlinter], contract "layers") — the diagram in docs/architecture.md
is this output, and tests/test_architecture.py fails when the two differ.

    .venv/bin/python scripts/layers-diagram.py
"""

import pathlib
import re
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent

# What each layer is, in the words of docs/architecture.md.
TITLES = [
    "pages, API, commands, demo",
    "domain apps",
    "the case loop",
    "duty list and places",
    "people, calendar, messages",
    "platform",
]


def contract(pyproject=ROOT / "pyproject.toml"):
    config = tomllib.loads(pathlib.Path(pyproject).read_text(encoding="utf-8"))
    return next(c for c in config["tool"]["importlinter"]["contracts"] if c["id"] == "layers")


def layers(layers_contract):
    """The layers of the contract, top first, each a list of app names."""
    return [
        [name.strip("() ").removeprefix("jiedao.") for name in re.split(r"[|:]", layer)]
        for layer in layers_contract["layers"]
    ]


def page_modules(layers_contract):
    """The modules of every app that sit on the top layer (``jiedao.*.views -> jiedao.**``)."""
    names = []
    for rule in layers_contract.get("ignore_imports", []):
        match = re.fullmatch(r"jiedao\.\*\.(\w+)(?:\.\*\*)? -> jiedao\.\*\*", rule)
        if match and match.group(1) not in names:
            names.append(match.group(1))
    return names


def diagram(layers_contract):
    rows = layers(layers_contract)
    lines = ["```mermaid", "flowchart TB"]
    for i, apps in enumerate(rows):
        title = TITLES[i] if i < len(TITLES) else f"layer {i + 1}"
        members = " · ".join(apps)
        if i == 0:
            members += "<br/>every app's " + " · ".join(page_modules(layers_contract))
        lines.append(f'    L{i}["<b>{title}</b><br/>{members}"]')
    for i in range(len(rows) - 1):
        lines.append(f"    L{i} --> L{i + 1}")
    lines.append("```")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(diagram(contract()) + "\n")
