"""Every policy case of tests/support/policy_cases: its compliant fixture passes, through the analyzer's
semantics (`judge`) and the offline runner `make plan` uses (`judge_offline`), and each one-field mutation of
it is caught."""

from __future__ import annotations

import pytest

from tests.support.policy_kit import (
    Case,
    Mutation,
    all_cases,
    assert_caught,
    assert_compliant,
    case_params,
    mutation_params,
)

CASES = all_cases()


@pytest.mark.parametrize("case", case_params(CASES))
def test_compliant_fixture_passes(case: Case) -> None:
    assert_compliant(case)


@pytest.mark.parametrize(("case", "mutation"), mutation_params(CASES))
def test_mutation_is_caught(case: Case, mutation: Mutation) -> None:
    assert_caught(case, mutation)
