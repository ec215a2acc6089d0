"""How policy tests judge fixtures — the way CrossGuard delivers props — shared by every test of the pack.

A fixture is a list of `Res` (a resource as the program would register it, written with ints and plain
dicts). `judge` hands it to a policy the way the analyzer does: numbers become floats, secrets are wire
wrappers that `deserialize_properties` unwraps, containers are `unknown_checking_proxy` Mappings, and
stack resources carry property dependencies. `judge_offline` runs the same fixture through the offline
runner `make plan` uses (no per-property dependencies, no proxies). The fixture modules of
tests/support/policy_cases declare `CASES`: one policy, one compliant fixture, one-field mutations that must
each be caught (checkov/Kyverno style); tests/policies/test_cases.py judges them all. The semantics this kit
relies on are proven in tests/policies/test_kit.py.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from pulumi.runtime import rpc
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import unknown_checking_proxy

from offline.harness import Recording, Registration
from offline.policy_runner import evaluate

DELETE = object()  # mutation value: remove the key
DROP = object()  # mutation value: remove the whole resource from the fixture


def secret(value: Any) -> dict[str, Any]:
    """A secret as it travels on the wire (what `pulumi.secret(...)` becomes)."""
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


def wire(value: Any) -> Any:
    """Numbers as the engine sends them: every int becomes a float (10001 -> 10001.0)."""
    if isinstance(value, bool) or not isinstance(value, int | dict | list):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dict):
        return {k: wire(v) for k, v in value.items()}
    return [wire(v) for v in value]


@dataclass(frozen=True)
class Res:
    type: str
    props: Mapping[str, Any]
    name: str = "subject"
    protect: bool = False
    links: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # prop -> names it depends on
    parents: tuple[str, ...] = ()  # types of its ancestors, as the URN records them

    @property
    def urn(self) -> str:
        return f"urn:pulumi:test::factory-floor::{'$'.join((*self.parents, self.type))}::{self.name}"


@dataclass(frozen=True)
class Mutation:
    id: str
    path: str | tuple[str, ...]  # "spec.containers.0.image", a tuple for keys holding dots, "@protect", ""
    value: Any
    expect: str  # a substring of the violation it must cause
    target: str | None = None  # resource name; None: the first resource


@dataclass(frozen=True)
class Case:
    policy: Any
    fixture: tuple[Res, ...]
    mutations: tuple[Mutation, ...]
    config: Mapping[str, Any] = field(default_factory=dict)
    id: str = ""

    @property
    def label(self) -> str:
        return self.id or self.policy.name


def _set(props: Any, path: Sequence[str], value: Any) -> None:
    node = props
    for part in path[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    last: Any = int(path[-1]) if isinstance(node, list) else path[-1]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value


def mutated(fixture: Sequence[Res], mutation: Mutation) -> list[Res]:
    target = mutation.target or fixture[0].name
    assert target in {r.name for r in fixture}, f"{mutation.id}: no resource {target}"
    result = []
    for res in fixture:
        if res.name != target:
            result.append(res)
        elif mutation.value is DROP:
            continue
        elif isinstance(mutation.path, str) and mutation.path.startswith("@"):
            result.append(replace(res, **{mutation.path[1:]: mutation.value}))
        else:
            props = copy.deepcopy(dict(res.props))
            _set(props, mutation.path.split(".") if isinstance(mutation.path, str) else mutation.path, mutation.value)
            result.append(replace(res, props=props))
    return result


def _options(res: Res) -> PolicyResourceOptions:
    return PolicyResourceOptions(res.protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def judge(
    policy: Any,
    fixture: Sequence[Res],
    config: Mapping[str, Any] | None = None,
    stack_tags: Mapping[str, str] | None = None,
    found: list[str] | None = None,
    *,
    provider: Mapping[str, Any] | None = None,
) -> list[str]:
    """Violation messages, with props and dependencies exactly as the analyzer hands them to the policy
    (collected into `found` when given, so they survive an exception the policy lets through); `provider`
    gives every resource a provider with these props (a Kubernetes provider's `clusterIdentifier`)."""
    found = [] if found is None else found
    on = None
    if provider is not None:
        provider_props = unknown_checking_proxy(deserialize_properties(wire(dict(provider))))
        on = PolicyProviderResource("pulumi:providers:kubernetes", provider_props, "urn:provider", "provider")

    def report(message: str, urn: str | None = None) -> None:
        found.append(message)

    props = {r.name: unknown_checking_proxy(deserialize_properties(wire(dict(r.props)))) for r in fixture}
    if isinstance(policy, ResourceValidationPolicy):
        for r in fixture:
            args = ResourceValidationArgs(r.type, props[r.name], r.urn, r.name, _options(r), on, config, stack_tags)
            policy.validate(args, report)
        return found
    built = {
        r.name: PolicyResource(r.type, props[r.name], r.urn, r.name, _options(r), on, None, [], {}) for r in fixture
    }
    for r in fixture:
        # a link to a resource a mutation dropped is gone, as the engine would never have registered it
        links = {p: [built[n] for n in names if n in built] for p, names in r.links.items()}
        built[r.name].property_dependencies = links
        built[r.name].dependencies = [d for deps in links.values() for d in deps]
    policy.validate(StackValidationArgs(list(built.values()), config, stack_tags), report)
    return found


def recording_of(fixture: Sequence[Res]) -> Recording:
    """The fixture as the offline harness records a program run: dependencies, but none per property."""
    by_name = {r.name: r for r in fixture}
    recording = Recording(project="factory-floor", stack="test")
    for r in fixture:
        depends = sorted({by_name[n].urn for names in r.links.values() for n in names if n in by_name})
        recording.resources.append(
            Registration(
                urn=r.urn,
                type=r.type,
                name=r.name,
                custom=True,
                parent="",
                provider="",
                providers={},
                dependencies=depends,
                property_dependencies={},
                aliases=[],
                protect=r.protect,
                retain_on_delete=False,
                remote=False,
                inputs=wire(dict(r.props)),
            )
        )
    return recording


def judge_offline(policy: Any, fixture: Sequence[Res], config: Mapping[str, Any] | None = None) -> list[str]:
    """Violation messages through offline.policy_runner.evaluate, the path `make plan` takes."""
    [verdict] = evaluate([policy], recording_of(fixture), config={policy.name: dict(config or {})})
    return [v.message for v in verdict.violations]


def all_cases() -> list[Case]:
    """Every case of every fixture module of tests/support/policy_cases."""
    # not at the top: the fixture modules import this one (Res, Case, Mutation), so it cannot import them first
    from tests.support.policy_cases import MODULES  # noqa: PLC0415

    return [case for module in MODULES for case in module.CASES]


def case_params(cases: Sequence[Case]) -> list[Any]:
    return [pytest.param(case, id=case.label) for case in cases]


def mutation_params(cases: Sequence[Case]) -> list[Any]:
    return [pytest.param(case, m, id=f"{case.label}:{m.id}") for case in cases for m in case.mutations]


# This module is not rewritten by pytest, so each assertion states what it found.


def assert_compliant(case: Case) -> None:
    violations = judge(case.policy, case.fixture, case.config)
    assert violations == [], violations
    offline = judge_offline(case.policy, case.fixture, case.config)
    assert offline == [], offline


def assert_caught(case: Case, mutation: Mutation) -> None:
    violations = judge(case.policy, mutated(case.fixture, mutation), case.config)
    assert any(mutation.expect in v for v in violations), (mutation.expect, violations)
