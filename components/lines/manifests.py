"""Pure builders for everything a production line puts on its cluster.

Each function returns Kubernetes objects as plain dicts (camelCase, exactly what the provider receives),
so the builders are testable and judgeable without the Pulumi runtime. `ProductionLine` turns them into
resources.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from components.config.document import FactoryConfig
from components.config.factory import ClusterConfig, TeamConfig
from components.config.lines import FlowConfig, LineConfig
from components.core import vocabulary as vocab
from components.core.component import ComponentArgs, Protection
from components.core.contracts import (
    COLLECTOR_POD_SELECTOR,
    LINE_WORKLOAD_SERVICE_ACCOUNT,
    MONITORING_NAMESPACE,
    OTLP_PORTS,
    PROMETHEUS_POD_SELECTOR,
    TRACING_NAMESPACE,
)
from components.core.kube import Manifest
from components.core.network_policy import ALLOW_DNS, DEFAULT_DENY, allow_dns, default_deny, namespace_peer
from components.core.sizing import PROFILES, cpu, line_budget, memory

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


@dataclass(frozen=True, kw_only=True)
class LineArgs(ComponentArgs):
    """Everything a line is built from: its config, its team and cluster, and the conduits towards it."""

    factory: str
    line: LineConfig
    team: TeamConfig
    cluster: ClusterConfig
    inbound: tuple[InboundFlow, ...] = field(default=())

    @property
    def namespace(self) -> str:
        return self.line.namespace

    def labels(self) -> dict[str, str]:
        return vocab.standard_labels(
            self.factory, component=vocab.LINE_COMPONENT, line=self.line.name, team=self.team.name
        )

    def metadata(self, name: str) -> Manifest:
        return {"name": name, "namespace": self.namespace, "labels": self.labels()}


def namespace(args: LineArgs) -> Manifest:
    labels = {
        **args.labels(),
        vocab.CRITICALITY: args.line.criticality,
        **vocab.pod_security_labels("restricted", args.cluster.kubernetes_version),
    }
    if args.line.chaos_opt_in:
        labels[vocab.CHAOS] = vocab.CHAOS_OPT_IN
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": args.namespace,
            "labels": labels,
            "annotations": {vocab.SLO_TARGET: f"{args.line.slo_target}"},
        },
    }


def resource_quota(args: LineArgs) -> Manifest:
    budget = line_budget(args.cluster.profile, args.line.criticality)
    objects = PROFILES[args.cluster.profile].objects
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": args.metadata("line-quota"),
        "spec": {
            "hard": {
                "requests.cpu": cpu(budget.requests_cpu_m),
                "requests.memory": memory(budget.requests_memory_mi),
                "limits.cpu": cpu(budget.limits_cpu_m),
                "limits.memory": memory(budget.limits_memory_mi),
                # the node's disk: writable layers, logs and emptyDirs of the line's containers
                "requests.ephemeral-storage": memory(budget.requests_ephemeral_mi),
                "limits.ephemeral-storage": memory(budget.limits_ephemeral_mi),
                "pods": str(budget.pods),
                "persistentvolumeclaims": str(budget.persistent_volume_claims),
                "requests.storage": f"{budget.storage_gi}Gi",
                # the control plane: objects in the datastore and the API server's caches
                **objects.hard(declared_secrets=len(args.line.secrets)),
                # a line is a zone: nothing in it may open a door to the plant network on its own
                "services.loadbalancers": "0",
                "services.nodeports": "0",
            }
        },
    }


def limit_range(args: LineArgs) -> Manifest:
    c = PROFILES[args.cluster.profile].container
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": args.metadata("line-limits"),
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    "defaultRequest": {
                        "cpu": cpu(c.request_cpu_m),
                        "memory": memory(c.request_memory_mi),
                        "ephemeral-storage": memory(c.request_ephemeral_mi),
                    },
                    "default": {
                        "cpu": cpu(c.limit_cpu_m),
                        "memory": memory(c.limit_memory_mi),
                        "ephemeral-storage": memory(c.limit_ephemeral_mi),
                    },
                    "max": {
                        "cpu": cpu(c.max_cpu_m),
                        "memory": memory(c.max_memory_mi),
                        "ephemeral-storage": memory(c.max_ephemeral_mi),
                    },
                }
            ]
        },
    }


def _network_policy(args: LineArgs, name: str, body: Manifest) -> Manifest:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": args.metadata(name),
        "spec": {"podSelector": {}, **body},
    }


def _ports(flow: FlowConfig) -> list[Manifest]:
    return [{"protocol": flow.protocol, "port": port} for port in flow.ports]


def network_policies(args: LineArgs) -> list[Manifest]:
    """Default deny in both directions, then only the line's own pods among themselves, DNS, the scrape path
    and declared conduits.

    Conduits stay namespace to namespace: a flow names lines, not workloads, and which pods of a line serve
    a conduit is the line team's own business (the labels are theirs to set, and pods inside a line reach
    each other anyway). The scrape path names Prometheus pods: its peer lives in a platform namespace."""
    policies = [
        _network_policy(args, DEFAULT_DENY, default_deny()),
        # a pod-only peer selects pods of the policy's own namespace: the line talks freely inside, and
        # this opens nothing towards another namespace, the nodes or outside addresses
        _network_policy(
            args,
            "allow-same-line",
            {
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": [{"podSelector": {}}]}],
                "egress": [{"to": [{"podSelector": {}}]}],
            },
        ),
        _network_policy(args, ALLOW_DNS, allow_dns()),
        _network_policy(
            args,
            "allow-metrics-scrape",
            {
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        # Prometheus only, not every pod of the monitoring namespace (Grafana, exporters,
                        # Alertmanager): namespace and pod selector in one peer, so both must match
                        "from": [namespace_peer(MONITORING_NAMESPACE, PROMETHEUS_POD_SELECTOR)],
                        "ports": [{"protocol": "TCP", "port": args.line.metrics_port}],
                    }
                ],
            },
        ),
    ]
    policies.append(
        _network_policy(
            args,
            "allow-traces",
            {
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        # the cluster's collector only, not the rest of its namespace (the operator)
                        "to": [namespace_peer(TRACING_NAMESPACE, COLLECTOR_POD_SELECTOR)],
                        "ports": [{"protocol": "TCP", "port": port} for port in OTLP_PORTS],
                    }
                ],
            },
        )
    )
    for flow in args.line.flows:
        policies.append(
            _network_policy(
                args,
                f"flow-to-{flow.to}-{flow.protocol.lower()}",
                {
                    "policyTypes": ["Egress"],
                    "egress": [{"to": [namespace_peer(LineConfig.namespace_of(flow.to))], "ports": _ports(flow)}],
                },
            )
        )
    for inbound in args.inbound:
        policies.append(
            _network_policy(
                args,
                f"flow-from-{inbound.source.name}-{inbound.flow.protocol.lower()}",
                {
                    "policyTypes": ["Ingress"],
                    "ingress": [{"from": [namespace_peer(inbound.source.namespace)], "ports": _ports(inbound.flow)}],
                },
            )
        )
    return policies


def editor_role(args: LineArgs) -> Manifest:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": args.metadata("line-editor"),
        "rules": [dict(rule) for rule in EDIT_RULES],
    }


def editor_binding(args: LineArgs) -> Manifest:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": args.metadata("line-editors"),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "line-editor"},
        "subjects": [
            {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group} for group in args.team.idp_groups
        ],
    }


def workload_service_account(args: LineArgs, annotations: dict[str, Any] | None = None) -> Manifest:
    metadata = args.metadata(LINE_WORKLOAD_SERVICE_ACCOUNT)
    if annotations:
        metadata["annotations"] = dict(annotations)  # the cloud identity this account federates with
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata,
        # workloads that need the API opt in per pod; the default is no token on disk
        "automountServiceAccountToken": False,
    }


def default_service_account_patch(args: LineArgs) -> Manifest:
    """The `default` ServiceAccount the ServiceAccount controller puts into every namespace, without token
    automount: a pod that names no account runs as `default` and would otherwise get an API token on disk.

    A patch (server-side apply of only this field), not an object of ours: the controller owns the account
    and would re-create it if we deleted it. Registered as `ServiceAccountPatch` (`kube_resource(...,
    patch=True)`); the body keeps the kind it patches, as the provider requires."""
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "default", "namespace": args.namespace},
        "automountServiceAccountToken": False,
    }


def line_args(config: FactoryConfig, protection: Protection) -> list[LineArgs]:
    """One LineArgs per line, with the ingress side of every conduit other lines declared towards it."""
    inbound: dict[str, list[InboundFlow]] = defaultdict(list)
    for source in config.lines:
        for flow in source.flows:
            inbound[flow.to].append(InboundFlow(source=source, flow=flow))
    return [
        LineArgs(
            protection=protection,
            factory=config.factory.name,
            line=line,
            team=config.team(line.team),
            cluster=config.cluster(line.cluster),
            inbound=tuple(inbound[line.name]),
        )
        for line in config.lines
    ]
