"""The one producer of config problems: every check, the loader, the stack inputs and the offline stack
reader report through `Problems`, so each problem has the same shape — the config path a user finds in the
stack file (`factory-floor:lines[2].cluster`) and a message saying what is wrong, what was found and what
is allowed. `FactoryConfigError` shows them in file order, merges one mistake repeated across list items,
and caps a long list with a count."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from components.config.types import PROJECT

T = TypeVar("T")
REFERENCE = "docs/configuration.md"
MAX_SHOWN = 40  # problems printed; the rest are counted (fix the first ones, the rest often follow)
MAX_HINTED = 40  # "did you mean" suggestions for references: each scans every name the file defines
MAX_LISTED = 12  # names listed after "defined:"
MAX_ALSO = 3  # other places of a merged problem named in its message


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def config_path(loc: Sequence[str | int]) -> str:
    """('lines', 2, 'cluster') -> 'factory-floor:lines[2].cluster'"""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return f"{PROJECT}:{text}"


_STEP = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def _steps(path: str) -> list[str | int]:
    return [int(index) if index else name for index, name in _STEP.findall(path.removeprefix(f"{PROJECT}:"))]


def _shape(path: str) -> str:
    return re.sub(r"\[\d+\]", "[*]", path)


class FactoryConfigError(Exception):
    """Every problem of a stack's configuration, ready to show a user (no traceback needed).

    `order` is the order of the top-level keys in the stack file: problems follow it, then the natural order
    of list indexes (lines[2] before lines[10])."""

    def __init__(self, problems: Iterable[Problem], order: Sequence[str] = ()):
        rank = {key: i for i, key in enumerate(order)}

        def position(problem: Problem) -> tuple[Any, ...]:
            steps = _steps(problem.path)
            head = rank.get(str(steps[0]), len(rank)) if steps else len(rank)
            return (head, [(0, s, "") if isinstance(s, int) else (1, 0, s) for s in steps], problem.message)

        self.problems = _merged(sorted(set(problems), key=position))
        shown = "\n".join(f"  - {p}" for p in self.problems[:MAX_SHOWN])
        rest = len(self.problems) - MAX_SHOWN
        more = f"\n  … and {rest} more problem(s)" if rest > 0 else ""
        super().__init__(
            f"invalid factory configuration ({len(self.problems)} problem(s); reference: {REFERENCE}):\n{shown}{more}"
        )


def _merged(problems: list[Problem]) -> list[Problem]:
    """One mistake made in many list items (every line naming the same unknown cluster) is one problem that
    names its other places, not fifty copies."""
    groups: dict[tuple[str, str], list[Problem]] = {}
    for problem in problems:
        groups.setdefault((_shape(problem.path), problem.message), []).append(problem)
    merged = []
    for first, *others in groups.values():
        if others:
            names = ", ".join(p.path.removeprefix(f"{PROJECT}:") for p in others[:MAX_ALSO])
            extra = f" and {len(others) - MAX_ALSO} more" if len(others) > MAX_ALSO else ""
            merged.append(Problem(first.path, f"{first.message} (also at {names}{extra})"))
        else:
            merged.append(first)
    return merged


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


def shown(value: Any) -> str:
    """A value as the user wrote it, short enough for one line."""
    if value is None:
        return "nothing (an empty value, or null)"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _listed(known: Sequence[str]) -> str:
    if not known:
        return "none"
    head = ", ".join(known[:MAX_LISTED])
    return head if len(known) <= MAX_LISTED else f"{head}, … ({len(known)} in all)"


class Problems:
    """Collects every problem of one stack's config; raise them all together with `raise_if_any`."""

    def __init__(self) -> None:
        self._found: dict[Problem, None] = {}
        self._hinted = 0

    def __len__(self) -> int:
        return len(self._found)

    def __iter__(self) -> Iterator[Problem]:
        return iter(list(self._found))

    def add(self, loc: Sequence[str | int], message: str) -> None:
        self._found[Problem(config_path(loc), message)] = None

    def extend(self, problems: Iterable[Problem]) -> None:
        self._found.update(dict.fromkeys(problems))

    def unknown(self, loc: Sequence[str | int], kind: str, value: str, known: Sequence[str]) -> None:
        # bounded: a file with thousands of dangling names must not take minutes to judge (keys and choices
        # below are short lists and always get their hint)
        hint = did_you_mean(value, known).removesuffix("? ") if self._hinted < MAX_HINTED else ""
        self._hinted += 1
        suggestion = f" ({hint}?)" if hint else ""
        self.add(loc, f"unknown {kind} '{value}'{suggestion}; defined: {_listed(known)}")

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
        hint = did_you_mean(key, allowed, cutoff=0.5)
        self.add(loc, f"unknown key '{key}'; {hint}allowed keys: {', '.join(allowed)}")

    def validation(self, error: ValidationError, model: type[BaseModel] | None, prefix: Sequence[str | int]) -> None:
        """pydantic's errors, said for a person who edits YAML: what was found, what is allowed."""
        for item in error.errors(include_url=False):
            loc = (*prefix, *item["loc"])
            if item["type"] == "extra_forbidden":
                self.unknown_key(loc, str(item["loc"][-1]), allowed_keys(model, item["loc"][:-1]))
            else:
                literal = item["type"] == "literal_error" and isinstance(item.get("input"), str)
                hint = did_you_mean(str(item["input"]), _choices(item)) if literal else ""
                self.add(loc, describe(item, allowed_keys(model, item["loc"])) + (f"; {hint.strip()}" if hint else ""))

    def raise_if_any(self, order: Sequence[str] = ()) -> None:
        if self._found:
            raise FactoryConfigError(self._found, order)


