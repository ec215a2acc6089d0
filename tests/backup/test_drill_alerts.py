"""The restore drill's recording rules and alerts, judged by promtool: the rule file is valid; synthetic
kube-state-metrics and Velero series give the evidence per location (last success, latest successful run's
duration, each Schedule's data age); a failed drill alerts, stays quiet while the next one runs and clears when
it succeeds; no success within maxAgeHours, a drill that never succeeded and a drill nobody reports alert."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from components.backup.drill.alerts import drill_rules
from tests.support.prometheus_rules import (
    check_rules,
    location_alerts,
    run_rule_tests,
    write_rule_file,
)

MAX_AGE_HOURS = 2
KSM = 'namespace="velero", job="kube-state-metrics", instance="10.0.0.7:8080"'


def write_rules(tmp_path: Path, clouds: tuple[Any, ...] = ("aws", "gcp")) -> Path:
    return write_rule_file(tmp_path, "restore-drill.rules.yaml", drill_rules(MAX_AGE_HOURS, clouds))


def cronjob(metric: str, cloud: str, values: str) -> dict[str, str]:
    return {"series": f'{metric}{{{KSM}, cronjob="restore-drill-{cloud}"}}', "values": values}


def job(metric: str, name: str, values: str) -> dict[str, str]:
    return {"series": f'{metric}{{{KSM}, job_name="{name}"}}', "values": values}


def owner(name: str, cronjob_name: str) -> dict[str, str]:
    labels = f'{KSM}, job_name="{name}", owner_kind="CronJob", owner_name="{cronjob_name}", owner_is_controller="true"'
    return {"series": f"kube_job_owner{{{labels}}}", "values": "1+0x200"}


def healthy(cloud: str, succeeded_at: int = 0) -> list[dict[str, str]]:
    """A drill created at 0 whose run scheduled at 0 succeeded at `succeeded_at`, nothing running since."""
    return [
        cronjob("kube_cronjob_created", cloud, "0+0x200"),
        cronjob("kube_cronjob_status_last_schedule_time", cloud, "0+0x200"),
        cronjob("kube_cronjob_status_last_successful_time", cloud, f"{succeeded_at}+0x200"),
        cronjob("kube_cronjob_status_active", cloud, "0+0x200"),
    ]


def test_rule_file_passes_promtool_check(tmp_path: Path) -> None:
    assert "SUCCESS: 8 rules found" in check_rules(tmp_path, write_rules(tmp_path))


def test_no_velero_location_no_rules() -> None:
    assert drill_rules(48, ()) == {"groups": []}


def test_the_evidence_per_location(tmp_path: Path) -> None:
    """Last success, the duration of the latest successful Job (not an older one, not a failed newer one, not
    another CronJob's), and each Schedule's data age (not the drill's own ad-hoc backups)."""
    series = [
        *healthy("aws", succeeded_at=3900),
        *(
            owner(name, "restore-drill-aws")
            for name in ("restore-drill-aws-1", "restore-drill-aws-2", "restore-drill-aws-3")
        ),
        job("kube_job_status_start_time", "restore-drill-aws-1", "100+0x200"),
        job("kube_job_status_completion_time", "restore-drill-aws-1", "160+0x200"),
        job("kube_job_status_start_time", "restore-drill-aws-2", "3600+0x200"),
        job("kube_job_status_completion_time", "restore-drill-aws-2", "3900+0x200"),
        job("kube_job_status_start_time", "restore-drill-aws-3", "7000+0x200"),  # failed: no completion time
        owner("report-1", "nightly-report"),
        job("kube_job_status_start_time", "report-1", "0+0x200"),
        job("kube_job_status_completion_time", "report-1", "5000+0x200"),
        {"series": 'velero_backup_last_successful_timestamp{schedule="daily-aws"}', "values": "0+0x200"},
        {"series": 'velero_backup_last_successful_timestamp{schedule="hourly-gcp"}', "values": "1800+0x200"},
        {"series": 'velero_backup_last_successful_timestamp{schedule=""}', "values": "3000+0x200"},
    ]
    expressions = [
        ("restore_drill:last_success_timestamp_seconds", [('{location="aws"}', 3900)]),
        ("restore_drill:last_run_failed", [('{location="aws"}', 0)]),
        ("restore_drill:duration_seconds", [('{location="aws"}', 300)]),
        (
            "restore_drill:data_age_seconds",
            [('{location="aws", schedule="daily-aws"}', 7200), ('{location="gcp", schedule="hourly-gcp"}', 5400)],
        ),
    ]
    test = {
        "interval": "1m",
        "input_series": series,
        "promql_expr_test": [
            {
                "expr": expr,
                "eval_time": "2h",
                "exp_samples": [{"labels": f"{expr}{labels}", "value": value} for labels, value in samples],
            }
            for expr, samples in expressions
        ],
    }
    rules = write_rules(tmp_path, ("aws", "gcp"))
    run_rule_tests(tmp_path, rules, [test])


def test_a_failed_drill_alerts_is_quiet_while_the_next_runs_and_clears_when_it_succeeds(tmp_path: Path) -> None:
    # scheduled at 1m and failed (nothing running, no success ever); the next scheduled at 60m, running for 10
    # minutes, succeeded at 71m
    series = [
        cronjob("kube_cronjob_created", "aws", "0+0x120"),
        cronjob("kube_cronjob_status_last_schedule_time", "aws", "60+0x59 3600+0x60"),
        cronjob("kube_cronjob_status_active", "aws", "0+0x59 1+0x10 0+0x50"),
        cronjob("kube_cronjob_status_last_successful_time", "aws", "_x71 4260+0x48"),
    ]
    rules = write_rules(tmp_path, ("aws",))
    checks = [
        location_alerts(rules, "RestoreDrillFailed", "3m", []),  # not before it held for FAILED_FOR
        location_alerts(rules, "RestoreDrillFailed", "30m", ["aws"]),
        location_alerts(rules, "RestoreDrillFailed", "65m", []),  # the next drill runs
        location_alerts(rules, "RestoreDrillFailed", "100m", []),  # and succeeded
    ]
    run_rule_tests(tmp_path, rules, [{"interval": "1m", "input_series": series, "alert_rule_test": checks}])


def test_a_drill_that_failed_after_earlier_successes_alerts(tmp_path: Path) -> None:
    series = [
        cronjob("kube_cronjob_created", "aws", "0+0x60"),
        cronjob("kube_cronjob_status_last_successful_time", "aws", "120+0x60"),
        cronjob("kube_cronjob_status_last_schedule_time", "aws", "60+0x9 900+0x50"),  # the next one at 15m
        cronjob("kube_cronjob_status_active", "aws", "0+0x60"),  # ... and ended without success
    ]
    rules = write_rules(tmp_path, ("aws",))
    checks = [
        location_alerts(rules, "RestoreDrillFailed", "8m", []),
        location_alerts(rules, "RestoreDrillFailed", "40m", ["aws"]),
    ]
    run_rule_tests(tmp_path, rules, [{"interval": "1m", "input_series": series, "alert_rule_test": checks}])


def test_no_success_within_max_age_alerts_and_a_new_success_clears_it(tmp_path: Path) -> None:
    series = [
        cronjob("kube_cronjob_created", "aws", "0+0x240"),
        cronjob("kube_cronjob_status_last_schedule_time", "aws", "0+0x240"),
        cronjob("kube_cronjob_status_active", "aws", "0+0x240"),
        cronjob("kube_cronjob_status_last_successful_time", "aws", "0+0x179 10800+0x60"),  # a success at 3h
    ]
    rules = write_rules(tmp_path, ("aws",))
    checks = [
        location_alerts(rules, "RestoreDrillStale", "110m", []),  # within maxAgeHours
        location_alerts(rules, "RestoreDrillStale", "150m", ["aws"]),  # 2 h 30 min since the last success
        location_alerts(rules, "RestoreDrillStale", "200m", []),
    ]
    run_rule_tests(tmp_path, rules, [{"interval": "1m", "input_series": series, "alert_rule_test": checks}])


def test_a_drill_that_never_succeeded_alerts_once_its_cronjob_is_older_than_max_age(tmp_path: Path) -> None:
    series = [
        cronjob("kube_cronjob_created", "aws", "0+0x180"),  # created at 0, never succeeded (suspended, say)
        cronjob("kube_cronjob_status_active", "aws", "0+0x180"),
        cronjob("kube_cronjob_created", "gcp", "5400+0x180"),  # created at 1 h 30 min: not yet due
        cronjob("kube_cronjob_status_active", "gcp", "0+0x180"),
    ]
    rules = write_rules(tmp_path, ("aws", "gcp"))
    checks = [
        location_alerts(rules, "RestoreDrillStale", "100m", []),
        location_alerts(rules, "RestoreDrillStale", "150m", ["aws"]),
    ]
    run_rule_tests(tmp_path, rules, [{"interval": "1m", "input_series": series, "alert_rule_test": checks}])


def test_a_location_whose_drill_nobody_reports_alerts(tmp_path: Path) -> None:
    series = healthy("aws")  # gcp's CronJob is missing (or not scraped)
    rules = write_rules(tmp_path, ("aws", "gcp"))
    checks = [
        location_alerts(rules, "RestoreDrillStale", "10m", []),  # a new Prometheus gets MISSING_FOR to see it first
        location_alerts(rules, "RestoreDrillStale", "30m", ["gcp"]),
    ]
    run_rule_tests(tmp_path, rules, [{"interval": "1m", "input_series": series, "alert_rule_test": checks}])
