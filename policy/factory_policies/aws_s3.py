"""S3 backup stores on pulumi-aws 7: each bucket judged together with its separate settings resources.

pulumi-aws 7 moved versioning, object lock, encryption, public access block, ownership and policy out of
`aws.s3.Bucket` into resources of their own, so a policy reading only the bucket sees nothing. These are
stack policies: for every bucket they find the settings resources that name it (cloud_links.linked) and
judge them; a missing settings resource is a violation. The deprecated V2 aliases are judged the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy import PolicyResource, ReportViolation, Severity, StackValidationArgs

from factory_policies.cloud_links import is_backup_store, linked, of_types, owners
from factory_policies.controls import (
    CIS_AWS,
    IEC_62443,
    Control,
    dig,
    is_list,
    items,
    mapping,
    number,
    present,
)
from factory_policies.kit import FactoryStackPolicy, each, stack_policy
from factory_policies.settings import is_production, setting

BUCKET = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
OBJECT_LOCK = (
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2",
)
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
PUBLIC_ACCESS_BLOCK = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
BUCKET_POLICY = ("aws:s3/bucketPolicy:BucketPolicy",)
OWNERSHIP = ("aws:s3/bucketOwnershipControls:BucketOwnershipControls",)
KMS_KEY = ("aws:kms/key:Key",)
BUCKET_IDENTITY = ("bucket", "id", "arn")  # what a settings resource's `bucket` may hold
KEY_IDENTITY = ("arn", "keyId", "id")
PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")

Judge = Callable[[PolicyResource, list[PolicyResource], StackValidationArgs], Iterator[str]]


def _bucket_policy(
    *,
    name: str,
    title: str,
    description: str,
    controls: Sequence[Control],
    settings_types: Sequence[str],
    judge: Judge,
    remediation: str,
    backup_stores_only: bool = False,
    config: Sequence[str] = (),
    extra_types: Sequence[str] = (),
) -> FactoryStackPolicy:
    def check(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        buckets = of_types(args.resources, BUCKET)

        def one(bucket: PolicyResource) -> list[str]:
            if backup_stores_only and not is_backup_store(bucket.props, "tags"):
                return []
            found = linked(
                bucket,
                resources=args.resources,
                types=settings_types,
                targets=buckets,
                prop="bucket",
                identity=BUCKET_IDENTITY,
            )
            return [f"bucket '{bucket.name}' {message}" for message in judge(bucket, found, args)]

        each(buckets, one, report_violation)

    return stack_policy(
        name=name,
        title=title,
        description=description,
        controls=controls,
        resource_types=(*BUCKET, *settings_types, *extra_types),
        check=check,
        severity=Severity.HIGH,
        remediation=remediation,
        config=config,
    )


def _missing(kind: str) -> str:
    return f"has no {kind} (pulumi-aws 7 keeps it in a resource of its own, whose `bucket` names this bucket)"


# --- versioning ----------------------------------------------------------------------------------------


def _versioning(bucket: PolicyResource, found: list[PolicyResource], args: StackValidationArgs) -> Iterator[str]:
    statuses = [dig(s.props, "versioningConfiguration", "status") for s in found]
    if not found:
        yield _missing("BucketVersioning")
    elif "Enabled" not in statuses:
        yield f"has versioning {statuses}, not Enabled"


# --- object lock ---------------------------------------------------------------------------------------


def _retention_days(retention: Mapping[str, Any]) -> float:
    days = number(dig(retention, "days")) or 0.0
    years = number(dig(retention, "years")) or 0.0
    return max(days, years * 365)


def _object_lock(bucket: PolicyResource, found: list[PolicyResource], args: StackValidationArgs) -> Iterator[str]:
    if dig(bucket.props, "objectLockEnabled") is not True:
        yield "is not created with objectLockEnabled (object lock cannot be turned on later)"
    if not found:
        yield _missing("BucketObjectLockConfiguration")
    production = is_production(args)
    minimum = number(setting(args, "minimumRetentionDays")) or 0.0
    for lock in found:
        retention = mapping(lock.props, "rule", "defaultRetention")
        mode = dig(retention, "mode")
        if production and mode != "COMPLIANCE":
            yield f"object lock mode is {mode!r}; production requires COMPLIANCE (nobody can shorten it)"
        elif mode not in ("COMPLIANCE", "GOVERNANCE"):
            yield f"object lock has no default retention mode (got {mode!r})"
        if _retention_days(retention) < minimum:
            yield f"object lock retains {_retention_days(retention):g} days, less than the minimum {minimum:g}"


# --- encryption ----------------------------------------------------------------------------------------


def _encryption_rule(sse: PolicyResource) -> Iterator[str]:
    rules = [r for r in items(sse.props, "rules") if isinstance(r, Mapping)]
    kms = [r for r in rules if dig(r, "applyServerSideEncryptionByDefault", "sseAlgorithm") in KMS_ALGORITHMS]
    if not kms:
        algorithms = [dig(r, "applyServerSideEncryptionByDefault", "sseAlgorithm") for r in rules]
        yield f"encrypts with {algorithms}, not SSE-KMS (aws:kms)"
        return
    for rule in kms:
        by_default = mapping(rule, "applyServerSideEncryptionByDefault")
        if not present(by_default, "kmsMasterKeyId"):
            yield "uses the AWS-managed aws/s3 key; set kmsMasterKeyId to a customer-managed key"
        # S3 Bucket Keys cut KMS calls ~99%; DSSE-KMS does not support them
        if dig(by_default, "sseAlgorithm") == "aws:kms" and dig(rule, "bucketKeyEnabled") is not True:
            yield "does not enable bucketKeyEnabled"


def _encryption(bucket: PolicyResource, found: list[PolicyResource], args: StackValidationArgs) -> Iterator[str]:
    if not found:
        yield _missing("BucketServerSideEncryptionConfiguration")
    keys = of_types(args.resources, KMS_KEY)
    for sse in found:
        problems = list(_encryption_rule(sse))
        yield from problems
        if problems:
            continue
        used = owners(sse, keys, prop="rules", identity=KEY_IDENTITY)
        if not used:
            yield "is encrypted with a KMS key that is not managed in this stack (its rotation cannot be verified)"
        for key in used:
            if dig(key.props, "enableKeyRotation") is not True:
                yield f"is encrypted with KMS key '{key.name}', which does not set enableKeyRotation"


# --- public access, TLS, ownership ---------------------------------------------------------------------


def _public_access(bucket: PolicyResource, found: list[PolicyResource], args: StackValidationArgs) -> Iterator[str]:
    if not found:
        yield _missing("BucketPublicAccessBlock")
    for block in found:
        open_flags = [flag for flag in PUBLIC_ACCESS_FLAGS if dig(block.props, flag) is not True]
        if open_flags:
            yield f"public access block leaves {open_flags} unset or false"


def _statements(document: Any) -> list[Any]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError:
            return []
    statements = dig(document, "Statement") if isinstance(document, Mapping) else None
    if isinstance(statements, Mapping):
        return [statements]
    return items(statements) if is_list(statements) else []


def _as_list(value: Any) -> list[Any]:
    return items(value) if is_list(value) else [value]


def denies_plain_http(statement: Any) -> bool:
    """{Effect: Deny, Principal: '*' (or AWS: '*'), Action: s3:* (or *), Condition: Bool aws:SecureTransport false}"""
    if not isinstance(statement, Mapping) or dig(statement, "Effect") != "Deny":
        return False
    principal = dig(statement, "Principal")
    everyone = principal == "*" or "*" in _as_list(dig(principal, "AWS"))
    actions = {str(a) for a in _as_list(dig(statement, "Action"))}
    condition = _as_list(dig(statement, "Condition", "Bool", "aws:SecureTransport"))
    insecure = all(v is False or (isinstance(v, str) and v.lower() == "false") for v in condition)
    return everyone and bool(actions & {"s3:*", "*"}) and insecure


def _tls_only(bucket: PolicyResource, found: list[PolicyResource], args: StackValidationArgs) -> Iterator[str]:
    if not found:
        yield _missing("BucketPolicy")
        return
    if not any(denies_plain_http(s) for policy in found for s in _statements(dig(policy.props, "policy"))):
        yield "has no bucket policy statement denying s3:* to everyone when aws:SecureTransport is false"


def _ownership(bucket: PolicyResource, found: list[PolicyResource], args: StackValidationArgs) -> Iterator[str]:
    if not found:
        yield _missing("BucketOwnershipControls")
    for controls in found:
        ownership = dig(controls.props, "rule", "objectOwnership")
        if ownership != "BucketOwnerEnforced":
            yield f"object ownership is {ownership!r}; BucketOwnerEnforced disables ACLs"


aws_s3_versioning = _bucket_policy(
    name="aws-s3-versioning",
    title="S3 buckets keep every version",
    description="Every S3 bucket has a BucketVersioning resource with status Enabled.",
    controls=(IEC_62443("SR 7.3"), IEC_62443("SR 7.4"), CIS_AWS("2.1.2")),
    settings_types=VERSIONING,
    judge=_versioning,
    remediation="Add aws.s3.BucketVersioning(bucket=<bucket>.id, versioning_configuration={'status': 'Enabled'}).",
)

aws_s3_object_lock = _bucket_policy(
    name="aws-s3-object-lock",
    title="S3 backup buckets are immutable (object lock, COMPLIANCE in production)",
    description=(
        "Every S3 backup bucket is created with objectLockEnabled and has a BucketObjectLockConfiguration "
        "whose default retention is COMPLIANCE in production (GOVERNANCE or COMPLIANCE elsewhere) for at "
        "least `minimumRetentionDays`. COMPLIANCE mode is the compensating control for MFA delete, which "
        "needs the root user. Buckets tagged factory-floor-purpose with a value other than 'backup' "
        "(e.g. an access-log bucket) are not judged."
    ),
    controls=(IEC_62443("SR 7.3"), IEC_62443("SR 7.4"), IEC_62443("SR 3.4"), CIS_AWS("2.1.2")),
    settings_types=OBJECT_LOCK,
    judge=_object_lock,
    remediation=(
        "Create the bucket with object_lock_enabled=True and add aws.s3.BucketObjectLockConfiguration with "
        "rule.default_retention {mode: COMPLIANCE, days: >= minimumRetentionDays}."
    ),
    backup_stores_only=True,
    config=("minimumRetentionDays", "environment"),
)

aws_s3_kms_encryption = _bucket_policy(
    name="aws-s3-kms-encryption",
    title="S3 buckets are encrypted with a rotating customer-managed KMS key",
    description=(
        "Every S3 bucket has a BucketServerSideEncryptionConfiguration with sseAlgorithm aws:kms, "
        "bucketKeyEnabled, and a kmsMasterKeyId that is an aws.kms.Key of this stack with enableKeyRotation."
    ),
    controls=(IEC_62443("SR 4.3"), IEC_62443("SR 4.1"), CIS_AWS("3.6")),
    settings_types=ENCRYPTION,
    judge=_encryption,
    remediation=(
        "Create aws.kms.Key(enable_key_rotation=True) and an aws.s3.BucketServerSideEncryptionConfiguration "
        "rule {apply_server_side_encryption_by_default: {sse_algorithm: aws:kms, kms_master_key_id: key.arn}, "
        "bucket_key_enabled: True}."
    ),
    extra_types=KMS_KEY,
)

aws_s3_public_access_block = _bucket_policy(
    name="aws-s3-public-access-block",
    title="S3 buckets block all public access",
    description="Every S3 bucket has a BucketPublicAccessBlock with all four flags true.",
    controls=(CIS_AWS("2.1.4"), IEC_62443("SR 4.1"), IEC_62443("SR 5.2")),
    settings_types=PUBLIC_ACCESS_BLOCK,
    judge=_public_access,
    remediation=(
        "Add aws.s3.BucketPublicAccessBlock with block_public_acls, block_public_policy, ignore_public_acls "
        "and restrict_public_buckets all True."
    ),
)

aws_s3_tls_only = _bucket_policy(
    name="aws-s3-tls-only",
    title="S3 buckets refuse plain HTTP",
    description=(
        "Every S3 bucket has a BucketPolicy with a statement denying s3:* to every principal when "
        "aws:SecureTransport is false. A policy document that is unknown during preview is judged by "
        "`pulumi up`; build it from the bucket's known name to have it judged at preview."
    ),
    controls=(CIS_AWS("2.1.1"), IEC_62443("SR 4.1"), IEC_62443("SR 3.1")),
    settings_types=BUCKET_POLICY,
    judge=_tls_only,
    remediation=(
        "Add aws.s3.BucketPolicy with {Effect: Deny, Principal: '*', Action: 's3:*', Resource: [bucket ARN, "
        "bucket ARN/*], Condition: {Bool: {'aws:SecureTransport': 'false'}}}."
    ),
)

aws_s3_owner_enforced = _bucket_policy(
    name="aws-s3-owner-enforced",
    title="S3 buckets disable ACLs (BucketOwnerEnforced)",
    description="Every S3 bucket has BucketOwnershipControls with objectOwnership BucketOwnerEnforced.",
    controls=(IEC_62443("SR 2.1"), IEC_62443("SR 4.1")),
    settings_types=OWNERSHIP,
    judge=_ownership,
    remediation="Add aws.s3.BucketOwnershipControls(rule={'object_ownership': 'BucketOwnerEnforced'}).",
)
