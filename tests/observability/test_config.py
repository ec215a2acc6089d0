"""Bad observability config is refused with the key named, every problem at once: objectives whose fastest page
could never fire, latency thresholds no histogram bucket can count, receivers missing their settings, production
without receivers or a platform team, maintenance windows naming unknown lines, email without a relay."""

from __future__ import annotations

import pytest

from components.config.loader import load_factory_config
from components.config.problems import FactoryConfigError
from tests.support.factories import DELETE, mutate, valid_raw


def refused(raw: dict[str, object]) -> str:
    with pytest.raises(FactoryConfigError) as error:
        load_factory_config(raw)
    return str(error.value)


def test_an_objective_whose_fastest_page_could_never_fire_is_refused() -> None:
    text = refused(mutate(valid_raw(), "lines.0.sloTarget", 93))
    assert "factory-floor:lines[0].sloTarget: 93 % leaves an error budget so large" in text
    assert "use at least 93.06" in text
    assert load_factory_config(mutate(valid_raw(), "lines.0.sloTarget", 93.1)).lines[0].slo_target == 93.1


def test_a_latency_threshold_must_be_a_bucket_of_the_contracts_histogram() -> None:
    text = refused(mutate(valid_raw(), "lines.0.slo", {"latency": {"thresholdSeconds": 0.3}}))
    assert "factory-floor:lines[0].slo.latency.thresholdSeconds" in text and "use one of 0.005, 0.01" in text
    ok = load_factory_config(mutate(valid_raw(), "lines.0.slo", {"latency": {"thresholdSeconds": 0.25}}))
    assert ok.lines[0].slo.latency is not None and ok.lines[0].slo.latency.target == 99.0


def test_a_receiver_sets_exactly_what_its_kind_needs() -> None:
    no_key = refused(mutate(valid_raw(), "teams.0.alerting.page", {"kind": "pagerduty"}))
    assert "factory-floor:teams[0].alerting.page" in no_key and "sets `remoteKey`" in no_key
    no_channel = refused(mutate(valid_raw(), "teams.0.alerting.page", {"kind": "slack", "remoteKey": "s"}))
    assert "a slack receiver needs one" in no_channel
    mail = refused(mutate(valid_raw(), "teams.0.alerting.ticket", {"kind": "email", "to": "q@plant.example"}))
    assert "factory-floor:observability.alerting.smtp: an email receiver needs the mail relay" in mail


def test_production_needs_receivers_for_every_owner_and_a_platform_team_all_at_once() -> None:
    raw = mutate(mutate(valid_raw(), "teams.0.alerting", DELETE), "observability", {})
    text = refused(raw)
    assert "factory-floor:teams[0].alerting: is required in production for a team that owns lines" in text
    assert "factory-floor:observability.alerting.platformTeam: production names the team" in text
    staging = load_factory_config(mutate(raw, "environment", "staging"))
    assert staging.observability.alerting.platform_team is None


def test_the_platform_team_must_exist_and_be_reachable() -> None:
    unknown = refused(mutate(valid_raw(), "observability.alerting.platformTeam", "digitl"))
    assert "factory-floor:observability.alerting.platformTeam: unknown team 'digitl'" in unknown
    silent = mutate(mutate(valid_raw(), "environment", "staging"), "teams.1.alerting", DELETE)
    assert "team 'digital' has no `alerting` receivers" in refused(silent)


def test_a_maintenance_window_names_real_lines_and_sane_times() -> None:
    window = {"name": "stop", "times": [{"start": "06:00", "end": "14:00"}], "lines": ["weld", "wedl"]}
    text = refused(mutate(valid_raw(), "observability.alerting.maintenance", [window]))
    assert "factory-floor:observability.alerting.maintenance[0].lines[1]: unknown line 'wedl'" in text
    backwards = {"name": "stop", "times": [{"start": "22:00", "end": "06:00"}]}
    text = refused(mutate(valid_raw(), "observability.alerting.maintenance", [backwards]))
    assert "end 06:00 is not after start 22:00" in text


def test_a_production_cell_without_alertmanager_needs_the_hubs() -> None:
    """The careless edit: dropping the hub from a production stack with an edge-small cell, whose Prometheus then
    has nowhere to send a page."""
    text = refused(mutate(valid_raw(), "observability.hub", DELETE))
    assert (
        "factory-floor:observability.hub.alertmanagers: is required in production: cluster(s) edge run no "
        "Alertmanager (profile edge-small)" in text
    )
    staging = load_factory_config(mutate(mutate(valid_raw(), "observability.hub", DELETE), "environment", "staging"))
    assert staging.observability.hub.alertmanagers == []
    bad = refused(mutate(valid_raw(), "observability.hub.remoteWrite", "http://metrics.hub.example.com/write"))
    assert "factory-floor:observability.hub.remoteWrite" in bad and "https://" in bad


def test_vault_keys_need_vault_all_at_once() -> None:
    raw = mutate(valid_raw(), "security.vault", DELETE)
    raw = mutate(raw, "observability.hub.remoteKey", "hub")
    raw = mutate(
        raw,
        "observability.alerting.smtp",
        {"smarthost": "smtp.plant:587", "from": "a@plant.example", "remoteKey": "smtp"},
    )
    text = refused(raw)
    assert "factory-floor:observability.hub.remoteKey: is a Vault key: set `security.vault`" in text
    assert "factory-floor:observability.alerting.smtp.remoteKey: is a Vault key" in text
    assert "factory-floor:teams[0].alerting.page.remoteKey: is a Vault key" in text


def test_a_storage_class_is_a_kubernetes_name() -> None:
    text = refused(mutate(valid_raw(), "clusters.0.storageClass", "Fast SSD"))
    assert "factory-floor:clusters[0].storageClass" in text and "is not a valid name" in text
    ok = load_factory_config(mutate(valid_raw(), "clusters.0.storageClass", "longhorn"))
    assert ok.clusters[0].storage_class == "longhorn"
