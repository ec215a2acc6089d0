"""Read the running stack's configuration from the Pulumi runtime and turn it into typed inputs.

This is the one place that touches Pulumi's config; components receive `StackInputs` and nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from components.config import (
    PROJECT,
    FactoryConfig,
    FactoryConfigError,
    Problem,
    config_path,
    load_factory_config,
)

_REDACTED = "[secret]"


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


def project_config() -> dict[str, Any]:
    """All config values in the project namespace, keys without the prefix, secret values redacted."""
    merged = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    prefix = f"{PROJECT}:"
    return {
        key[len(prefix) :]: _REDACTED if runtime_config.is_config_secret(key) else _decode(value)
        for key, value in sorted(merged.items())
        if key.startswith(prefix)
    }


def read_stack_inputs() -> StackInputs:
    """Validate the stack's config; raise FactoryConfigError with every problem before any resource exists."""
    raw = project_config()
    config = load_factory_config(raw)
    problems = []
    for i, cluster in enumerate(config.clusters):
        key = cluster.kubeconfig.secret_key
        path = config_path(("clusters", i, "kubeconfig", "secretKey"))
        if key not in raw:
            problems.append(
                Problem(
                    path,
                    f"config key '{PROJECT}:{key}' is not set; run `pulumi config set --secret {key} "
                    f'"$(cat kubeconfig)"` or import it from an ESC environment',
                )
            )
        elif raw[key] != _REDACTED:
            problems.append(
                Problem(path, f"config key '{PROJECT}:{key}' holds a kubeconfig in plain text; set it with --secret")
            )
    if problems:
        raise FactoryConfigError(problems)
    settings = pulumi.Config(PROJECT)
    return StackInputs(
        config=config,
        kubeconfigs={c.name: settings.require_secret(c.kubeconfig.secret_key) for c in config.clusters},
    )
