"""The pack's twins of Gatekeeper's line rules agree with the templates: the same default tag patterns, the
stack's settings handed to the pack by `make plan`, and the same verdict on the same images and budgets."""

from __future__ import annotations

from typing import Any

import pytest

from components.config.loader import load_factory_config
from components.inventory import pack_settings
from components.security.gatekeeper.config import DEFAULT_IMMUTABLE_TAGS, GatekeeperConfig
from components.security.gatekeeper.line_constraints import CONTROL_PLANE_TAINTS
from factory_policies import line_workloads, settings
from factory_policies.images import pinning_problem
from tests.support.factories import secure_raw
from tests.support.gatekeeper import container, pod, violations


def test_pack_defaults_copy_the_program() -> None:
    assert settings.DEFAULT_IMMUTABLE_TAGS == DEFAULT_IMMUTABLE_TAGS
    assert settings.SETTINGS["immutableTags"].default == list(DEFAULT_IMMUTABLE_TAGS)
    assert settings.SETTINGS["inlineCsiDrivers"].default == GatekeeperConfig().inline_csi_drivers == []
    assert settings.SETTINGS["runtimeClasses"].default == GatekeeperConfig().runtime_classes == []
    assert list(line_workloads.CONTROL_PLANE_TAINTS) == CONTROL_PLANE_TAINTS


def test_make_plan_hands_the_stacks_line_rules_to_the_pack() -> None:
    raw = secure_raw()
    raw["security"]["gatekeeper"].update(
        immutableTags=["v[0-9]+\\.[0-9]+\\.[0-9]+"],
        inlineCsiDrivers=["secrets-store.csi.k8s.io"],
        runtimeClasses=["gvisor"],
    )
    found = pack_settings(load_factory_config(raw))
    assert found["immutableTags"] == ["v[0-9]+\\.[0-9]+\\.[0-9]+"]
    assert found["inlineCsiDrivers"] == ["secrets-store.csi.k8s.io"]
    assert found["runtimeClasses"] == ["gvisor"]
    assert set(found) <= set(settings.SETTINGS)


@pytest.mark.parametrize(
    "image",
    [
        "registry.plant.local/a/b:1.2.3",
        "registry.plant.local/a/b:v1.2.3-alpine",
        "registry.plant.local/a/b:sha-0a1b2c3",
        "registry.plant.local:5000/a/b:2.0.0-rc.1",
        "registry.plant.local/a/b@sha256:" + "c" * 64,
        "registry.plant.local/a/b:latest@sha256:" + "c" * 64,
        "registry.plant.local/a/b:latest",
        "registry.plant.local/a/b:main",
        "registry.plant.local/a/b:3",
        "registry.plant.local/a/b:3.20",
        "registry.plant.local/a/b",
        "registry.plant.local:5000/a/b",
        "registry.plant.local/a/b@sha256:short",
        "registry.plant.local/a/b:sha-xyz",
    ],
)
@pytest.mark.parametrize("patterns", [list(DEFAULT_IMMUTABLE_TAGS), []])
def test_the_pack_and_gatekeeper_pin_the_same_images(image: str, patterns: list[str]) -> None:
    """What preview refuses is what admission refuses: image-pinned and K8sImmutableTags on the same image."""
    admitted = violations("K8sImmutableTags", pod(containers=[container(image=image)]), {"tagPatterns": patterns})
    assert (pinning_problem(image, patterns) is None) is (admitted == []), (image, admitted)


@pytest.mark.parametrize(
    "spec",
    [
        {"maxUnavailable": 0},
        {"maxUnavailable": "0%"},
        {"maxUnavailable": "00%"},
        {"maxUnavailable": 1},
        {"maxUnavailable": "10%"},
        {"minAvailable": "100%"},
        {"minAvailable": "99%"},
        {"minAvailable": 3},
    ],
)
def test_the_pack_and_gatekeeper_judge_the_same_budgets(spec: dict[str, Any]) -> None:
    budget = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "b"}, "spec": spec}
    admitted = violations("K8sDisruptionAllowed", budget, {}) == []
    reported: list[str] = []

    class Args:  # the two fields the check reads
        props = budget
        name = "b"

    line_workloads._check_disruption(Args(), lambda message, _urn: reported.append(message))  # type: ignore[arg-type]
    assert admitted is (reported == []), (spec, reported)
