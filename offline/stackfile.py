"""Read a stack's configuration the way the Pulumi CLI hands it to the program.

The SDK does not apply `Pulumi.yaml` defaults — the CLI does — so this module does it: project keys
missing from the stack file take their default, objects travel as JSON text, and `secure:` values become
secret keys (their ciphertext cannot be decrypted offline, so the program sees a placeholder it can only
treat as a secret). A key declared without a default and missing from the file is left to the config
loader, which reports it with every other problem.

What YAML itself would hide is refused here: a key written twice (PyYAML keeps the last one silently; the
Go YAML parser the CLI uses refuses it), keys that are not text, and documents that are not a stack file at
all (binary junk, a list, a file far larger than any factory) — each as a clean error, never a traceback.

So is what the CLI itself refuses before the program runs: a value whose shape is not the `type` Pulumi.yaml
declares for its key (pkg/workspace/config.go validateStackConfigValue → sdk/go/common/workspace/project.go
ValidateConfigValue: object = a mapping, array = a list whose items have the `items` type, string = any
scalar, integer = a whole number or text that reads as one, boolean = true/false), and a Pulumi.yaml array
without `items` (Project.Validate). Like the CLI, only the shape is checked — nothing inside an object.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from components.config.document import FactoryConfig
from components.config.loader import load_factory_config
from components.config.problems import REFERENCE, Problem, Problems, shown
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


def _cli_value(value: Any) -> Any:
    """A top-level stack value as the CLI type-checks it: a scalar, and a secret once decrypted, is text (the
    CLI keeps config scalars as strings); null, mappings and lists are decoded JSON."""
    if isinstance(value, dict) and set(value) == {"secure"}:
        return "decrypted text"
    if value is None or isinstance(value, (dict, list)):
        return value
    return _wire(value)


def _is_integer(value: Any) -> bool:
    if isinstance(value, str):
        return re.fullmatch(r"[+-]?[0-9]+", value) is not None  # what strconv.Atoi takes
    return not isinstance(value, bool) and (isinstance(value, int) or (isinstance(value, float) and value.is_integer()))


def _conforms(type_name: str, items: Any, value: Any) -> bool:
    """sdk/go/common/workspace/project.go ValidateConfigValue, over the value the CLI holds."""
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "integer":
        return _is_integer(value)
    if type_name == "boolean":
        return value in ("true", "false") or isinstance(value, bool)
    if type_name == "object":
        return isinstance(value, dict)
    if not isinstance(value, list) or not isinstance(items, dict):
        return False
    return all(_conforms(items.get("type", ""), items.get("items"), item) for item in value)


def _type_name(type_name: str, items: Any) -> str:
    """The CLI's name for a declared type (InferFullTypeName): 'array<object>'."""
    if isinstance(items, dict):
        return f"array<{_type_name(items.get('type', ''), items.get('items'))}>"
    return type_name


_IN_WORDS = {"string": "text", "integer": "a whole number", "boolean": "true or false", "object": "a mapping"}


def _in_words(type_name: str, items: Any) -> str:
    if isinstance(items, dict):
        return f"a list, each item {_in_words(items.get('type', ''), items.get('items'))}"
    return _IN_WORDS.get(type_name, type_name)


def _found(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"secure"}:
        return "a secret (text once decrypted)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return shown(value)


def _shape_problems(key: str, declaration: dict[str, Any], value: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """(config path, message) for each part of a stack value the CLI would refuse for its declared type."""
    type_name, items = declaration["type"], declaration.get("items")
    if _conforms(type_name, items, _cli_value(value)):
        return []
    declared = f"'{_type_name(type_name, items)}' in Pulumi.yaml"
    if isinstance(value, list) and isinstance(items, dict):
        item_type, inner = items.get("type", ""), items.get("items")
        return [
            ((key, i), f"must be {_in_words(item_type, inner)} ({key} is {declared}), got {_found(item)}")
            for i, item in enumerate(value)
            if not _conforms(item_type, inner, item)
        ]
    return [((key,), f"must be {_in_words(type_name, items)} ({declared}), got {_found(value)}")]


def _declarations(project: dict[str, Any], path: Path) -> dict[str, dict[str, Any]]:
    """Pulumi.yaml's config declarations by full key; refused where Project.Validate refuses them."""
    name = project["name"]
    declared: dict[str, dict[str, Any]] = {}
    for key, declaration in (project.get("config") or {}).items():
        full = key if ":" in key else f"{name}:{key}"
        entry = declaration if isinstance(declaration, dict) else {"default": declaration}
        if entry.get("type") == "array" and "items" not in entry:
            raise StackFileError(
                f"{path}: config '{key}' declares an array without the type of its items; add `items: {{type: ...}}`"
            )
        declared[full] = entry
    return declared


def _refuse_misshapen(section: dict[Any, Any], declarations: dict[str, dict[str, Any]], name: str, path: Path) -> None:
    """Every value whose shape is not its declared type, at once; the CLI stops at the first, before the
    program runs — so the loader's problems come only once these are fixed, as with `pulumi preview`."""
    misshapen = Problems()
    for key, value in section.items():
        full = key if not isinstance(key, str) or ":" in key else f"{name}:{key}"
        if "type" in declarations.get(full, {}):
            for where, message in _shape_problems(full.removeprefix(f"{name}:"), declarations[full], value):
                misshapen.add(where, message)
    if misshapen:
        listed = "\n".join(f"  - {p}" for p in misshapen)
        raise StackFileError(
            f"{path}: the Pulumi CLI refuses this stack before the program runs: a value is not of the type "
            f"Pulumi.yaml declares ({len(misshapen)} problem(s); reference: {REFERENCE}):\n{listed}"
        )


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

    declarations = _declarations(project, project_dir / "Pulumi.yaml")
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    order: list[str] = []
    section = _config_section(data, path)
    _refuse_misshapen(section, declarations, name, path)
    for key, value in section.items():
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

    for full, declared in declarations.items():
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


def load_config(project_dir: Path, stack: str) -> tuple[StackSettings, FactoryConfig]:
    """A stack file read as the CLI would and validated as the program does, without its kubeconfigs (the offline
    tools stand one in): StackFileError or FactoryConfigError, with every problem, otherwise."""
    settings = load_stack(project_dir, stack)
    config = load_factory_config(
        settings.raw_project_config(),
        require_kubeconfigs=False,
        known_problems=settings.problems,
        order=settings.order,
    )
    return settings, config
