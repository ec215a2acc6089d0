"""`backup`: every invalid combination a plant engineer can write is a config error naming the exact key, all at
once, before anything is registered — and the reference stacks declare what the issue asks of them."""

from __future__ import annotations

from typing import Any

import pytest

from components.config.loader import load_factory_config
from components.config.problems import FactoryConfigError
from components.config.schedule import longest_gap
from tests.support.factories import DELETE, mutate, valid_raw
from tests.support.runs import Runs


def _problems(raw: dict[str, Any]) -> str:
    with pytest.raises(FactoryConfigError) as error:
        load_factory_config(raw)
    return str(error.value)


@pytest.mark.parametrize(
    ("path", "value", "key", "says"),
    [
        ("backup.aws.retentionDays", 20, "backup.aws.retentionDays", "shorter than lockDays 35"),
        ("backup.aws.lockMode", "governance", "backup.aws.lockMode", "production accepts only compliance"),
        ("backup.azure.lockDays", 7, "backup.azure.lockDays", "below the production minimum of 30"),
        ("backup.azure", DELETE, "factory-floor:backup:", "at least 2 clouds"),
        ("backup.policies.1.ttlHours", 2400, "backup.policies[1].ttlHours", "outlives the shortest store retention"),
        # every hour on the hour is 1 h apart in Berlin time all year; every two hours is not
        ("backup.policies.0.schedule", "0 */2 * * *", "backup.policies[0].schedule", "more than the 1 h RPO"),
        ("backup.policies.0.schedule", "0 * * *", "backup.policies[0].schedule", "five fields"),
        (
            "backup.policies.0.schedule",
            "CRON_TZ=UTC 0 * * * *",
            "backup.policies[0].schedule",
            "schedules run in `factory.timezone`",
        ),
        ("backup.policies.0.lines", ["press"], "backup.policies[0]", "exactly one of `lines` or `criticality`"),
        ("backup.policies.1.criticality", ["high"], "factory-floor:backup.policies:", "no policy backs up line 'weld'"),
        ("backup.policies", [], "factory-floor:backup.policies:", "a store nobody writes to"),
    ],
)
def test_an_invalid_combination_names_its_key(path: str, value: Any, key: str, says: str) -> None:
    message = _problems(mutate(valid_raw(), path, value))
    assert key in message and says in message, message


def test_a_policy_naming_a_line_that_does_not_exist_is_refused_with_a_suggestion() -> None:
    raw = mutate(valid_raw(), "backup.policies.0", {"name": "p", "lines": ["pres"], "schedule": "0 * * * *"})
    message = _problems(raw)
    assert "backup.policies[0].lines[0]: unknown line 'pres'" in message and "did you mean 'press'" in message


def test_production_without_any_store_is_refused() -> None:
    message = _problems(mutate(valid_raw(), "backup", {}))
    assert "factory-floor:backup: production needs backup stores" in message


def test_a_disposable_stack_may_have_no_backup_or_one_cloud_in_governance() -> None:
    staging = mutate(valid_raw(), "environment", "staging")
    assert not load_factory_config(mutate(staging, "backup", {})).backup.enabled
    one = load_factory_config(mutate(staging, "backup.azure", DELETE)).backup
    assert list(one.stores()) == ["aws"] and one.aws is not None and one.aws.mode("staging") == "governance"


def test_every_problem_of_the_section_is_reported_at_once() -> None:
    raw = mutate(valid_raw(), "backup.aws.retentionDays", 20)
    raw = mutate(raw, "backup.azure.lockMode", "governance")
    raw = mutate(raw, "backup.policies.0.schedule", "0 */3 * * *")
    message = _problems(raw)
    # the short retention also makes both policies' 720 h TTL outlive it: one merged fourth problem
    assert "4 problem(s)" in message, message
    for key in ("aws.retentionDays", "azure.lockMode", "policies[0].schedule", "policies[0].ttlHours"):
        assert f"factory-floor:backup.{key}:" in message, key


def test_the_schedule_check_counts_daylight_saving_time() -> None:
    """A daily 01:40 in Berlin is 25 h apart the night clocks go back: it cannot promise a 24 h RPO."""
    assert longest_gap("40 1 * * *", "Europe/Berlin").total_seconds() == 25 * 3600
    assert longest_gap("40 1 * * *", "UTC").total_seconds() == 24 * 3600
    assert longest_gap("40 1,13 * * *", "Europe/Berlin").total_seconds() == 13 * 3600


def test_the_reference_stacks_back_up_on_two_clouds_and_one_on_all_three(runs: Runs) -> None:
    clouds = {name: sorted(runs.stack(name).config.backup.stores()) for name in ("dev", "pilsen", "rheinfeld")}
    assert clouds == {"dev": ["aws"], "pilsen": ["aws", "azure"], "rheinfeld": ["aws", "azure", "gcp"]}
    for name in ("pilsen", "rheinfeld"):
        config = runs.stack(name).config
        backed_up = {
            line.name
            for policy in config.backup.policies
            for line in config.lines
            if line.name in policy.lines or line.criticality in policy.criticality
        }
        assert backed_up == {line.name for line in config.lines}, name


def test_a_location_a_store_cannot_use_is_a_config_error_not_a_traceback() -> None:
    raw = mutate(mutate(valid_raw(), "backup.azure.geoRedundant", True), "backup.azure.location", "polandcentral")
    message = _problems(raw)
    assert "factory-floor:backup.azure: 'polandcentral' has no region pair" in message, message


def test_a_gcs_location_without_a_known_key_location_names_the_key() -> None:
    raw = mutate(valid_raw(), "backup.gcp", {"project": "testwerk-backup", "location": "EUR5"})
    message = _problems(raw)
    assert "factory-floor:backup.gcp.location" in message and "CMEK key ring must match it" in message, message


def test_a_cluster_whose_lines_are_backed_up_must_reach_a_store() -> None:
    """Without Vault, neither the k3s cluster (no cloud identity) nor the EKS cluster (none declared) could write a
    backup: refused at each cluster, naming the lines a policy covers and both ways out."""
    message = _problems(mutate(valid_raw(), "security.vault", DELETE))
    assert "factory-floor:clusters[0]: backup policies cover its lines (press, weld) but it reaches no" in message
    assert "factory-floor:clusters[1]: backup policies cover its lines (mes)" in message
    assert "workload identity on the cloud of a store" in message and "set security.vault" in message


def test_azure_writers_name_known_clusters_and_need_vault() -> None:
    raw = mutate(valid_raw(), "backup.azure.writers", {"egde": "00000000-0000-4000-8000-0000000000e1"})
    assert "factory-floor:backup.azure.writers.egde: unknown cluster 'egde' (did you mean 'edge'?)" in _problems(raw)
    raw = mutate(
        mutate(valid_raw(), "backup.azure.writers", {"edge": "00000000-0000-4000-8000-0000000000e1"}),
        "security.vault",
        DELETE,
    )
    assert "factory-floor:backup.azure.writers.edge: needs security.vault" in _problems(raw)
    raw = mutate(valid_raw(), "backup.azure.writers", {"edge": "not-a-uuid"})
    assert "factory-floor:backup.azure.writers.edge" in _problems(raw)
