"""Backup stores are protected from deletion in production, on all three clouds."""

from __future__ import annotations

from dataclasses import replace

import pytest

import factory_policies as fp
from tests.test_policy_aws import BUCKET as S3_NAME
from tests.test_policy_aws import FIXTURE as S3_FIXTURE
from tests.test_policy_azure import ACCOUNT as AZURE_NAME
from tests.test_policy_azure import FIXTURE as AZURE_FIXTURE
from tests.test_policy_gcp import BUCKET as GCS_BUCKET
from tests.test_policy_kit import Case, Mutation, assert_caught, assert_compliant, case_params, judge, mutation_params

STORES = (*S3_FIXTURE, GCS_BUCKET, *AZURE_FIXTURE)
EXPECT = "is not protected (opts.protect) in a production stack"

CASES = [
    Case(
        fp.backup_store_protected,
        STORES,
        (
            Mutation("s3-unprotected", "@protect", False, f"'{S3_NAME}' {EXPECT}", S3_NAME),
            Mutation("gcs-unprotected", "@protect", False, f"'{GCS_BUCKET.name}' {EXPECT}", GCS_BUCKET.name),
            Mutation("azure-unprotected", "@protect", False, f"'{AZURE_NAME}' {EXPECT}", AZURE_NAME),
        ),
    )
]


@pytest.mark.parametrize("case", case_params(CASES))
def test_compliant_fixture_passes(case: Case) -> None:
    assert_compliant(case)


@pytest.mark.parametrize(("case", "mutation"), mutation_params(CASES))
def test_mutation_is_caught(case: Case, mutation: Mutation) -> None:
    assert_caught(case, mutation)


def test_disposable_stacks_and_other_purposes_need_no_protection() -> None:
    unprotected = [replace(r, protect=False) for r in STORES]
    assert len(judge(fp.backup_store_protected, unprotected)) == 3
    assert judge(fp.backup_store_protected, unprotected, {"environment": "development"}) == []
    logs = replace(GCS_BUCKET, protect=False, props={**GCS_BUCKET.props, "labels": {"factory-floor-purpose": "logs"}})
    assert judge(fp.backup_store_protected, [logs]) == []
