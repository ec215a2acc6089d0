"""Policy tests in the checkov/Kyverno style: one policy, a passing fixture and failing mutations side by side."""

from __future__ import annotations

import ast
import copy
import importlib
import pkgutil
from pathlib import Path
from typing import Any

import pytest
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from tests.factories import mutate

ROOT = Path(__file__).resolve().parent.parent
factory_policies = importlib.import_module("factory_policies")  # policy/ is on sys.path via conftest

NS_TYPE = "kubernetes:core/v1:Namespace"
NETPOL_TYPE = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


def _options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def check_resource(policy: Any, type_: str, props: dict[str, Any], config: dict[str, Any] | None = None) -> list[str]:
    found: list[str] = []
    args = ResourceValidationArgs(type_, props, f"urn:{type_}::x", "x", _options(), None, config or {})
    policy.validate(args, lambda message, urn=None: found.append(message))
    return found


def check_stack(policy: Any, resources: list[tuple[str, dict[str, Any]]]) -> list[str]:
    found: list[str] = []
    built = [
        PolicyResource(t, p, f"urn:{t}::{i}", str(i), _options(), None, None, [], {})
        for i, (t, p) in enumerate(resources)
    ]
    policy.validate(StackValidationArgs(built, {}), lambda message, urn=None: found.append(message))
    return found


# --- namespace-pod-security-restricted ----------------------------------------------------------------

RESTRICTED_NS: dict[str, Any] = {
    "metadata": {
        "name": "line-press",
        "labels": {
            f"pod-security.kubernetes.io/{mode}{suffix}": value
            for mode in ("enforce", "audit", "warn")
            for suffix, value in (("", "restricted"), ("-version", "v1.32"))
        },
    }
}
PSA = factory_policies.namespace_pod_security
LABELS = "metadata.labels"


def test_restricted_namespace_passes() -> None:
    assert check_resource(PSA, NS_TYPE, RESTRICTED_NS) == []


def test_other_resource_types_are_not_judged() -> None:
    assert check_resource(PSA, "kubernetes:core/v1:ConfigMap", {"metadata": {"name": "x"}}) == []


@pytest.mark.parametrize(
    ("label", "value", "expected"),
    [
        ("pod-security.kubernetes.io/enforce", "baseline", "only exempt system namespaces"),
        ("pod-security.kubernetes.io/warn", "privileged", "only exempt system namespaces"),
        ("pod-security.kubernetes.io/audit-version", "latest", "must pin"),
        ("pod-security.kubernetes.io/enforce", None, "has no pod-security.kubernetes.io/enforce label"),
        ("pod-security.kubernetes.io/warn-version", None, "must pin"),
    ],
)
def test_namespace_mutations_are_caught(label: str, value: str | None, expected: str) -> None:
    props = copy.deepcopy(RESTRICTED_NS)
    if value is None:
        del props["metadata"]["labels"][label]
    else:
        props["metadata"]["labels"][label] = value
    violations = check_resource(PSA, NS_TYPE, props)
    assert any(expected in v for v in violations), violations


def test_exempt_system_namespace_may_be_privileged_via_config() -> None:
    props = mutate(RESTRICTED_NS, "metadata.name", "falco")
    props["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = "privileged"
    assert check_resource(PSA, NS_TYPE, props)
    assert check_resource(PSA, NS_TYPE, props, {"exemptNamespaces": ["falco"]}) == []


# --- line-namespace-default-deny ----------------------------------------------------------------------

LINE_NS = {"metadata": {"name": "line-press", "labels": {"app.kubernetes.io/component": "production-line"}}}
DENY = {
    "metadata": {"name": "default-deny", "namespace": "line-press"},
    "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
}
DEFAULT_DENY = factory_policies.line_default_deny


def test_line_with_default_deny_passes() -> None:
    assert check_stack(DEFAULT_DENY, [(NS_TYPE, LINE_NS), (NETPOL_TYPE, DENY)]) == []


def test_non_line_namespace_is_not_judged() -> None:
    assert check_stack(DEFAULT_DENY, [(NS_TYPE, {"metadata": {"name": "tools", "labels": {}}})]) == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("spec.policyTypes", ["Ingress"]),  # egress left open
        ("spec.podSelector", {"matchLabels": {"app": "plc-gateway"}}),  # only some pods
        ("spec.ingress", [{}]),  # an allow-all rule is not a deny
        ("metadata.namespace", "line-weld"),  # deny lives in another namespace
    ],
    ids=["ingress-only", "selects-some-pods", "allow-all-rule", "other-namespace"],
)
def test_default_deny_mutations_are_caught(path: str, value: Any) -> None:
    violations = check_stack(DEFAULT_DENY, [(NS_TYPE, LINE_NS), (NETPOL_TYPE, mutate(DENY, path, value))])
    assert violations == [
        "production-line namespace 'line-press' has no default-deny NetworkPolicy "
        "(empty podSelector, policyTypes Ingress and Egress, no rules)"
    ]


def test_missing_network_policy_is_caught() -> None:
    assert len(check_stack(DEFAULT_DENY, [(NS_TYPE, LINE_NS)])) == 1


# --- the pack as a whole ------------------------------------------------------------------------------


def _defined_policies() -> list[Any]:
    found = []
    for module in pkgutil.iter_modules(factory_policies.__path__):
        loaded = importlib.import_module(f"factory_policies.{module.name}")
        found += [v for v in vars(loaded).values() if isinstance(v, ResourceValidationPolicy | StackValidationPolicy)]
    return found


def test_pack_includes_every_policy_defined() -> None:
    defined = {id(p) for p in _defined_policies()}
    assert defined == {id(p) for p in factory_policies.ALL_POLICIES}
    names = [p.name for p in factory_policies.ALL_POLICIES]
    assert len(names) == len(set(names))


def test_pack_entry_point_only_builds_the_pack() -> None:
    """policy/__main__.py is parsed, never imported (PolicyPack blocks serving gRPC)."""
    tree = ast.parse((ROOT / "policy" / "__main__.py").read_text())
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert [c.func.id for c in calls if isinstance(c.func, ast.Name)] == ["PolicyPack"]
    keywords = {k.arg: k.value for k in calls[0].keywords}
    assert isinstance(keywords["policies"], ast.Name) and keywords["policies"].id == "ALL_POLICIES"
    project = (ROOT / "policy" / "PulumiPolicy.yaml").read_text()
    assert "runtime:" in project and "python" in project
    assert "pulumi-policy==" in (ROOT / "policy" / "requirements.txt").read_text()


def test_every_policy_carries_audit_metadata() -> None:
    for policy in factory_policies.ALL_POLICIES:
        assert policy.description and policy.remediation_steps and policy.severity, policy.name
        assert policy.enforcement_level is not None and policy.framework is not None, policy.name
        assert policy.tags, f"{policy.name} has no framework references"
