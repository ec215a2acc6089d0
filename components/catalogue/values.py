"""Dotted paths into chart values ('falcosidekick.image.tag'), as the catalogue's slots name them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def get_path(values: Mapping[str, Any], key: str) -> Any:
    node: Any = values
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def set_path(values: dict[str, Any], key: str, value: Any) -> None:
    node = values
    *parents, last = key.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
