"""Pure builders for everything a production line puts on its cluster.

Each function returns Kubernetes objects as plain dicts (camelCase, exactly what the provider receives),
so the builders are testable and judgeable without the Pulumi runtime. `ProductionLine` turns them into
resources.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from components import labels as lbl
from components.config import ClusterConfig, FlowConfig, LineConfig, TeamConfig
from components.sizing import PROFILES, cpu, line_budget, memory

Manifest = dict[str, Any]

# Namespaces the line's pods must reach or be reached from; names are the platform's contract with the
# observability issue (scrape path) and Kubernetes itself (cluster DNS).
DNS_NAMESPACE = "kube-system"
DNS_POD_LABELS = {"k8s-app": "kube-dns"}  # CoreDNS on k3s, RKE2, EKS, GKE and AKS alike
MONITORING_NAMESPACE = "monitoring"
WORKLOAD_SERVICE_ACCOUNT = "line-workload"

EDIT_RULES: list[Manifest] = [
    # Explicit verbs and resources, never wildcards. Deliberately absent: secrets (delivered by External
    # Secrets), networkpolicies / resourcequotas / limitranges / roles (the line's guard rails), and
    # pods/exec / pods/portforward (interactive access to a running cell is a break-glass action).
    {
        "apiGroups": [""],
        "resources": ["configmaps", "services", "persistentvolumeclaims"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
    {
        "apiGroups": [""],
        "resources": ["pods", "pods/log", "events", "serviceaccounts", "endpoints"],
        "verbs": ["get", "list", "watch"],
    },
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["delete"]},
    {
        "apiGroups": ["apps"],
        "resources": ["deployments", "statefulsets", "deployments/scale", "statefulsets/scale"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
    {"apiGroups": ["apps"], "resources": ["replicasets"], "verbs": ["get", "list", "watch"]},
    {
        "apiGroups": ["batch"],
        "resources": ["jobs", "cronjobs"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
    {
        "apiGroups": ["autoscaling"],
        "resources": ["horizontalpodautoscalers"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
    {
        "apiGroups": ["policy"],
        "resources": ["poddisruptionbudgets"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
]


@dataclass(frozen=True)
class InboundFlow:
    """A conduit another line declared towards this one (its ingress side lives in this namespace)."""

    source: LineConfig
    flow: FlowConfig


@dataclass(frozen=True)
class LineSpec:
    factory: str
    line: LineConfig
    team: TeamConfig
    cluster: ClusterConfig
    inbound: tuple[InboundFlow, ...] = field(default=())

    @property
    def namespace(self) -> str:
        return self.line.namespace

    def labels(self) -> dict[str, str]:
        return lbl.standard_labels(self.factory, component="production-line", line=self.line.name, team=self.team.name)

    def metadata(self, name: str) -> Manifest:
        return {"name": name, "namespace": self.namespace, "labels": self.labels()}


def namespace(spec: LineSpec) -> Manifest:
    labels = {
        **spec.labels(),
        lbl.CRITICALITY: spec.line.criticality,
        **lbl.pod_security_labels("restricted", spec.cluster.kubernetes_version),
    }
    if spec.line.chaos_opt_in:
        labels["factory-floor.io/chaos"] = "opt-in"
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": spec.namespace,
            "labels": labels,
            "annotations": {"factory-floor.io/slo-target": f"{spec.line.slo_target}"},
        },
    }


def resource_quota(spec: LineSpec) -> Manifest:
    budget = line_budget(spec.cluster.profile, spec.line.criticality)
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": spec.metadata("line-quota"),
        "spec": {
            "hard": {
                "requests.cpu": cpu(budget.requests_cpu_m),
                "requests.memory": memory(budget.requests_memory_mi),
                "limits.cpu": cpu(budget.limits_cpu_m),
                "limits.memory": memory(budget.limits_memory_mi),
                "pods": str(budget.pods),
                "persistentvolumeclaims": str(budget.persistent_volume_claims),
                "requests.storage": f"{budget.storage_gi}Gi",
                # a line is a zone: nothing in it may open a door to the plant network on its own
                "services.loadbalancers": "0",
                "services.nodeports": "0",
            }
        },
    }


def limit_range(spec: LineSpec) -> Manifest:
    c = PROFILES[spec.cluster.profile].container
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": spec.metadata("line-limits"),
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    "defaultRequest": {"cpu": cpu(c.request_cpu_m), "memory": memory(c.request_memory_mi)},
                    "default": {"cpu": cpu(c.limit_cpu_m), "memory": memory(c.limit_memory_mi)},
                    "max": {"cpu": cpu(c.max_cpu_m), "memory": memory(c.max_memory_mi)},
                }
            ]
        },
    }


def _network_policy(spec: LineSpec, name: str, body: Manifest) -> Manifest:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": spec.metadata(name),
        "spec": {"podSelector": {}, **body},
    }


def _namespace_peer(namespace_name: str, pod_labels: dict[str, str] | None = None) -> Manifest:
    peer: Manifest = {"namespaceSelector": {"matchLabels": {lbl.NAMESPACE_NAME: namespace_name}}}
    if pod_labels:
        peer["podSelector"] = {"matchLabels": dict(pod_labels)}
    return peer


def _ports(flow: FlowConfig) -> list[Manifest]:
    return [{"protocol": flow.protocol, "port": port} for port in flow.ports]


def network_policies(spec: LineSpec) -> list[Manifest]:
    """Default deny in both directions, then only DNS, the scrape path and declared conduits."""
    policies = [
        _network_policy(spec, "default-deny", {"policyTypes": ["Ingress", "Egress"]}),
        _network_policy(
            spec,
            "allow-dns",
            {
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [_namespace_peer(DNS_NAMESPACE, DNS_POD_LABELS)],
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                    }
                ],
            },
        ),
        _network_policy(
            spec,
            "allow-metrics-scrape",
            {
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [_namespace_peer(MONITORING_NAMESPACE)],
                        "ports": [{"protocol": "TCP", "port": spec.line.metrics_port}],
                    }
                ],
            },
        ),
    ]
    for flow in spec.line.flows:
        policies.append(
            _network_policy(
                spec,
                f"flow-to-{flow.to}-{flow.protocol.lower()}",
                {
                    "policyTypes": ["Egress"],
                    "egress": [{"to": [_namespace_peer(LineConfig.namespace_of(flow.to))], "ports": _ports(flow)}],
                },
            )
        )
    for inbound in spec.inbound:
        policies.append(
            _network_policy(
                spec,
                f"flow-from-{inbound.source.name}-{inbound.flow.protocol.lower()}",
                {
                    "policyTypes": ["Ingress"],
                    "ingress": [{"from": [_namespace_peer(inbound.source.namespace)], "ports": _ports(inbound.flow)}],
                },
            )
        )
    return policies


def editor_role(spec: LineSpec) -> Manifest:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": spec.metadata("line-editor"),
        "rules": [dict(rule) for rule in EDIT_RULES],
    }


def editor_binding(spec: LineSpec) -> Manifest:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": spec.metadata("line-editors"),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "line-editor"},
        "subjects": [
            {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group} for group in spec.team.idp_groups
        ],
    }


def workload_service_account(spec: LineSpec, annotations: dict[str, Any] | None = None) -> Manifest:
    metadata = spec.metadata(WORKLOAD_SERVICE_ACCOUNT)
    if annotations:
        metadata["annotations"] = dict(annotations)  # the cloud identity this account federates with
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata,
        # workloads that need the API opt in per pod; the default is no token on disk
        "automountServiceAccountToken": False,
    }
