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
from components.backup.drill.manifests import DRILL, drill_name

GROUP = "factory-floor-restore-drill"
FAILED_FOR = "5m"  # kube-state-metrics' view of a finished Job settles within a few scrapes
# a CronJob nobody reports: time for a new Prometheus, kube-state-metrics or CronJob to show up first
MISSING_FOR = "15m"
SEVERITY = "ticket"  # a broken drill puts no line at risk today; it means nobody knows a restore would work


def _alternatives(clouds: Sequence[Cloud]) -> str:
    return "|".join(names.location_name(cloud) for cloud in clouds)


def _cronjobs(metric: str, clouds: Sequence[Cloud]) -> str:
    """One series per drill CronJob (kube-state-metrics may run twice), labelled with its location."""
    selector = f'namespace="{velero.NAMESPACE}", cronjob=~"{DRILL}-({_alternatives(clouds)})"'
    return f'label_replace(max by (cronjob) ({metric}{{{selector}}}), "location", "$1", "cronjob", "{DRILL}-(.+)")'


def _jobs(value: str, clouds: Sequence[Cloud]) -> str:
    """`value` (over kube_job_* series) per Job of a drill CronJob, labelled with the Job and its location."""
    owner = (
        f'kube_job_owner{{namespace="{velero.NAMESPACE}", owner_kind="CronJob", '
        f'owner_name=~"{DRILL}-({_alternatives(clouds)})"}}'
    )
    owners = f"max by (namespace, job_name, owner_name) ({owner})"
    joined = f"({value}) * on (namespace, job_name) group_left (owner_name) {owners}"
    return f'label_replace({joined}, "location", "$1", "owner_name", "{DRILL}-(.+)")'


def recording_rules(clouds: Sequence[Cloud]) -> list[dict[str, Any]]:
    """In one group, so each rule sees the ones above it at the same evaluation."""
    job = f'namespace="{velero.NAMESPACE}"'
    completion = f"max by (namespace, job_name) (kube_job_status_completion_time{{{job}}})"
    start = f"max by (namespace, job_name) (kube_job_status_start_time{{{job}}})"
    last_success = _cronjobs("kube_cronjob_status_last_successful_time", clouds)
    last_schedule = _cronjobs("kube_cronjob_status_last_schedule_time", clouds)
    idle = f"({_cronjobs('kube_cronjob_status_active', clouds)} == bool 0)"
    latest = "restore_drill:job_completion_timestamp_seconds"
    schedules = f"(.+)-({_alternatives(clouds)})"
    backups = f'velero_backup_last_successful_timestamp{{schedule=~"{schedules}"}}'
    return [
        {"record": "restore_drill:last_success_timestamp_seconds", "expr": f"max by (location) ({last_success})"},
        {
            "record": "restore_drill:last_run_failed",
            "expr": (
                f"max by (location) ({idle} * on (location) "
                f"({last_schedule} > bool on (location) ({last_success} or {last_schedule} * 0)))"
            ),
        },
        {"record": "restore_drill:job_completion_timestamp_seconds", "expr": _jobs(completion, clouds)},
        {
            "record": "restore_drill:job_duration_seconds",
            "expr": _jobs(f"{completion} - on (namespace, job_name) {start}", clouds),
        },
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
    max_age = max_age_hours * 3600
    never = (
        f"max by (location) (time() - {_cronjobs('kube_cronjob_created', clouds)} > {max_age}) "
        "unless on (location) restore_drill:last_success_timestamp_seconds"
    )
    missing = [
        f'label_replace(absent(kube_cronjob_created{{namespace="{velero.NAMESPACE}", cronjob="{drill_name(cloud)}"}}), '
        f'"location", "{names.location_name(cloud)}", "", "")'
        for cloud in clouds
    ]
    branches = [f"(time() - restore_drill:last_success_timestamp_seconds > {max_age})", f"({never})"]
    branches += [f"max by (location) ({m})" for m in missing]
    return " or on (location) ".join(branches)


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
