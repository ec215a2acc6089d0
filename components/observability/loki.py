"""Loki, the cluster's log store where its profile has one (sizing.py): one binary (chart 18.11.0 from
grafana-community, `deploymentMode: Monolithic`) on a local volume, keeping the pods' logs
`observability.logs.retentionDays` and the API servers' audit trail `auditRetentionDays`. Fluent Bit
(fluent_bit.py) writes to it, Grafana reads it. Read at chart 18.11.0 (docs/observability.md, "Logs").

What differs from the chart's defaults, and why: one replica of the single binary and none of the scalable
targets (the chart refuses both at once); the filesystem, not object storage; a single tenant (`auth_enabled:
false`: nothing but Fluent Bit and Grafana may reach it); no nginx gateway (a floating tag, and one more hop), no
memcached caches (8 GiB of memory by default), no canary DaemonSet and no Helm test Pod (a hook); the compactor
enforces retention.
"""

from __future__ import annotations

from typing import Any

from components.catalogue.images import PINNED_PULL_POLICY, Image
from components.catalogue.model import (
    AddOn,
    Chart,
    ChartArchive,
    ClusterContext,
    ImageSlot,
    Values,
    WorkloadSlot,
)
from components.catalogue.network import ClusterDns, Namespace, NetworkNeeds, OwnPods, Path
from components.catalogue.rbac import RbacReview
from components.core.contracts import MONITORING_NAMESPACE
from components.observability import network as net
from components.observability.sizing import stack_size

NAME = "loki"  # the release; the single binary's Service is `loki`
NAMESPACE = net.LOKI_NAMESPACE
VERSION = "18.11.0"
HTTP_PORT = net.LOKI_PORT
GRPC_PORT = 9095
MEMBERLIST_PORT = 7946
AUDIT_JOB = "kube-audit"  # the stream label of the audit trail (fluent_bit.py writes it)

IMAGE = Image(
    "docker.io",
    "grafana/loki",
    "3.7.6",
    None,
    source=(
        "not digest-pinned: two public files pin different digests for grafana/loki:3.7.6 (efd47c67... and "
        "83c76da7...; probably the index and one platform's manifest), and neither could be checked against the "
        "registry here; resolve it with `make pin-digests`."
    ),
)


def enabled(ctx: ClusterContext) -> bool:
    return stack_size(ctx.cluster.profile).log_store


def _hours(days: int) -> str:
    return f"{days * 24}h"


def values(ctx: ClusterContext) -> Values:
    size = stack_size(ctx.cluster.profile)
    logs = ctx.factory.observability.logs
    off: dict[str, Any] = {"enabled": False}
    return {
        "deploymentMode": "Monolithic",
        "loki": {
            "image": {
                "registry": IMAGE.registry,
                "repository": IMAGE.repository,
                "tag": IMAGE.tag,
                "pullPolicy": PINNED_PULL_POLICY,
            },
            "auth_enabled": False,
            "analytics": {"reporting_enabled": False},  # its egress is closed: the report would only fail
            "commonConfig": {"replication_factor": 1},
            "storage": {"type": "filesystem"},
            "schemaConfig": {
                "configs": [
                    {
                        "from": "2024-04-01",
                        "store": "tsdb",
                        "object_store": "filesystem",
                        "schema": "v13",
                        "index": {"prefix": "index_", "period": "24h"},
                    }
                ]
            },
            "limits_config": {
                "retention_period": _hours(logs.retention_days),
                # the audit trail is kept longer than the pods' chatter: what an auditor asks for a year later
                "retention_stream": [
                    {"selector": f'{{job="{AUDIT_JOB}"}}', "priority": 1, "period": _hours(logs.audit_retention_days)}
                ],
            },
            "compactor": {
                "retention_enabled": True,
                "delete_request_store": "filesystem",
                "working_directory": "/var/loki/compactor",
            },
        },
        "singleBinary": {
            "replicas": 1,
            "resources": size.loki,
            "persistence": {
                "enabled": True,
                "size": f"{size.log_store_gib}Gi",
                # unset: the cluster's default class
                **({"storageClass": ctx.cluster.storage_class} if ctx.cluster.storage_class else {}),
            },
        },
        "write": {"replicas": 0},
        "read": {"replicas": 0},
        "backend": {"replicas": 0},
        "gateway": off,
        "chunksCache": off,
        "resultsCache": off,
        "lokiCanary": off,
        "test": off,
        "ruler": off,
        "minio": off,
        "sidecar": {"rules": off},
        "memcached": off,
        # Loki never calls the API: no cluster-wide role (the chart binds an empty one otherwise), no token
        "rbac": {"namespaced": True},
        "serviceAccount": {"automountServiceAccountToken": False},
        "defaults": {"automountServiceAccountToken": False},
        # the single pod joins the memberlist ring through this Service before it is Ready (it aborts otherwise)
        "memberlist": {"service": {"publishNotReadyAddresses": True}},
    }


def network(ctx: ClusterContext) -> NetworkNeeds:
    """Written by Fluent Bit, read by Grafana; its own pods talk memberlist and gRPC among themselves."""
    own = OwnPods(net.LOKI_PODS)
    return NetworkNeeds(
        (
            Path("dns", "egress", ClusterDns(), "resolves its memberlist service"),
            Path("peers", "egress", own, "memberlist and queries", (MEMBERLIST_PORT, GRPC_PORT)),
            Path("from-peers", "ingress", own, "memberlist and queries", (MEMBERLIST_PORT, GRPC_PORT)),
            Path(
                "from-fluent-bit",
                "ingress",
                Namespace(net.FLUENT_BIT_NAMESPACE, net.FLUENT_BIT_PODS),
                "log pushes",
                (HTTP_PORT,),
            ),
            Path(
                "from-grafana",
                "ingress",
                Namespace(MONITORING_NAMESPACE, net.GRAFANA_PODS),
                "log queries",
                (HTTP_PORT,),
            ),
        )
    )


ADDON = AddOn(
    name=NAME,
    namespace=NAMESPACE,
    version=VERSION,
    source=Chart(
        chart="loki",
        repository="https://grafana-community.github.io/helm-charts",
        archive=ChartArchive(
            "https://github.com/grafana-community/helm-charts/releases/download/loki-18.11.0/loki-18.11.0.tgz",
            "d4d99424d197e1460878093c9fced02346669ab0698a0dca7c575ab76fff7aeb",
            source="grafana-community/helm-charts index.yaml on gh-pages (head 9ab78dc8), entry loki 18.11.0",
        ),
        values=values,
        images=(ImageSlot.block("loki.image", IMAGE),),
        workloads=(WorkloadSlot("loki", "singleBinary.resources", "singleBinary.replicas"),),
    ),
    network=network,
    rbac=RbacReview(
        VERSION,
        (),
        narrowed=(
            "No ClusterRole: `rbac.namespaced` drops the chart's (empty) one and its binding, and with the rules "
            "sidecar off no Role renders either; no service-account token is mounted (checked by rendering chart "
            "18.11.0 with Helm 4.1.4); no gateway, canary or caches."
        ),
    ),
    enabled=enabled,
)
