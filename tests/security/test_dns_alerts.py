"""The DNS volume alerts, judged by promtool: the rule file is valid, and synthetic series make exactly the
expected alerts fire — a line whose pods ask a tunnel's stream of queries gets a ticket naming its namespace, a
platform namespace or a quiet line does not; TXT/NULL bursts alert cluster-wide."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from components.security.dns_alerts import dns_alert_rules
from tests.support.debian_tools import run_promtool


def write_rules(tmp_path: Path) -> Path:
    rules = tmp_path / "dns.rules.yaml"
    rules.write_text(yaml.safe_dump(dns_alert_rules(), sort_keys=False))
    return rules


def test_rule_file_passes_promtool_check(tmp_path: Path) -> None:
    result = run_promtool(tmp_path, "check", "rules", str(write_rules(tmp_path)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 3 rules found" in result.stdout


def hubble(namespace: str, per_second: int) -> tuple[str, str]:
    # a counter sampled every minute: per_second * 60 more each minute
    return f'hubble_dns_queries_total{{source_namespace="{namespace}", qtypes="A"}}', f"0+{per_second * 60}x30"


def coredns(record_type: str, per_second: int) -> tuple[str, str]:
    return (
        f'coredns_dns_requests_total{{server="dns://:53", zone=".", type="{record_type}", proto="udp"}}',
        f"0+{per_second * 60}x30",
    )


def rendered_annotations(alert: str, value: str, labels: dict[str, str]) -> dict[str, str]:
    """The alert's annotations as Prometheus renders them for these labels and $value."""
    [group] = dns_alert_rules()["groups"]
    rule = next(r for r in group["rules"] if r["alert"] == alert)
    rendered = {}
    for key, template in rule["annotations"].items():
        text = template.replace("{{ $value | humanize }}", value)
        for label, label_value in labels.items():
            text = text.replace("{{ $labels." + label + " }}", label_value)
        rendered[key] = text
    return rendered


# name -> (series, alert, [(labels, $value)] of the alerts that must fire at 25m)
CASES: dict[str, tuple[list[tuple[str, str]], str, list[tuple[dict[str, str], str]]]] = {
    "a line tunnelling out (60 queries/s for 20 minutes) gets a ticket naming it": (
        [hubble("line-press", 60), hubble("line-weld", 1)],
        "DnsQueryRateHighPerLine",
        [({"severity": "ticket", "source_namespace": "line-press"}, "60")],
    ),
    "a busy platform namespace is not a line": (
        [hubble("kube-system", 400), hubble("monitoring", 100)],
        "DnsQueryRateHighPerLine",
        [],
    ),
    "TXT queries streaming through CoreDNS alert cluster-wide": (
        [coredns("TXT", 30), coredns("A", 50)],
        "DnsTunnelRecordTypes",
        [({"severity": "ticket"}, "30")],
    ),
    "ordinary A/AAAA lookups do not look like a tunnel": (
        [coredns("A", 200), coredns("AAAA", 200)],
        "DnsTunnelRecordTypes",
        [],
    ),
    "the whole cluster asking far more than usual": (
        [coredns("A", 700)],
        "DnsQueryRateHigh",
        [({"severity": "ticket"}, "700")],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_alerts_fire_exactly_when_expected(tmp_path: Path, name: str) -> None:
    series, alert, fired = CASES[name]
    rules = write_rules(tmp_path)
    expected: list[dict[str, Any]] = [
        {"exp_labels": labels, "exp_annotations": rendered_annotations(alert, value, labels)} for labels, value in fired
    ]
    test = {
        "interval": "1m",
        "input_series": [{"series": s, "values": v} for s, v in series],
        "alert_rule_test": [{"eval_time": "25m", "alertname": alert, "exp_alerts": expected}],
    }
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump({"rule_files": [rules.name], "tests": [test]}, sort_keys=False))
    result = run_promtool(tmp_path, "test", "rules", "tests.yaml")
    assert result.returncode == 0, f"{name}\n{result.stdout}{result.stderr}"
