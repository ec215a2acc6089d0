"""The AWS store's policy documents, as plain JSON builders the tests and checkov read without the runtime: the
bucket's (TLS only, no version deletion, no foreign keys), the CloudTrail log bucket's, the keys' (account IAM decides
use; under compliance nobody disables or deletes a key), replication's trust and permissions, and a writer's (its
prefix only, and never a way to delete a locked version)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

GUARDED_KEY_ACTIONS = ("kms:DisableKey", "kms:DisableKeyRotation", "kms:ScheduleKeyDeletion")
# what a writer (Velero, the snapshot jobs) may do, and what it may never do, to its store
WRITER_OBJECT_ACTIONS = (
    "s3:AbortMultipartUpload",
    "s3:DeleteObject",
    "s3:GetObject",
    "s3:ListMultipartUploadParts",
    "s3:PutObject",
)
WRITER_KEY_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*")
WRITER_DENIED_ACTIONS = (
    "s3:BypassGovernanceRetention",
    "s3:DeleteBucket",
    "s3:DeleteBucketPolicy",
    "s3:DeleteObjectVersion",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketPolicy",
    "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration",
    "s3:PutLifecycleConfiguration",
    "s3:PutObjectLegalHold",
    "s3:PutObjectRetention",
    "s3:PutReplicationConfiguration",
)
_PARTITIONS = (("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"), ("us-isob-", "aws-iso-b"), ("us-iso-", "aws-iso"))


def partition(region: str) -> str:
    return next((p for prefix, p in _PARTITIONS if region.startswith(prefix)), "aws")


def _statement(sid: str, effect: str, principal: Any, actions: Sequence[str], resource: Any, **extra: Any) -> dict:
    return {
        "Sid": sid,
        "Effect": effect,
        "Principal": principal,
        "Action": list(actions),
        "Resource": resource,
        **extra,
    }


def _document(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _tls_only(arn: str) -> dict:
    insecure = {"Bool": {"aws:SecureTransport": "false"}}
    return _statement("DenyInsecureTransport", "Deny", "*", ["s3:*"], [arn, f"{arn}/*"], Condition=insecure)


def _no_version_deletion(arn: str) -> dict:
    return _statement("DenyDeletingObjectVersions", "Deny", "*", ["s3:DeleteObjectVersion"], f"{arn}/*")


def store_bucket_policy(arn: str, account_id: str, region: str) -> dict:
    """TLS only; no version deletion; objects only under SSE-KMS with a key of this account and region."""
    own_keys = f"arn:{partition(region)}:kms:{region}:{account_id}:key/*"
    return _document(
        _tls_only(arn),
        _no_version_deletion(arn),
        _statement(
            "DenyOtherEncryption",
            "Deny",
            "*",
            ["s3:PutObject"],
            f"{arn}/*",
            Condition={"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}},
        ),
        _statement(
            "DenyForeignKeys",
            "Deny",
            "*",
            ["s3:PutObject"],
            f"{arn}/*",
            Condition={"StringNotLikeIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": own_keys}},
        ),
    )


def log_bucket_policy(arn: str, account_id: str, trail_arn: str) -> dict:
    """TLS only; no version deletion; CloudTrail (this trail only) checks the bucket and writes its logs."""
    cloudtrail = {"Service": "cloudtrail.amazonaws.com"}
    this_trail = {"aws:SourceArn": trail_arn}
    return _document(
        _tls_only(arn),
        _no_version_deletion(arn),
        _statement(
            "CloudTrailAclCheck", "Allow", cloudtrail, ["s3:GetBucketAcl"], arn, Condition={"StringEquals": this_trail}
        ),
        _statement(
            "CloudTrailWrite",
            "Allow",
            cloudtrail,
            ["s3:PutObject"],
            f"{arn}/AWSLogs/{account_id}/*",
            Condition={"StringEquals": {**this_trail, "s3:x-amz-acl": "bucket-owner-full-control"}},
        ),
    )


def key_policy(account_id: str, region: str, trail_arn: str | None = None, *, guarded: bool = True) -> dict:
    """The account's IAM policies decide who uses the key; `guarded` (compliance locks): nobody disables it, its
    rotation, or schedules its deletion without first changing this policy. Under governance locks (development,
    staging) the key may be deleted, so `pulumi destroy` of a disposable store can finish. With `trail_arn`, that
    trail (only) encrypts its logs with it."""
    part = partition(region)
    account = {"AWS": f"arn:{part}:iam::{account_id}:root"}
    statements = [
        _statement("AccountUsesKeyThroughIam", "Allow", account, ["kms:*"], "*"),
    ]
    if guarded:
        statements.append(_statement("NobodyDisablesOrDeletesTheKey", "Deny", {"AWS": "*"}, GUARDED_KEY_ACTIONS, "*"))
    if trail_arn is not None:
        cloudtrail = {"Service": "cloudtrail.amazonaws.com"}
        this_trail = {"StringEquals": {"aws:SourceArn": trail_arn}}
        context = {"kms:EncryptionContext:aws:cloudtrail:arn": f"arn:{part}:cloudtrail:*:{account_id}:trail/*"}
        statements += [
            _statement(
                "CloudTrailEncryptsLogs",
                "Allow",
                cloudtrail,
                ["kms:GenerateDataKey*"],
                "*",
                Condition={**this_trail, "StringLike": context},
            ),
            _statement("CloudTrailDescribesKey", "Allow", cloudtrail, ["kms:DescribeKey"], "*", Condition=this_trail),
        ]
    return _document(*statements)


def replication_trust_policy(account_id: str, source_arn: str) -> dict:
    condition = {"StringEquals": {"aws:SourceAccount": account_id}, "ArnEquals": {"aws:SourceArn": source_arn}}
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": condition,
    }
    return _document(statement)


def _via_s3(region: str, bucket_arn: str) -> dict:
    return {
        "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
        "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/*"]},
    }


@dataclass(frozen=True)
class ReplicationEnds:
    source_arn: str
    source_region: str
    source_key: pulumi.Input[str]
    replica_arn: str
    replica_region: str
    replica_key: pulumi.Input[str]


def replication_policy(ends: ReplicationEnds) -> dict:
    """Read the source's versions with their locks, write replicas and their tags — never a delete."""
    src, dst = ends.source_arn, ends.replica_arn
    read_versions = [
        "s3:GetObjectLegalHold",
        "s3:GetObjectRetention",
        "s3:GetObjectVersionAcl",
        "s3:GetObjectVersionForReplication",
        "s3:GetObjectVersionTagging",
    ]
    return _document(
        {"Effect": "Allow", "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"], "Resource": src},
        {"Effect": "Allow", "Action": read_versions, "Resource": f"{src}/*"},
        {"Effect": "Allow", "Action": ["s3:ReplicateObject", "s3:ReplicateTags"], "Resource": f"{dst}/*"},
        {
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": ends.source_key,
            "Condition": _via_s3(ends.source_region, src),
        },
        {
            "Effect": "Allow",
            "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
            "Resource": ends.replica_key,
            "Condition": _via_s3(ends.replica_region, dst),
        },
    )


def writer_policy(bucket: str, region: str, key_arn: pulumi.Input[str], prefix: str) -> dict:
    """Read, write and list `prefix` of one store with its key; never delete a version or loosen the store."""
    arn = f"arn:{partition(region)}:s3:::{bucket}"
    listing = {"StringLike": {"s3:prefix": [prefix, f"{prefix}/*"]}}
    return _document(
        {
            "Sid": "ObjectsUnderPrefix",
            "Effect": "Allow",
            "Action": list(WRITER_OBJECT_ACTIONS),
            "Resource": f"{arn}/{prefix}/*",
        },
        {"Sid": "ListPrefix", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": arn, "Condition": listing},
        {
            "Sid": "StoreKeyThroughS3",
            "Effect": "Allow",
            "Action": list(WRITER_KEY_ACTIONS),
            "Resource": key_arn,
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
        },
        {
            "Sid": "NeverDeleteLockedVersions",
            "Effect": "Deny",
            "Action": list(WRITER_DENIED_ACTIONS),
            "Resource": [arn, f"{arn}/*"],
        },
    )
