"""The DNS volume alerts, judged by promtool: the rule file is valid, and synthetic series make exactly the
expected alerts fire — a line whose pods ask a tunnel's stream of queries gets a ticket naming its namespace, a
platform namespace or a quiet line does not; TXT/NULL bursts alert cluster-wide."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.security.dns_alerts import dns_alert_rules
from tests.support.prometheus_rules import assert_alerts, check_rules, write_rule_file


def write_rules(tmp_path: Path) -> Path:
    return write_rule_file(tmp_path, "dns.rules.yaml", dns_alert_rules())


def test_rule_file_passes_promtool_check(tmp_path: Path) -> None:
    assert "SUCCESS: 3 rules found" in check_rules(tmp_path, write_rules(tmp_path))


def hubble(namespace: str, per_second: int) -> tuple[str, str]:
    # a counter sampled every minute: per_second * 60 more each minute
    return f'hubble_dns_queries_total{{source_namespace="{namespace}", qtypes="A"}}', f"0+{per_second * 60}x30"


def coredns(record_type: str, per_second: int) -> tuple[str, str]:
    return (
        f'coredns_dns_requests_total{{server="dns://:53", zone=".", type="{record_type}", proto="udp"}}',
        f"0+{per_second * 60}x30",
    )


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
    assert_alerts(write_rules(tmp_path), series=series, alert=alert, eval_time="25m", fired=fired)
