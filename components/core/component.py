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
    # what every child waits for: on a cluster, the admission gate (AdmissionControl.gate) — nothing else may be
    # created before Gatekeeper's fail-closed webhook answers
    after: tuple[pulumi.Resource, ...] = ()


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
        """Options of a child: parented here, after the component's `after` and `depends_on`; a stateful child
        gets the stack's protection."""
        protect = stateful and self.args.protection.stateful
        return pulumi.ResourceOptions(
            parent=self,
            depends_on=list(dict.fromkeys([*self.args.after, *depends_on])) or None,
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


def moved_children(old_parent_urn: pulumi.Input[str], old_name: str, new_name: str) -> pulumi.ResourceOptions:
    """Options for a component whose children used to be another component's: each direct child named
    `<new_name>-<key>` is aliased to `<old_name>-<key>` under the old parent, so `pulumi up` moves it in state
    instead of deleting and recreating it. A child with no old counterpart gets an alias that matches nothing,
    which the engine ignores. The v4 Charts among them take their rendered objects along: a child inherits its
    parent's aliases (the engine's inheritedChildAlias)."""
    component: list[pulumi.Resource] = []

    def alias(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if not component:
            component.append(args.resource)  # the component itself is transformed first
            return None
        if args.opts.parent is not component[0] or not args.name.startswith(f"{new_name}-"):
            return None
        moved = pulumi.Alias(name=old_name + args.name[len(new_name) :], parent=old_parent_urn)
        return pulumi.ResourceTransformationResult(
            args.props, pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(aliases=[moved]))
        )

    return pulumi.ResourceOptions(transformations=[alias])
