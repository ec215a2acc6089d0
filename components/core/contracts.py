"""Contracts between capabilities: names one capability creates and another relies on, and the handle a
production line offers the capabilities that put per-line objects into it."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.core import vocabulary as vocab

# Where each k3s/RKE2 server writes the API server's audit trail (security/k8saudit.py sets the flag), which the
# log pipeline ships (observability/logs.py)
AUDIT_LOG = {
    "k3s": "/var/lib/rancher/k3s/server/logs/audit.log",  # k3s writes none unless told where
    "rke2": "/var/lib/rancher/rke2/server/logs/audit.log",  # RKE2's own default path
}
# Lines send their traces (OTLP, gRPC and HTTP) to the cluster's collector here, and only to its pods (the label the
# OpenTelemetry Operator sets on the collector it runs for the CR `otel`); lines/manifests.py opens exactly this
TRACING_NAMESPACE = "opentelemetry"
COLLECTOR_POD_SELECTOR = {"matchLabels": {vocab.NAME: "otel-collector"}}
OTLP_PORTS = (4317, 4318)
# Cluster DNS, which every line may reach: CoreDNS on k3s, RKE2, EKS, GKE and AKS alike.
DNS_NAMESPACE = "kube-system"
DNS_POD_LABELS = {"k8s-app": "kube-dns"}
# The observability stack scrapes lines from here (the lines open their metrics port to it).
MONITORING_NAMESPACE = "monitoring"
# ...and only from its Prometheus pods: the labels the Prometheus Operator itself sets on every pod of a
# Prometheus (`prometheus`) or a PrometheusAgent (`prometheus-agent`, kube-prometheus-stack's agent mode on
# edge profiles) and that pod labels from values cannot override; Alertmanager and Thanos Ruler carry the same
# managed-by label, hence the name. The lines' scrape path admits nothing else of the monitoring namespace, so
# the observability capability must run its scrapers through the operator.
# ...as plain labels, for the platform namespaces that admit Prometheus (no agent mode there)
PROMETHEUS_PODS = {vocab.MANAGED_BY: "prometheus-operator", vocab.NAME: "prometheus"}
PROMETHEUS_POD_SELECTOR = {
    "matchLabels": {vocab.MANAGED_BY: "prometheus-operator"},
    "matchExpressions": [{"key": vocab.NAME, "operator": "In", "values": ["prometheus", "prometheus-agent"]}],
}
# The service account a line's workloads run as; its cloud identity trusts exactly this account.
LINE_WORKLOAD_SERVICE_ACCOUNT = "line-workload"
# The label a line's pods carry to use that identity: the line's one egress path to its cloud's identity endpoint
# (STS, Entra ID, the GKE metadata server) selects only pods labelled so (a NetworkPolicy cannot select by
# service account). The label alone grants nothing: the endpoint honours only the account's token.
WORKLOAD_IDENTITY_POD_LABELS = {f"{vocab.DOMAIN}/workload-identity": "true"}
# Where the identity endpoint IS the instance metadata address: GKE's metadata server answers Workload Identity
# on 169.254.169.254. A cluster-wide deny of the metadata address from line namespaces (segmentation's second
# layer) must never be rendered on these distributions; the line's identity pods get an explicit path instead.
METADATA_IDENTITY_DISTRIBUTIONS = frozenset({"gke"})


def cluster_identifier(factory: str, cluster: str) -> str:
    """A cluster's stable identity: its provider's `clusterIdentifier`, and the key the policy pack finds
    the cluster's Kubernetes minor under (`kubernetesVersions`)."""
    return f"{factory}/{cluster}"


# Kubernetes' own namespaces: never a line, never judged by our admission policies.
SYSTEM_NAMESPACES: dict[str, str] = {
    "kube-system": "Kubernetes' own add-ons (CNI, CoreDNS, kube-proxy, CSI node plugins) need host access.",
    "kube-public": "Kubernetes' public bootstrap data (cluster-info); no workloads.",
    "kube-node-lease": "Kubernetes' node heartbeats (Lease objects); no workloads.",
}


@dataclass(frozen=True)
class LineHandle:
    """A production line as other capabilities see it: where to put per-line objects, and what to wait for."""

    name: str
    namespace: str
    team: str
    namespace_resource: pulumi.Resource  # per-line objects depend on it, so a first `up` never races it


@dataclass(frozen=True)
class IdentityBinding:
    """What a service account needs to act as its cloud identity: annotations on the account, and labels on
    its pods (Azure's webhook injects the token only into pods labelled for it)."""

    annotations: dict[str, pulumi.Input[str]]
    pod_labels: dict[str, str]
