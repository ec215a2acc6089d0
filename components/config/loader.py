"""Validate a stack's config in one pass and report every problem at once, each with its path in the stack
file: missing and unknown keys, every section's schema, the rules across sections and where each cluster's
kubeconfig comes from.

Sections come from the document model (`document.SECTIONS`). List sections are validated item by item, and
an item that fails keeps the fields that do validate (`_partial`), so its cross-references are still
checked: one typo never hides the next problem. The cost is linear in the size of the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from components.config.document import SECTIONS, FactoryConfig, Section, Sections, cross_check
from components.config.problems import MAX_LISTED, Problem, Problems, did_you_mean, field, present
from components.config.types import PROJECT, REDACTED

M = TypeVar("M", bound=BaseModel)


@cache
def _field_adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    info = model.model_fields[name]
    annotation: Any = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
    return TypeAdapter(annotation)


def _partial(model: type[M], raw: Any) -> M | None:
    """The fields of an invalid item that do validate on their own, so its references still get checked."""
    if not isinstance(raw, Mapping):
        return None
    values = {}
    for name, info in model.model_fields.items():
        if info.alias not in raw:
            continue
        try:
            values[name] = _field_adapter(model, name).validate_python(raw[info.alias], strict=True)
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
        return TypeAdapter(section.annotation).validate_python(value, strict=True)
    except ValidationError as error:
        model = section.annotation if isinstance(section.annotation, type) else None
        problems.validation(error, model if model and issubclass(model, BaseModel) else None, (section.key,))
        return None


def _kubeconfig_keys(clusters: Sequence[Any]) -> dict[str, int]:
    """secret key -> index of the first cluster that names it."""
    keys: dict[str, int] = {}
    for i, cluster in present(clusters):
        source = field(cluster, "kubeconfig")
        if source is not None:
            keys.setdefault(source.secret_key, i)
    return keys


def _written_as(key: str, raw: Mapping[str, Any]) -> str:
    """A missing section is often there under a misspelt key: say which."""
    stray = [k for k in raw if k not in SECTIONS]
    hint = did_you_mean(key, stray, cutoff=0.75) if stray and len(stray) <= MAX_LISTED else ""
    return f" (is '{hint.split(chr(39))[1]}' meant to be it?)" if hint else ""


def _stray_keys(raw: Mapping[str, Any], kubeconfig_keys: Iterable[str], problems: Problems) -> None:
    """Keys that belong to no section must be a cluster's kubeconfig secret key; anything else is a typo."""
    secret_keys = sorted(kubeconfig_keys)
    known = [*SECTIONS, *secret_keys]
    for key in raw:
        if key not in SECTIONS and key not in secret_keys:
            problems.unknown_key((key,), key, known)


def _kubeconfig_sources(raw: Mapping[str, Any], clusters: Sequence[Any], problems: Problems, *, required: bool) -> None:
    """Each cluster's kubeconfig key is set as a secret (and set at all, unless the caller stands one in)."""
    for i, cluster in present(clusters):
        source = field(cluster, "kubeconfig")
        if source is None:
            continue
        key, loc = source.secret_key, ("clusters", i, "kubeconfig", "secretKey")
        if key not in raw:
            if required:
                problems.add(
                    loc,
                    f"config key '{PROJECT}:{key}' is not set; run `pulumi config set --secret {key} "
                    f'"$(cat kubeconfig)"` or import it from an ESC environment',
                )
        elif raw[key] != REDACTED:
            problems.add(loc, f"config key '{PROJECT}:{key}' holds a kubeconfig in plain text; set it with --secret")


def load_factory_config(
    raw: Mapping[str, Any],
    *,
    require_kubeconfigs: bool = True,
    known_problems: Iterable[Problem] = (),
    order: Sequence[str] = (),
) -> FactoryConfig:
    """Validate a stack's config (keys without the `factory-floor:` prefix, secret values as REDACTED) and
    return the typed document. Raises FactoryConfigError listing every problem — with `known_problems`
    found while reading the file — in the order of `order` (the stack file's keys).

    `require_kubeconfigs=False` is for the offline plan, which stands in a kubeconfig a stack does not carry.
    """
    problems = Problems()
    problems.extend(known_problems)
    parsed: dict[str, Any] = {}
    for key, section in SECTIONS.items():
        if key in raw:
            parsed[section.attribute] = _validate_section(section, raw[key], problems)
        elif section.required:
            problems.add((key,), "is required" + _written_as(key, raw))
    checked = {name: value for name, value in parsed.items() if name != "factory"}
    # list sections that failed as a whole are checked as empty; other failed sections stay None (skipped)
    for name in ("clusters", "teams", "lines"):
        checked[name] = checked.get(name) or []
    cross_check(Sections(**checked, timezone=field(parsed.get("factory"), "timezone")), problems)
    _stray_keys(raw, _kubeconfig_keys(checked["clusters"]), problems)
    _kubeconfig_sources(raw, checked["clusters"], problems, required=require_kubeconfigs)
    problems.raise_if_any(order or list(SECTIONS))
    return FactoryConfig.model_validate({key: raw[key] for key in SECTIONS if key in raw})
