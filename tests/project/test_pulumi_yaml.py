"""Pulumi.yaml types every config section the way the document model shapes it, in a form the CLI accepts, so
`pulumi preview` refuses a section of the wrong shape before the program runs (the offline reader refuses it
alike: tests/offline/test_stack_files.py)."""

from __future__ import annotations

import shutil
import typing
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from components.config.document import SECTIONS, Section
from offline.stackfile import StackFileError, load_stack

ROOT = Path(__file__).resolve().parents[2]
DECLARED: dict[str, dict[str, typing.Any]] = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
# configTypeDeclaration in the CLI's project.json (sdk/go/common/workspace/project.json): anything else fails
# the project's schema check before any command runs
ALLOWED = {"type", "items", "description", "secret", "default", "value"}


def _cli_type(section: Section) -> dict[str, typing.Any]:
    """What the model makes of a section: a list of models is array<object>, a model or dict an object."""
    if section.is_list:
        assert isinstance(section.annotation, type) and issubclass(section.annotation, BaseModel), section.key
        return {"type": "array", "items": {"type": "object"}}
    annotation = section.annotation
    if typing.get_origin(annotation) is typing.Literal or annotation is str:
        return {"type": "string"}
    assert typing.get_origin(annotation) is dict or issubclass(annotation, BaseModel), section.key
    return {"type": "object"}


@pytest.mark.parametrize("key", list(SECTIONS))
def test_each_section_is_declared_with_the_type_of_its_model(key: str) -> None:
    declaration = DECLARED[key]
    assert set(declaration) <= ALLOWED, key
    assert {k: declaration[k] for k in ("type", "items") if k in declaration} == _cli_type(SECTIONS[key])


@pytest.mark.parametrize("key", [k for k, d in DECLARED.items() if "default" in d])
def test_a_default_has_its_declared_type(key: str) -> None:
    # Project.Validate refuses a default of another type; {} for an object section stays valid
    default, kind = DECLARED[key]["default"], DECLARED[key]["type"]
    assert isinstance(default, {"object": dict, "string": str, "array": list}[kind]), key


def test_an_array_without_the_type_of_its_items_is_refused_like_the_cli_refuses_it(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(ROOT / "stacks", project / "stacks")
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    del declared["config"]["lines"]["items"]
    (project / "Pulumi.yaml").write_text(yaml.safe_dump(declared))
    with pytest.raises(StackFileError, match="config 'lines' declares an array without the type of its items"):
        load_stack(project, "dev")
