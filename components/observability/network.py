"""What the monitoring namespace's pods may reach and be reached by (ports as kube-prometheus-stack 88.5.3 renders
them with our values): Prometheus scrapes its neighbours, the nodes (node-exporter and the kubelet, both on the
host network, so only addresses can name them), CoreDNS and each line's metrics port; Alertmanager posts to the
receivers and gossips with its peers; Grafana queries Prometheus and Alertmanager; the operator, kube-state-metrics
and Grafana's sidecars watch the API server. Nothing else, either way."""

from __future__ import annotations

from urllib.parse import urlsplit

from components.catalogue.model import ClusterContext
from components.catalogue.network import ApiServer, ClusterDns, External, Namespace, NetworkNeeds, OwnPods, Path
from components.core import contracts
from components.core import vocabulary as vocab
from components.observability.sizing import stack_size

PROMETHEUS_PODS = dict(contracts.PROMETHEUS_PODS)  # set by the operator on every Prometheus pod
ALERTMANAGER_PODS = {vocab.NAME: "alertmanager"}
GRAFANA_PODS = {vocab.NAME: "grafana"}
OPERATOR_PODS = {"app": "kube-prometheus-stack-operator"}
KUBE_STATE_METRICS_PODS = {vocab.NAME: "kube-state-metrics"}

# the log pipeline's ends (loki.py, fluent_bit.py take their namespaces and ports from here)
LOKI_NAMESPACE = "loki"
LOKI_PODS = {vocab.NAME: "loki"}
LOKI_PORT = 3100
LOKI_HOST = f"loki.{LOKI_NAMESPACE}.svc.cluster.local"  # the single binary's Service (release `loki`)
FLUENT_BIT_NAMESPACE = "fluent-bit"
FLUENT_BIT_PODS = {vocab.NAME: "fluent-bit"}
FLUENT_BIT_PORT = 2020  # its metrics

# the trace pipeline's ends (otel_operator.py, jaeger.py)
TRACING_NAMESPACE = contracts.TRACING_NAMESPACE
COLLECTOR_PODS = dict(contracts.COLLECTOR_POD_SELECTOR["matchLabels"])
OTLP_GRPC, OTLP_HTTP = contracts.OTLP_PORTS
OPERATOR_OTEL_PODS = {vocab.NAME: "opentelemetry-operator"}
JAEGER_NAMESPACE = "jaeger"
JAEGER_PODS = {vocab.NAME: "jaeger"}
JAEGER_HOST = f"jaeger.{JAEGER_NAMESPACE}.svc.cluster.local"
JAEGER_QUERY_PORT = 16686

BLACKBOX_NAMESPACE = "blackbox-exporter"
BLACKBOX_PODS = {vocab.NAME: "prometheus-blackbox-exporter"}
BLACKBOX_PORT = 9115

PROMETHEUS_PORT = 9090
ALERTMANAGER_PORT = 9093
ALERTMANAGER_GOSSIP = 9094  # TCP and UDP between Alertmanager replicas
RELOADER_PORT = 8080  # the config-reloader sidecar's metrics, in Prometheus and Alertmanager pods
OPERATOR_PORT = 8080  # http, with the operator's TLS off
KUBE_STATE_METRICS_PORT = 8080
GRAFANA_PORT = 3000
NODE_EXPORTER_PORT = 9100
KUBELET_PORT = 10250
COREDNS_METRICS_PORT = 9153
HTTPS = 443


def _port(url: str) -> int:
    return urlsplit(url).port or HTTPS


