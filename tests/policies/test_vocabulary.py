"""The pack's copies of the program's vocabulary stay equal to it, and each shared key is written once.

The pack must import alone (`pulumi preview --policy-pack policy` loads it without this project), so
policy/factory_policies/vocabulary.py and settings.EXEMPT_NAMESPACES copy what the program defines in
components/core/vocabulary.py and components/inventory.py. These tests keep the copies equal, and keep every
other module of the pack (and the Gatekeeper Rego) from spelling a label, annotation or tag key out again.
"""

from __future__ import annotations

import ast
from pathlib import Path
from types import ModuleType

from components import inventory
from components.core import vocabulary as program_vocabulary
from factory_policies import settings
from factory_policies import vocabulary as pack_vocabulary

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "policy" / "factory_policies"
REGO = ROOT / "components" / "security" / "gatekeeper" / "rego"


def constants(module: ModuleType) -> dict[str, str]:
    """The module's public string constants: NAME -> value."""
    return {name: value for name, value in vars(module).items() if name.isupper() and isinstance(value, str)}


def is_key(value: str) -> bool:
    """A label, annotation or tag key (not a value such as 'opt-in' or 'backup')."""
    return "/" in value or value == program_vocabulary.PURPOSE


def docstrings(tree: ast.Module) -> set[int]:
    """ids of the docstring nodes of a module, its classes and functions."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def string_constants(path: Path) -> list[tuple[int, str]]:
    """(line, value) of every string literal of a module, f-string parts included, docstrings excluded."""
    tree = ast.parse(path.read_text(), filename=str(path))
    skip = docstrings(tree)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
    ]


def test_pack_vocabulary_copies_the_program_definitions() -> None:
    copies = constants(pack_vocabulary)
    assert copies, "the pack's vocabulary defines no constants"
    program = constants(program_vocabulary)
    unknown = sorted(set(copies) - set(program))
    assert unknown == [], f"policy/factory_policies/vocabulary.py defines names the program does not: {unknown}"
    differing = {name: (value, program[name]) for name, value in copies.items() if program[name] != value}
    assert differing == {}, f"pack copy != program definition (name: (pack, program)): {differing}"


def test_pack_exempt_namespaces_copy_the_program_inventory() -> None:
    assert inventory.exempt_namespaces() == settings.EXEMPT_NAMESPACES


def test_pack_spells_each_shared_key_only_in_its_vocabulary() -> None:
    keys = {value for value in constants(pack_vocabulary).values() if is_key(value)}
    assert keys, "no keys found in the pack's vocabulary"
    modules = sorted(p for p in PACK.glob("*.py") if p.name != "vocabulary.py")
    assert len(modules) > 10, [p.name for p in modules]
    repeated = [
        f"{path.relative_to(ROOT)}:{line}: {value!r}"
        for path in modules
        for line, value in string_constants(path)
        if value in keys
    ]
    assert repeated == [], f"use factory_policies.vocabulary instead of: {repeated}"


def test_rego_spells_no_vocabulary_key() -> None:
    keys = {value for value in constants(program_vocabulary).values() if is_key(value)}
    sources = sorted(REGO.glob("*.rego"))
    assert sources, f"no Rego under {REGO}"
    repeated = [
        f"{path.relative_to(ROOT)}: {key!r}" for path in sources for key in sorted(keys) if key in path.read_text()
    ]
    assert repeated == [], f"a Rego policy spells out a key the program defines (pass it as a parameter): {repeated}"
