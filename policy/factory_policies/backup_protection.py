"""In production, a backup store cannot be deleted by a `pulumi destroy` or a refactoring mistake.

`protect=True` makes the engine refuse to delete the resource. `retain_on_delete=True` (keep the cloud
object if it ever leaves the program) is invisible to policies: pulumi-policy 1.21's PolicyResourceOptions
carries protect but no retain flag, so the offline harness (which records it) and component tests own that
half of the rule.
"""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity

from factory_policies.aws_s3 import BUCKET as S3_BUCKETS
from factory_policies.azure_storage import ACCOUNT as AZURE_ACCOUNT
from factory_policies.cloud_links import is_backup_store
from factory_policies.controls import IEC_62443
from factory_policies.gcs import GCS_BUCKET
from factory_policies.kit import resource_policy
from factory_policies.settings import environment, is_production

# where each store type keeps its tags (the purpose tag lives there)
TAGS_KEY = {**{t: "tags" for t in S3_BUCKETS}, GCS_BUCKET: "labels", AZURE_ACCOUNT: "tags"}


def _check(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not is_production(args) or not is_backup_store(args.props, TAGS_KEY[args.resource_type]):
        return
    if not args.opts.protect:
        report_violation(
            f"backup store '{args.name}' is not protected (opts.protect) in a {environment(args)} stack", None
        )


backup_store_protected = resource_policy(
    name="backup-store-protected",
    title="Backup stores are protected from deletion in production",
    description=(
        "In production stacks every backup store (S3 bucket, GCS bucket, Azure storage account not tagged "
        "with another factory-floor-purpose) is registered with protect=True. retain_on_delete is not "
        "visible to CrossGuard and is checked by the component tests."
    ),
    controls=(IEC_62443("SR 7.3"), IEC_62443("SR 7.4")),
    resource_types=tuple(TAGS_KEY),
    check=_check,
    severity=Severity.CRITICAL,
    remediation=(
        "Register the store with pulumi.ResourceOptions(protect=True, retain_on_delete=True); a disposable "
        "stack sets environment to staging or development in the pack config instead."
    ),
    config=("environment",),
)
