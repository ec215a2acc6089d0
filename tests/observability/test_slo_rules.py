"""The SLO generator against the worked numbers and against promtool: thresholds derived from the objective; the
rule file valid; a fast burn pages within minutes, a slow one opens a ticket and never pages, a healthy line stays
silent, and recovery clears — with synthetic series of the metric contract, evaluated by promtool itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from components.observability.slo import burn
from components.observability.slo.model import Slo, events, slower_than
from components.observability.slo.rules import alert_name, slo_rules
from tests.support.prometheus_rules import check_rules, run_rule_tests, write_rule_file

LABELS = {"factory": "pilsen", "cluster": "shopfloor", "line": "weld", "team": "body"}


@pytest.mark.parametrize(
    ("objective", "thresholds"),
    [
        (0.995, (0.072, 0.03, 0.015, 0.005)),  # REFERENCE: the workbook's 99.5 % table
        (0.999, (0.0144, 0.006, 0.003, 0.001)),
        (0.99, (0.144, 0.06, 0.03, 0.01)),
    ],
)
def test_thresholds_are_the_burn_rates_times_the_budget(objective: float, thresholds: tuple[float, ...]) -> None:
    assert tuple(window.threshold(objective) for window in burn.WINDOWS) == pytest.approx(thresholds)
    assert [(w.severity, w.long, w.short) for w in burn.WINDOWS] == [
        ("page", "1h", "5m"),
        ("page", "6h", "30m"),
        ("ticket", "1d", "2h"),
        ("ticket", "3d", "6h"),
    ]


def test_below_the_lowest_alertable_objective_the_fast_page_could_never_fire() -> None:
    lowest = burn.lowest_alertable_objective()
    assert burn.WINDOWS[0].threshold(lowest) == pytest.approx(1.0)
    assert burn.WINDOWS[0].threshold(lowest + 0.001) < 1 < burn.WINDOWS[0].threshold(lowest - 0.001)


def weld(objective: float = 0.995) -> Slo:
    return Slo("line-weld", "availability", objective, events("line-weld"), "Weld's operations fail.", LABELS)


def write(tmp_path: Path, *slos: Slo) -> Path:
    return write_rule_file(tmp_path, "slo.rules.yaml", slo_rules(slos or (weld(),)))


def test_promtool_accepts_the_rules_and_they_carry_sloth_names(tmp_path: Path) -> None:
    latency = Slo(
        "line-weld",
        "latency",
        0.99,
        slower_than("factory_line_operation_duration_seconds", "line-weld", 0.5),
        "Slow.",
        LABELS,
    )
    rules = write(tmp_path, weld(), latency)
    assert "SUCCESS: 34 rules found" in check_rules(tmp_path, rules)  # per SLO: 8 SLI windows, 7 meta, 2 alerts
    document = slo_rules([weld()])
    recorded = {rule["record"] for group in document["groups"] for rule in group["rules"] if "record" in rule}
    assert {
        "slo:sli_error:ratio_rate5m",
        "slo:sli_error:ratio_rate30d",
        "slo:objective:ratio",
        "slo:error_budget:ratio",
        "slo:current_burn_rate:ratio",
        "slo:period_burn_rate:ratio",
        "slo:period_error_budget_remaining:ratio",
        "sloth_slo_info",
    } <= recorded


def operations(ok_per_minute: str, errors_per_minute: str) -> list[dict[str, str]]:
    """Counters of the metric contract, in promtool's expanding notation per 1-minute step."""
    series = 'factory_line_operations_total{{namespace="line-weld", result="{}", instance="10.0.0.9:9464"}}'
    return [
        {"series": series.format("ok"), "values": ok_per_minute},
        {"series": series.format("error"), "values": errors_per_minute},
    ]


def firing(rules: Path, at: str, severities: tuple[str, ...], slo: Slo | None = None) -> dict[str, Any]:
    """At `at`, exactly the SLO's alerts of `severities` fire (page and ticket share one name, as in Sloth), with
    their labels and annotations (no templates in them)."""
    slo = slo or weld()
    document = yaml.safe_load(rules.read_text())
    alerts = {r["labels"]["severity"]: r for g in document["groups"] for r in g["rules"] if r.get("alert")}
    expected = [
        {
            "exp_labels": {**LABELS, **slo.sloth_labels, "severity": severity, "sloth_severity": severity},
            "exp_annotations": dict(alerts[severity]["annotations"]),
        }
        for severity in severities
    ]
    return {"eval_time": at, "alertname": alert_name(slo), "exp_alerts": expected}


def judge(tmp_path: Path, series: list[dict[str, str]], checks: list[tuple[str, tuple[str, ...]]]) -> None:
    rules = write(tmp_path)
    tests = [firing(rules, at, severities) for at, severities in checks]
    run_rule_tests(tmp_path, rules, [{"interval": "1m", "input_series": series, "alert_rule_test": tests}])


def test_a_ten_percent_error_ratio_pages_within_minutes(tmp_path: Path) -> None:
    # 10 % is 20 times the budget's pace; the ticket follows once it held for its 15 minutes
    judge(
        tmp_path,
        operations("0+90x120", "0+10x120"),
        [("2m", ()), ("6m", ("page",)), ("40m", ("page", "ticket"))],
    )


def test_a_tenth_of_a_percent_never_pages_nor_tickets(tmp_path: Path) -> None:
    # 0.1 % is a fifth of the 99.5 % budget's pace: it would use 20 % of the budget in 30 days
    judge(tmp_path, operations("0+999x600", "0+1x600"), [("30m", ()), ("5h", ()), ("9h", ())])


def test_a_steady_one_percent_burn_opens_a_ticket_and_never_pages(tmp_path: Path) -> None:
    # 1 % is twice the budget's pace: gone in 15 days — above the 3d/6h pair (0.005), below every other
    judge(tmp_path, operations("0+99x600", "0+1x600"), [("5m", ()), ("1h", ("ticket",)), ("9h", ("ticket",))])


def test_recovery_clears_the_page_at_once_and_the_ticket_when_its_windows_pass(tmp_path: Path) -> None:
    # 30 minutes at 20 % errors, then none: the page's short windows (5m, 30m) clear it within the hour; the
    # incident used 1.4 % of the budget, so the ticket stays while the 6-hour window still holds it
    judge(
        tmp_path,
        operations("0+80x30 2400+100x420", "0+20x30 600+0x420"),
        [("25m", ("page", "ticket")), ("100m", ("ticket",)), ("7h", ())],
    )
