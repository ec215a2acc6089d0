"""Config of the restore drill: `backup.drill` — how often each cluster proves, per backup location, that a backup
can be restored (components/backup/drill/manifests.py), and how long without a successful drill is alerted on.

The schedule runs in the plant's time zone like the backup policies, so the rule that spans keys — the alert
period must outlast the longest gap between two drills plus one drill's run time — needs `factory.timezone` and
is checked by `check_drill`, which names the key."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from components.config.problems import Problems
from components.config.schedule import Cron, longest_gap
from components.config.types import StrictModel

DEFAULT_SCHEDULE = "30 4 * * *"  # daily, before the morning shift, after the night's backups


class DrillConfig(StrictModel):
    enabled: bool = Field(
        default=True,
        description=(
            "Run the restore drill on every cluster that runs Velero, once per backup location: back up a marker "
            "namespace, restore it into a scratch namespace, compare, clean up. Velero itself never verifies a "
            "restore; without the drill nothing shows that the backups can be restored."
        ),
    )
    schedule: Cron = Field(
        default=DEFAULT_SCHEDULE,
        description=(
            "Cron schedule of the drill in the plant's time zone (`factory.timezone`). Every run writes one small "
            "backup into the store, where it stays locked for the store's `lockDays`."
        ),
    )
    max_age_hours: int = Field(
        default=48,
        ge=1,
        le=24 * 31,
        description=(
            "Alert when no drill of a location has succeeded for this long (the RTO/RPO evidence went stale); "
            "longer than the schedule's longest gap plus `timeoutMinutes`. The default tolerates one failed daily "
            "run, which alerts by itself."
        ),
    )
    timeout_minutes: int = Field(
        default=30,
        ge=5,
        le=240,
        description=(
            "How long one drill may take, pod start to clean-up (the Job's deadline); a backup or restore still "
            "running then fails the drill."
        ),
    )


def check_drill(timezone: str | None, drill: DrillConfig | None, problems: Problems) -> None:
    """`backup.drill.maxAgeHours` must outlast the longest gap between two drills in the plant's time zone (DST
    included) plus one drill's run time: otherwise the staleness alert fires between two healthy drills."""
    if drill is None or timezone is None or not drill.enabled:
        return  # the section or the time zone failed on its own
    gap = longest_gap(drill.schedule, timezone)
    needed = gap + timedelta(minutes=drill.timeout_minutes)
    if timedelta(hours=drill.max_age_hours) <= needed:
        problems.add(
            ("backup", "drill", "maxAgeHours"),
            f"{drill.max_age_hours} h is not longer than the {_hours(gap)} h schedule '{drill.schedule}' can leave "
            f"between two drills plus the {drill.timeout_minutes} min one may take ({_hours(needed)} h): the "
            "drill would be reported stale while it works",
        )


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:g}"
