"""The config sections come from one place (the document model): Pulumi.yaml declares exactly them, and the
rules that span sections (here: protection in production) are checked with every other problem."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from components.config.document import SECTIONS
from components.config.loader import load_factory_config
from components.config.problems import FactoryConfigError
from components.core.component import Protection
from tests.support.factories import mutate, valid_raw

ROOT = Path(__file__).resolve().parents[2]


def test_pulumi_yaml_declares_exactly_the_document_sections() -> None:
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    assert sorted(declared) == sorted(SECTIONS)
    for key, section in SECTIONS.items():
        # the CLI refuses a stack without a key declared with no default: exactly the required sections
        assert ("default" not in declared[key]) == section.required, key
        assert declared[key].get("description"), key


def test_environment_default_is_the_same_in_pulumi_yaml_and_the_model() -> None:
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]["environment"]
    assert declared["type"] == "string"
    assert declared["default"] == SECTIONS["environment"].info.default


def test_production_cannot_turn_protection_off() -> None:
    raw = mutate(valid_raw(), "protection", {"stateful": False})
    with pytest.raises(FactoryConfigError) as caught:
        load_factory_config(raw)
    [problem] = caught.value.problems
    assert problem.path == "factory-floor:protection.stateful"
    assert "production stacks always protect stateful resources" in problem.message


@pytest.mark.parametrize(
    ("environment", "stateful", "protected"),
    [
        ("production", None, True),
        ("production", True, True),
        ("staging", None, False),
        ("staging", True, True),
        ("development", False, False),
    ],
)
def test_protection_follows_the_environment_unless_the_stack_says_so(
    environment: str, stateful: bool | None, protected: bool
) -> None:
    raw = mutate(valid_raw(), "environment", environment)
    raw["protection"] = {} if stateful is None else {"stateful": stateful}
    config = load_factory_config(raw)
    assert Protection.of(config.environment, config.protection.stateful).stateful is protected
