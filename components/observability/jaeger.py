"""Jaeger v2 (chart 4.11.1, Jaeger 2.19.0), the trace store wherever the profile has a log store (sizing.py): the
all-in-one binary — itself an OpenTelemetry collector — receiving OTLP from the cluster's collector
(otel_operator.py) only, and serving its UI and query API to Grafana. Not the deprecated Jaeger v1 agent, clients
or operator.

It keeps traces in memory (the image's all-in-one configuration, bounded to TRACES_PER_GIB traces per GiB of its
memory limit): a trace is a debugging aid of the last hours, and a restart empties the store. A plant that keeps
traces longer sends them to a backend of its own instead (`observability.traces.endpoint`), and no Jaeger runs.
"""

from __future__ import annotations

from components.catalogue.footprint import quantity
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
from components.catalogue.network import ClusterDns, Namespace, NetworkNeeds, Path
from components.catalogue.rbac import RbacReview
from components.core.contracts import MONITORING_NAMESPACE
from components.observability import network as net
from components.observability.sizing import stack_size

NAME = "jaeger"
NAMESPACE = net.JAEGER_NAMESPACE
VERSION = "4.11.1"
IMAGE = Image(
    "docker.io",
    "jaegertracing/jaeger",
    "2.19.0",
    "sha256:ede4864215be4cd85bd8c3129a2fea6c5713c5653c7282c429dba123014bc68b",
    source=(
        "two public files of what looks like one project pin jaegertracing/jaeger:2.19.0 at this digest; a single "
        "source: verify with `make pin-digests` first."
    ),
)


def enabled(ctx: ClusterContext) -> bool:
    """Where the cluster keeps its own telemetry and no other trace backend is named."""
    return net.traces_here(ctx)


# traces kept in memory per GiB of Jaeger's memory limit (a trace of a line's request: some tens of KiB)
TRACES_PER_GIB = 10_000


def _max_traces(ctx: ClusterContext) -> int:
    limit = stack_size(ctx.cluster.profile).jaeger
    if limit is None:
        return 0  # a profile that runs no Jaeger (enabled() is false there)
    return int(quantity(limit["limits"]["memory"]) / 2**30 * TRACES_PER_GIB)


def values(ctx: ClusterContext) -> Values:
    return {
        "jaeger": {
            "replicas": 1,
            "image": {
                "registry": IMAGE.registry,
                "repository": IMAGE.repository,
                # the digest rides in the tag: with `digest` set, bitnami's common helper drops the tag, and the
                # pod would run `<repository>@sha256:…`, a reference admission does not know
                "tag": IMAGE.pinned_tag,
                "pullPolicy": PINNED_PULL_POLICY,
            },
            # its in-memory store has no size bound of its own: bounded by trace count, sized to the memory limit
            "args": [f"--set=extensions.jaeger_storage.backends.some_storage.memory.max_traces={_max_traces(ctx)}"],
            "resources": stack_size(ctx.cluster.profile).jaeger,
            "serviceAccount": {"automountServiceAccountToken": False},  # Jaeger never calls the API
            "podSecurityContext": {
                "runAsUser": 10001,
                "runAsGroup": 10001,
                "fsGroup": 10001,
                "runAsNonRoot": True,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "capabilities": {"drop": ["ALL"]},
            },
        },
    }


def network(ctx: ClusterContext) -> NetworkNeeds:
    collector = Namespace(net.TRACING_NAMESPACE, net.COLLECTOR_PODS)
    return NetworkNeeds(
        (
            Path("dns", "egress", ClusterDns(), "resolves nothing but its own names"),
            Path("from-collector", "ingress", collector, "spans (OTLP)", (net.OTLP_GRPC,)),
            Path(
                "from-grafana",
                "ingress",
                Namespace(MONITORING_NAMESPACE, net.GRAFANA_PODS),
                "trace queries",
                (net.JAEGER_QUERY_PORT,),
            ),
        )
    )


ADDON = AddOn(
    name=NAME,
    namespace=NAMESPACE,
    version=VERSION,
    source=Chart(
        chart="jaeger",
        repository="https://jaegertracing.github.io/helm-charts",
        archive=ChartArchive(
            "https://github.com/jaegertracing/helm-charts/releases/download/jaeger-4.11.1/jaeger-4.11.1.tgz",
            "120aad01641b88fd73fb097cd63af94aac4e9d49115877f5f63b52b86b512180",
            source="jaegertracing/helm-charts index.yaml on gh-pages (head 4d793c8f), entry jaeger 4.11.1",
        ),
        values=values,
        images=(ImageSlot.block("jaeger.image", IMAGE),),
        workloads=(WorkloadSlot("jaeger", "jaeger.resources", "jaeger.replicas"),),
    ),
    network=network,
    rbac=RbacReview(VERSION, (), narrowed="No ClusterRole: the all-in-one Deployment needs no API access."),
    enabled=enabled,
)
