"""The SLOs a stack gets and the rule files `make plan` writes for them: every line its availability objective
(from `sloTarget`), latency and throughput where asked, the platform's own per cluster; each rule file accepted by
promtool; the thresholds of a line follow its own objective."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from components.config.loader import load_factory_config
from components.observability.slo.catalogue import cluster_slos, line_slos
from components.observability.slo.rules import meta_rules, slo_rules
from offline.rules import ALERTMANAGER_FILE, RULES_DIR, write_rules
from offline.stackfile import load_config
from tests.support.debian_tools import run_promtool
from tests.support.factories import mutate, valid_raw
from tests.support.projects import ROOT


@pytest.mark.parametrize("stack", ["dev", "pilsen", "rheinfeld"])
def test_every_line_gets_its_rules_and_promtool_accepts_every_file(tmp_path: Path, stack: str) -> None:
    _settings, config = load_config(ROOT, stack)
    write_rules(tmp_path, config)
    assert (tmp_path / ALERTMANAGER_FILE).is_file()
    for cluster in config.clusters:
        path = tmp_path / RULES_DIR / f"{cluster.name}-slo.yaml"
        document = yaml.safe_load(path.read_text())
        ids = {g["name"].removeprefix("sloth-slo-alerts-") for g in document["groups"] if "alerts" in g["name"]}
        for line in config.lines_on(cluster.name):
            assert f"line-{line.name}-availability" in ids, line.name
        assert f"platform-{cluster.name}-api-server" in ids
    for path in sorted((tmp_path / RULES_DIR).iterdir()):
        result = run_promtool(tmp_path, "check", "rules", str(path))
        assert result.returncode == 0 and "SUCCESS" in result.stdout, result.stdout + result.stderr


def test_a_lines_thresholds_follow_its_own_objective() -> None:
    _settings, config = load_config(ROOT, "rheinfeld")
    line = next(line for line in config.lines if line.name == "engine-assembly")  # sloTarget 99.9
    availability, throughput = line_slos(config, line)
    alerts = [r for g in slo_rules([availability])["groups"] for r in g["rules"] if "alert" in r]
    page = next(r for r in alerts if r["labels"]["severity"] == "page")
    assert "> 0.0144)" in page["expr"] and "> 0.006)" in page["expr"]  # 14.4 and 6 times a 0.1 % budget
    assert page["labels"]["team"] == "assembly" and page["labels"]["line"] == "engine-assembly"
    assert throughput.name == "throughput" and throughput.objective == 0.99
    assert 'factory_line_cycle_duration_seconds_bucket{namespace="line-engine-assembly", le="90.0"}' in (
        throughput.error_ratio("5m")
    )


def test_latency_and_probe_slis_read_the_contract_and_the_blackbox_exporter() -> None:
    raw = mutate(valid_raw(), "lines.0.slo", {"probe": "http://hmi.press.plant.local/health", "latency": {}})
    config = load_factory_config(raw)
    availability, latency = line_slos(config, config.lines[0])
    assert availability.error_ratio("1h") == '1 - avg(avg_over_time(probe_success{namespace="line-press"}[1h]))'
    assert 'factory_line_operation_duration_seconds_bucket{namespace="line-press", le="0.5"}' in latency.error_ratio(
        "1h"
    )


def test_the_platform_slos_follow_what_runs_on_the_cluster() -> None:
    _settings, config = load_config(ROOT, "pilsen")
    cluster = config.cluster("shopfloor")
    with_drills = {slo.id for slo in cluster_slos(config, cluster, drills=True)}
    assert {"platform-shopfloor-api-server", "platform-shopfloor-restore-drill"} <= with_drills
    without = {slo.id for slo in cluster_slos(config, cluster, drills=False)}
    assert "platform-shopfloor-restore-drill" not in without


def test_objectives_are_the_ratios_people_wrote() -> None:
    """99.9 % is recorded as 0.999 (a float division gives 0.9990000000000001, which Sloth's dashboards print)."""
    config = load_factory_config(mutate(valid_raw(), "lines.0.sloTarget", 99.9))
    [availability] = [slo for slo in line_slos(config, config.lines[0]) if slo.name == "availability"]
    assert availability.objective == 0.999
    [objective] = [r for r in meta_rules(availability) if r["record"] == "slo:objective:ratio"]
    assert objective["expr"] == "vector(0.999)"
