"""Zero false positives: every reference stack plans with no mandatory violation of the pack."""

from __future__ import annotations

from pathlib import Path

import pytest

import factory_policies as fp
from offline.policy_runner import mandatory_violations
from offline.stackfile import available_stacks
from tests.support.runs import Runs

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("stack", available_stacks(ROOT))
def test_reference_stack_has_no_mandatory_violation(runs: Runs, stack: str) -> None:
    verdicts = runs.stack(stack).verdicts
    assert [v.policy.name for v in verdicts] == [p.name for p in fp.ALL_POLICIES], "every policy ran"
    assert mandatory_violations(verdicts) == []
    judged = {v.policy.name: len(v.judged) for v in verdicts}
    # not vacuous: the Kubernetes policies saw the stack's objects
    for name in ("namespace-pod-security-restricted", "line-namespace-default-deny", "rbac-no-wildcards"):
        assert judged[name] > 0, name
    advisory = [f"{v.policy}: {v.resource}: {v.message}" for verdict in verdicts for v in verdict.violations]
    print(f"{stack}: {len(advisory)} advisory finding(s)", *advisory, sep="\n  ")
