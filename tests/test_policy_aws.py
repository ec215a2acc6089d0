"""S3 backup stores on pulumi-aws 7: each bucket judged with its separate settings resources."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from pulumi.output import Unknown
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

import factory_policies as fp
from tests.test_policy_kit import (
    DELETE,
    DROP,
    Case,
    Mutation,
    Res,
    assert_caught,
    assert_compliant,
    case_params,
    judge,
    judge_offline,
    mutation_params,
)

S3 = "aws:s3"
BUCKET = "backups"  # the bucket's resource name; its S3 name is below
ON_BUCKET = {"bucket": (BUCKET,)}  # the property dependency the engine records for `bucket=<bucket>.id`
KEY_ARN = "arn:aws:kms:eu-central-1:111122223333:key/0b7d3a52-0000-4000-8000-000000000001"


def tls_policy(effect: str = "Deny", secure: Any = "false", principal: Any = "*") -> str:
    statement = {
        "Sid": "DenyInsecureTransport",
        "Effect": effect,
        "Principal": principal,
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::pilsen-backups", "arn:aws:s3:::pilsen-backups/*"],
        "Condition": {"Bool": {"aws:SecureTransport": secure}},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


FIXTURE = (
    Res("aws:kms/key:Key", {"enableKeyRotation": True, "deletionWindowInDays": 30}, name="backup-key"),
    Res(
        f"{S3}/bucket:Bucket",
        {"bucket": "pilsen-backups", "objectLockEnabled": True, "tags": {"factory-floor-purpose": "backup"}},
        name=BUCKET,
        protect=True,
    ),
    # linked by its value only (a name known at preview), no property dependency
    Res(
        f"{S3}/bucketVersioning:BucketVersioning",
        {"bucket": "pilsen-backups", "versioningConfiguration": {"status": "Enabled"}},
        name="versioning",
    ),
    Res(
        f"{S3}/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
        {"bucket": "pilsen-backups", "rule": {"defaultRetention": {"mode": "COMPLIANCE", "days": 35}}},
        name="lock",
        links=ON_BUCKET,
    ),
    Res(
        f"{S3}/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        {
            "bucket": "pilsen-backups",
            "rules": [
                {
                    "applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ARN},
                    "bucketKeyEnabled": True,
                }
            ],
        },
        name="encryption",
        links={**ON_BUCKET, "rules": ("backup-key",)},
    ),
    Res(
        f"{S3}/bucketPublicAccessBlock:BucketPublicAccessBlock",
        {
            "bucket": "pilsen-backups",
            "blockPublicAcls": True,
            "blockPublicPolicy": True,
            "ignorePublicAcls": True,
            "restrictPublicBuckets": True,
        },
        name="public-access",
        links=ON_BUCKET,
    ),
    Res(
        f"{S3}/bucketPolicy:BucketPolicy",
        {"bucket": "pilsen-backups", "policy": tls_policy()},
        name="tls",
        links=ON_BUCKET,
    ),
    Res(
        f"{S3}/bucketOwnershipControls:BucketOwnershipControls",
        {"bucket": "pilsen-backups", "rule": {"objectOwnership": "BucketOwnerEnforced"}},
        name="ownership",
        links=ON_BUCKET,
    ),
)

ENCRYPTION_DEFAULT = "rules.0.applyServerSideEncryptionByDefault"

CASES = [
    Case(
        fp.aws_s3_versioning,
        FIXTURE,
        (
            Mutation(
                "suspended", "versioningConfiguration.status", "Suspended", "['Suspended'], not Enabled", "versioning"
            ),
            Mutation("missing", "", DROP, "has no BucketVersioning", "versioning"),
            Mutation("for-another-bucket", "bucket", "someone-elses-bucket", "has no BucketVersioning", "versioning"),
        ),
    ),
    Case(
        fp.aws_s3_object_lock,
        FIXTURE,
        (
            Mutation("bucket-without-object-lock", "objectLockEnabled", False, "objectLockEnabled", BUCKET),
            Mutation(
                "governance-in-production", "rule.defaultRetention.mode", "GOVERNANCE", "requires COMPLIANCE", "lock"
            ),
            Mutation("retention-too-short", "rule.defaultRetention.days", 7, "retains 7 days", "lock"),
            Mutation("no-lock-configuration", "", DROP, "has no BucketObjectLockConfiguration", "lock"),
        ),
    ),
    Case(
        fp.aws_s3_kms_encryption,
        FIXTURE,
        (
            Mutation("sse-s3", f"{ENCRYPTION_DEFAULT}.sseAlgorithm", "AES256", "not SSE-KMS", "encryption"),
            Mutation("aws-managed-key", f"{ENCRYPTION_DEFAULT}.kmsMasterKeyId", DELETE, "AWS-managed", "encryption"),
            Mutation("no-bucket-key", "rules.0.bucketKeyEnabled", False, "bucketKeyEnabled", "encryption"),
            Mutation(
                "key-without-rotation", "enableKeyRotation", False, "does not set enableKeyRotation", "backup-key"
            ),
            Mutation("key-outside-stack", "", DROP, "not managed in this stack", "backup-key"),
            Mutation(
                "no-encryption-configuration", "", DROP, "has no BucketServerSideEncryptionConfiguration", "encryption"
            ),
        ),
    ),
    Case(
        fp.aws_s3_public_access_block,
        FIXTURE,
        (
            *(
                Mutation(f"{flag}-false", flag, False, f"['{flag}']", "public-access")
                for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
            ),
            Mutation("missing", "", DROP, "has no BucketPublicAccessBlock", "public-access"),
        ),
    ),
    Case(
        fp.aws_s3_tls_only,
        FIXTURE,
        (
            Mutation("allow-not-deny", "policy", tls_policy(effect="Allow"), "denying s3:*", "tls"),
            Mutation("denies-https-instead", "policy", tls_policy(secure="true"), "denying s3:*", "tls"),
            Mutation(
                "one-principal-only", "policy", tls_policy(principal={"AWS": "arn:aws:iam::1:root"}), "denying", "tls"
            ),
            Mutation("missing", "", DROP, "has no BucketPolicy", "tls"),
        ),
    ),
    Case(
        fp.aws_s3_owner_enforced,
        FIXTURE,
        (
            Mutation("object-writer", "rule.objectOwnership", "ObjectWriter", "'ObjectWriter'", "ownership"),
            Mutation("missing", "", DROP, "has no BucketOwnershipControls", "ownership"),
        ),
    ),
]


@pytest.mark.parametrize("case", case_params(CASES))
def test_compliant_fixture_passes(case: Case) -> None:
    assert_compliant(case)


@pytest.mark.parametrize(("case", "mutation"), mutation_params(CASES))
def test_mutation_is_caught(case: Case, mutation: Mutation) -> None:
    assert_caught(case, mutation)


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
