"""Read the running stack's configuration from the Pulumi runtime and turn it into typed inputs.

This is the one place that touches Pulumi's config; components receive what it returns and nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from components.config.document import FactoryConfig
from components.config.loader import load_factory_config
from components.config.types import PROJECT, REDACTED


@dataclass(frozen=True)
class StackInputs:
    config: FactoryConfig
    # cluster name -> kubeconfig, always a secret Output so it never reaches state in plain text
    kubeconfigs: Mapping[str, pulumi.Output[str]]


def _decode(value: Any) -> Any:
    # The engine hands objects and arrays over as JSON text; scalars stay strings ("1.31" is not a float).
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def project_values(
    config: Mapping[str, Any], is_secret: Callable[[str], bool], project: str = PROJECT
) -> dict[str, Any]:
    """Config values of the project namespace as the program validates them: keys without the prefix,
    objects decoded, secret values redacted (only their presence matters to validation)."""
    prefix = f"{project}:"
    return {
        key[len(prefix) :]: REDACTED if is_secret(key) else _decode(value)
        for key, value in sorted(config.items())
        if key.startswith(prefix)
    }


def project_config() -> dict[str, Any]:
    """All config values the engine handed to this run, in the project namespace."""
    merged = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return project_values(merged, runtime_config.is_config_secret)


def read_stack_inputs() -> StackInputs:
    """Validate the stack's config; raise FactoryConfigError with every problem before any resource exists."""
    config = load_factory_config(project_config())
    settings = pulumi.Config(PROJECT)
    return StackInputs(
        config=config,
        kubeconfigs={c.name: settings.require_secret(c.kubeconfig.secret_key) for c in config.clusters},
    )
