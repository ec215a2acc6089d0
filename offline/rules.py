"""build/<stack>/rules/: per cluster its SLO rules (components/observability/slo/), the restore drill's and the
escrow's recording rules and alerts where they run (components/backup/drill/alerts.py, escrow/alerts.py), as
Prometheus rule files; build/<stack>/alertmanager.yaml, the routes (components/observability/routing.py); and
build/<stack>/dashboards/, Grafana's JSON (components/observability/dashboards.py).
No Prometheus runs on the clusters yet (the observability issue installs it and applies these as PrometheusRules);
until then `promtool check rules` accepts the files and a site's existing Prometheus can load them. Sorted keys:
two runs give identical files."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from components.backup import velero
from components.backup.drill.addon import enabled
from components.backup.drill.alerts import drill_rules
from components.backup.escrow import addon as escrow_addon
from components.backup.escrow import secrets_job
from components.backup.escrow.alerts import EscrowJob, escrow_rules
from components.backup.escrow.config import SECRETS_TIMEOUT_MINUTES, max_age
from components.backup.escrow.manifests import IMAGES, SECRETS
from components.catalogue.model import ClusterContext
from components.config.document import FactoryConfig
from components.inventory import platform_namespaces
from components.observability.dashboards import dashboards
from components.observability.kpi import kpi_rules
from components.observability.routing import alertmanager_config
from components.observability.slo.catalogue import cluster_slos, platform_slos
from components.observability.slo.rules import slo_rules

RULES_DIR = "rules"
ALERTMANAGER_FILE = "alertmanager.yaml"
DASHBOARDS_DIR = "dashboards"


def write_rules(out_dir: Path, config: FactoryConfig) -> list[str]:
    """One rule file per cluster with drills; the lines `make plan` prints."""
    directory = out_dir / RULES_DIR
    if directory.exists():
        for old in directory.glob("*.yaml"):
            old.unlink()
    written = []
    for cluster in config.clusters:
        ctx = ClusterContext(config, cluster, platform_namespaces())
        slos = cluster_slos(config, cluster, drills=enabled(ctx))
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{cluster.name}-slo.yaml"
        path.write_text(yaml.safe_dump(slo_rules(slos), sort_keys=True))
        written.append(f"{cluster.name}: wrote {path} ({len(slos)} SLOs: recordings, burn-rate pages and tickets)")
        if config.lines_on(cluster.name):
            path = directory / f"{cluster.name}-kpi.yaml"
            path.write_text(yaml.safe_dump(kpi_rules(), sort_keys=True))
            written.append(f"{cluster.name}: wrote {path} (OEE per line: availability, performance, quality)")
        if not enabled(ctx):
            continue
        clouds = velero.clouds(ctx)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{cluster.name}-restore-drill.yaml"
        path.write_text(yaml.safe_dump(drill_rules(config.backup.drill.max_age_hours, clouds), sort_keys=True))
        written.append(f"{cluster.name}: wrote {path} (restore drills of {', '.join(clouds)}: recording rules, alerts)")
        jobs = escrow_jobs(config, ctx)
        if jobs:
            path = directory / f"{cluster.name}-escrow.yaml"
            path.write_text(yaml.safe_dump(escrow_rules(jobs, clouds), sort_keys=True))
            kinds = ", ".join(f"{job.what} escrow" for job in jobs)
            written.append(f"{cluster.name}: wrote {path} ({kinds} into {', '.join(clouds)}: rules, alerts)")
    boards = out_dir / DASHBOARDS_DIR
    if boards.exists():
        for old in boards.glob("*.json"):
            old.unlink()
    boards.mkdir(parents=True, exist_ok=True)
    platform = [
        slo
        for cluster in config.clusters
        for slo in platform_slos(
            config, cluster, drills=enabled(ClusterContext(config, cluster, platform_namespaces()))
        )
    ]
    for name, document in dashboards(config, platform).items():
        (boards / name).write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    written.append(f"wrote {boards}/ (Grafana dashboards: factory overview, OEE, one per line's SLOs)")
    path = out_dir / ALERTMANAGER_FILE
    path.write_text(yaml.safe_dump(alertmanager_config(config), sort_keys=True))
    written.append(f"wrote {path} (routes: each line's pages and tickets to its team, the rest to the platform team)")
    return written


def escrow_jobs(config: FactoryConfig, ctx: ClusterContext) -> list[EscrowJob]:
    """The escrow's jobs on one cluster, each with the staleness its schedule implies (escrow/config.max_age)."""
    escrow, timezone = config.backup.escrow, config.factory.timezone
    jobs = []
    if escrow_addon.images_enabled(ctx):
        age = max_age(escrow.images_schedule, timezone, escrow.images_timeout_minutes)
        jobs.append(EscrowJob("images", IMAGES, "Image", "image and chart", int(age.total_seconds())))
    if secrets_job.enabled(ctx):
        age = max_age(escrow.secrets_schedule, timezone, SECRETS_TIMEOUT_MINUTES)
        jobs.append(EscrowJob("secrets", SECRETS, "Secret", "Vault secret", int(age.total_seconds())))
    return jobs
