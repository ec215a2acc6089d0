"""The OpenTelemetry Operator (chart 0.122.0, operator 0.158.0) and the cluster's collector it runs: lines send
OTLP traces to `otel-collector.<TRACING_NAMESPACE>` (ports 4317 gRPC, 4318 HTTP; their NetworkPolicy opens exactly
that, lines/manifests.py), the collector labels every span with its factory and cluster and exports it to the
cluster's Jaeger (jaeger.py), to a backend the stack names (`observability.traces.endpoint`), or from a cell
without either to the hub (`observability.hub.otlp`). With none of the three, no operator runs.

What differs from the chart's defaults, and why: the admission webhooks are off (`admissionWebhooks.create: false`,
`ENABLE_WEBHOOKS=false`): their certificate comes from cert-manager or from a Secret the chart marks as a Helm
hook, neither of which `helm.v4.Chart` provides; without them the operator neither injects sidecars nor
auto-instruments pods, which the platform does not use — the collector runs as a Deployment. Its metrics
endpoint stays the chart's (8443, behind the API server's authentication).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from components.catalogue.images import PINNED_PULL_POLICY, Image
from components.catalogue.model import (
    AddOn,
    BroughtResource,
    Chart,
    ChartArchive,
    ClusterContext,
    ImageSlot,
    Values,
    WorkloadSlot,
)
from components.catalogue.network import ApiServer, ClusterDns, External, Namespace, NetworkNeeds, Path
from components.catalogue.rbac import ClusterRoleGrant, RbacReview
from components.catalogue.secrets import AddonSecret
from components.core import vocabulary as vocab
from components.observability import hub, jaeger
from components.observability import network as net
from components.observability.sizing import stack_size

NAME = "opentelemetry-operator"
NAMESPACE = net.TRACING_NAMESPACE
VERSION = "0.122.0"
COLLECTOR = "otel"  # the CR; the operator names its Deployment and Service `otel-collector`
HUB_SECRET = "otel-hub"  # the hub's bearer token, key `token`, as the collector's HUB_TOKEN
HTTPS = 443

OPERATOR_IMAGE = Image(
    "ghcr.io",
    "open-telemetry/opentelemetry-operator/opentelemetry-operator",
    "0.158.0",
    None,
    source=(
        "not digest-pinned: no public file read here names a digest for opentelemetry-operator 0.158.0, and the "
        "chart has no digest key (a digest would go into the tag); resolve it with `make pin-digests`."
    ),
)
COLLECTOR_IMAGE = Image(
    "docker.io",
    "otel/opentelemetry-collector-k8s",
    "0.158.0",
    "sha256:c09130a633196a5becee164411473a0932ecf223f94fda6dab5f22798ff9f376",
    source=(
        "one public file pins docker.io/otel/opentelemetry-collector-k8s:0.158.0 at this digest (Docker Hub, the "
        "registry named here rather than the chart's ghcr.io); a single source: verify with `make pin-digests`."
    ),
)


def _remote(ctx: ClusterContext) -> str | None:
    """The backend outside the cluster the collector exports to: the stack's own, else the hub's for a cluster
    without Jaeger; None: the cluster's Jaeger (or nothing at all)."""
    observability = ctx.factory.observability
    if observability.traces.endpoint is not None:
        return observability.traces.endpoint
    return None if jaeger.enabled(ctx) else observability.hub.otlp


def enabled(ctx: ClusterContext) -> bool:
    return jaeger.enabled(ctx) or _remote(ctx) is not None


def _token(ctx: ClusterContext) -> AddonSecret | None:
    """The hub's token goes to the hub only, never to a backend the plant names itself."""
    to_hub = _remote(ctx) is not None and ctx.factory.observability.traces.endpoint is None
    return hub.token_secret(ctx, NAME, NAMESPACE, HUB_SECRET, sends=to_hub)


def secrets(ctx: ClusterContext) -> tuple[AddonSecret, ...]:
    return tuple(secret for secret in [_token(ctx)] if secret is not None)


