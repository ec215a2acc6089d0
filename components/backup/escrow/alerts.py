"""The escrow's evidence and alerts, from kube-state-metrics only (job_evidence.py): per job kind and location, when
it last succeeded and whether its latest run failed.

Recording rules (label `location`): `escrow_images:last_success_timestamp_seconds`, `escrow_images:last_run_failed`,
and the same for `escrow_secrets`. Alerts, each of severity ticket (a missing escrow puts no line at risk today; it
means a plant could not rebuild after a loss): `ImageEscrowFailed` / `SecretEscrowFailed` (the latest run failed)
and `ImageEscrowStale` / `SecretEscrowStale` (no success within two of the schedule's longest gaps plus one run's
deadline, config.max_age; or a CronJob nobody reports). A pure builder of the rule file, judged by promtool.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from components.backup import names
from components.backup.config import Cloud
from components.backup.escrow import manifests as m
from components.backup.job_evidence import LocationJobs

GROUP = "factory-floor-escrow"
FAILED_FOR = "5m"
MISSING_FOR = "15m"
SEVERITY = "ticket"


@dataclass(frozen=True)
class EscrowJob:
    kind: str  # images | secrets
    prefix: str  # the CronJobs' name prefix (manifests.IMAGES, manifests.SECRETS)
    alert: str  # Image | Secret
    what: str  # for people
    max_age_seconds: int

    @property
    def record(self) -> str:
        return f"escrow_{self.kind}"


def _jobs(job: EscrowJob, clouds: Sequence[Cloud]) -> LocationJobs:
    return LocationJobs(m.NAMESPACE, job.prefix, [names.location_name(cloud) for cloud in clouds])


def rules(job: EscrowJob, clouds: Sequence[Cloud]) -> list[dict[str, Any]]:
    jobs = _jobs(job, clouds)
    last_success = f"{job.record}:last_success_timestamp_seconds"
    hours = f"{job.max_age_seconds / 3600:g}"
    logs = f"kubectl -n {m.NAMESPACE} logs job/<the failed Job> --all-containers"
    return [
        {"record": last_success, "expr": jobs.last_success()},
        {"record": f"{job.record}:last_run_failed", "expr": jobs.last_run_failed()},
        {
            "alert": f"{job.alert}EscrowFailed",
            "expr": f"{job.record}:last_run_failed == 1",
            "for": FAILED_FOR,
            "labels": {"severity": SEVERITY},
            "annotations": {
                "summary": f"The latest {job.what} escrow into location {{{{ $labels.location }}}} failed",
                "description": (
                    f"CronJob {job.prefix}-{{{{ $labels.location }}}} in {m.NAMESPACE} did not finish its latest run: "
                    f"its FAIL line says which step and why ({logs})."
                ),
            },
        },
        {
            "alert": f"{job.alert}EscrowStale",
            "expr": jobs.stale(last_success, job.max_age_seconds),
            "for": MISSING_FOR,
            "labels": {"severity": SEVERITY},
            "annotations": {
                "summary": f"No {job.what} escrow into location {{{{ $labels.location }}}} succeeded in {hours} h",
                "description": (
                    f"The {job.what} escrow into location {{{{ $labels.location }}}} has not succeeded in {hours} h, "
                    f"or CronJob {job.prefix}-{{{{ $labels.location }}}} is not reported at all (missing, suspended, "
                    "or kube-state-metrics is down): a plant that lost its site now could not rebuild from the stores."
                ),
            },
        },
    ]


def escrow_rules(jobs: Sequence[EscrowJob], clouds: Sequence[Cloud]) -> dict[str, Any]:
    """The rule file of one cluster whose escrow writes to `clouds` (no jobs or clouds: no rules)."""
    if not jobs or not clouds:
        return {"groups": []}
    return {"groups": [{"name": GROUP, "rules": [rule for job in jobs for rule in rules(job, clouds)]}]}
