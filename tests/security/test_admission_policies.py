"""The ValidatingAdmissionPolicies of single-node cells (#9 finding 7), evaluated in a real CEL runtime (the CEL
C++ implementation, cel-expr-python) as the API server would: variables first, then every validation; a
validation that is false refuses the request (validationActions [Deny]), one that errors refuses too
(failurePolicy Fail). The attack fixtures are what a line team member would apply with kubectl.

The runtime here is CEL with the strings extension, as the API server's (Kubernetes adds its own libraries
on top — none of which these expressions use); `object` is untyped, as at evaluation time in the API server."""

from __future__ import annotations

from typing import Any

import pytest

from components.config.factory import ClusterConfig
from components.security import admission_policies as ap
from components.security.gatekeeper.constraints import WORKLOAD_KINDS
from tests.support.admission_cel import ENV, evaluate_policy
from tests.support.factories import DELETE, mutate

POLICIES = {spec.name: ap.policy(spec, "testwerk") for spec in ap.POLICIES}


def evaluate(name: str, obj: dict[str, Any]) -> list[str]:
    """The messages of every failed validation of policy `name` for `obj` (empty: admitted)."""
    refused = evaluate_policy(POLICIES[name], obj)
    assert refused is not None  # these policies have no match conditions
    return refused


def container(name: str = "app", **security: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"name": name, "image": "harbor.plant.local/mirror/testwerk-lines/press/app:1.0"}
    if security:
        found["securityContext"] = security
    return found


def pod_spec(**extra: Any) -> dict[str, Any]:
    return {"containers": [container()], **extra}


def workload(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    metadata = {"name": "gateway", "namespace": "line-press"}
    if kind == "Pod":
        return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}
    template = {"metadata": {"labels": {"app": "gateway"}}, "spec": spec}
    if kind == "CronJob":
        job = {"spec": {"template": template}}
        return {"apiVersion": "batch/v1", "kind": kind, "metadata": metadata, "spec": {"jobTemplate": job}}
    group = "batch/v1" if kind == "Job" else "apps/v1"
    return {"apiVersion": group, "kind": kind, "metadata": metadata, "spec": {"template": template}}


KINDS = ["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"]


def test_the_policies_match_the_workload_kinds_the_constraints_judge() -> None:
    judged = {kind for group in WORKLOAD_KINDS for kind in group["kinds"]}
    assert judged == set(KINDS)
    resources = {
        resource
        for rule in POLICIES["no-host-namespaces"]["spec"]["matchConstraints"]["resourceRules"]
        for resource in rule["resources"]
    }
    assert resources == {"pods", "deployments", "statefulsets", "daemonsets", "replicasets", "jobs", "cronjobs"}


@pytest.mark.parametrize("kind", KINDS)
def test_a_compliant_workload_passes_every_policy(kind: str) -> None:
    obj = workload(kind, pod_spec(hostNetwork=False, initContainers=[container("init", privileged=False)]))
    for name in ("no-host-namespaces", "no-privileged-containers"):
        assert evaluate(name, obj) == [], (name, kind)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("field", ["hostPID", "hostIPC", "hostNetwork"])