def _scrapes(ctx: ClusterContext) -> list[Path]:
    own = [
        ("operator", OwnPods(OPERATOR_PODS), (OPERATOR_PORT,)),
        ("kube-state-metrics", OwnPods(KUBE_STATE_METRICS_PODS), (KUBE_STATE_METRICS_PORT,)),
        ("prometheus", OwnPods(PROMETHEUS_PODS), (PROMETHEUS_PORT, RELOADER_PORT)),
    ]
    size = stack_size(ctx.cluster.profile)
    if size.alertmanager_replicas:
        own.append(("alertmanager", OwnPods(ALERTMANAGER_PODS), (ALERTMANAGER_PORT, RELOADER_PORT)))
    if size.grafana:
        own.append(("grafana", OwnPods(GRAFANA_PODS), (GRAFANA_PORT,)))
    paths = [
        Path(f"scrape-{name}", "egress", peer, f"scrapes {name}", ports, PROMETHEUS_PODS) for name, peer, ports in own
    ]
    nodes = External("the nodes: node-exporter and the kubelet (host network)", (NODE_EXPORTER_PORT, KUBELET_PORT))
    paths += [
        Path("scrape-nodes", "egress", nodes, "scrapes node and container metrics", pods=PROMETHEUS_PODS),
        Path("api-server", "egress", ApiServer(), "discovers targets, scrapes the API server", pods=PROMETHEUS_PODS),
        Path(
            "scrape-coredns",
            "egress",
            Namespace("kube-system", {"k8s-app": "kube-dns"}),
            "scrapes CoreDNS (the DNS alerts)",
            (COREDNS_METRICS_PORT,),
            PROMETHEUS_PODS,
        ),
    ]
    if log_shipping(ctx):
        fluent_bit = Namespace(FLUENT_BIT_NAMESPACE, FLUENT_BIT_PODS)
        paths.append(
            Path("scrape-fluent-bit", "egress", fluent_bit, "scrapes Fluent Bit", (FLUENT_BIT_PORT,), PROMETHEUS_PODS)
        )
    if any(line.slo.probe is not None for line in ctx.factory.lines_on(ctx.cluster.name)):
        prober = Namespace(BLACKBOX_NAMESPACE, BLACKBOX_PODS)
        paths.append(Path("blackbox", "egress", prober, "asks for probes", (BLACKBOX_PORT,), PROMETHEUS_PODS))
    for target in ctx.scrapes:
        name, peer = f"{target.addon}-{target.endpoint.name}", Namespace(target.namespace, target.endpoint.pods)
        ports = (target.endpoint.port,)
        paths.append(Path(f"scrape-{name}", "egress", peer, f"scrapes {name}", ports, PROMETHEUS_PODS))
    for line in ctx.factory.lines_on(ctx.cluster.name):
        why = f"scrapes line {line.name}'s metrics port (the metric contract)"
        paths.append(
            Path(f"scrape-{line.name}", "egress", Namespace(line.namespace), why, (line.metrics_port,), PROMETHEUS_PODS)
        )
    return paths


def log_shipping(ctx: ClusterContext) -> bool:
    """Fluent Bit runs: into the cluster's Loki, or the hub's for a cell without one (fluent_bit.enabled)."""
    return stack_size(ctx.cluster.profile).log_store or ctx.factory.observability.hub.loki is not None


def traces_here(ctx: ClusterContext) -> bool:
    """Jaeger runs on the cluster (jaeger.enabled): a log store here, and no other trace backend named."""
    return stack_size(ctx.cluster.profile).log_store and ctx.factory.observability.traces.endpoint is None


def _admitted(ctx: ClusterContext) -> list[Path]:
    """The ingress side of every connection between the namespace's own pods."""
    prometheus = OwnPods(PROMETHEUS_PODS)
    paths = [
        Path("operator-from-prometheus", "ingress", prometheus, "scraped", (OPERATOR_PORT,), OPERATOR_PODS),
        Path(
            "ksm-from-prometheus", "ingress", prometheus, "scraped", (KUBE_STATE_METRICS_PORT,), KUBE_STATE_METRICS_PODS
        ),
        Path(
            "prometheus-from-peers",
            "ingress",
            prometheus,
            "scraped by its peer",
            (PROMETHEUS_PORT, RELOADER_PORT),
            PROMETHEUS_PODS,
        ),
    ]
    size = stack_size(ctx.cluster.profile)
    if size.alertmanager_replicas:
        gossip = (ALERTMANAGER_GOSSIP,)
        paths += [
            Path(
                "alertmanager-from-prometheus",
                "ingress",
                prometheus,
                "alerts, scrape",
                (ALERTMANAGER_PORT, RELOADER_PORT),
                ALERTMANAGER_PODS,
            ),
            Path(
                "alertmanager-gossip",
                "ingress",
                OwnPods(ALERTMANAGER_PODS),
                "cluster gossip",
                gossip,
                ALERTMANAGER_PODS,
                udp=gossip,
            ),
        ]
    if size.grafana:
        grafana = OwnPods(GRAFANA_PODS)
        paths += [
            Path("grafana-from-prometheus", "ingress", prometheus, "scraped", (GRAFANA_PORT,), GRAFANA_PODS),
            Path(
                "prometheus-from-grafana", "ingress", grafana, "dashboard queries", (PROMETHEUS_PORT,), PROMETHEUS_PODS
            ),
        ]
        if size.alertmanager_replicas:
            paths.append(
                Path(
                    "alertmanager-from-grafana",
                    "ingress",
                    grafana,
                    "alert list",
                    (ALERTMANAGER_PORT,),
                    ALERTMANAGER_PODS,
                )
            )
    return paths


