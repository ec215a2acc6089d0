"""The objects the observability capability adds beside its charts, as pure builders: each rule file as a
PrometheusRule, each dashboard as a ConfigMap Grafana's sidecar loads, the
Role Grafana reads them with, and per line the PodMonitor that scrapes its metrics port."""

from __future__ import annotations

import json
from typing import Any

from components.catalogue.model import ScrapeTarget
from components.config.lines import LineConfig
from components.core import vocabulary as vocab
from components.core.kube import Manifest
from components.observability import prometheus as kps

COMPONENT = "observability"  # value of app.kubernetes.io/component on what this capability makes
MONITORING_API = "monitoring.coreos.com/v1"
SCRAPE_INTERVAL = "30s"  # the SLO rules' evaluation interval (slo/rules.py INTERVAL): one fresh sample each time


def _metadata(name: str, factory: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": kps.NAMESPACE,
        "labels": vocab.standard_labels(factory, component=COMPONENT),
        **extra,
    }


def prometheus_rule(kind: str, document: dict[str, Any], factory: str) -> Manifest:
    """One rule file (inventory.rule_files) as the operator takes it: the same groups promtool judged."""
    return {
        "apiVersion": MONITORING_API,
        "kind": "PrometheusRule",
        "metadata": _metadata(f"factory-{kind}", factory),
        "spec": {"groups": document["groups"]},
    }


def dashboard_folder(name: str) -> str:
    """Lines' SLO dashboards in one folder, the factory-wide ones in another."""
    return "Line SLOs" if name.startswith("slo-") else "Factory"


def dashboard_config_map(name: str, document: dict[str, Any], factory: str) -> Manifest:
    """One dashboard as the sidecar finds it: label `grafana_dashboard: "1"`, its folder as an annotation."""
    metadata = _metadata(
        f"dashboard-{name.removesuffix('.json')}",
        factory,
        annotations={kps.DASHBOARD_FOLDER_ANNOTATION: dashboard_folder(name)},
    )
    metadata["labels"] = {**metadata["labels"], kps.DASHBOARD_LABEL: "1"}
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata,
        "data": {name: json.dumps(document, sort_keys=True)},
    }


def grafana_role(factory: str) -> Manifest:
    """What Grafana's sidecars need: read ConfigMaps of this namespace (dashboards, datasources). The chart's own
    Role would add Secrets, every one of this namespace's, the receivers' keys included."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": _metadata(kps.GRAFANA_ROLE, factory),
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}],
    }


def _pod_monitor(
    name: str, namespace: str, *, pods: dict[str, str], port: int, path: str, label: tuple[str, str], factory: str
) -> Manifest:
    """Scrape the pods of `namespace` (those with `pods` labels; all when empty) that declare `port` (the operator
    keeps only targets whose container port has that number), every target labelled `label`."""
    key, value = label
    return {
        "apiVersion": MONITORING_API,
        "kind": "PodMonitor",
        "metadata": _metadata(name, factory),
        "spec": {
            "namespaceSelector": {"matchNames": [namespace]},
            "selector": {"matchLabels": pods} if pods else {},
            "podMetricsEndpoints": [
                {
                    "portNumber": port,
                    "path": path,
                    "interval": SCRAPE_INTERVAL,
                    "relabelings": [{"action": "replace", "targetLabel": key, "replacement": value}],
                }
            ],
        },
    }


def addon_pod_monitor(target: ScrapeTarget, factory: str) -> Manifest:
    """Scrape one add-on's metrics endpoint, labelled with the add-on; its namespace admits Prometheus there."""
    endpoint = target.endpoint
    name = f"addon-{target.addon}-{endpoint.name}"
    pods = dict(endpoint.pods)
    label = ("addon", target.addon)
    return _pod_monitor(
        name, target.namespace, pods=pods, port=endpoint.port, path=endpoint.path, label=label, factory=factory
    )


def line_pod_monitor(line: LineConfig, factory: str) -> Manifest:
    """Scrape every pod of the line that declares its metrics port, labelled with the line; the line's
    NetworkPolicy admits Prometheus on that port."""
    label = ("line", line.name)
    return _pod_monitor(
        f"line-{line.name}",
        line.namespace,
        pods={},
        port=line.metrics_port,
        path="/metrics",
        label=label,
        factory=factory,
    )
