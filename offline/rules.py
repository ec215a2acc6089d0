"""build/<stack>/rules/: per cluster every rule file its capabilities run (components/inventory.rule_files: SLOs,
OEE, DNS volume, Gatekeeper's webhook, the restore drill's and the escrow's), as Prometheus rule files — the same
documents the cluster's Observability installs as PrometheusRules; build/<stack>/alertmanager.yaml, the routes
(components/observability/routing.py); and build/<stack>/dashboards/, Grafana's JSON
(components/observability/dashboards.py), which Grafana's sidecar loads from ConfigMaps. promtool and amtool judge
these files in the tests. Sorted keys: two runs give identical files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from components.config.document import FactoryConfig
from components.inventory import factory_platform_slos, rule_files
from components.observability.dashboards import dashboards
from components.observability.routing import alertmanager_config

RULES_DIR = "rules"
ALERTMANAGER_FILE = "alertmanager.yaml"
DASHBOARDS_DIR = "dashboards"
# what each kind of rule file holds, for the lines `make plan` prints
WHAT = {
    "slo": "SLOs: recordings, burn-rate pages and tickets",
    "kpi": "OEE per line: availability, performance, quality",
    "dns": "DNS volume: tunnelling signs",
    "gatekeeper-webhook": "Gatekeeper's webhook: failing, admitting unjudged, slow",
    "restore-drill": "restore drills: recording rules, alerts",
    "escrow": "escrow jobs: recording rules, alerts",
}


def _rule_count(document: dict[str, Any]) -> int:
    return sum(len(group["rules"]) for group in document["groups"])


def write_rules(out_dir: Path, config: FactoryConfig) -> list[str]:
    """Every cluster's rule files, the dashboards and Alertmanager's configuration; the lines `make plan` prints."""
    directory = out_dir / RULES_DIR
    if directory.exists():
        for old in directory.glob("*.yaml"):
            old.unlink()
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for cluster in config.clusters:
        for kind, document in rule_files(config, cluster).items():
            path = directory / f"{cluster.name}-{kind}.yaml"
            path.write_text(yaml.safe_dump(document, sort_keys=True))
            written.append(f"{cluster.name}: wrote {path} ({_rule_count(document)} rules; {WHAT[kind]})")
    boards = out_dir / DASHBOARDS_DIR
    if boards.exists():
        for old in boards.glob("*.json"):
            old.unlink()
    boards.mkdir(parents=True, exist_ok=True)
    for name, document in dashboards(config, factory_platform_slos(config)).items():
        (boards / name).write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    written.append(f"wrote {boards}/ (Grafana dashboards: factory overview, OEE, security, one per line's SLOs)")
    path = out_dir / ALERTMANAGER_FILE
    path.write_text(yaml.safe_dump(alertmanager_config(config), sort_keys=True))
    written.append(f"wrote {path} (routes: each line's pages and tickets to its team, the rest to the platform team)")
    return written
