"""The constraints a factory applies: which template, which objects, which parameters — rolled out with the
stack's enforcement action and never judging the platform's own namespaces."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.config.document import FactoryConfig
from components.config.types import Profile
from components.core import vocabulary as vocab
from components.core.sizing import PROFILES, cpu, memory

CONSTRAINT_API = "constraints.gatekeeper.sh/v1beta1"
WORKLOAD_KINDS = [
    {"apiGroups": [""], "kinds": ["Pod"]},
    {"apiGroups": ["apps"], "kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"]},
    {"apiGroups": ["batch"], "kinds": ["Job", "CronJob"]},
]


def allowed_images(config: FactoryConfig) -> list[str]:
    """What lines may run: anything through the site mirror, plus the stack's own list."""
    mirror = config.site.registry_mirror
    return [*([f"{mirror}/*"] if mirror else []), *config.security.gatekeeper.allowed_images]


@dataclass(frozen=True)
class ConstraintSpec:
    kind: str
    name: str
    parameters: dict[str, Any]
    kinds: list[dict[str, Any]]


def constraint_specs(allowed_images: list[str], required_labels: list[str], profile: Profile) -> list[ConstraintSpec]:
    """The constraints of one cluster: container maximums follow its sizing profile."""
    services = [{"apiGroups": [""], "kinds": ["Service"]}]
    pods = [{"apiGroups": [""], "kinds": ["Pod"]}]
    # the same maximums the line's LimitRange sets: Gatekeeper refuses at admission, with a message, what
    # the LimitRange would refuse too, and the audit finds what was admitted before a maximum was lowered
    sizing = PROFILES[profile].container
    maximums = {"cpu": cpu(sizing.max_cpu_m), "memory": memory(sizing.max_memory_mi)}
    return [
        ConstraintSpec("K8sAllowedReposv2", "allowed-images", {"allowedImages": allowed_images}, WORKLOAD_KINDS),
        # workloads that create pods, Jobs and CronJobs included (a Job a team runs by hand is attributed too);
        # not Pods and ReplicaSets, which their controllers label from these templates
        ConstraintSpec(
            "K8sRequiredLabels",
            "attribution-labels",
            {"labels": [{"key": key} for key in required_labels]},
            [
                {"apiGroups": ["apps"], "kinds": ["Deployment", "StatefulSet", "DaemonSet"]},
                {"apiGroups": ["batch"], "kinds": ["Job", "CronJob"]},
            ],
        ),
        # Pods only: the LimitRanger admission plugin fills a line's defaults before this webhook runs, so
        # the constraint catches what escapes a LimitRange instead of rejecting templates that rely on it
        ConstraintSpec("K8sContainerLimits", "container-limits", maximums, pods),
        # presence only: a request is at most its limit (API validation), which container-limits caps
        ConstraintSpec("K8sContainerRequests", "container-requests", {}, pods),
        # templates of long-running workloads: the team hears about a missing probe at `apply`, not when a
        # ReplicaSet silently fails to create pods; Jobs need no probes
        ConstraintSpec(
            "K8sRequiredProbes",
            "required-probes",
            {"probes": ["readinessProbe", "livenessProbe"], "probeTypes": ["tcpSocket", "httpGet", "exec", "grpc"]},
            [{"apiGroups": ["apps"], "kinds": ["Deployment", "StatefulSet", "DaemonSet"]}],
        ),
        ConstraintSpec("K8sPSPHostNamespace", "no-host-namespaces", {}, WORKLOAD_KINDS),
        ConstraintSpec("K8sBlockNodePort", "no-node-ports", {}, services),
        # CVE-2020-8554: no Service may claim an address on the nodes; the in-tree DenyServiceExternalIPs
        # admission plugin says the same on k3s/RKE2 servers (components/security/server_config.py), this
        # constraint is the control where the API server's flags cannot be set (EKS, GKE, AKS)
        ConstraintSpec("K8sExternalIPs", "no-external-ips", {"allowedIPs": []}, services),
        # every judged namespace, as the constraints above: a line namespace is one of them, and a selector
        # on a namespace label would let a namespace without the label escape
        ConstraintSpec("K8sBlockExternalName", "no-external-name-services", {}, services),
    ]


def constraint(spec: ConstraintSpec, factory: str, enforcement_action: str, exempt: list[str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "enforcementAction": enforcement_action,
        "match": {"kinds": spec.kinds, "excludedNamespaces": sorted(exempt)},
    }
    if spec.parameters:
        body["parameters"] = spec.parameters
    return {
        "apiVersion": CONSTRAINT_API,
        "kind": spec.kind,
        "metadata": {"name": spec.name, "labels": vocab.standard_labels(factory, component=vocab.SECURITY_COMPONENT)},
        "spec": body,
    }
