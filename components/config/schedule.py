"""Schedules in the plant's time zone, shared by every section that runs something on a cron (backup policies,
the restore drill, etcd snapshots): five cron fields validated with cronsim, and the longest gap a schedule leaves
between two runs over a year in a time zone — daylight saving included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from cronsim import CronSim, CronSimError
from pydantic import AfterValidator


def cron(value: str) -> str:
    """Five cron fields, as Velero's schedule takes them (the plant's time zone is added by the program)."""
    if value.startswith(("CRON_TZ=", "TZ=")):
        raise ValueError(f"'{value}': leave the time zone out; schedules run in `factory.timezone`")
    try:
        CronSim(value, datetime(2026, 1, 1, tzinfo=UTC))
    except CronSimError as error:
        raise ValueError(f"'{value}' is not a cron schedule of five fields ({error})") from None
    if len(value.split()) != 5:
        raise ValueError(f"'{value}' is not a cron schedule of five fields (minute hour day month weekday)")
    return value


Cron = Annotated[str, AfterValidator(cron)]


def longest_gap(schedule: str, timezone: str) -> timedelta:
    """The longest time between two runs of `schedule` over a year in the plant's time zone (DST included)."""
    from zoneinfo import ZoneInfo  # noqa: PLC0415 - only the schedule check needs it

    start = datetime(2026, 1, 1, tzinfo=ZoneInfo(timezone))
    runs = (run.astimezone(UTC) for run in CronSim(schedule, start))  # aware arithmetic in one zone is wall time
    previous, gap = next(runs), timedelta(0)
    for run in runs:
        gap = max(gap, run - previous)
        previous = run
        if run - start > timedelta(days=366):
            break
    return gap
