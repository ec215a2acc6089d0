"""How big the observability stack is on each profile: which parts run, how many copies, how long Prometheus keeps
its data, and what every container requests and may use.

The shape follows the cluster. An `edge-small` cell (one node, 1.5 vCPU and 3 GiB for the whole platform) keeps
four days of metrics, just over the longest alert window (the 3-day ticket pair of slo/burn.py), so every
burn-rate alert evaluates locally and pages even while the plant's uplink is down; it runs no Alertmanager or
Grafana and sends alerts to the hub's (`observability.hub`). `edge-ha` adds Alertmanager in two copies, Grafana
and a Loki for the logs, and keeps eight days. `site` and `cloud` run the full stack: two Prometheus replicas
keeping 31 days (the 30-day SLO period and a day of slack), Alertmanager in three, Grafana, Loki. Everywhere with a
hub, remote write sends the samples there for the long view; a cell without Loki ships its logs to the hub's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.config.types import Profile
from components.core.sizing import resources

# disk headroom over the retention size: the WAL and the block being compacted live beside the retained blocks
VOLUME_HEADROOM = 1.25


@dataclass(frozen=True)
class StackSize:
    prometheus_replicas: int
    retention_days: int
    retention_gib: int  # retentionSize: the oldest blocks go first once the data reaches it
    prometheus: dict[str, Any]
    alertmanager_replicas: int  # 0: none; alerts go to the hub's
    grafana: bool
    operator: dict[str, Any]
    kube_state_metrics: dict[str, Any]
    node_exporter: dict[str, Any]
    # the operator's config-reloader: sidecar and init container of every Prometheus and Alertmanager pod
    reloader: dict[str, Any]
    alertmanager: dict[str, Any]
    grafana_server: dict[str, Any]
    grafana_sidecar: dict[str, Any]  # each of the two sidecars (dashboards, datasources)
    fluent_bit: dict[str, Any]  # one per node
    otel_operator: dict[str, Any]
    otel_collector: dict[str, Any]
    log_store_gib: int = 0  # Loki's volume; 0: no log store here (logs go to the hub's, or stay on the nodes)
    loki: dict[str, Any] | None = None
    jaeger: dict[str, Any] | None = None  # where there is a log store, Jaeger keeps the traces beside it

    @property
    def log_store(self) -> bool:
        return self.log_store_gib > 0

    @property
    def volume_gib(self) -> int:
        return int(self.retention_gib * VOLUME_HEADROOM + 0.999)


_SMALL: dict[str, Any] = {
    "operator": resources("20m", "64Mi", "200m", "192Mi"),
    "kube_state_metrics": resources("10m", "64Mi", "200m", "192Mi"),
    "node_exporter": resources("10m", "24Mi", "200m", "64Mi"),
    "reloader": resources("5m", "16Mi", "50m", "48Mi"),
    "alertmanager": resources("10m", "48Mi", "200m", "128Mi"),
    "grafana_server": resources("50m", "160Mi", "500m", "384Mi"),
    "grafana_sidecar": resources("5m", "48Mi", "100m", "128Mi"),
    "fluent_bit": resources("20m", "48Mi", "200m", "128Mi"),
    "otel_operator": resources("10m", "64Mi", "200m", "256Mi"),
    "otel_collector": resources("20m", "64Mi", "500m", "256Mi"),
}
_LARGE: dict[str, Any] = {
    **_SMALL,
    "operator": resources("50m", "128Mi", "500m", "384Mi"),
    "kube_state_metrics": resources("50m", "128Mi", "500m", "512Mi"),
    "grafana_server": resources("100m", "256Mi", "1", "768Mi"),
}

# site and cloud: the full stack, sized for a plant's or a region's worth of lines
_FULL = StackSize(
    prometheus_replicas=2,
    retention_days=31,
    retention_gib=40,
    prometheus=resources("500m", "2Gi", "2", "4Gi"),
    alertmanager_replicas=3,
    grafana=True,
    log_store_gib=100,
    loki=resources("200m", "512Mi", "2", "2Gi"),
    jaeger=resources("100m", "512Mi", "1", "2Gi"),
    **_LARGE,
)

SIZES: dict[Profile, StackSize] = {
    "edge-small": StackSize(
        prometheus_replicas=1,
        retention_days=4,
        retention_gib=4,
        prometheus=resources("150m", "512Mi", "1", "1536Mi"),
        alertmanager_replicas=0,
        grafana=False,
        **_SMALL,
    ),
    "edge-ha": StackSize(
        prometheus_replicas=2,
        retention_days=8,
        retention_gib=10,
        prometheus=resources("200m", "768Mi", "1", "2Gi"),
        alertmanager_replicas=2,
        grafana=True,
        log_store_gib=20,
        loki=resources("100m", "256Mi", "1", "1Gi"),
        jaeger=resources("50m", "256Mi", "500m", "1Gi"),
        **_SMALL,
    ),
    "site": _FULL,
    "cloud": _FULL,
}


def stack_size(profile: Profile) -> StackSize:
    return SIZES[profile]
