"""What kube-state-metrics says about our scheduled jobs, one CronJob per backup location: when each last
succeeded, whether its latest run failed, how long it took, and when its evidence is stale — PromQL built the same
way for every such job (the restore drill, the escrow), so their alerts mean the same thing.

Reads kube-state-metrics' CronJob and Job series (docs/metrics/workload/cronjob-metrics.md, job-metrics.md):
`kube_cronjob_status_last_successful_time`, `..._last_schedule_time`, `..._active`, `kube_cronjob_created`,
`kube_job_status_start_time`, `kube_job_status_completion_time` (set only when a Job succeeds), `kube_job_owner`.
Every expression is one series per location (label `location`); kube-state-metrics may run twice, hence `max`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class LocationJobs:
    """CronJobs `<prefix>-<location>` in `namespace`, one per location."""

    namespace: str
    prefix: str
    locations: Sequence[str]

    def name(self, location: str) -> str:
        return f"{self.prefix}-{location}"

    def _alternatives(self) -> str:
        return "|".join(self.locations)

    def cronjobs(self, metric: str) -> str:
        """`metric` per CronJob, labelled with its location."""
        selector = f'namespace="{self.namespace}", cronjob=~"{self.prefix}-({self._alternatives()})"'
        return (
            f'label_replace(max by (cronjob) ({metric}{{{selector}}}), "location", "$1", "cronjob", '
            f'"{self.prefix}-(.+)")'
        )

    def jobs(self, value: str) -> str:
        """`value` (over kube_job_* series) per Job of one of the CronJobs, labelled with the Job and its location."""
        owner = (
            f'kube_job_owner{{namespace="{self.namespace}", owner_kind="CronJob", '
            f'owner_name=~"{self.prefix}-({self._alternatives()})"}}'
        )
        owners = f"max by (namespace, job_name, owner_name) ({owner})"
        joined = f"({value}) * on (namespace, job_name) group_left (owner_name) {owners}"
        return f'label_replace({joined}, "location", "$1", "owner_name", "{self.prefix}-(.+)")'

    def last_success(self) -> str:
        return f"max by (location) ({self.cronjobs('kube_cronjob_status_last_successful_time')})"

    def last_run_failed(self) -> str:
        """1 when the latest scheduled run has ended without succeeding: it was scheduled after the last success
        and nothing is running (a first run that failed counts too), else 0."""
        last_success = self.cronjobs("kube_cronjob_status_last_successful_time")
        last_schedule = self.cronjobs("kube_cronjob_status_last_schedule_time")
        idle = f"({self.cronjobs('kube_cronjob_status_active')} == bool 0)"
        return (
            f"max by (location) ({idle} * on (location) "
            f"({last_schedule} > bool on (location) ({last_success} or {last_schedule} * 0)))"
        )

    def job_completion(self) -> str:
        return self.jobs(
            f'max by (namespace, job_name) (kube_job_status_completion_time{{namespace="{self.namespace}"}})'
        )

    def job_duration(self) -> str:
        job = f'namespace="{self.namespace}"'
        completion = f"max by (namespace, job_name) (kube_job_status_completion_time{{{job}}})"
        start = f"max by (namespace, job_name) (kube_job_status_start_time{{{job}}})"
        return self.jobs(f"{completion} - on (namespace, job_name) {start}")

    def stale(self, last_success_record: str, max_age_seconds: int) -> str:
        """No success within `max_age_seconds`, a CronJob that never succeeded in that long since it was created,
        or a CronJob nobody reports at all (missing, or kube-state-metrics is down)."""
        never = (
            f"max by (location) (time() - {self.cronjobs('kube_cronjob_created')} > {max_age_seconds}) "
            f"unless on (location) {last_success_record}"
        )
        missing = [
            f'label_replace(absent(kube_cronjob_created{{namespace="{self.namespace}", '
            f'cronjob="{self.name(location)}"}}), "location", "{location}", "", "")'
            for location in self.locations
        ]
        branches = [f"(time() - {last_success_record} > {max_age_seconds})", f"({never})"]
        branches += [f"max by (location) ({m})" for m in missing]
        return " or on (location) ".join(branches)
