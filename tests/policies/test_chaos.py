"""Chaos Mesh experiments beyond their case (tests/support/policy_cases/chaos.py): what a violation says."""

from __future__ import annotations

import factory_policies as fp
from tests.support.policy_cases.chaos import CHAOS_CASE, FIXTURE
from tests.support.policy_kit import judge, mutated


def test_violation_points_at_the_experiment() -> None:
    bad = mutated(FIXTURE, CHAOS_CASE.mutations[0])
    assert judge(fp.chaos_opted_in_targets, bad) == [
        "Schedule chaos-mesh/quality-pod-kill: spec.podChaos.selector.namespaces targets 'line-press', which has "
        "not opted in to chaos experiments"
    ]
