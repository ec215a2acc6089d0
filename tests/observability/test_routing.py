"""Alert routing as a stack gets it, judged by amtool (Debian's Alertmanager 0.25): the generated configuration is
valid; each line's page reaches its own team's on-call and nowhere else, its ticket the team's queue; platform
alerts (no line) reach the platform team; a ticket is inhibited while its page fires; maintenance windows mute the
lines they name and never the platform; no secret is in the file, every receiver reads its secret from a file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from components.config.loader import load_factory_config
from components.observability.routing import alertmanager_config, receiver_secrets
from offline.stackfile import load_config
from tests.support.debian_tools import run_amtool
from tests.support.factories import mutate, valid_raw
from tests.support.projects import ROOT

STACKS = ["dev", "pilsen", "rheinfeld"]


def written(tmp_path: Path, document: dict[str, object]) -> Path:
    path = tmp_path / "alertmanager.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=True))
    return path


def routed(config_file: Path, **labels: str) -> list[str]:
    """The receivers amtool says an alert with these labels reaches."""
    args = [f"{key}={value}" for key, value in labels.items()]
    result = run_amtool(config_file.parent, "config", "routes", "test", f"--config.file={config_file}", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip().split(",")


@pytest.mark.parametrize("stack", STACKS)
def test_amtool_accepts_every_reference_stacks_configuration(tmp_path: Path, stack: str) -> None:
    _settings, config = load_config(ROOT, stack)
    path = written(tmp_path, alertmanager_config(config))
    result = run_amtool(tmp_path, "check-config", str(path))
    assert result.returncode == 0 and "SUCCESS" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize("stack", ["pilsen", "rheinfeld"])
def test_each_lines_page_reaches_its_own_team_and_nobody_else(tmp_path: Path, stack: str) -> None:
    _settings, config = load_config(ROOT, stack)
    path = written(tmp_path, alertmanager_config(config))
    factory = config.factory.name
    for line in config.lines:
        alert = {"factory": factory, "cluster": line.cluster, "line": line.name, "alertname": "AnySloBurn"}
        assert routed(path, **alert, severity="page") == [f"{line.team}-page"], line.name
        assert routed(path, **alert, severity="ticket") == [f"{line.team}-ticket"], line.name
    platform = config.observability.alerting.platform_team
    assert routed(path, factory=factory, severity="page", alertname="KubeApiDown") == [f"{platform}-page"]
    assert routed(path, factory=factory, severity="ticket", alertname="RestoreDrillFailed") == [f"{platform}-ticket"]
    # kube-prometheus-stack's own severities: critical pages, warning tickets, info and none reach nobody (its
    # Watchdog always fires); its alerts about a line's pods reach the line's team
    assert routed(path, factory=factory, severity="critical", alertname="KubeletDown") == [f"{platform}-page"]
    assert routed(path, factory=factory, severity="warning", alertname="TargetDown") == [f"{platform}-ticket"]
    assert routed(path, factory=factory, severity="none", alertname="Watchdog") == ["unrouted"]
    assert routed(path, factory=factory, severity="info", alertname="CPUThrottlingHigh") == ["unrouted"]
    for line in config.lines:
        crash = {"factory": factory, "namespace": line.namespace, "alertname": "KubePodCrashLooping"}
        assert routed(path, **crash, severity="warning") == [f"{line.team}-ticket"], line.name
        assert routed(path, **crash, severity="critical") == [f"{line.team}-page"], line.name


def test_a_ticket_waits_while_its_page_fires_and_alerts_group_by_line() -> None:
    _settings, config = load_config(ROOT, "pilsen")
    document = alertmanager_config(config)
    assert document["inhibit_rules"] == [
        {
            # kube-prometheus-stack's critical/warning pairs of one alert too (e.g. KubeAPIErrorBudgetBurn)
            "source_matchers": ['severity=~"page|critical"'],
            "target_matchers": ['severity=~"ticket|warning"'],
            "equal": ["factory", "cluster", "line", "namespace", "alertname"],
        }
    ]
    assert document["route"]["group_by"] == ["factory", "line", "alertname"]


def test_maintenance_mutes_the_lines_it_names_and_never_the_platform() -> None:
    _settings, config = load_config(ROOT, "rheinfeld")
    document = alertmanager_config(config)
    (interval,) = document["time_intervals"]
    assert interval["name"] == "machining-shift-change"
    assert interval["time_intervals"][0]["location"] == "Europe/Berlin"
    muted = {}
    for route in document["route"]["routes"]:
        line = next((m.split('"')[1] for m in route["matchers"] if m.startswith("line=")), None)
        delivering = route.get("routes", [route])
        muted[line] = {tuple(r.get("mute_time_intervals", ())) for r in delivering}
    assert muted["casting"] == muted["machining"] == {("machining-shift-change",)}
    assert muted["engine-assembly"] == {()} and muted[None] == {()}, "other lines and the platform are never muted"


def test_no_secret_in_the_configuration_every_receiver_reads_a_file() -> None:
    _settings, config = load_config(ROOT, "pilsen")
    document = alertmanager_config(config)
    text = yaml.safe_dump(document)
    for receiver in document["receivers"]:
        for kind, integrations in receiver.items():
            if kind == "name":
                continue
            for integration in integrations:
                secret_settings = {k for k in integration if k in ("routing_key", "api_key", "api_url", "url")}
                assert not secret_settings, (receiver["name"], secret_settings)
    assert document["global"]["smtp_auth_password_file"] == "/etc/alertmanager/secrets/alertmanager-smtp/secret"
    pager = next(r for r in document["receivers"] if r["name"] == "body-in-white-page")
    file = "/etc/alertmanager/secrets/alertmanager-body-in-white-page/secret"
    assert pager["pagerduty_configs"] == [{"routing_key_file": file, "send_resolved": True}]
    assert "smtp_auth_password:" not in text
    secrets = receiver_secrets(config)
    assert secrets["alertmanager-body-in-white-page"] == ("pagerduty-body-in-white", "routingKey")
    assert secrets["alertmanager-quality-page"] == ("opsgenie-quality", "apiKey")
    assert secrets["alertmanager-platform-ticket"] == ("slack-platform", "url")
    assert secrets["alertmanager-smtp"] == ("smtp", "password")
    assert "alertmanager-body-in-white-ticket" not in secrets, "an email receiver has no secret of its own"


def test_a_team_without_receivers_outside_production_falls_back_to_the_platform_team(tmp_path: Path) -> None:
    raw = mutate(valid_raw(), "environment", "staging")
    raw = mutate(raw, "teams.0.alerting", None)
    config = load_factory_config(raw)
    path = written(tmp_path, alertmanager_config(config))
    line = next(line for line in config.lines if line.team == "press-team")
    assert routed(path, line=line.name, severity="page", alertname="X") == ["digital-page"]
    nobody = load_factory_config(mutate(mutate(raw, "teams.1.alerting", None), "observability", {}))
    path = written(tmp_path, alertmanager_config(nobody))
    assert routed(path, line=line.name, severity="page", alertname="X") == ["unrouted"]
