"""Read a stack's configuration the way the Pulumi CLI hands it to the program.

The SDK does not apply `Pulumi.yaml` defaults — the CLI does — so this module does it: project keys
missing from the stack file take their default, a key with neither value nor default is an error,
objects travel as JSON text, and `secure:` values become secret keys (their ciphertext cannot be
decrypted offline, so the program sees a placeholder it can only treat as a secret).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from components.config.stack_inputs import project_values

OFFLINE_SECRET = "offline-plan-placeholder"


class StackFileError(Exception):
    """The stack cannot be started at all (the CLI would refuse it before running the program)."""


@dataclass
class StackSettings:
    project: str
    stack: str
    config: dict[str, str]  # full key (`project:key`) -> wire value (objects as JSON text)
    secret_keys: list[str]
    environments: list[str] = field(default_factory=list)  # Pulumi ESC environments the stack imports
    notes: list[str] = field(default_factory=list)

    def raw_project_config(self) -> dict[str, Any]:
        """Project-namespace config exactly as the program itself reads it (the same decoding and redaction)."""
        return project_values(self.config, self.secret_keys.__contains__, self.project)

    def add_secret(self, key: str, value: str, note: str) -> None:
        full = f"{self.project}:{key}"
        self.config[full] = value
        if full not in self.secret_keys:
            self.secret_keys.append(full)
        self.notes.append(note)


def _wire(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, sort_keys=True)


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise StackFileError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise StackFileError(f"{path}: expected a mapping at the top level")
    return data


def stack_file(project_dir: Path, stack: str) -> Path:
    project = _load_yaml(project_dir / "Pulumi.yaml")
    return project_dir / project.get("stackConfigDir", ".") / f"Pulumi.{stack}.yaml"


def available_stacks(project_dir: Path) -> list[str]:
    directory = stack_file(project_dir, "x").parent
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in directory.glob("Pulumi.*.yaml"))


def load_stack(project_dir: Path, stack: str) -> StackSettings:
    project = _load_yaml(project_dir / "Pulumi.yaml")
    name = project["name"]
    path = stack_file(project_dir, stack)
    if not path.exists():
        known = ", ".join(available_stacks(project_dir))
        raise StackFileError(f"no stack '{stack}': {path} does not exist (stacks: {known})")
    data = _load_yaml(path)

    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in (data.get("config") or {}).items():
        full = key if ":" in key else f"{name}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[full] = OFFLINE_SECRET
            secret_keys.append(full)
        else:
            config[full] = _wire(value)

    missing = []
    for key, declaration in (project.get("config") or {}).items():
        full = key if ":" in key else f"{name}:{key}"
        if full in config:
            continue
        declared = declaration if isinstance(declaration, dict) else {"default": declaration}
        if "default" in declared or "value" in declared:
            config[full] = _wire(declared.get("default", declared.get("value")))
        else:
            missing.append(key)
    if missing:
        raise StackFileError(
            f"Stack '{stack}' is missing configuration value(s) {', '.join(sorted(missing))} "
            f"(declared without a default in Pulumi.yaml; set them in {path.name})"
        )

    environments = data.get("environment") or []
    settings = StackSettings(
        project=name,
        stack=stack,
        config=dict(sorted(config.items())),
        secret_keys=sorted(secret_keys),
        environments=list(environments) if isinstance(environments, list) else [str(environments)],
    )
    for env in settings.environments:
        settings.notes.append(f"ESC environment '{env}' is not resolved offline; its values are absent")
    return settings
