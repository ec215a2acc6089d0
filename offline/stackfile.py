"""Read a stack's configuration the way the Pulumi CLI hands it to the program.

The SDK does not apply `Pulumi.yaml` defaults — the CLI does — so this module does it: project keys
missing from the stack file take their default, objects travel as JSON text, and `secure:` values become
secret keys (their ciphertext cannot be decrypted offline, so the program sees a placeholder it can only
treat as a secret). A key declared without a default and missing from the file is left to the config
loader, which reports it with every other problem.

What YAML itself would hide is refused here: a key written twice (PyYAML keeps the last one silently; the
Go YAML parser the CLI uses refuses it), keys that are not text, and documents that are not a stack file at
all (binary junk, a list, a file far larger than any factory) — each as a clean error, never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from components.config.problems import Problem, Problems
from components.config.stack_inputs import project_values

OFFLINE_SECRET = "offline-plan-placeholder"
MAX_STACK_FILE_BYTES = 4 * 1024 * 1024  # the largest reference stack is 4 KB; 5000 lines fit in about 1 MB


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
    problems: list[Problem] = field(default_factory=list)  # found while reading the file
    order: list[str] = field(default_factory=list)  # project keys in the order the file writes them

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


def _compose(path: Path) -> yaml.Node | None:
    if path.stat().st_size > MAX_STACK_FILE_BYTES:
        raise StackFileError(
            f"{path}: {path.stat().st_size} bytes is not a stack file (at most {MAX_STACK_FILE_BYTES})"
        )
    try:
        return yaml.compose(path.read_bytes(), Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        raise StackFileError(f"{path}: not valid YAML: {error}") from None


def _load_yaml(path: Path) -> dict[str, Any]:
    node = _compose(path)
    data = yaml.SafeLoader("").construct_document(node) if node is not None else {}
    if not isinstance(data, dict):
        raise StackFileError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def _duplicates(node: yaml.Node, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], int, int]]:
    """(path of the key, first line, second line) for every mapping key written twice, at any depth."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else repr(key_node)
            line = key_node.start_mark.line + 1
            if key in seen:
                yield (*path, key), seen[key], line
            else:
                seen[key] = line
            yield from _duplicates(value_node, (*path, key))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicates(item, (*path, index))


def _file_problems(node: yaml.Node | None, project: str, path: Path) -> list[Problem]:
    """Duplicate keys under `config:` as problems at their config path; anywhere else the file is refused."""
    problems = Problems()
    outside = []
    for where, first, second in _duplicates(node, ()) if node is not None else ():
        if len(where) >= 2 and where[0] == "config" and isinstance(where[1], str):
            key = where[1].removeprefix(f"{project}:")
            problems.add((key, *where[2:]), f"is written twice (stack file lines {first} and {second}); keep one")
        else:
            outside.append(f"'{'.'.join(map(str, where))}' (lines {first} and {second})")
    if outside:
        raise StackFileError(f"{path}: keys written twice: {', '.join(outside)}; keep one of each")
    return list(problems)


def stack_file(project_dir: Path, stack: str) -> Path:
    project = _load_yaml(project_dir / "Pulumi.yaml")
    return project_dir / project.get("stackConfigDir", ".") / f"Pulumi.{stack}.yaml"


def available_stacks(project_dir: Path) -> list[str]:
    directory = stack_file(project_dir, "x").parent
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in directory.glob("Pulumi.*.yaml"))


def _config_section(data: dict[str, Any], path: Path) -> dict[Any, Any]:
    config = data.get("config")
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise StackFileError(
            f"{path}: `config:` must be a mapping of <project>:<key> entries, got {type(config).__name__}"
        )
    return config


def load_stack(project_dir: Path, stack: str) -> StackSettings:
    project = _load_yaml(project_dir / "Pulumi.yaml")
    name = project["name"]
    path = stack_file(project_dir, stack)
    if not path.exists():
        known = ", ".join(available_stacks(project_dir))
        raise StackFileError(f"no stack '{stack}': {path} does not exist (stacks: {known})")
    node = _compose(path)
    data = yaml.SafeLoader("").construct_document(node) if node is not None else {}
    if not isinstance(data, dict):
        raise StackFileError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    problems = Problems()
    problems.extend(_file_problems(node, name, path))

    config: dict[str, str] = {}
    secret_keys: list[str] = []
    order: list[str] = []
    for key, value in _config_section(data, path).items():
        if not isinstance(key, str):
            problems.add((str(key),), f"config keys are text like '{name}:lines'; got {key!r}")
            continue
        full = key if ":" in key else f"{name}:{key}"
        order.append(full.removeprefix(f"{name}:"))
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[full] = OFFLINE_SECRET
            secret_keys.append(full)
        else:
            config[full] = _wire(value)

    for key, declaration in (project.get("config") or {}).items():
        full = key if ":" in key else f"{name}:{key}"
        declared = declaration if isinstance(declaration, dict) else {"default": declaration}
        if full not in config and ("default" in declared or "value" in declared):
            config[full] = _wire(declared.get("default", declared.get("value")))

    environments = data.get("environment") or []
    settings = StackSettings(
        project=name,
        stack=stack,
        config=dict(sorted(config.items())),
        secret_keys=sorted(secret_keys),
        environments=list(environments) if isinstance(environments, list) else [str(environments)],
        problems=list(problems),
        order=order,
    )
    for env in settings.environments:
        settings.notes.append(f"ESC environment '{env}' is not resolved offline; its values are absent")
    return settings
