"""Judge a recorded run with the policy pack in `policy/`, calling each policy the way the analyzer would.

The pack's `__main__.py` is never imported (PolicyPack() serves gRPC forever); the policies come from the
importable `factory_policies` package, the same list `__main__.py` hands to PolicyPack.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties

from offline.harness import Recording, Registration

PACK_DEFAULT_LEVEL = EnforcementLevel.ADVISORY  # what policy/__main__.py gives PolicyPack


@dataclass(frozen=True, order=True)
class Violation:
    policy: str
    level: str
    resource: str
    message: str


@dataclass(frozen=True)
class Verdict:
    policy: Any  # ResourceValidationPolicy | StackValidationPolicy
    level: str
    violations: tuple[Violation, ...]
    judged: tuple[str, ...]  # URNs of the resources the policy looked at

    @property
    def passed(self) -> bool:
        return not self.violations


def load_policies(policy_dir: Path) -> list[Any]:
    if str(policy_dir) not in sys.path:
        sys.path.insert(0, str(policy_dir))
    package = importlib.import_module("factory_policies")
    return list(package.ALL_POLICIES)


def _level(policy: Any, overrides: Mapping[str, str]) -> str:
    if policy.name in overrides:
        return overrides[policy.name]
    return (policy.enforcement_level or PACK_DEFAULT_LEVEL).value


def _options(r: Registration) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=r.protect,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=r.parent or None,
    )


def _provider(r: Registration, by_urn: Mapping[str, Registration]) -> PolicyProviderResource | None:
    found = by_urn.get(r.provider_urn)
    if found is None:
        return None
    return PolicyProviderResource(found.type, deserialize_properties(found.inputs), found.urn, found.name)


def policy_resources(recording: Recording) -> list[PolicyResource]:
    by_urn = recording.by_urn()
    built: dict[str, PolicyResource] = {}
    for r in recording.resources:
        built[r.urn] = PolicyResource(
            resource_type=r.type,
            props=deserialize_properties(r.inputs),
            urn=r.urn,
            name=r.name,
            opts=_options(r),
            provider=_provider(r, by_urn),
            parent=None,
            dependencies=[],
            property_dependencies={},
        )
    for r in recording.resources:
        resource = built[r.urn]
        resource.parent = built.get(r.parent)
        resource.dependencies = [built[d] for d in r.dependencies if d in built]
        resource.property_dependencies = {
            key: [built[urn] for urn in urns if urn in built] for key, urns in r.property_dependencies.items()
        }
    return list(built.values())


def _run_stack_policy(
    policy: StackValidationPolicy,
    level: str,
    resources: list[PolicyResource],
    config: Mapping[str, Any],
    stack_tags: Mapping[str, str],
) -> Verdict:
    found: list[Violation] = []

    def report(message: str, urn: str | None = None) -> None:
        found.append(Violation(policy.name, level, urn or "stack", message))

    policy.validate(StackValidationArgs(resources, config, stack_tags), report)
    return Verdict(policy, level, tuple(sorted(found)), tuple(r.urn for r in resources))


def _reporter(found: list[Violation], policy: str, level: str, urn: str) -> Any:
    def report(message: str, _urn: str | None = None) -> None:
        # a resource policy's violation always belongs to the resource it judged, as in the analyzer
        found.append(Violation(policy, level, urn, message))

    return report


def _run_resource_policy(
    policy: ResourceValidationPolicy,
    level: str,
    resources: list[PolicyResource],
    config: Mapping[str, Any],
    stack_tags: Mapping[str, str],
) -> Verdict:
    found: list[Violation] = []
    judged: list[str] = []
    for resource in resources:
        args = ResourceValidationArgs(
            resource.resource_type,
            resource.props,
            resource.urn,
            resource.name,
            resource.opts,
            resource.provider,
            config,
            stack_tags,
        )
        before = len(found)
        policy.validate(args, _reporter(found, policy.name, level, resource.urn))
        if _applies(policy, resource) or len(found) > before:
            judged.append(resource.urn)
    return Verdict(policy, level, tuple(sorted(found)), tuple(judged))


def schema_defaults(policy: Any) -> dict[str, Any]:
    """The config the engine gives a policy before any --policy-pack-config: each top-level property's schema
    `default` (pkg/resource/analyzer/config.go, createConfigWithDefaults)."""
    properties = policy.config_schema.properties if policy.config_schema else {}
    return {key: schema["default"] for key, schema in properties.items() if "default" in schema}


def evaluate(
    policies: Sequence[Any],
    recording: Recording,
    config: Mapping[str, Mapping[str, Any]] | None = None,
    enforcement: Mapping[str, str] | None = None,
    stack_tags: Mapping[str, str] | None = None,
) -> list[Verdict]:
    """Run every policy; `config` is per-policy config, `enforcement` overrides levels by policy name,
    `stack_tags` are the stack's tags (`pulumi stack tag set`).

    Each policy sees what the engine would hand it (ReconcilePolicyPackConfig): its schema defaults with the
    given config laid over them key by key."""
    resources = policy_resources(recording)
    tags = dict(stack_tags or {})
    verdicts = []
    for policy in policies:
        level = _level(policy, enforcement or {})
        policy_config = {**schema_defaults(policy), **(config or {}).get(policy.name, {})}
        if level == EnforcementLevel.DISABLED.value:
            verdicts.append(Verdict(policy, level, (), ()))
        elif isinstance(policy, StackValidationPolicy):
            verdicts.append(_run_stack_policy(policy, level, resources, policy_config, tags))
        else:
            verdicts.append(_run_resource_policy(policy, level, resources, policy_config, tags))
    return verdicts


def _applies(policy: Any, resource: PolicyResource) -> bool:
    """Which resources a resource policy judges, for the compliance report (policies may declare it)."""
    types = getattr(policy, "resource_types", None) or ()
    return resource.resource_type in types


def mandatory_violations(verdicts: Sequence[Verdict]) -> list[Violation]:
    return [v for verdict in verdicts for v in verdict.violations if v.level == EnforcementLevel.MANDATORY.value]