def _exporter(ctx: ClusterContext) -> tuple[str, dict[str, Any]]:
    """(name, settings): OTLP/gRPC to the cluster's Jaeger, inside the cluster's network; OTLP/HTTP over TLS to a
    backend outside it."""
    remote = _remote(ctx)
    if remote is None:
        return "otlp_grpc/jaeger", {"endpoint": f"{net.JAEGER_HOST}:{net.OTLP_GRPC}", "tls": {"insecure": True}}
    exporter: dict[str, Any] = {"endpoint": remote}
    if _token(ctx) is not None:
        exporter["headers"] = {"authorization": "Bearer ${env:HUB_TOKEN}"}
    return "otlp_http/backend", exporter


def collector(ctx: ClusterContext) -> dict[str, Any]:
    """The OpenTelemetryCollector (opentelemetry.io/v1beta1): OTLP in, factory and cluster added, OTLP out."""
    size = stack_size(ctx.cluster.profile)
    exporter, settings = _exporter(ctx)
    spec: dict[str, Any] = {
        "mode": "deployment",
        "replicas": 1,  # the operator runs it with its `--collector-image` (manager.collectorImage, mirrored)
        "imagePullPolicy": PINNED_PULL_POLICY,
        # the operator's own policy would admit anyone on 4317/4318 should its webhooks ever be on: ours admits lines
        "networkPolicy": {"enabled": False},
        "resources": size.otel_collector,
        "securityContext": {
            "runAsNonRoot": True,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "config": {
            "receivers": {
                "otlp": {
                    "protocols": {
                        "grpc": {"endpoint": f"0.0.0.0:{net.OTLP_GRPC}"},
                        "http": {"endpoint": f"0.0.0.0:{net.OTLP_HTTP}"},
                    }
                }
            },
            "processors": {
                "memory_limiter": {"check_interval": "1s", "limit_percentage": 75, "spike_limit_percentage": 15},
                "resource": {
                    "attributes": [
                        {"key": "factory", "value": ctx.factory.factory.name, "action": "upsert"},
                        {"key": "k8s.cluster.name", "value": ctx.cluster.name, "action": "upsert"},
                    ]
                },
                "batch": {},
            },
            "exporters": {exporter: settings},
            "service": {
                "pipelines": {
                    "traces": {
                        "receivers": ["otlp"],
                        "processors": ["memory_limiter", "resource", "batch"],
                        "exporters": [exporter],
                    }
                }
            },
        },
    }
    if _token(ctx) is not None:
        spec["env"] = [{"name": "HUB_TOKEN", "valueFrom": {"secretKeyRef": {"name": HUB_SECRET, "key": hub.TOKEN_KEY}}}]
    return {
        "apiVersion": "opentelemetry.io/v1beta1",
        "kind": "OpenTelemetryCollector",
        "metadata": {
            "name": COLLECTOR,
            "namespace": NAMESPACE,
            # attributed to its add-on: `make plan` counts the pods it runs in the add-on's footprint
            "labels": {**vocab.standard_labels(ctx.factory.factory.name, component="observability"), vocab.ADDON: NAME},
        },
        "spec": spec,
    }


def brings(ctx: ClusterContext) -> list[BroughtResource]:
    return [BroughtResource("collector", collector(ctx), "opentelemetrycollectors.opentelemetry.io")]


def values(ctx: ClusterContext) -> Values:
    return {
        "replicaCount": 1,
        "manager": {
            "image": {
                "repository": OPERATOR_IMAGE.name,
                "tag": OPERATOR_IMAGE.tag,
                "imagePullPolicy": PINNED_PULL_POLICY,
            },
            # the chart prints `--collector-image=<repository>:<tag>`: the digest rides in the tag
            "collectorImage": {"repository": COLLECTOR_IMAGE.name, "tag": COLLECTOR_IMAGE.pinned_tag},
            "resources": stack_size(ctx.cluster.profile).otel_operator,
            "env": {"ENABLE_WEBHOOKS": "false"},
        },
        "admissionWebhooks": {
            "create": False,
            "certManager": {"enabled": False},
            "autoGenerateCert": {"enabled": False},
        },
    }


def network(ctx: ClusterContext) -> NetworkNeeds:
    collector_pods = net.COLLECTOR_PODS
    target = _remote(ctx)
    if target is None:
        out = Path(
            "collector-jaeger",
            "egress",
            Namespace(net.JAEGER_NAMESPACE, net.JAEGER_PODS),
            "spans (OTLP)",
            (net.OTLP_GRPC,),
            collector_pods,
        )
    else:
        where = External("the trace backend (OTLP over HTTPS)", (urlsplit(target).port or HTTPS,))
        out = Path("collector-backend", "egress", where, "spans (OTLP)", pods=collector_pods)
    paths = [
        Path("dns", "egress", ClusterDns(), "resolves the trace backend"),
        Path("operator-api-server", "egress", ApiServer(), "reconciles the collector", pods=net.OPERATOR_OTEL_PODS),
        out,
    ]
    # every line of the cluster may send spans (its own egress policy opens the same two ports)
    for line in ctx.factory.lines_on(ctx.cluster.name):
        paths.append(
            Path(
                f"from-{line.name}",
                "ingress",
                Namespace(line.namespace),
                f"spans from line {line.name}",
                (net.OTLP_GRPC, net.OTLP_HTTP),
                collector_pods,
            )
        )
    return NetworkNeeds(tuple(paths))


ADDON = AddOn(
    name=NAME,
    namespace=NAMESPACE,
    version=VERSION,
    source=Chart(
        chart="opentelemetry-operator",
        repository="https://open-telemetry.github.io/opentelemetry-helm-charts",
        archive=ChartArchive(
            "https://github.com/open-telemetry/opentelemetry-helm-charts/releases/download/"
            "opentelemetry-operator-0.122.0/opentelemetry-operator-0.122.0.tgz",
            "b66f9b937ab644e75c0042395dc85bfc041eb5c51d22719b944d3e2bf32b5e4b",
            source=(
                "open-telemetry/opentelemetry-helm-charts index.yaml on gh-pages (head a13f64d6), entry "
                "opentelemetry-operator 0.122.0"
            ),
        ),
        values=values,
        images=(
            ImageSlot(
                repository_key="manager.image.repository",
                tag_key="manager.image.tag",
                image=OPERATOR_IMAGE,
                pull_policy_key="manager.image.imagePullPolicy",
            ),
            # the collector's pods: their pull policy is the CR's (`imagePullPolicy`, collector())
            ImageSlot(
                repository_key="manager.collectorImage.repository",
                tag_key="manager.collectorImage.tag",
                image=COLLECTOR_IMAGE,
                artifact=False,
            ),
        ),
        workloads=(WorkloadSlot("opentelemetry-operator", "manager.resources", "replicaCount"),),
    ),
    brings=brings,
    network=network,
    secrets=secrets,
    rbac=RbacReview(
        VERSION,
        (
            ClusterRoleGrant(
                "opentelemetry-operator-manager",
                (),
                "Reconciles collectors in any namespace: it creates pods, service accounts and workloads there (so it "
                "could mount any Secret of a namespace into a pod it makes) and may delete NetworkPolicies anywhere, "
                "a line's default-deny included. No Secret verbs; the Role it has in its own namespace reads Secrets "
                "there for leader election. Treated as cluster-admin: its namespace runs nothing of the lines'.",
            ),
            ClusterRoleGrant(
                "opentelemetry-operator-metrics",
                (),
                "get on the non-resource URL /metrics (bound to nothing by the chart).",
            ),
        ),
        narrowed="Webhooks off: no webhook configurations, no certificate; createRbacPermissions off.",
    ),
    enabled=enabled,
)
