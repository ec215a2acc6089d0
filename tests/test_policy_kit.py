"""How policy tests judge fixtures — the way CrossGuard delivers props — and proof that those semantics hold.

A fixture is a list of `Res` (a resource as the program would register it, written with ints and plain
dicts). `judge` hands it to a policy the way the analyzer does: numbers become floats, secrets are wire
wrappers that `deserialize_properties` unwraps, containers are `unknown_checking_proxy` Mappings, and
stack resources carry property dependencies. `judge_offline` runs the same fixture through the offline
runner `make plan` uses (no per-property dependencies, no proxies). Test modules declare `CASES`: one
policy, one compliant fixture, one-field mutations that must each be caught (checkov/Kyverno style).
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from factory_policies import pod_security_restricted
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
) -> list[str]:
    """Violation messages, with props and dependencies exactly as the analyzer hands them to the policy
    (collected into `found` when given, so they survive an exception the policy lets through)."""
    found = [] if found is None else found

    def report(message: str, urn: str | None = None) -> None:
        found.append(message)

    props = {r.name: unknown_checking_proxy(deserialize_properties(wire(dict(r.props)))) for r in fixture}
    if isinstance(policy, ResourceValidationPolicy):
        for r in fixture:
            args = ResourceValidationArgs(r.type, props[r.name], r.urn, r.name, _options(r), None, config, stack_tags)
            policy.validate(args, report)
        return found
    built = {
        r.name: PolicyResource(r.type, props[r.name], r.urn, r.name, _options(r), None, None, [], {}) for r in fixture
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


CASE_MODULES = (
    "tests.test_policy_kubernetes",
    "tests.test_policy_chaos",
    "tests.test_policy_aws",
    "tests.test_policy_gcp",
    "tests.test_policy_azure",
    "tests.test_policy_backup",
)


def all_cases() -> list[Case]:
    """Every case of every policy test module (imported lazily: those modules import this one)."""
    return [case for module in CASE_MODULES for case in importlib.import_module(module).CASES]


def case_params(cases: Sequence[Case]) -> list[Any]:
    return [pytest.param(case, id=case.label) for case in cases]


def mutation_params(cases: Sequence[Case]) -> list[Any]:
    return [pytest.param(case, m, id=f"{case.label}:{m.id}") for case in cases for m in case.mutations]


def assert_compliant(case: Case) -> None:
    assert judge(case.policy, case.fixture, case.config) == []
    assert judge_offline(case.policy, case.fixture, case.config) == []


def assert_caught(case: Case, mutation: Mutation) -> None:
    violations = judge(case.policy, mutated(case.fixture, mutation), case.config)
    assert any(mutation.expect in v for v in violations), (mutation.expect, violations)


# --- the semantics the kit relies on, proven on the kit itself ------------------------------------------


def test_wire_turns_ints_into_floats_but_keeps_booleans() -> None:
    assert wire({"a": [1, True, "x", {"b": 2}]}) == {"a": [1.0, True, "x", {"b": 2.0}]}


def test_secrets_arrive_unwrapped_and_props_are_read_only_mappings() -> None:
    props = unknown_checking_proxy(deserialize_properties(wire({"stringData": secret({"k": "v"}), "n": 3})))
    assert not isinstance(props, dict) and isinstance(props, Mapping)
    assert props["stringData"]["k"] == "v" and props["n"] == 3.0


def test_mutation_helpers_change_exactly_one_thing() -> None:
    fixture = (Res("t", {"a": {"b": 1, "c": [0, 1]}}, name="x"), Res("t", {}, name="y"))
    assert mutated(fixture, Mutation("m", "a.c.1", 5, ""))[0].props == {"a": {"b": 1, "c": [0, 5]}}
    assert mutated(fixture, Mutation("m", "a.b", DELETE, ""))[0].props == {"a": {"c": [0, 1]}}
    assert [r.name for r in mutated(fixture, Mutation("m", "", DROP, "", target="y"))] == ["x"]
    assert mutated(fixture, Mutation("m", "@protect", True, ""))[0].protect is True
    assert fixture[0].props == {"a": {"b": 1, "c": [0, 1]}}, "the compliant fixture is never changed"


def test_unknown_values_are_never_judged_as_unset() -> None:
    """During preview a value may be unknown. The analyzer's proxy raises UnknownValueError, which the pack
    lets through so Pulumi reports "can't run policy during preview" (advisory) instead of a verdict; the
    offline harness records pulumi.output.Unknown, which gets no verdict either."""

    def deployment(value: Any) -> dict[str, Any]:
        context = {"allowPrivilegeEscalation": value, "capabilities": {"drop": ["ALL"]}}
        pod = {
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "app", "image": "r/app:1", "securityContext": context}],
        }
        return {"metadata": {"namespace": "line-a"}, "spec": {"template": {"spec": pod}}}

    deploy = "kubernetes:apps/v1:Deployment"
    with pytest.raises(UnknownValueError):
        judge(pod_security_restricted, [Res(deploy, deployment(UNKNOWN_STRING_VALUE))])
    assert judge_offline(pod_security_restricted, [Res(deploy, deployment(Unknown()))]) == []
    assert judge(pod_security_restricted, [Res(deploy, deployment(True))]), "and a known value is still judged"
