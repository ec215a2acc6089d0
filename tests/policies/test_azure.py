"""Azure Storage backup stores beyond their cases (tests/support/policy_cases/azure.py): other purposes,
configurable retention, and blob services linked to an auto-named account by dependency."""

from __future__ import annotations

from dataclasses import replace

from pulumi.output import Unknown

import factory_policies as fp
from tests.support.policy_cases.azure import ACCOUNT, FIXTURE
from tests.support.policy_kit import judge, judge_offline


def test_containers_of_other_stores_need_no_immutability() -> None:
    scratch = [
        replace(r, props={**r.props, "tags": {"factory-floor-purpose": "scratch"}}) if r.name == ACCOUNT else r
        for r in FIXTURE
        if r.name != "velero-worm"
    ]
    assert judge(fp.azure_blob_immutability, scratch) == []
    assert judge(fp.azure_blob_immutability, [r for r in FIXTURE if r.name != "velero-worm"])


def test_minimum_retention_config_applies_to_the_container_policy() -> None:
    assert judge(fp.azure_blob_immutability, FIXTURE, {"minimumRetentionDays": 60}) == [
        "blob container 'velero' immutability policy 'velero-worm' keeps blobs 35 days, less than the minimum 60"
    ]


def test_blob_service_is_linked_by_dependency_when_the_account_name_is_auto_named() -> None:
    """azure-native auto-names the account: under the offline harness accountName is unknown (recorded as
    pulumi.output.Unknown), only the dependency links the blob service to its account."""
    fixture = [replace(r, props={**r.props, "accountName": Unknown()}) if r.name != ACCOUNT else r for r in FIXTURE]
    assert judge_offline(fp.azure_blob_soft_delete, fixture) == []
    assert judge_offline(fp.azure_blob_immutability, fixture) == []
