"""ProductionLine as the real program registers it: a restricted namespace pinned to the cluster minor,
quota and limits by profile and criticality, default-deny with declared conduits on both sides, team
access limited to the line, and a workload account without a token."""

from __future__ import annotations

from typing import Any

import pytest

from offline.harness import Recording
from offline.render import redact
from tests.support.factories import valid_raw
from tests.support.runs import Runs, inputs_in_namespace, one

NS = "kubernetes:core/v1:Namespace"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


@pytest.fixture(scope="module")
def recording(runs: Runs) -> Recording:
    return runs.main(valid_raw())


def test_each_line_component_holds_its_objects(recording: Recording) -> None:
    for line in recording.of_type("factory:index:ProductionLine"):
        children = [r for r in recording.resources if r.parent == line.urn]
        kinds = sorted(r.type.rsplit(":", 1)[1] for r in children)
        assert kinds.count("Namespace") == 1
        assert {"LimitRange", "ResourceQuota", "Role", "RoleBinding", "ServiceAccount"} <= set(kinds)
        assert kinds.count("NetworkPolicy") >= 4  # default-deny, same line, DNS, scrape
        assert kinds.count("ServiceAccountPatch") == 1  # the namespace's default account


def test_namespace_is_pod_security_restricted_pinned_to_cluster_version(recording: Recording) -> None:
    labels = one(recording, NS, "testwerk-mes-namespace").inputs["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
        assert labels[f"pod-security.kubernetes.io/{mode}-version"] == "v1.33"  # the cloud cluster's minor
    assert labels["factory-floor.io/factory"] == "testwerk"
    assert labels["factory-floor.io/team"] == "digital"
    assert labels["app.kubernetes.io/managed-by"] == "pulumi"
    assert labels["factory-floor.io/chaos"] == "opt-in"
    press = one(recording, NS, "testwerk-press-namespace").inputs["metadata"]["labels"]
    assert press["pod-security.kubernetes.io/enforce-version"] == "v1.32"
    assert "factory-floor.io/chaos" not in press


def test_namespaced_objects_wait_for_their_namespace(recording: Recording) -> None:
    namespace = one(recording, NS, "testwerk-weld-namespace")
    weld = [r for r in recording.resources if r.custom and r.name.startswith("testwerk-weld-") and r.type != NS]
    assert weld and all(namespace.urn in r.dependencies for r in weld)


def test_default_deny_same_line_dns_and_scrape_in_every_line(recording: Recording) -> None:
    for namespace in ("line-press", "line-weld", "line-mes"):
        policies = {p["metadata"]["name"]: p["spec"] for p in inputs_in_namespace(recording, NETPOL, namespace)}
        assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        assert policies["allow-same-line"]["ingress"] == [{"from": [{"podSelector": {}}]}]
        dns = policies["allow-dns"]["egress"][0]
        assert dns["ports"] == [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
        assert dns["to"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "kube-system"}
        scrape = policies["allow-metrics-scrape"]["ingress"][0]
        assert scrape["ports"] == [{"protocol": "TCP", "port": 9464}]


def test_declared_flow_is_opened_on_both_sides_and_nowhere_else(recording: Recording) -> None:
    press = {p["metadata"]["name"]: p["spec"] for p in inputs_in_namespace(recording, NETPOL, "line-press")}
    weld = {p["metadata"]["name"]: p["spec"] for p in inputs_in_namespace(recording, NETPOL, "line-weld")}
    mes = {p["metadata"]["name"]: p["spec"] for p in inputs_in_namespace(recording, NETPOL, "line-mes")}
    egress = press["flow-to-weld-tcp"]
    assert egress["policyTypes"] == ["Egress"]
    assert egress["egress"] == [
        {
            "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "line-weld"}}}],
            "ports": [{"protocol": "TCP", "port": 4840}],
        }
    ]
    ingress = weld["flow-from-press-tcp"]
    assert ingress["ingress"][0]["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "line-press"}}}
    ]
    assert ingress["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 4840}]
    assert not [n for n in weld if n.startswith("flow-to-")]
    assert not [n for n in mes if n.startswith("flow-")]


def test_quota_and_limits_follow_profile_and_criticality(recording: Recording) -> None:
    quota = {q["metadata"]["namespace"]: q["spec"]["hard"] for q in map(redact, _inputs(recording, "ResourceQuota"))}
    # edge-small base: 1 CPU / 2Gi requests; press is critical (x2), weld standard
    assert quota["line-press"]["requests.cpu"] == "2" and quota["line-press"]["requests.memory"] == "4Gi"
    assert quota["line-weld"]["requests.cpu"] == "1" and quota["line-weld"]["limits.memory"] == "4Gi"
    assert quota["line-mes"]["requests.cpu"] == "8"  # cloud profile
    for hard in quota.values():
        assert hard["services.loadbalancers"] == "0" and hard["services.nodeports"] == "0"
    limits = {x["metadata"]["namespace"]: x["spec"]["limits"][0] for x in _inputs(recording, "LimitRange")}
    assert limits["line-weld"]["default"] == {"cpu": "500m", "memory": "512Mi", "ephemeral-storage": "512Mi"}
    assert limits["line-weld"]["defaultRequest"] == {"cpu": "50m", "memory": "64Mi", "ephemeral-storage": "64Mi"}


def _inputs(recording: Recording, kind: str) -> list[dict[str, Any]]:
    return [redact(r.inputs) for r in recording.resources if r.type.endswith(f":{kind}")]


def test_team_groups_get_edit_rights_only_in_their_line(recording: Recording) -> None:
    bindings = {b["metadata"]["namespace"]: b for b in _inputs(recording, "RoleBinding")}
    assert [s["name"] for s in bindings["line-mes"]["subjects"]] == ["digital-a", "digital-b"]
    assert all(s["kind"] == "Group" for s in bindings["line-mes"]["subjects"])
    assert bindings["line-press"]["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "line-editor",
    }
    for role in _inputs(recording, "Role"):
        for rule in role["rules"]:
            assert "*" not in rule["verbs"] and "*" not in rule["resources"] and "*" not in rule["apiGroups"]
            assert "secrets" not in rule["resources"] and "networkpolicies" not in rule["resources"]


def test_workload_service_account_has_no_token_automount(recording: Recording) -> None:
    accounts = [a for a in _inputs(recording, "ServiceAccount") if a["metadata"]["namespace"].startswith("line-")]
    assert len(accounts) == 3
    assert all(a["automountServiceAccountToken"] is False for a in accounts)
