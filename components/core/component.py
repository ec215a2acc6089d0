"""The base of every factory-floor component: one token scheme, one way to make children, one protection
rule for stateful resources, one way to finish.

A component is `Class(name, args, opts)`: `args` is a frozen dataclass deriving from `ComponentArgs`, the
whole input of the component (no wiring parameters after `opts`). Children are made with `child_opts()`
(parented to the component), kept in `resources` under a short key, and `finish()` registers the outputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import pulumi

TOKEN_PREFIX = "factory:index:"


@dataclass(frozen=True)
class Protection:
    """Whether stateful resources (backup stores, keys, databases, line namespaces with their volumes) get
    `protect` and `retain_on_delete`: always in production, elsewhere only when the stack says so."""

    stateful: bool

    @classmethod
    def of(cls, environment: str, stateful: bool | None) -> Protection:
        return cls(environment == "production" if stateful is None else stateful or environment == "production")


@dataclass(frozen=True, kw_only=True)
class ComponentArgs:
    protection: Protection


A = TypeVar("A", bound=ComponentArgs)
R = TypeVar("R", bound=pulumi.Resource)


class FactoryComponent(pulumi.ComponentResource, Generic[A]):
    """Token `factory:index:<Class>`; subclasses document in their docstring what they create."""

    args: A
    resources: dict[str, pulumi.Resource]

    def __init__(self, name: str, args: A, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TOKEN_PREFIX + type(self).__name__, name, None, opts)
        self.name = name
        self.args = args
        self.resources = {}

    def child_name(self, suffix: str) -> str:
        return f"{self.name}-{suffix}"

    def child_opts(
        self,
        *,
        depends_on: Sequence[pulumi.Resource] = (),
        stateful: bool = False,
        providers: Sequence[pulumi.ProviderResource] | None = None,
        provider: pulumi.ProviderResource | None = None,
    ) -> pulumi.ResourceOptions:
        """Options of a child: parented here; a stateful child gets the stack's protection."""
        protect = stateful and self.args.protection.stateful
        return pulumi.ResourceOptions(
            parent=self,
            depends_on=list(depends_on) or None,
            protect=protect or None,
            retain_on_delete=protect or None,
            providers=list(providers) if providers is not None else None,
            provider=provider,
        )

    def own(self, key: str, resource: R) -> R:
        """Keep a child under `key` in `resources` (unique within the component) and return it."""
        if key in self.resources:
            raise ValueError(f"{self.name}: two children under the key '{key}'")
        self.resources[key] = resource
        return resource

    def finish(self, outputs: Mapping[str, Any] | None = None) -> None:
        self.register_outputs(dict(outputs or {}))
