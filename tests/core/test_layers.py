"""Imports flow one way: vocabulary <- config <- core <- catalogue <- identity <- capabilities <- inventory <- platform,
and capabilities meet only through core (and the shared config document). The policy pack imports nothing
of the program: `pulumi preview --policy-pack policy` loads it alone."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# the vocabulary depends on nothing: every layer may name a label (config defaults do too)
RANK = {
    "vocabulary": -1,
    "config": 0,
    "core": 1,
    "catalogue": 2,
    "identity": 3,
    "capability": 4,
    "inventory": 5,
    "platform": 6,
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> tuple[str, str]:
    """(layer, package) of a components module; a capability's config modules belong to the config layer."""
    parts = module.split(".")
    package = parts[1] if len(parts) > 1 else ""
    if module == "components.core.vocabulary":
        return "vocabulary", "core"
    if package == "config" or parts[-1] == "config":
        return "config", package
    if package in ("core", "catalogue", "identity", "inventory", "platform"):
        return package, package
    return "capability", package


def runtime_imports(path: Path) -> Iterator[str]:
    """Modules imported at run time (imports under `if TYPE_CHECKING:` are for the type checker only)."""
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
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from a.b import c`: c is a module or a name in a.b — known_module() finds which
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def known_module(name: str) -> str | None:
    """`components.a.b` or `components.a.b.Name` -> the module it names, if it is one of ours."""
    parts = name.split(".")
    while parts:
        candidate = ROOT.joinpath(*parts)
        if candidate.with_suffix(".py").exists() or (candidate / "__init__.py").exists():
            return ".".join(parts)
        parts.pop()
    return None


def violations() -> list[str]:
    found = []
    for path in sorted((ROOT / "components").rglob("*.py")):
        source = module_name(path)
        source_layer, source_package = layer(source)
        for imported in runtime_imports(path):
            target = known_module(imported) if imported.startswith("components.") else None
            if target is None or target == "components" or target.startswith(source):
                continue
            target_layer, target_package = layer(target)
            upward = RANK[target_layer] > RANK[source_layer]
            sideways = target_layer == source_layer == "capability" and target_package != source_package
            if upward or sideways:
                found.append(f"{source} ({source_layer}) imports {target} ({target_layer})")
    return sorted(set(found))


def test_components_import_only_downwards() -> None:
    assert violations() == []


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    # the layer map itself: a line importing the platform, or security importing lines, is refused
    assert RANK[layer("components.platform")[0]] > RANK[layer("components.lines.component")[0]]
    assert layer("components.security.component") == ("capability", "security")
    assert layer("components.lines.config") == ("config", "lines")
    assert layer("components.security.secrets.config")[0] == "config"
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import components.platform\nimport components.core\n"
    )
    assert "components.platform" not in set(runtime_imports(bad)) and "components.core" in set(runtime_imports(bad))


def test_the_policy_pack_imports_nothing_of_the_program() -> None:
    for path in sorted((ROOT / "policy").rglob("*.py")):
        for imported in runtime_imports(path):
            assert not imported.startswith(("components", "offline", "tests")), f"{path}: imports {imported}"
