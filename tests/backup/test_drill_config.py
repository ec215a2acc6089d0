"""`backup.drill`: the model refuses what cannot run (a schedule that is not five cron fields, a time zone inside
it, unknown keys, a deadline out of range), and check_drill names `backup.drill.maxAgeHours` when the alert period
does not outlast the longest gap between two drills in the plant's time zone plus one drill's run time."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from components.backup.drill.config import DrillConfig, check_drill
from components.config.problems import Problems


def problems_of(raw: dict[str, Any], timezone: str = "Europe/Berlin") -> list[str]:
    problems = Problems()
    check_drill(timezone, DrillConfig.model_validate(raw), problems)
    return [str(problem) for problem in problems]


def test_the_defaults_are_a_daily_drill_alerting_after_two_days() -> None:
    drill = DrillConfig.model_validate({})
    assert (drill.enabled, drill.schedule, drill.max_age_hours, drill.timeout_minutes) == (True, "30 4 * * *", 48, 30)
    assert problems_of({}) == []


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ({"schedule": "0 4 * *"}, "five fields"),
        ({"schedule": "CRON_TZ=UTC 0 4 * * *"}, "schedules run in `factory.timezone`"),
        ({"timeoutMinutes": 2}, "greater than or equal to 5"),
        ({"maxAgeHours": 0}, "greater than or equal to 1"),
        ({"max_age_hours": 30}, "Extra inputs are not permitted"),  # keys are camelCase, as in the stack file
        ({"maxAgeHours": "30"}, "valid integer"),  # strict: a quoted number is not a number
    ],
)
def test_the_model_refuses_what_cannot_run(raw: dict[str, Any], says: str) -> None:
    with pytest.raises(ValidationError) as error:
        DrillConfig.model_validate(raw)
    assert says in str(error.value)


def test_an_alert_period_shorter_than_a_gap_between_drills_names_its_key() -> None:
    # daily at 04:30 in Berlin: 25 h apart across the autumn clock change, plus 30 minutes of run time
    (problem,) = problems_of({"maxAgeHours": 25})
    assert problem.startswith("factory-floor:backup.drill.maxAgeHours: 25 h is not longer than the 25 h")
    assert "plus the 30 min one may take (25.5 h)" in problem
    assert problems_of({"maxAgeHours": 26}) == []
    assert problems_of({"maxAgeHours": 25}, timezone="UTC") == []  # no clock change: 24 h + 30 min


def test_a_long_deadline_counts_against_the_alert_period() -> None:
    assert problems_of({"schedule": "0 */6 * * *", "maxAgeHours": 7, "timeoutMinutes": 60}, timezone="UTC") != []
    assert problems_of({"schedule": "0 */6 * * *", "maxAgeHours": 7, "timeoutMinutes": 30}, timezone="UTC") == []


def test_a_disabled_drill_or_a_failed_section_is_not_checked() -> None:
    assert problems_of({"enabled": False, "maxAgeHours": 1}) == []
    problems = Problems()
    check_drill("Europe/Berlin", None, problems)
    check_drill(None, DrillConfig.model_validate({"maxAgeHours": 1}), problems)
    assert len(problems) == 0
