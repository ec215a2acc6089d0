"""build/<stack>/rules/<cluster>-restore-drill.yaml: the restore drill's recording rules and alerts for each cluster
that runs drills (components/backup/drill/alerts.py), as a Prometheus rule file. No Prometheus runs on the clusters
yet (the observability issue installs it and applies these as PrometheusRules); until then `promtool check rules`
accepts the file and a site's existing Prometheus can load it. Sorted keys: two runs give identical files."""

from __future__ import annotations

from pathlib import Path

import yaml

from components.backup import velero
from components.backup.drill.addon import enabled
from components.backup.drill.alerts import drill_rules
from components.catalogue.model import ClusterContext
from components.config.document import FactoryConfig
from components.inventory import platform_namespaces

RULES_DIR = "rules"


def write_rules(out_dir: Path, config: FactoryConfig) -> list[str]:
    """One rule file per cluster with drills; the lines `make plan` prints."""
    directory = out_dir / RULES_DIR
    if directory.exists():
        for old in directory.glob("*.yaml"):
            old.unlink()
    written = []
    for cluster in config.clusters:
        ctx = ClusterContext(config, cluster, platform_namespaces())
        if not enabled(ctx):
            continue
        clouds = velero.clouds(ctx)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{cluster.name}-restore-drill.yaml"
        path.write_text(yaml.safe_dump(drill_rules(config.backup.drill.max_age_hours, clouds), sort_keys=True))
        written.append(f"{cluster.name}: wrote {path} (restore drills of {', '.join(clouds)}: recording rules, alerts)")
    return written
