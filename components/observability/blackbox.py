"""The blackbox exporter (chart prometheus-blackbox-exporter 11.17.2, exporter v0.28.0): where a line's
availability SLO is measured by probing a URL (`lines[].slo.probe`) instead of the metric contract. Prometheus asks
it to probe each such URL (one Probe per line, in the line's namespace, so `probe_success` carries the line's
`namespace` as the SLO rules select it) every 30 s with the `http_2xx` module (HTTP and HTTPS, TLS verified).

It probes the URL as a client of the line would reach it from outside (an address the plant uses): NetworkPolicy
cannot name a host, so its egress is any address on the probes' ports; a line admits nothing from it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

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
from components.catalogue.network import ClusterDns, External, Namespace, NetworkNeeds, Path
from components.catalogue.rbac import RbacReview
from components.config.lines import LineConfig
from components.core import vocabulary as vocab
from components.core.contracts import MONITORING_NAMESPACE
from components.core.kube import Manifest
from components.core.sizing import resources
from components.observability import network as net

NAME = "blackbox-exporter"
NAMESPACE = net.BLACKBOX_NAMESPACE
VERSION = "11.17.2"
MODULE = "http_2xx"  # the chart's default module: HTTP and HTTPS, any 2xx, TLS verified
PROBE_INTERVAL = "30s"  # the SLO rules' evaluation interval
IMAGE = Image(
    "quay.io",
    "prometheus/blackbox-exporter",
    "v0.28.0",
    "sha256:e753ff9f3fc458d02cca5eddab5a77e1c175eee484a8925ac7d524f04366c2fc",
    source=(
        "ten public files pin this digest for blackbox-exporter v0.28.0, on quay.io and Docker Hub alike, one of "
        "them a running cluster's imageID. Verify with `make pin-digests`."
    ),
)


def probed_lines(ctx: ClusterContext) -> list[LineConfig]:
    return [line for line in ctx.factory.lines_on(ctx.cluster.name) if line.slo.probe is not None]


def enabled(ctx: ClusterContext) -> bool:
    return bool(probed_lines(ctx))


def _port(url: str) -> int:
    parts = urlsplit(url)
    return parts.port or (443 if parts.scheme == "https" else 80)


def values(ctx: ClusterContext) -> Values:
    return {
        "fullnameOverride": NAME,
        "image": {
            "registry": IMAGE.registry,
            "repository": IMAGE.repository,
            "tag": IMAGE.tag,
            "digest": IMAGE.digest,  # printed after `@` as given
            "pullPolicy": PINNED_PULL_POLICY,
        },
        "replicas": 1,
        "resources": resources("10m", "32Mi", "100m", "128Mi"),
        "podSecurityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "automountServiceAccountToken": False,  # it never calls the API
    }


def probe(line: LineConfig, factory: str) -> Manifest:
    """The line's probe, in its namespace: `probe_success{namespace="line-…"}` is what its SLO reads."""
    assert line.slo.probe is not None
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "Probe",
        "metadata": {
            "name": "availability",
            "namespace": line.namespace,
            "labels": vocab.standard_labels(factory, component="observability"),
        },
        "spec": {
            "prober": {"url": f"{NAME}.{NAMESPACE}.svc:{net.BLACKBOX_PORT}"},
            "module": MODULE,
            "interval": PROBE_INTERVAL,
            "targets": {"staticConfig": {"static": [line.slo.probe], "labels": {"line": line.name}}},
        },
    }


def network(ctx: ClusterContext) -> NetworkNeeds:
    ports = tuple(sorted({_port(str(line.slo.probe)) for line in probed_lines(ctx)}))
    prometheus = Namespace(MONITORING_NAMESPACE, net.PROMETHEUS_PODS)
    return NetworkNeeds(
        (
            Path("dns", "egress", ClusterDns(), "resolves the probed hosts"),
            Path("probes", "egress", External("the probed URLs' hosts", ports), "probes each line's URL"),
            Path("from-prometheus", "ingress", prometheus, "probe requests", (net.BLACKBOX_PORT,)),
        )
    )


ADDON = AddOn(
    name=NAME,
    namespace=NAMESPACE,
    version=VERSION,
    source=Chart(
        chart="prometheus-blackbox-exporter",
        repository="https://prometheus-community.github.io/helm-charts",
        archive=ChartArchive(
            "https://github.com/prometheus-community/helm-charts/releases/download/prometheus-blackbox-exporter-"
            "11.17.2/prometheus-blackbox-exporter-11.17.2.tgz",
            "2ec042aa69de96f1171f2876e5776fbc2b43d418ec270ec9d52d765211478dd0",
            source=(
                "prometheus-community/helm-charts index.yaml on gh-pages (stored copy at commit 0163faed668a), entry "
                "prometheus-blackbox-exporter 11.17.2"
            ),
        ),
        values=values,
        images=(ImageSlot.block("image", IMAGE, digest="digest"),),
        workloads=(WorkloadSlot("blackbox-exporter", "resources", "replicas"),),
    ),
    network=network,
    rbac=RbacReview(VERSION, (), narrowed="No ClusterRole or Role: the chart renders none (checked with Helm 4.1.4)."),
    enabled=enabled,
)
