"""The picture of the layers in docs/architecture.md is the import contract that
`make test` enforces (scripts/check-code.sh runs import-linter), and every app of the
project sits in one of its layers — so a new app cannot slip past the contract."""

import ast
import importlib.util
import pathlib

from django.conf import settings

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _diagram_module():
    spec = importlib.util.spec_from_file_location("layers_diagram", ROOT / "scripts" / "layers-diagram.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_documented_layers_are_the_import_contract():
    diagram = _diagram_module()
    expected = diagram.diagram(diagram.contract())
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert expected in doc, "docs/architecture.md: paste the output of scripts/layers-diagram.py"


def test_every_app_of_the_project_is_in_a_layer():
    diagram = _diagram_module()
    layered = {app for layer in diagram.layers(diagram.contract()) for app in layer}
    apps = {name.removeprefix("jiedao.") for name in settings.INSTALLED_APPS if name.startswith("jiedao.")}
    assert apps - layered == set()


def _public_services():
    """(module path, function) of every public function of a services module."""
    src = ROOT / "src" / "jiedao"
    paths = sorted(src.glob("*/services.py")) + sorted(src.glob("*/services/*.py"))
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                yield path.relative_to(src).as_posix(), node


def test_every_public_service_says_what_it_takes_and_returns():
    """mypy checks the services against these annotations (scripts/check-code.sh); a service
    without them would be checked against nothing."""
    missing = []
    for path, node in _public_services():
        params = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
        bare = [a.arg for a in params if a.annotation is None and a.arg not in ("user", "actor")]
        if bare or node.returns is None:
            missing.append(f"{path}:{node.lineno} {node.name}({', '.join(bare)}){'' if node.returns else ' → ?'}")
    assert missing == []


def test_every_public_service_takes_its_arguments_by_name():
    """A service takes at most one argument by position — the acting user, or the record a
    system job works on — and every other by name, so a call reads as what it asks for and
    two arguments of the same type cannot be swapped unseen."""
    positional = []
    for path, node in _public_services():
        names = [a.arg for a in node.args.posonlyargs + node.args.args]
        if len(names) > 1 or node.args.vararg:
            positional.append(f"{path}:{node.lineno} {node.name}({', '.join(names)})")
    assert positional == []
