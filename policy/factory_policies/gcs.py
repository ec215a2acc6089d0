"""Cloud Storage backup buckets: one resource carries every setting, so these are resource policies."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity

from factory_policies.cloud_links import is_backup_store
from factory_policies.controls import CIS_GCP, IEC_62443, dig, mapping, number, present
from factory_policies.kit import resource_policy
from factory_policies.settings import is_production, setting

GCS_BUCKET = "gcp:storage/bucket:Bucket"
SECONDS_PER_DAY = 86400


def _check_uniform_access(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if dig(args.props, "uniformBucketLevelAccess") is not True:
        report_violation(f"bucket '{args.name}' does not set uniformBucketLevelAccess (object ACLs stay active)", None)


def _check_public_access_prevention(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    prevention = dig(args.props, "publicAccessPrevention")
    if prevention != "enforced":
        report_violation(f"bucket '{args.name}' publicAccessPrevention is {prevention!r}, not 'enforced'", None)


def _check_cmek(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    encryption = mapping(args.props, "encryption")
    # the key name is usually another resource's output: its presence is what preview can judge
    if not present(encryption, "defaultKmsKeyName") or dig(encryption, "defaultKmsKeyName") == "":
        report_violation(f"bucket '{args.name}' has no encryption.defaultKmsKeyName (customer-managed key)", None)


def _check_retention(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not is_backup_store(args.props, "labels"):
        return
    minimum = number(setting(args, "minimumRetentionDays")) or 0.0
    policy = mapping(args.props, "retentionPolicy")
    days = (number(dig(policy, "retentionPeriod")) or 0.0) / SECONDS_PER_DAY
    if days < minimum:
        report_violation(
            f"bucket '{args.name}' retentionPolicy keeps objects {days:g} days, less than the minimum {minimum:g}",
            None,
        )
    if is_production(args) and dig(policy, "isLocked") is not True:
        report_violation(f"bucket '{args.name}' retentionPolicy is not locked (isLocked) in production", None)


gcs_uniform_access = resource_policy(
    name="gcs-uniform-bucket-level-access",
    title="Cloud Storage buckets use uniform bucket-level access",
    description="Every GCS bucket sets uniformBucketLevelAccess: IAM alone decides access, no object ACLs.",
    controls=(CIS_GCP("5.2"), IEC_62443("SR 2.1")),
    resource_types=(GCS_BUCKET,),
    check=_check_uniform_access,
    severity=Severity.HIGH,
    remediation="Set uniform_bucket_level_access=True on the gcp.storage.Bucket.",
)

gcs_public_access_prevention = resource_policy(
    name="gcs-public-access-prevention",
    title="Cloud Storage buckets enforce public access prevention",
    description="Every GCS bucket sets publicAccessPrevention to 'enforced'.",
    controls=(CIS_GCP("5.1"), IEC_62443("SR 4.1"), IEC_62443("SR 5.2")),
    resource_types=(GCS_BUCKET,),
    check=_check_public_access_prevention,
    severity=Severity.HIGH,
    remediation="Set public_access_prevention='enforced' on the gcp.storage.Bucket.",
)

gcs_cmek = resource_policy(
    name="gcs-customer-managed-key",
    title="Cloud Storage buckets are encrypted with a customer-managed key",
    description="Every GCS bucket sets encryption.defaultKmsKeyName (CMEK).",
    controls=(IEC_62443("SR 4.3"), IEC_62443("SR 4.1")),
    resource_types=(GCS_BUCKET,),
    check=_check_cmek,
    severity=Severity.HIGH,
    remediation="Create a Cloud KMS CryptoKey with a rotation period and set encryption.default_kms_key_name to it.",
)

gcs_retention = resource_policy(
    name="gcs-retention-policy",
    title="Cloud Storage backup buckets retain objects (locked in production)",
    description=(
        "Every GCS backup bucket has a retentionPolicy of at least `minimumRetentionDays`, locked (isLocked) "
        "in production. Buckets labelled factory-floor-purpose with a value other than 'backup' are not "
        "judged."
    ),
    controls=(IEC_62443("SR 7.3"), IEC_62443("SR 7.4"), CIS_GCP("2.3")),
    resource_types=(GCS_BUCKET,),
    check=_check_retention,
    severity=Severity.HIGH,
    remediation=(
        "Set retention_policy {retention_period: <days * 86400>, is_locked: True in production}; a locked "
        "policy cannot be shortened or removed."
    ),
    config=("minimumRetentionDays", "environment"),
)
