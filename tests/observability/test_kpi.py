"""OEE from the metric contract, judged by promtool: a line planned for the hour, running 90 % of it at 95 % of its
design speed with 98 % good units has an OEE of 0.8379; a line that was not planned to produce has none."""

from __future__ import annotations

from pathlib import Path

from components.observability.kpi import kpi_rules
from tests.support.prometheus_rules import check_rules, run_rule_tests, write_rule_file

NS = 'namespace="line-weld", instance="10.0.0.9:9464", job="line-weld"'
IDLE = 'namespace="line-paint", instance="10.0.0.8:9464", job="line-paint"'


def test_promtool_accepts_the_kpi_rules(tmp_path: Path) -> None:
    assert "SUCCESS: 8 rules found" in check_rules(tmp_path, write_rule_file(tmp_path, "kpi.yaml", kpi_rules()))


def test_oee_is_availability_times_performance_times_quality(tmp_path: Path) -> None:
    # per minute: 60 s planned, 54 s run (90 %); ideal cycle 2 s, 25.65 units (95 % of 54/2 = 27), 98 % good
    series = [
        {"series": f"factory_line_planned_production_seconds_total{{{NS}}}", "values": "0+60x120"},
        {"series": f"factory_line_run_seconds_total{{{NS}}}", "values": "0+54x120"},
        {"series": f"factory_line_ideal_cycle_time_seconds{{{NS}}}", "values": "2+0x120"},
        {"series": f'factory_line_units_total{{{NS}, quality="good"}}', "values": "0+25.137x120"},
        {"series": f'factory_line_units_total{{{NS}, quality="scrap"}}', "values": "0+0.513x120"},
        # a line not planned to produce: its planned time does not grow
        {"series": f"factory_line_planned_production_seconds_total{{{IDLE}}}", "values": "0+0x120"},
        {"series": f"factory_line_run_seconds_total{{{IDLE}}}", "values": "0+0x120"},
    ]
    expected = {
        "line:oee_availability:ratio_rate1h": 0.9,
        "line:oee_performance:ratio_rate1h": 0.95,
        "line:oee_quality:ratio_rate1h": 0.98,
        "line:oee:ratio_rate1h": 0.9 * 0.95 * 0.98,
    }
    tests = [
        {
            "interval": "1m",
            "input_series": series,
            "promql_expr_test": [
                {
                    "expr": f"round({record}, 0.0001)",
                    "eval_time": "90m",
                    "exp_samples": [{"labels": '{namespace="line-weld"}', "value": round(value, 4)}],
                }
                for record, value in expected.items()
            ],
        }
    ]
    rules = write_rule_file(tmp_path, "kpi.yaml", kpi_rules())
    run_rule_tests(tmp_path, rules, tests)
