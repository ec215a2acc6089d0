"""The semantics tests/support/policy_kit.py relies on, proven on the kit itself: props arrive as CrossGuard
delivers them, mutations change exactly one thing, and an unknown value is never judged as unset."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from pulumi.output import Unknown
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from factory_policies import pod_security_restricted
from tests.support.policy_kit import DELETE, DROP, Mutation, Res, judge, judge_offline, mutated, secret, wire


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
