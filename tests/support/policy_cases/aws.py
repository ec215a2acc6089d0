"""S3 backup stores on pulumi-aws 7: each bucket judged with its separate settings resources."""

from __future__ import annotations

import json
from typing import Any

import factory_policies as fp
from tests.support.policy_kit import DELETE, DROP, Case, Mutation, Res

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
