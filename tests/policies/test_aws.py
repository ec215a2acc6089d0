"""S3 backup stores beyond their cases (tests/support/policy_cases/aws.py): configurable stages and retention,
other purposes, settings linked by dependency, unknown documents at preview, and the v2 aliases."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from pulumi.output import Unknown
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

import factory_policies as fp
from tests.support.policy_cases.aws import BUCKET, FIXTURE, S3
from tests.support.policy_kit import Res, judge, judge_offline


def _with(name: str, **changes: Any) -> list[Res]:
    return [replace(r, **changes) if r.name == name else r for r in FIXTURE]


def test_outside_production_governance_mode_is_enough() -> None:
    governance = {"bucket": "pilsen-backups", "rule": {"defaultRetention": {"mode": "GOVERNANCE", "days": 35}}}
    fixture = _with("lock", props=governance)
    assert judge(fp.aws_s3_object_lock, fixture)
    assert judge(fp.aws_s3_object_lock, fixture, {"environment": "development"}) == []
    assert judge(fp.aws_s3_object_lock, fixture, stack_tags={"environment": "staging"}) == [], "or from a stack tag"


def test_minimum_retention_is_configurable() -> None:
    assert judge(fp.aws_s3_object_lock, FIXTURE, {"minimumRetentionDays": 90}) == [
        "bucket 'backups' object lock retains 35 days, less than the minimum 90"
    ]


def test_a_bucket_with_another_purpose_needs_no_object_lock_but_still_encryption() -> None:
    logs = _with(BUCKET, props={"bucket": "pilsen-backups", "tags": {"factory-floor-purpose": "access-logs"}})
    assert judge(fp.aws_s3_object_lock, logs) == []
    assert judge(fp.aws_s3_kms_encryption, logs) == []


def test_settings_are_linked_by_dependency_when_the_name_is_only_known_later() -> None:
    """The offline harness records `bucket=<bucket>.id` as the mock id and knows only the dependency."""

    def by_mock_id(r: Res) -> Res:
        if "bucket" not in r.props or r.name == BUCKET:
            return r
        return replace(r, props={**r.props, "bucket": "backups-id"}, links={**r.links, "bucket": (BUCKET,)})

    fixture = [by_mock_id(r) for r in FIXTURE]
    for policy in (fp.aws_s3_versioning, fp.aws_s3_kms_encryption, fp.aws_s3_tls_only):
        assert judge_offline(policy, fixture) == [], policy.name


def test_a_policy_document_unknown_during_preview_is_left_to_pulumi_up() -> None:
    """Pulumi reports the policy as not runnable during preview (advisory); other buckets are still judged."""
    unknown_document = {"bucket": "pilsen-backups", "policy": UNKNOWN_STRING_VALUE}
    second = Res(f"{S3}/bucket:Bucket", {"bucket": "pilsen-logs"}, name="logs")
    found: list[str] = []
    with pytest.raises(UnknownValueError):
        fixture = [*_with("tls", props=unknown_document), second]
        judge(fp.aws_s3_tls_only, fixture, found=found)
    assert found == [
        "bucket 'logs' has no BucketPolicy (pulumi-aws 7 keeps it in a resource of its own, whose `bucket` names "
        "this bucket)"
    ]
    offline = _with("tls", props={"bucket": "pilsen-backups", "policy": Unknown()})
    assert judge_offline(fp.aws_s3_tls_only, offline) == []


def test_v2_aliases_are_judged_too() -> None:
    alias = f"{S3}/bucketVersioningV2:BucketVersioningV2"
    assert judge(fp.aws_s3_versioning, _with("versioning", type=alias)) == []
    suspended = {"bucket": "pilsen-backups", "versioningConfiguration": {"status": "Suspended"}}
    assert judge(fp.aws_s3_versioning, _with("versioning", type=alias, props=suspended))
