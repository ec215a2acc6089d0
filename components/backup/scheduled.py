"""The CronJob every scheduled job of the backup capability runs as (the restore drill, the escrow): one run at a
time (Forbid), never retried within a run (a retry would hide a flaky restore, registry or store; the failure
alert reports it instead), stopped at its deadline whatever it waits for, and a run missed while the controller
was down started late rather than never. kube-state-metrics reports the kept Jobs (job_evidence.py)."""

from __future__ import annotations

from components.core.kube import Manifest

HISTORY = 3  # finished Jobs kept per outcome: their logs, and the history kube-state-metrics reports
STARTING_DEADLINE_SECONDS = 3600


def cron_job(
    metadata: Manifest, labels: dict[str, str], *, schedule: str, timezone: str, timeout_minutes: int, pod: Manifest
) -> Manifest:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": metadata,
        "spec": {
            "schedule": schedule,
            "timeZone": timezone,
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": STARTING_DEADLINE_SECONDS,
            "successfulJobsHistoryLimit": HISTORY,
            "failedJobsHistoryLimit": HISTORY,
            "jobTemplate": {
                "metadata": {"labels": labels},
                "spec": {
                    "backoffLimit": 0,
                    "activeDeadlineSeconds": timeout_minutes * 60,
                    "template": {"metadata": {"labels": labels}, "spec": pod},
                },
            },
        },
    }
