"""ValidatingAdmissionPolicies: the critical admission rules again, in-tree (CEL in the API server), for the
single-node cells. Gatekeeper on one node is one pod: while it restarts, a fail-open webhook (a staging or
development stack's explicit choice) admits everything, and nothing it does holds before it is installed.
These policies have no webhook to fail: they hold as long as the API server does.

Pure builders: manifests as dicts. They judge the namespaces the Gatekeeper constraints judge (every
namespace but Kubernetes' and the platform's own), by the namespace's name, which the API server sets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from components.config.factory import ClusterConfig
from components.core import vocabulary as vocab
from components.core.kube import Manifest

API = "admissionregistration.k8s.io/v1"
# admissionregistration.k8s.io/v1 is GA (served, no feature gate) from Kubernetes 1.30; 1.29 serves only
# v1beta1, behind the ValidatingAdmissionPolicy feature gate and the runtime-config of its API, which managed
# clusters do not let us set: a 1.29 cell gets no policies and keeps Gatekeeper (and Pod Security) alone
FIRST_MINOR = 30
PREFIX = "factory-floor-"
# the stack's Gatekeeper enforcement action, spelled as validationActions (Deny and Warn never together)
ACTIONS: dict[str, list[str]] = {"deny": ["Deny"], "warn": ["Warn"], "dryrun": ["Audit"]}

# where a pod spec is, by kind (the kinds the rules below match)
POD_SPEC = (
    "object.kind == 'Pod' ? object.spec : "
    "(object.kind == 'CronJob' ? object.spec.jobTemplate.spec.template.spec : object.spec.template.spec)"
)
# every container that runs in the pod: containers, init containers and (`kubectl debug`) ephemeral ones
CONTAINERS = " + ".join(
    f"(has(variables.spec.{field}) ? variables.spec.{field} : [])"
    for field in ("containers", "initContainers", "ephemeralContainers")
)
PRIVILEGED = "has(c.securityContext) && has(c.securityContext.privileged) && c.securityContext.privileged"


def _rule(group: str, resources: list[str], operations: list[str]) -> dict[str, Any]:
    return {"apiGroups": [group], "apiVersions": ["v1"], "operations": operations, "resources": resources}


# A Pod's host namespaces and its containers' security contexts are immutable: refusing an UPDATE of a Pod
# admitted before would only block its labels, finalizers and deletion (as in K8sPSPHostNamespace). Templates
# of workloads can change, so they are judged on UPDATE too; an ephemeral container is added by an UPDATE of
# the pods/ephemeralcontainers subresource.
WORKLOAD_RULES = [
    _rule("", ["pods"], ["CREATE"]),
    _rule("apps", ["deployments", "statefulsets", "daemonsets", "replicasets"], ["CREATE", "UPDATE"]),
    _rule("batch", ["jobs", "cronjobs"], ["CREATE", "UPDATE"]),
]
EPHEMERAL_RULE = _rule("", ["pods/ephemeralcontainers"], ["UPDATE"])
SERVICE_RULES = [_rule("", ["services"], ["CREATE", "UPDATE"])]


@dataclass(frozen=True)
class Policy:
    name: str  # without PREFIX
    description: str
    rules: list[dict[str, Any]]
    variables: list[dict[str, str]]
    validations: list[dict[str, str]]


def _host_namespace(field: str) -> dict[str, str]:
    return {
        "expression": f"!(has(variables.spec.{field}) && variables.spec.{field} == true)",
        "message": f"{field}: true shares a namespace of the node; not allowed outside the platform namespaces",
        "reason": "Forbidden",
    }


POLICIES: tuple[Policy, ...] = (
    Policy(
        "no-host-namespaces",
        "No hostPID, hostIPC or hostNetwork (as the Gatekeeper constraint no-host-namespaces).",
        WORKLOAD_RULES,
        [{"name": "spec", "expression": POD_SPEC}],
        [_host_namespace(field) for field in ("hostPID", "hostIPC", "hostNetwork")],
    ),
    Policy(
        "no-privileged-containers",
        "No privileged container, init container or ephemeral container.",
        [*WORKLOAD_RULES, EPHEMERAL_RULE],
        [{"name": "spec", "expression": POD_SPEC}, {"name": "containers", "expression": CONTAINERS}],
        [
            {
                "expression": f"variables.containers.all(c, !({PRIVILEGED}))",
                "messageExpression": (
                    "'privileged containers are not allowed outside the platform namespaces: ' + "
                    f"variables.containers.filter(c, {PRIVILEGED}).map(c, c.name).join(', ')"
                ),
                "message": "privileged containers are not allowed outside the platform namespaces",
                "reason": "Forbidden",
            }
        ],
    ),
    Policy(
        "no-external-ips",
        "No Service claims external IPs (CVE-2020-8554; as the Gatekeeper constraint no-external-ips).",
        SERVICE_RULES,
        [],
        [
            {
                "expression": "!has(object.spec.externalIPs) || size(object.spec.externalIPs) == 0",
                "messageExpression": (
                    "'Service ' + object.metadata.name + ' claims external IPs ' + "
                    "object.spec.externalIPs.join(', ') + ': kube-proxy would send their traffic on every node to "
                    "its pods (CVE-2020-8554)'"
                ),
                "message": "Services may not claim external IPs (CVE-2020-8554)",
                "reason": "Forbidden",
            }
        ],
    ),
)


def applies(cluster: ClusterConfig) -> bool:
    """On single-node cells (profile edge-small) whose Kubernetes serves admissionregistration.k8s.io/v1."""
    minor = int(cluster.kubernetes_version.split(".")[1])
    return cluster.profile == "edge-small" and minor >= FIRST_MINOR


def policy(spec: Policy, factory: str) -> Manifest:
    body: dict[str, Any] = {
        # a broken expression or a missing parameter refuses rather than admits
        "failurePolicy": "Fail",
        "matchConstraints": {"resourceRules": spec.rules},
        "validations": spec.validations,
    }
    if spec.variables:
        body["variables"] = spec.variables
    return {
        "apiVersion": API,
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {
            "name": PREFIX + spec.name,
            "labels": vocab.standard_labels(factory, component=vocab.SECURITY_COMPONENT),
            "annotations": {"description": spec.description},
        },
        "spec": body,
    }


def binding(spec: Policy, factory: str, enforcement_action: str, exempt: Sequence[str]) -> Manifest:
    """Binds the policy to every namespace except `exempt`, selected by name: `kubernetes.io/metadata.name`
    is set by the API server, so no namespace can label its way out."""
    return {
        "apiVersion": API,
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {
            "name": PREFIX + spec.name,
            "labels": vocab.standard_labels(factory, component=vocab.SECURITY_COMPONENT),
        },
        "spec": {
            "policyName": PREFIX + spec.name,
            "validationActions": ACTIONS[enforcement_action],
            "matchResources": {
                "namespaceSelector": {
                    "matchExpressions": [
                        {"key": vocab.NAMESPACE_NAME, "operator": "NotIn", "values": sorted(set(exempt))}
                    ]
                }
            },
        },
    }


def manifests(
    cluster: ClusterConfig, factory: str, enforcement_action: str, exempt: Sequence[str]
) -> list[tuple[Manifest, Manifest]]:
    """(policy, binding) of each critical rule, for a cluster they apply to; none elsewhere."""
    if not applies(cluster):
        return []
    return [(policy(spec, factory), binding(spec, factory, enforcement_action, exempt)) for spec in POLICIES]