def _choices(item: ErrorDetails) -> list[str]:
    return re.findall(r"'([^']*)'", str((item.get("ctx") or {}).get("expected", "")))


def _number_hint(value: Any) -> str:
    return (
        f"YAML read it as the number {value!r} — write it in quotes exactly as meant "
        "(unquoted, 1.30 becomes 1.3 and 012345 loses its zero)"
    )


def _quoted(value: Any) -> str:
    return " (a number is written without quotes)" if isinstance(value, str) else ""


def _bound(ctx: dict[str, Any]) -> str:
    words = {"gt": "greater than", "ge": "at least", "lt": "less than", "le": "at most"}
    return next(f"{words[k]} {v}" for k, v in ctx.items() if k in words)


# error type -> message, from (value, ctx, keys allowed there, "got <value>")
_Describe = Callable[[Any, dict[str, Any], Sequence[str], str], str]


def _text(value: Any, _ctx: dict[str, Any], _keys: Sequence[str], got: str) -> str:
    return f"must be text; {_number_hint(value) if isinstance(value, int | float) else got}"


def _whole(value: Any, _ctx: dict[str, Any], _keys: Sequence[str], got: str) -> str:
    return f"must be a whole number{_quoted(value)}; {got}"


def _number(value: Any, _ctx: dict[str, Any], _keys: Sequence[str], got: str) -> str:
    return f"must be a number{_quoted(value)}; {got}"


def _bool(_value: Any, _ctx: dict[str, Any], _keys: Sequence[str], got: str) -> str:
    return f"must be true or false (without quotes); {got}"


def _mapping(_value: Any, _ctx: dict[str, Any], keys: Sequence[str], got: str) -> str:
    return f"must be a mapping with the keys {', '.join(keys)}; {got}"


def _range(_value: Any, ctx: dict[str, Any], _keys: Sequence[str], got: str) -> str:
    return f"must be {_bound(ctx)}; {got}"


_MESSAGES: dict[str, _Describe] = {
    "string_type": _text,
    "int_type": _whole,
    "int_parsing": _whole,
    "int_from_float": _whole,
    "float_type": _number,
    "float_parsing": _number,
    "bool_type": _bool,
    "bool_parsing": _bool,
    "literal_error": lambda _v, ctx, _k, got: f"must be one of {ctx.get('expected')}; {got}",
    "model_type": _mapping,
    "dict_type": _mapping,
    "model_attributes_type": _mapping,
    "list_type": lambda _v, _c, _k, got: f"must be a list; {got}",
    "greater_than": _range,
    "greater_than_equal": _range,
    "less_than": _range,
    "less_than_equal": _range,
    "too_short": lambda v, ctx, _k, got: (
        f"must not be empty; {got}" if isinstance(v, str) else f"must list at least {ctx.get('min_length', 1)} item(s)"
    ),
}
EMPTY = "is empty: YAML reads an empty value (or null, ~) as nothing; give a value or remove the key"


def describe(item: ErrorDetails, keys: Sequence[str]) -> str:
    """One pydantic error as a message: what is allowed, and the value that was found."""
    kind, value = item["type"], item.get("input")
    if kind == "missing":
        return "is required"
    if kind in ("value_error", "assertion_error"):
        # our own validators' messages already name the value and what is allowed
        return str(item["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if value is None:
        return EMPTY
    handler = _MESSAGES.get(kind)
    got = f"got {shown(value)}"
    return handler(value, item.get("ctx") or {}, keys, got) if handler else f"{item['msg']}; {got}"


def allowed_keys(model: type[BaseModel] | None, loc: Sequence[str | int]) -> list[str]:
    """Walk a model along an error location to list the keys allowed there."""
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
