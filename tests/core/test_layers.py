"""Imports flow one way: vocabulary <- config <- core <- catalogue <- identity <- capabilities <- inventory <-
platform, and capabilities meet only through core and the shared config document (components/config/). The
policy pack imports nothing of the program: `pulumi preview --policy-pack policy` loads it alone."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# the vocabulary depends on nothing: every layer may name a label (config defaults do too)
RANK = {"vocabulary": -1, "config": 0, "core": 1, "catalogue": 2, "identity": 3, "capability": 4, "inventory": 5}
RANK["platform"] = 6
SHARED = ("config", "core", "catalogue", "identity", "inventory", "platform")


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> tuple[str, str]:
    """(layer, package) of a components module; a capability's config.py belongs to the config layer (the
    document composes it) but still to its capability's package."""
    parts = module.split(".")
    package = parts[1] if len(parts) > 1 else ""
    if module == "components.core.vocabulary":
        return "vocabulary", "core"
    if package == "config" or parts[-1] == "config":
        return "config", package
    if package in SHARED:
        return package, package
    return "capability", package


def runtime_imports(path: Path) -> Iterator[str]:
    """Modules imported at run time (imports under `if TYPE_CHECKING:` are for the type checker only); a
    relative import is yielded as '.<module>' so the check can refuse it (absolute imports say where from)."""
    tree = ast.parse(path.read_text())
    skipped = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for n in ast.walk(node)
    }
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.level:
            yield "." * node.level + (node.module or "")
        elif isinstance(node, ast.ImportFrom) and node.module:
            # `from a.b import c`: c is a module or a name in a.b — known_module() finds which
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def known_module(name: str, root: Path) -> str | None:
    """`components.a.b` or `components.a.b.Name` -> the module it names, if it is one of ours."""
    parts = name.split(".")
    while parts:
        candidate = root.joinpath(*parts)
        if candidate.with_suffix(".py").exists() or (candidate / "__init__.py").exists():
            return ".".join(parts)
        parts.pop()
    return None


def _violation(source: str, target: str) -> str | None:
    source_layer, source_package = layer(source)
    target_layer, target_package = layer(target)
    if RANK[target_layer] > RANK[source_layer]:
        return f"{source} ({source_layer}) imports {target} ({target_layer}): upwards"
    sideways = source_package not in SHARED and target_package not in SHARED and source_package != target_package
    if sideways:
        return f"{source} imports {target}: capabilities meet only through core and the config document"
    return None


def violations(root: Path) -> list[str]:
    found = []
    for path in sorted((root / "components").rglob("*.py")):
        source = module_name(path, root)
        for imported in runtime_imports(path):
            if imported.startswith("."):
                found.append(f"{source}: relative import '{imported}'")
                continue
            target = known_module(imported, root) if imported.startswith("components.") else None
            if target is None or target == "components" or target.startswith(source):
                continue
            if (problem := _violation(source, target)) is not None:
                found.append(problem)
    return sorted(set(found))


def test_components_import_only_downwards_and_capabilities_meet_only_through_core() -> None:
    assert violations(ROOT) == []


def _tree(tmp_path: Path, modules: dict[str, str]) -> Path:
    for name, source in modules.items():
        path = tmp_path.joinpath(*name.split(".")).with_suffix(".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        for package in path.relative_to(tmp_path).parents:
            (tmp_path / package / "__init__.py").touch()
        path.write_text(source)
    return tmp_path


def test_the_check_refuses_upward_sideways_and_relative_imports(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "components.platform": "",
            "components.core.kube": "import components.platform\n",
            "components.lines.config": "from components.security.config import X\n",
            "components.security.config": "X = 1\n",
            "components.security.component": "from . import config\nfrom components.lines import component\n",
            # only the type checker sees this import: allowed
            "components.lines.component": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import components.platform\n"
            ),
        },
    )
    assert violations(root) == [
        "components.core.kube (core) imports components.platform (platform): upwards",
        "components.lines.config imports components.security.config: "
        "capabilities meet only through core and the config document",
        "components.security.component imports components.lines.component: "
        "capabilities meet only through core and the config document",
        "components.security.component: relative import '.'",
    ]


def test_the_policy_pack_imports_nothing_of_the_program() -> None:
    for path in sorted((ROOT / "policy").rglob("*.py")):
        for imported in runtime_imports(path):
            assert not imported.startswith(("components", "offline", "tests")), f"{path}: imports {imported}"
