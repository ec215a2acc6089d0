"""Project directories for tests that need stack files of their own: the real program, made-up stacks."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def project_copy(tmp_path: Path, stack_files: dict[str, str | bytes]) -> Path:
    """A project directory sharing our program, with stack files of the test's own."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "__main__.py", "components", "policy"):
        (project / name).symlink_to(ROOT / name)
    (project / "stacks").mkdir()
    for stack, text in stack_files.items():
        path = project / "stacks" / f"Pulumi.{stack}.yaml"
        path.write_bytes(text) if isinstance(text, bytes) else path.write_text(text)
    return project


def dev_with(replace: str, by: str) -> str:
    """The dev stack file with one exact piece of text replaced."""
    text = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()
    assert text.count(replace) == 1, replace
    return text.replace(replace, by)