def _egress(ctx: ClusterContext) -> list[Path]:
    """Besides Prometheus' scrapes: the API server for the watchers, Grafana's queries, Alertmanager's receivers
    and peers, the hub."""
    size = stack_size(ctx.cluster.profile)
    api = ApiServer()
    paths = [
        Path("dns", "egress", ClusterDns(), "resolves services and the hub's and receivers' hosts"),
        Path("operator-api-server", "egress", api, "reconciles Prometheus and Alertmanager", pods=OPERATOR_PODS),
        Path("ksm-api-server", "egress", api, "watches the objects it reports on", pods=KUBE_STATE_METRICS_PODS),
    ]
    hub = ctx.factory.observability.hub
    if hub.remote_write:
        where = External("the hub's remote-write endpoint", (_port(hub.remote_write),))
        paths.append(Path("hub-remote-write", "egress", where, "long-term metrics", pods=PROMETHEUS_PODS))
    if hub.alertmanagers and not size.alertmanager_replicas:
        where = External("the hub's Alertmanagers", tuple(sorted({_port(url) for url in hub.alertmanagers})))
        paths.append(
            Path("hub-alertmanagers", "egress", where, "alerts of a cluster without one", pods=PROMETHEUS_PODS)
        )
    if size.alertmanager_replicas:
        gossip = (ALERTMANAGER_GOSSIP,)
        am = ALERTMANAGER_PODS
        paths += [
            Path("prometheus-alertmanager", "egress", OwnPods(am), "alerts", (ALERTMANAGER_PORT,), PROMETHEUS_PODS),
            Path("alertmanager-gossip", "egress", OwnPods(am), "cluster gossip", gossip, am, udp=gossip),
            Path("receivers", "egress", External("alert receivers (HTTPS APIs)", (HTTPS,)), "notifications", pods=am),
        ]
        smtp = ctx.factory.observability.alerting.smtp
        if smtp is not None:
            port = int(smtp.smarthost.rpartition(":")[2]) if ":" in smtp.smarthost else 25
            paths.append(Path("smtp", "egress", External("the mail relay", (port,)), "alert mail", pods=am))
    if size.grafana:
        grafana = GRAFANA_PODS
        paths += [
            Path("grafana-api-server", "egress", api, "its sidecars watch dashboard ConfigMaps", pods=grafana),
            Path("grafana-prometheus", "egress", OwnPods(PROMETHEUS_PODS), "queries", (PROMETHEUS_PORT,), grafana),
        ]
        if size.log_store:
            store = Namespace(LOKI_NAMESPACE, LOKI_PODS)
            paths.append(Path("grafana-loki", "egress", store, "log queries", (LOKI_PORT,), grafana))
        if traces_here(ctx):
            store = Namespace(JAEGER_NAMESPACE, JAEGER_PODS)
            paths.append(Path("grafana-jaeger", "egress", store, "trace queries", (JAEGER_QUERY_PORT,), grafana))
        if size.alertmanager_replicas:
            paths.append(
                Path(
                    "grafana-alertmanager",
                    "egress",
                    OwnPods(ALERTMANAGER_PODS),
                    "alert list",
                    (ALERTMANAGER_PORT,),
                    grafana,
                )
            )
    return paths


def network(ctx: ClusterContext) -> NetworkNeeds:
    return NetworkNeeds(tuple(_scrapes(ctx) + _egress(ctx) + _admitted(ctx)))
