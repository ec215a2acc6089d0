"""uv.lock is the one source of the pins: it must agree with pyproject.toml, and every requirements file that pip
users install from must be exactly what `make requirements` generates from it (or, for checkov's own environment,
from requirements-checkov.in). Run with the uv of .venv (pinned in the dev group), so the lock format is the one
the Makefile uses."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PYPI = "https://pypi.org/simple"

# requirements file -> the `uv export` arguments that generate it (the file is free-form comment lines, then
# exactly this export, whose own header repeats the command)
EXPORTS: dict[str, list[str]] = {
    "requirements.txt": ["export", "--frozen", "--no-dev", "--format", "requirements-txt"],
    "requirements-dev.txt": ["export", "--frozen", "--all-groups", "--format", "requirements-txt"],
}
CHECKOV_COMPILE = [
    "pip",
    "compile",
    "--generate-hashes",
    "--universal",
    "--python-version",
    "3.11",
    "requirements-checkov.in",
    "-o",
    "requirements-checkov.txt",
]


def run_uv(args: list[str], cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "uv", "--quiet", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def body_after_comments(text: str) -> str:
    """The file without its leading comment lines (ours, then uv's own header)."""
    lines = text.splitlines(keepends=True)
    first = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
    return "".join(lines[first:])


def test_lock_agrees_with_pyproject() -> None:
    result = run_uv(["lock", "--check"])
    assert result.returncode == 0, f"uv.lock is stale: run `uv lock` (then `make requirements`)\n{result.stderr}"


def test_lock_uses_only_pypi() -> None:
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text())
    sources = {
        package["name"]: package["source"].get("registry", package["source"].get("virtual"))
        for package in lock["package"]
    }
    assert sources.pop("factory-floor") == "."  # the project itself: virtual, never built
    assert sources and set(sources.values()) == {PYPI}, {n: s for n, s in sources.items() if s != PYPI}
    assert lock["requires-python"] == ">=3.11"


@pytest.mark.parametrize("filename", sorted(EXPORTS))
def test_requirements_file_is_the_export_of_the_lock(filename: str) -> None:
    result = run_uv(EXPORTS[filename])
    assert result.returncode == 0, result.stderr
    exported = result.stdout
    text = (REPO_ROOT / filename).read_text()
    assert text.endswith(exported), f"{filename} is not `uv {' '.join(EXPORTS[filename])}`: run `make requirements`"
    preamble = text[: len(text) - len(exported)]
    assert all(line.startswith("#") for line in preamble.splitlines()), f"{filename}: only comments above the export"
    assert "--hash=sha256:" in exported


POLICY_COMPILE = [
    "pip",
    "compile",
    "--generate-hashes",
    "--universal",
    "--python-version",
    "3.11",
    "policy/requirements.in",
    "-c",
    "requirements.txt",
    "-o",
    "policy/requirements.txt",
]


def test_policy_requirements_are_hashed_and_pinned_to_the_programs_lock(tmp_path: Path) -> None:
    """`pulumi install` in policy/ pip-installs this file: every package hashed (pip then refuses anything a mirror
    serves that is not exactly it) and at the version the program locks, so pack and program run the same SDK."""
    (tmp_path / "policy").mkdir()
    for name in ("policy/requirements.in", "policy/requirements.txt", "requirements.txt"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    result = run_uv(POLICY_COMPILE, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    committed = (REPO_ROOT / "policy" / "requirements.txt").read_text()
    assert body_after_comments(committed) == body_after_comments((tmp_path / "policy" / "requirements.txt").read_text())
    pins = dict(
        line.split(" ", 1)[0].split("==")
        for line in body_after_comments(committed).splitlines()
        if "==" in line and not line.startswith(" ")
    )
    program = dict(
        line.split(" ", 1)[0].split("==")
        for line in (REPO_ROOT / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith((" ", "#"))
    )
    assert {"pulumi", "pulumi-policy", "grpcio", "protobuf"} <= set(pins)
    assert {name: version for name, version in pins.items() if program.get(name) != version} == {}
    blocks = body_after_comments(committed).split("==")[1:]
    assert blocks and all("--hash=sha256:" in block for block in blocks), "every package carries its hashes"


def test_checkov_requirements_are_compiled_from_the_in_file(tmp_path: Path) -> None:
    # Recompile in a scratch copy, keeping the committed pins as preferences (as `uv pip compile -o` does), so the
    # test fails when the .in and the .txt disagree, not when PyPI publishes something new.
    for name in ("requirements-checkov.in", "requirements-checkov.txt"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    result = run_uv(CHECKOV_COMPILE, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    committed = (REPO_ROOT / "requirements-checkov.txt").read_text()
    header = committed[: len(committed) - len(body_after_comments(committed))]
    assert " ".join(["uv", *CHECKOV_COMPILE]) in header, "the header names the exact command"
    recompiled = (tmp_path / "requirements-checkov.txt").read_text()
    assert body_after_comments(committed) == body_after_comments(recompiled), "run `make requirements`"
    assert "--hash=sha256:" in committed
