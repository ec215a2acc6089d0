"""The escrow's recording rules and alerts, judged by promtool: the rule file is valid; synthetic kube-state-metrics
series per CronJob (`escrow-images-<location>`, `escrow-secrets-<location>` in namespace escrow) give each kind's
alerts for its own location only — a failed latest run, no success within the kind's max age, a CronJob nobody
reports — and one kind's trouble never raises the other's alerts. The max ages the default schedules give, DST
included, are pinned below."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from components.backup.config import Cloud
from components.backup.escrow.alerts import EscrowJob, escrow_rules
from components.backup.escrow.config import (
    DEFAULT_IMAGES_SCHEDULE,
    DEFAULT_SECRETS_SCHEDULE,
    SECRETS_TIMEOUT_MINUTES,
    EscrowConfig,
    max_age,
)
from tests.support.prometheus_rules import (
    check_rules,
    location_alerts,
    run_rule_tests,
    write_rule_file,
)

IMAGES = EscrowJob("images", "escrow-images", "Image", "image and chart", 7200)
SECRETS = EscrowJob("secrets", "escrow-secrets", "Secret", "Vault secret", 3600)
CLOUDS: tuple[Cloud, ...] = ("aws", "azure")
KSM = 'namespace="escrow", job="kube-state-metrics", instance="10.0.0.7:8080"'
STEPS = 200  # minutes of series


def write_rules(tmp_path: Path) -> Path:
    return write_rule_file(tmp_path, "escrow.rules.yaml", escrow_rules([IMAGES, SECRETS], CLOUDS))


def cronjob(metric: str, name: str, values: str) -> dict[str, str]:
    return {"series": f'{metric}{{{KSM}, cronjob="{name}"}}', "values": values}


def healthy(name: str) -> list[dict[str, str]]:
    """Created at 0, a run scheduled and succeeded every minute (its last success is always now), none running."""
    return [
        cronjob("kube_cronjob_created", name, f"0+0x{STEPS}"),
        cronjob("kube_cronjob_status_last_schedule_time", name, f"0+60x{STEPS}"),
        cronjob("kube_cronjob_status_last_successful_time", name, f"0+60x{STEPS}"),
        cronjob("kube_cronjob_status_active", name, f"0+0x{STEPS}"),
    ]


def failed_then_succeeded(name: str) -> list[dict[str, str]]:
    """Scheduled at 1m and failed (nothing running, no success since the one at 0); the next scheduled at 60m, ran
    for 10 minutes and succeeded at 71m."""
    return [
        cronjob("kube_cronjob_created", name, f"0+0x{STEPS}"),
        cronjob("kube_cronjob_status_last_schedule_time", name, "60+0x59 3600+0x140"),
        cronjob("kube_cronjob_status_active", name, "0+0x59 1+0x10 0+0x130"),
        cronjob("kube_cronjob_status_last_successful_time", name, "0+0x70 4260+0x129"),
    ]


def everything_healthy_but(*names: str) -> list[dict[str, str]]:
    return [
        series
        for job in (IMAGES, SECRETS)
        for cloud in CLOUDS
        if f"{job.prefix}-{cloud}" not in names
        for series in healthy(f"{job.prefix}-{cloud}")
    ]


def judge(tmp_path: Path, series: list[dict[str, str]], checks: list[tuple[str, str, list[str]]]) -> None:
    rules = write_rules(tmp_path)
    tests = [location_alerts(rules, alert, at, locations) for alert, at, locations in checks]
    run_rule_tests(tmp_path, rules, [{"interval": "1m", "input_series": series, "alert_rule_test": tests}])


def test_rule_file_passes_promtool_check(tmp_path: Path) -> None:
    # per kind: two recording rules and two alerts
    assert "SUCCESS: 8 rules found" in check_rules(tmp_path, write_rules(tmp_path))


def test_no_jobs_or_no_locations_no_rules() -> None:
    assert escrow_rules([], CLOUDS) == {"groups": []}
    assert escrow_rules([IMAGES, SECRETS], ()) == {"groups": []}


def test_a_failed_image_escrow_alerts_for_its_location_and_clears_when_the_next_succeeds(tmp_path: Path) -> None:
    series = [*everything_healthy_but("escrow-images-aws"), *failed_then_succeeded("escrow-images-aws")]
    judge(
        tmp_path,
        series,
        [
            ("ImageEscrowFailed", "3m", []),  # not before it held for FAILED_FOR
            ("ImageEscrowFailed", "30m", ["aws"]),
            ("ImageEscrowFailed", "65m", []),  # the next run is running
            ("ImageEscrowFailed", "100m", []),  # and succeeded
            ("ImageEscrowStale", "30m", []),  # one failed run is not staleness
        ],
    )


def test_a_secret_export_without_success_beyond_its_max_age_alerts_and_a_new_success_clears_it(
    tmp_path: Path,
) -> None:
    name = "escrow-secrets-azure"
    series = [
        *everything_healthy_but(name),
        cronjob("kube_cronjob_created", name, f"0+0x{STEPS}"),
        cronjob("kube_cronjob_status_last_schedule_time", name, f"0+0x99 6000+0x{STEPS - 100}"),
        cronjob("kube_cronjob_status_active", name, f"0+0x{STEPS}"),
        cronjob("kube_cronjob_status_last_successful_time", name, f"0+0x99 6000+0x{STEPS - 100}"),  # again at 100m
    ]
    judge(
        tmp_path,
        series,
        [
            ("SecretEscrowStale", "70m", []),  # 1 h 10 min: past the max age, not yet for MISSING_FOR
            ("SecretEscrowStale", "90m", ["azure"]),
            ("SecretEscrowStale", "110m", []),
            ("SecretEscrowFailed", "90m", []),  # no run failed: it did not run
            ("ImageEscrowStale", "90m", []),
        ],
    )


def test_a_cronjob_nobody_reports_alerts_for_its_location_only(tmp_path: Path) -> None:
    series = everything_healthy_but("escrow-images-azure")  # missing (or not scraped)
    judge(
        tmp_path,
        series,
        [
            ("ImageEscrowStale", "10m", []),  # a new Prometheus gets MISSING_FOR to see it first
            ("ImageEscrowStale", "20m", ["azure"]),
            ("SecretEscrowStale", "20m", []),
            ("ImageEscrowFailed", "20m", []),
        ],
    )


def test_the_two_kinds_never_cross(tmp_path: Path) -> None:
    """The images of aws and the secrets of azure fail: each kind alerts for its own location and no other."""
    series = [
        *everything_healthy_but("escrow-images-aws", "escrow-secrets-azure"),
        *failed_then_succeeded("escrow-images-aws"),
        cronjob("kube_cronjob_created", "escrow-secrets-azure", f"0+0x{STEPS}"),
        cronjob("kube_cronjob_status_last_schedule_time", "escrow-secrets-azure", f"600+0x{STEPS}"),
        cronjob("kube_cronjob_status_active", "escrow-secrets-azure", f"0+0x{STEPS}"),
        cronjob("kube_cronjob_status_last_successful_time", "escrow-secrets-azure", f"0+0x{STEPS}"),
    ]
    judge(
        tmp_path,
        series,
        [
            ("ImageEscrowFailed", "30m", ["aws"]),
            ("SecretEscrowFailed", "30m", ["azure"]),
            ("ImageEscrowStale", "30m", []),
            ("SecretEscrowStale", "30m", []),
            ("ImageEscrowFailed", "100m", []),  # the images recovered; the secrets did not
            ("SecretEscrowFailed", "100m", ["azure"]),
        ],
    )


def test_the_default_schedules_max_ages() -> None:
    """Two of the longest gaps over a year plus one run's deadline. In Europe/Prague the longest gap of both
    defaults is the autumn change (Sunday 2026-10-25: 02:00 CEST to the next run at 02:00 CET is 169 h; 02:45 to
    02:45 the next day 25 h); the spring change only shortens gaps (02:00/02:45 do not exist on 2026-03-29 and the
    run moves to 03:00 CEST). The extra hour counts twice: 2 h more than in a zone without DST."""
    config = EscrowConfig()
    assert (config.images_schedule, config.images_timeout_minutes) == (DEFAULT_IMAGES_SCHEDULE, 240)
    assert (config.secrets_schedule, SECRETS_TIMEOUT_MINUTES) == (DEFAULT_SECRETS_SCHEDULE, 15)
    images = max_age(config.images_schedule, "Europe/Prague", config.images_timeout_minutes)
    assert images == timedelta(hours=2 * 169 + 4)  # 342 h: 14 days 6 h
    assert max_age(config.images_schedule, "UTC", config.images_timeout_minutes) == timedelta(hours=2 * 168 + 4)
    assert images - timedelta(weeks=2, hours=4) == timedelta(hours=2)
    secrets = max_age(config.secrets_schedule, "Europe/Prague", SECRETS_TIMEOUT_MINUTES)
    assert secrets == timedelta(hours=2 * 25, minutes=15)  # 50 h 15 min
    assert max_age(config.secrets_schedule, "UTC", SECRETS_TIMEOUT_MINUTES) == timedelta(hours=48, minutes=15)
