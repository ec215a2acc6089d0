"""Validate a stack's config and report every problem at once, each with its path in the stack file.

Sections come from the document model (`document.SECTIONS`). List sections are validated item by item, and
an item that fails keeps the fields that do validate (`_partial`), so its cross-references are still
checked: one typo never hides the next problem.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from components.config.document import SECTIONS, FactoryConfig, Section, Sections, cross_check
from components.config.problems import Problems, field, present

M = TypeVar("M", bound=BaseModel)


def _partial(model: type[M], raw: Any) -> M | None:
    """The fields of an invalid item that do validate on their own, so its references still get checked."""
    if not isinstance(raw, Mapping):
        return None
    values = {}
    for name, info in model.model_fields.items():
        if info.alias not in raw:
            continue
        try:
            annotation: Any = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
            values[name] = TypeAdapter(annotation).validate_python(raw[info.alias])
        except ValidationError:
            continue
    return model.model_construct(_fields_set=set(values), **values)


def _validate_list(section: Section, value: Any, problems: Problems) -> list[Any] | None:
    model = section.annotation
    if not isinstance(value, list):
        problems.add((section.key,), f"must be a list of {section.key}, got {type(value).__name__}")
        return None
    if not value:
        problems.add((section.key,), f"must declare at least one entry in {section.key}")
        return None
    items: list[Any] = []
    for i, raw in enumerate(value):
        try:
            items.append(model.model_validate(raw))
        except ValidationError as error:
            items.append(_partial(model, raw))
            problems.validation(error, model, (section.key, i))
    return items


def _validate_section(section: Section, value: Any, problems: Problems) -> Any:
    """The section's typed value, or None when it failed (its problems are in `problems`)."""
    if section.is_list:
        return _validate_list(section, value, problems)
    try:
        return TypeAdapter(section.annotation).validate_python(value)
    except ValidationError as error:
        model = section.annotation if isinstance(section.annotation, type) else None
        problems.validation(error, model if model and issubclass(model, BaseModel) else None, (section.key,))
        return None


def _stray_keys(raw: Mapping[str, Any], clusters: Sequence[Any], problems: Problems) -> None:
    """Keys that belong to no section must be a cluster's kubeconfig secret key; anything else is a typo."""
    sources = [field(c, "kubeconfig") for _, c in present(clusters)]
    secret_keys = sorted({source.secret_key for source in sources if source is not None})
    known = [*SECTIONS, *secret_keys]
    for key in raw:
        if key not in SECTIONS and key not in secret_keys:
            problems.unknown_key((key,), key, known)


def load_factory_config(raw: Mapping[str, Any]) -> FactoryConfig:
    """Validate a stack's config (keys without the `factory-floor:` prefix) and return the typed document.

    Raises FactoryConfigError listing every problem.
    """
    problems = Problems()
    parsed: dict[str, Any] = {}
    for key, section in SECTIONS.items():
        if key in raw:
            parsed[section.attribute] = _validate_section(section, raw[key], problems)
        elif section.required:
            problems.add((key,), "is required")
    checked = {name: value for name, value in parsed.items() if name != "factory"}
    # list sections that failed as a whole are checked as empty; other failed sections stay None (skipped)
    for name in ("clusters", "teams", "lines"):
        checked[name] = checked.get(name) or []
    cross_check(Sections(**checked), problems)
    _stray_keys(raw, checked["clusters"], problems)
    problems.raise_if_any()
    return FactoryConfig.model_validate({key: raw[key] for key in SECTIONS if key in raw})
