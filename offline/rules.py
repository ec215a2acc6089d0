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
from components.backup.escrow import addon as escrow_addon
from components.backup.escrow import secrets_job
from components.backup.escrow.alerts import EscrowJob, escrow_rules
from components.backup.escrow.config import SECRETS_TIMEOUT_MINUTES, max_age
from components.backup.escrow.manifests import IMAGES, SECRETS
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
        jobs = escrow_jobs(config, ctx)
        if jobs:
            path = directory / f"{cluster.name}-escrow.yaml"
            path.write_text(yaml.safe_dump(escrow_rules(jobs, clouds), sort_keys=True))
            kinds = ", ".join(f"{job.what} escrow" for job in jobs)
            written.append(f"{cluster.name}: wrote {path} ({kinds} into {', '.join(clouds)}: rules, alerts)")
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
