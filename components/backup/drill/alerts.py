"""The restore drill's evidence and alerts, from standard exporters only (no exporter of our own):

- kube-state-metrics reports the drill's CronJobs and their Jobs (docs/metrics/workload/cronjob-metrics.md and
  job-metrics.md): `kube_cronjob_status_last_successful_time`, `..._last_schedule_time`, `..._active`,
  `kube_cronjob_created`, `kube_job_status_start_time`, `kube_job_status_completion_time` (set only when a Job
  succeeds) and `kube_job_owner`.
- Velero reports `velero_backup_last_successful_timestamp{schedule}` (pkg/metrics/metrics.go at v1.18.1; set
  when a backup completes, so the data is older by the backup's own duration).

Recording rules, one series per backup location (label `location`):
- `restore_drill:last_success_timestamp_seconds` — when the last drill succeeded.
- `restore_drill:last_run_failed` — 1 when the latest scheduled drill has ended without succeeding: it was
  scheduled after the last success and nothing is running (a first run that failed counts too), else 0.
- `restore_drill:duration_seconds` — how long the latest successful drill took, pod start to clean-up: the RTO
  evidence, a lower bound (a marker namespace, no volumes; a line's restore moves more data).
- `restore_drill:data_age_seconds{schedule}` — how old the newest backup of each Schedule into the location is:
  what a restore from there would lose now, the RPO evidence (Schedules are `<policy>-<location>`).

Alerts: `RestoreDrillFailed` (the latest drill failed) and `RestoreDrillStale` (no drill succeeded within
`backup.drill.maxAgeHours`, a drill that never succeeded since its CronJob was created, or no CronJob reported
at all). A pure builder: the Prometheus rule-file document, judged by promtool in the tests; the observability
capability (a later issue) installs it as a PrometheusRule.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from components.backup import names, velero
from components.backup.config import Cloud
from components.backup.drill.manifests import DRILL
from components.backup.job_evidence import LocationJobs

GROUP = "factory-floor-restore-drill"
FAILED_FOR = "5m"  # kube-state-metrics' view of a finished Job settles within a few scrapes
# a CronJob nobody reports: time for a new Prometheus, kube-state-metrics or CronJob to show up first
MISSING_FOR = "15m"
SEVERITY = "ticket"  # a broken drill puts no line at risk today; it means nobody knows a restore would work


def _drills(clouds: Sequence[Cloud]) -> LocationJobs:
    return LocationJobs(velero.NAMESPACE, DRILL, [names.location_name(cloud) for cloud in clouds])


def recording_rules(clouds: Sequence[Cloud]) -> list[dict[str, Any]]:
    """In one group, so each rule sees the ones above it at the same evaluation."""
    drills = _drills(clouds)
    latest = "restore_drill:job_completion_timestamp_seconds"
    schedules = f"(.+)-({'|'.join(drills.locations)})"
    backups = f'velero_backup_last_successful_timestamp{{schedule=~"{schedules}"}}'
    return [
        {"record": "restore_drill:last_success_timestamp_seconds", "expr": drills.last_success()},
        {"record": "restore_drill:last_run_failed", "expr": drills.last_run_failed()},
        {"record": latest, "expr": drills.job_completion()},
        {"record": "restore_drill:job_duration_seconds", "expr": drills.job_duration()},
        {
            "record": "restore_drill:duration_seconds",
            "expr": (
                "max by (location) (restore_drill:job_duration_seconds and on (namespace, job_name) "
                f"({latest} == on (location) group_left max by (location) ({latest})))"
            ),
        },
        {
            "record": "restore_drill:data_age_seconds",
            "expr": (
                f'time() - max by (location, schedule) (label_replace({backups}, "location", "$2", "schedule", '
                f'"{schedules}"))'
            ),
        },
    ]


def _stale_expr(max_age_hours: int, clouds: Sequence[Cloud]) -> str:
    return _drills(clouds).stale("restore_drill:last_success_timestamp_seconds", max_age_hours * 3600)


def alert_rules(max_age_hours: int, clouds: Sequence[Cloud]) -> list[dict[str, Any]]:
    restore = "velero restore describe --details; the drill's log: kubectl -n velero logs job/<the failed Job>"
    return [
        {
            "alert": "RestoreDrillFailed",
            "expr": "restore_drill:last_run_failed == 1",
            "for": FAILED_FOR,
            "labels": {"severity": SEVERITY},
            "annotations": {
                "summary": "The latest restore drill from backup location {{ $labels.location }} failed",
                "description": (
                    f"CronJob {DRILL}-{{{{ $labels.location }}}} in {velero.NAMESPACE} ran its latest drill and it did "
                    "not succeed: a backup into that location could not be taken, restored or verified, or the "
                    f"drill ran out of time. Its FAIL line says which ({restore})."
                ),
            },
        },
        {
            "alert": "RestoreDrillStale",
            "expr": _stale_expr(max_age_hours, clouds),
            "for": MISSING_FOR,
            "labels": {"severity": SEVERITY},
            "annotations": {
                "summary": (
                    f"No restore drill from backup location {{{{ $labels.location }}}} succeeded in {max_age_hours} h"
                ),
                "description": (
                    f"Nothing shows that backups in location {{{{ $labels.location }}}} can be restored: no drill "
                    f"succeeded in the last {max_age_hours} h (backup.drill.maxAgeHours), or CronJob "
                    f"{DRILL}-{{{{ $labels.location }}}} is not reported at all (missing, or kube-state-metrics is "
                    "down). Check that the CronJob exists and is not suspended, and read its last Jobs' logs."
                ),
            },
        },
    ]


def drill_rules(max_age_hours: int, clouds: Sequence[Cloud]) -> dict[str, Any]:
    """The rule file of one cluster whose Velero writes to `clouds` (empty: no rules)."""
    if not clouds:
        return {"groups": []}
    rules = [*recording_rules(clouds), *alert_rules(max_age_hours, clouds)]
    return {"groups": [{"name": GROUP, "rules": rules}]}
