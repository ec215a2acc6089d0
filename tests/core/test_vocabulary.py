"""Every label, annotation and tag key shared across capabilities is written once, in core/vocabulary.py:
no other program module spells one out."""

from __future__ import annotations

import ast
from pathlib import Path

from components.core import vocabulary as vocab

ROOT = Path(__file__).resolve().parents[2]
SHARED = {
    value
    for name, value in vars(vocab).items()
    if name.isupper() and isinstance(value, str) and ("/" in value or value == vocab.PURPOSE)
}


def literal_copies(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and id(node) not in docstrings and node.value in SHARED
    ]


def test_shared_keys_are_spelled_out_only_in_the_vocabulary() -> None:
    assert len(SHARED) >= 10
    found = {
        str(path.relative_to(ROOT)): copies
        for path in sorted((ROOT / "components").rglob("*.py"))
        if path.name != "vocabulary.py" and (copies := literal_copies(path))
    }
    assert found == {}


def test_the_check_finds_a_copy(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text('"""factory-floor.io/chaos in a docstring is prose."""\nLABEL = "factory-floor.io/chaos"\n')
    assert literal_copies(module) == ["factory-floor.io/chaos"]
