"""The one producer of config problems: every check, the loader and the stack inputs report through
`Problems`, so each problem has the same shape — the config path a user finds in the stack file
(`factory-floor:lines[2].cluster`) and a message saying what is wrong and what is allowed."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from components.config.types import PROJECT

Loc = tuple[str | int, ...]
T = TypeVar("T")


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class FactoryConfigError(Exception):
    """Every problem of a stack's configuration, ready to show a user (no traceback needed)."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(set(problems))
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid factory configuration ({len(self.problems)} problem(s)):\n{lines}")


def config_path(loc: Sequence[str | int]) -> str:
    """('lines', 2, 'cluster') -> 'factory-floor:lines[2].cluster'"""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return f"{PROJECT}:{text}"


def did_you_mean(value: str, known: Sequence[str], cutoff: float = 0.6) -> str:
    hint = difflib.get_close_matches(value, known, n=1, cutoff=cutoff)
    return f"did you mean '{hint[0]}'? " if hint else ""


def present(items: Sequence[T | None]) -> Iterator[tuple[int, T]]:
    """(index, item) of the list items that validated at least partly (a broken item is None)."""
    return ((i, item) for i, item in enumerate(items) if item is not None)


def field(item: Any, name: str) -> Any:
    # an item that failed validation keeps only its valid fields (loader._partial): read them defensively
    return getattr(item, name, None)


def names(items: Sequence[Any]) -> list[str]:
    return sorted({name for _, item in present(items) if (name := field(item, "name")) is not None})


class Problems:
    """Collects every problem of one stack's config; raise them all together with `raise_if_any`."""

    def __init__(self) -> None:
        self._found: set[Problem] = set()

    def __len__(self) -> int:
        return len(self._found)

    def __iter__(self) -> Iterator[Problem]:
        return iter(sorted(self._found))

    def add(self, loc: Sequence[str | int], message: str) -> None:
        self._found.add(Problem(config_path(loc), message))

    def unknown(self, loc: Sequence[str | int], kind: str, value: str, known: Sequence[str]) -> None:
        hint = did_you_mean(value, known).removesuffix("? ")
        suggestion = f" ({hint}?)" if hint else ""
        self.add(loc, f"unknown {kind} '{value}'{suggestion}; defined: {', '.join(known) or 'none'}")

    def duplicates(self, section: str, items: Sequence[Any]) -> None:
        """Names must be unique within a list section; the second use of a name is the mistake."""
        seen: dict[str, int] = {}
        for i, item in present(items):
            name = field(item, "name")
            if name is None:
                continue
            if name in seen:
                self.add(
                    (section, i, "name"), f"'{name}' is already used by {section}[{seen[name]}]; names must be unique"
                )
            else:
                seen[name] = i

    def unknown_key(self, loc: Sequence[str | int], key: str, allowed: Sequence[str]) -> None:
        self.add(
            loc, f"unknown key '{key}'; {did_you_mean(key, allowed, cutoff=0.5)}allowed keys: {', '.join(allowed)}"
        )

    def validation(self, error: ValidationError, model: type[BaseModel] | None, prefix: Loc) -> None:
        """pydantic's errors as problems: an unknown key lists the keys allowed there, a missing one is required."""
        for item in error.errors(include_url=False):
            loc = (*prefix, *item["loc"])
            if item["type"] == "extra_forbidden":
                self.unknown_key(loc, str(item["loc"][-1]), _allowed_keys(model, item["loc"][:-1]))
            elif item["type"] == "missing":
                self.add(loc, "is required")
            else:
                self.add(loc, str(item["msg"]).removeprefix("Value error, "))

    def raise_if_any(self) -> None:
        if self._found:
            raise FactoryConfigError(self._found)


def _allowed_keys(model: type[BaseModel] | None, loc: Sequence[str | int]) -> list[str]:
    """Walk a model along an error location to list the keys allowed where an unknown key was found."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        found = next((f for f in current.model_fields.values() if f.alias == part), None)
        current = model_of(found.annotation) if found else None
    if current is None:
        return []
    return [f.alias for f in current.model_fields.values() if f.alias]


def model_of(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation (`list[LineConfig]`, `VaultConfig | None`), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = model_of(arg)
        if found is not None:
            return found
    return None
