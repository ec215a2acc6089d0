"""Judging our Prometheus rule files with promtool: write the file, check it, and run `promtool test rules` with
synthetic series, expecting exactly the alerts (labels and rendered annotations) that must fire."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.support.debian_tools import run_promtool

Series = tuple[str, str]  # (series selector, promtool's expanding values notation)
Fired = tuple[dict[str, str], str]  # (the alert's labels, its $value as rendered)


def write_rule_file(directory: Path, name: str, document: dict[str, Any]) -> Path:
    path = directory / name
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def check_rules(directory: Path, rules: Path) -> str:
    """promtool's verdict on the file; fails the test with promtool's words when it refuses it."""
    result = run_promtool(directory, "check", "rules", str(rules))
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def rendered_annotations(document: dict[str, Any], alert: str, value: str, labels: dict[str, str]) -> dict[str, str]:
    """The alert's annotations as Prometheus renders them for these labels and $value (humanized or not)."""
    rule = next(r for group in document["groups"] for r in group["rules"] if r.get("alert") == alert)
    rendered = {}
    for key, template in rule["annotations"].items():
        text = template.replace("{{ $value | humanize }}", value).replace("{{ $value }}", value)
        for label, label_value in labels.items():
            text = text.replace("{{ $labels." + label + " }}", label_value)
        rendered[key] = text
    return rendered


def location_alerts(rules: Path, alert: str, at: str, locations: list[str]) -> dict[str, Any]:
    """An `alert_rule_test` case: exactly `alert` per location at `at` (none when empty), a ticket, annotations
    rendered — the shape of every per-location job alert (restore drill, escrow)."""
    document = yaml.safe_load(rules.read_text())
    expected = []
    for location in locations:
        labels = {"location": location, "severity": "ticket"}
        expected.append({"exp_labels": labels, "exp_annotations": rendered_annotations(document, alert, "", labels)})
    return {"eval_time": at, "alertname": alert, "exp_alerts": expected}


def run_rule_tests(directory: Path, rules: Path, tests: list[dict[str, Any]], **options: Any) -> None:
    """`promtool test rules` over `tests` (unit test groups) against the rule file; fails with promtool's words."""
    document = {"rule_files": [rules.name], **options, "tests": tests}
    (directory / "tests.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    result = run_promtool(directory, "test", "rules", "tests.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def assert_alerts(rules: Path, *, series: list[Series], alert: str, eval_time: str, fired: list[Fired]) -> None:
    """Exactly `fired` of `alert` at `eval_time` (none when empty), with labels and rendered annotations."""
    document = yaml.safe_load(rules.read_text())
    expected = [
        {"exp_labels": labels, "exp_annotations": rendered_annotations(document, alert, value, labels)}
        for labels, value in fired
    ]
    test = {
        "interval": "1m",
        "input_series": [{"series": s, "values": v} for s, v in series],
        "alert_rule_test": [{"eval_time": eval_time, "alertname": alert, "exp_alerts": expected}],
    }
    run_rule_tests(rules.parent, rules, [test])