def test_host_namespaces_are_refused(kind: str, field: str) -> None:
    refused = evaluate("no-host-namespaces", workload(kind, pod_spec(**{field: True})))
    assert refused == [f"{field}: true shares a namespace of the node; not allowed outside the platform namespaces"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("where", ["containers", "initContainers", "ephemeralContainers"])
def test_privileged_containers_are_refused(kind: str, where: str) -> None:
    spec = pod_spec()
    spec.setdefault(where, []).append(container("escape", privileged=True))
    assert evaluate("no-privileged-containers", workload(kind, spec)) == [
        "privileged containers are not allowed outside the platform namespaces: escape"
    ]


def test_kubectl_debug_with_a_privileged_ephemeral_container_is_refused() -> None:
    """`kubectl debug --profile=sysadmin` updates the pods/ephemeralcontainers subresource: the request's
    object is the whole Pod."""
    rules = POLICIES["no-privileged-containers"]["spec"]["matchConstraints"]["resourceRules"]
    assert {
        "apiGroups": [""],
        "apiVersions": ["v1"],
        "operations": ["UPDATE"],
        "resources": ["pods/ephemeralcontainers"],
    } in rules
    pod = workload("Pod", pod_spec(ephemeralContainers=[container("debugger", privileged=True)]))
    assert evaluate("no-privileged-containers", pod) != []


def test_a_pod_update_is_not_judged_but_a_template_update_is() -> None:
    """A Pod's host namespaces and security contexts are immutable: refusing an UPDATE of a Pod admitted before
    would only block its labels and deletion. A workload's template can change, so UPDATE is judged there."""
    for name in ("no-host-namespaces", "no-privileged-containers"):
        for rule in POLICIES[name]["spec"]["matchConstraints"]["resourceRules"]:
            if rule["resources"] == ["pods"]:
                assert rule["operations"] == ["CREATE"]
            elif rule["resources"] != ["pods/ephemeralcontainers"]:
                assert rule["operations"] == ["CREATE", "UPDATE"]


API_SERVER_INTERCEPT = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "api-intercept", "namespace": "line-press"},
    "spec": {"selector": {"app": "gateway"}, "ports": [{"port": 443}], "externalIPs": ["10.0.0.1"]},
}


def test_a_service_claiming_external_ips_is_refused() -> None:
    """CVE-2020-8554, the same attack Service as tests/security/gatekeeper/test_rego.py."""
    assert evaluate("no-external-ips", API_SERVER_INTERCEPT) == [
        "Service api-intercept claims external IPs 10.0.0.1: kube-proxy would send their traffic on every node to "
        "its pods (CVE-2020-8554)"
    ]
    rules = POLICIES["no-external-ips"]["spec"]["matchConstraints"]["resourceRules"]
    assert rules == [
        {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["services"]}
    ]


def test_plain_services_pass() -> None:
    for plain in (
        mutate(API_SERVER_INTERCEPT, "spec.externalIPs", DELETE),
        mutate(API_SERVER_INTERCEPT, "spec.externalIPs", []),
    ):
        assert evaluate("no-external-ips", plain) == []


def test_every_expression_compiles_and_every_validation_says_why() -> None:
    for name, policy in POLICIES.items():
        spec = policy["spec"]
        assert spec["failurePolicy"] == "Fail", name
        for item in [*spec.get("variables", []), *spec["validations"]]:
            ENV.compile(item["expression"])
        for validation in spec["validations"]:
            assert validation["message"] and validation["reason"] == "Forbidden", name
            if "messageExpression" in validation:
                ENV.compile(validation["messageExpression"])


def _cluster(profile: str, version: str) -> ClusterConfig:
    return ClusterConfig.model_validate(
        {
            "name": "edge",
            "distribution": "k3s",
            "kubernetesVersion": version,
            "profile": profile,
            "kubeconfig": {"secretKey": "k"},
        }
    )


@pytest.mark.parametrize(
    ("profile", "version", "rendered"),
    [
        ("edge-small", "1.30", True),
        ("edge-small", "1.33", True),
        ("edge-small", "1.29", False),  # only v1beta1 there, behind a feature gate
        ("edge-ha", "1.33", False),
        ("site", "1.33", False),
        ("cloud", "1.33", False),
    ],
)
def test_rendered_on_single_node_cells_that_serve_the_v1_api(profile: str, version: str, rendered: bool) -> None:
    found = ap.manifests(_cluster(profile, version), "testwerk", "deny", ["kube-system", "falco"])
    assert bool(found) is rendered
    for policy, binding in found:
        assert policy["apiVersion"] == binding["apiVersion"] == "admissionregistration.k8s.io/v1"
        assert binding["spec"]["policyName"] == policy["metadata"]["name"]
        assert binding["spec"]["validationActions"] == ["Deny"]
        selector = binding["spec"]["matchResources"]["namespaceSelector"]
        assert selector == {
            "matchExpressions": [
                {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["falco", "kube-system"]}
            ]
        }
