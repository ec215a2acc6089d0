"""Azure Storage backup stores (azure-native): the account's own settings, its blob service and containers.

Account settings are resource policies. Soft delete and versioning live in BlobServiceProperties and
immutability on each BlobContainer (or a BlobContainerImmutabilityPolicy beside it), so those are stack
policies linking each to its account through `accountName` (cloud_links).
"""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import (
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    Severity,
    StackValidationArgs,
)

from factory_policies.cloud_links import is_backup_store, linked, of_types, owners
from factory_policies.controls import CIS_AZURE, IEC_62443, dig, mapping, number, present
from factory_policies.kit import each, resource_policy, stack_policy
from factory_policies.settings import setting

ACCOUNT = "azure-native:storage:StorageAccount"
BLOB_SERVICE = "azure-native:storage:BlobServiceProperties"
CONTAINER = "azure-native:storage:BlobContainer"
IMMUTABILITY_POLICY = "azure-native:storage:BlobContainerImmutabilityPolicy"
ACCOUNT_IDENTITY = ("accountName", "name")
CONTAINER_IDENTITY = ("containerName", "name")
STRONG_TLS = ("TLS1_2", "TLS1_3")
# CIS Azure 3.11 asks for soft delete; a week covers a weekend's unnoticed deletion
SOFT_DELETE_MIN_DAYS = 7


def _flag(args: ResourceValidationArgs, field: str, wanted: bool, why: str, report_violation: ReportViolation) -> None:
    # explicit values only: the service defaults of these fields changed between API versions
    value = dig(args.props, field)
    if value is not wanted:
        report_violation(f"storage account '{args.name}' {field} is {value!r}, must be {wanted}: {why}", None)


def _check_transport(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    _flag(args, "enableHttpsTrafficOnly", True, "plain HTTP must be refused", report_violation)
    tls = dig(args.props, "minimumTlsVersion")
    if tls not in STRONG_TLS:
        report_violation(f"storage account '{args.name}' minimumTlsVersion is {tls!r}, must be TLS1_2 or newer", None)


def _check_public_blobs(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    _flag(args, "allowBlobPublicAccess", False, "no container may ever be made anonymous", report_violation)


def _check_shared_key(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    _flag(
        args,
        "allowSharedKeyAccess",
        False,
        "access goes through Entra ID identities, not account keys",
        report_violation,
    )


def _check_cross_tenant(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    _flag(args, "allowCrossTenantReplication", False, "backups never replicate out of the tenant", report_violation)


def _check_encryption(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    encryption = mapping(args.props, "encryption")
    if dig(encryption, "requireInfrastructureEncryption") is not True:
        report_violation(f"storage account '{args.name}' does not set encryption.requireInfrastructureEncryption", None)
    source = dig(encryption, "keySource")
    if str(source).lower() != "microsoft.keyvault":  # the service compares case-insensitively
        report_violation(
            f"storage account '{args.name}' encryption.keySource is {source!r}, not Microsoft.Keyvault", None
        )
    elif not present(encryption, "keyVaultProperties"):
        report_violation(f"storage account '{args.name}' names no encryption.keyVaultProperties (the key)", None)


def _retention(policy: object, days_field: str = "days") -> float:
    return (number(dig(policy, days_field)) or 0.0) if dig(policy, "enabled") is True else 0.0


def _blob_service(account: PolicyResource, found: list[PolicyResource]) -> Iterator[str]:
    if not found:
        yield "has no BlobServiceProperties (soft delete and versioning)"
    for service in found:
        for field in ("deleteRetentionPolicy", "containerDeleteRetentionPolicy"):
            days = _retention(mapping(service.props, field))
            if days < SOFT_DELETE_MIN_DAYS:
                yield f"{field} keeps deleted data {days:g} days (enabled and at least {SOFT_DELETE_MIN_DAYS} required)"
        if dig(service.props, "isVersioningEnabled") is not True:
            yield "does not set isVersioningEnabled on its blob service"


def _check_blob_service(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    accounts = of_types(args.resources, (ACCOUNT,))

    def judge(account: PolicyResource) -> list[str]:
        found = linked(
            account,
            resources=args.resources,
            types=(BLOB_SERVICE,),
            targets=accounts,
            prop="accountName",
            identity=ACCOUNT_IDENTITY,
        )
        return [f"storage account '{account.name}' {m}" for m in _blob_service(account, found)]

    each(accounts, judge, report_violation)


def _immutability(container: PolicyResource, policies: list[PolicyResource], minimum: float) -> Iterator[str]:
    worm_versions = dig(container.props, "immutableStorageWithVersioning", "enabled") is True
    if not policies and not worm_versions:
        yield "has neither immutableStorageWithVersioning nor a BlobContainerImmutabilityPolicy"
    for policy in policies:
        days = number(dig(policy.props, "immutabilityPeriodSinceCreationInDays")) or 0.0
        if days < minimum:
            yield f"immutability policy '{policy.name}' keeps blobs {days:g} days, less than the minimum {minimum:g}"


def _check_immutability(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    accounts = of_types(args.resources, (ACCOUNT,))
    containers = of_types(args.resources, (CONTAINER,))
    minimum = number(setting(args, "minimumRetentionDays")) or 0.0

    def judge(container: PolicyResource) -> list[str]:
        account = owners(container, accounts, prop="accountName", identity=ACCOUNT_IDENTITY)
        if account and not all(is_backup_store(a.props, "tags") for a in account):
            return []
        policies = linked(
            container,
            resources=args.resources,
            types=(IMMUTABILITY_POLICY,),
            targets=containers,
            prop="containerName",
            identity=CONTAINER_IDENTITY,
        )
        return [f"blob container '{container.name}' {m}" for m in _immutability(container, policies, minimum)]

    each(containers, judge, report_violation)


ACCOUNT_ONLY = (ACCOUNT,)

azure_storage_secure_transfer = resource_policy(
    name="azure-storage-secure-transfer",
    title="Storage accounts accept HTTPS only, TLS 1.2 or newer",
    description="Every storage account sets enableHttpsTrafficOnly true and minimumTlsVersion TLS1_2 (or newer).",
    controls=(CIS_AZURE("3.1"), CIS_AZURE("3.15"), IEC_62443("SR 4.1"), IEC_62443("SR 3.1")),
    resource_types=ACCOUNT_ONLY,
    check=_check_transport,
    severity=Severity.HIGH,
    remediation="Set enable_https_traffic_only=True and minimum_tls_version='TLS1_2' on the StorageAccount.",
)

azure_storage_no_public_blobs = resource_policy(
    name="azure-storage-no-public-blob-access",
    title="Storage accounts forbid anonymous blob access",
    description="Every storage account sets allowBlobPublicAccess false.",
    controls=(CIS_AZURE("3.7"), CIS_AZURE("3.17"), IEC_62443("SR 4.1"), IEC_62443("SR 5.2")),
    resource_types=ACCOUNT_ONLY,
    check=_check_public_blobs,
    severity=Severity.HIGH,
    remediation="Set allow_blob_public_access=False on the StorageAccount.",
)

azure_storage_no_shared_key = resource_policy(
    name="azure-storage-no-shared-key",
    title="Storage accounts refuse shared-key authorization",
    description=(
        "Every storage account sets allowSharedKeyAccess false (unset means true): clients authenticate with "
        "Entra ID identities (Velero through workload identity), never with an account key."
    ),
    controls=(IEC_62443("SR 1.2"), IEC_62443("SR 2.1")),
    resource_types=ACCOUNT_ONLY,
    check=_check_shared_key,
    severity=Severity.HIGH,
    remediation="Set allow_shared_key_access=False and grant the backup identity a Storage Blob Data role.",
)

azure_storage_no_cross_tenant = resource_policy(
    name="azure-storage-no-cross-tenant-replication",
    title="Storage accounts do not replicate to other tenants",
    description="Every storage account sets allowCrossTenantReplication false.",
    controls=(CIS_AZURE("3.16"), IEC_62443("SR 4.1")),
    resource_types=ACCOUNT_ONLY,
    check=_check_cross_tenant,
    severity=Severity.MEDIUM,
    remediation="Set allow_cross_tenant_replication=False on the StorageAccount.",
)

azure_storage_encryption = resource_policy(
    name="azure-storage-cmk-infrastructure-encryption",
    title="Storage accounts use a customer-managed key and infrastructure encryption",
    description=(
        "Every storage account sets encryption.requireInfrastructureEncryption true and encryption.keySource "
        "Microsoft.Keyvault with keyVaultProperties naming the key."
    ),
    controls=(CIS_AZURE("3.2"), CIS_AZURE("3.12"), IEC_62443("SR 4.3"), IEC_62443("SR 4.1")),
    resource_types=ACCOUNT_ONLY,
    check=_check_encryption,
    severity=Severity.HIGH,
    remediation=(
        "Set encryption {require_infrastructure_encryption: True, key_source: 'Microsoft.Keyvault', "
        "key_vault_properties: {key_name, key_vault_uri}} with a user-assigned identity that may use the key."
    ),
)

azure_blob_soft_delete = stack_policy(
    name="azure-blob-soft-delete-and-versioning",
    title="Blob services keep deleted blobs, containers and versions",
    description=(
        f"Every storage account has a BlobServiceProperties with deleteRetentionPolicy and "
        f"containerDeleteRetentionPolicy enabled for at least {SOFT_DELETE_MIN_DAYS} days, and "
        "isVersioningEnabled."
    ),
    controls=(CIS_AZURE("3.11"), IEC_62443("SR 7.3"), IEC_62443("SR 7.4")),
    resource_types=(ACCOUNT, BLOB_SERVICE),
    check=_check_blob_service,
    severity=Severity.HIGH,
    remediation=(
        "Add storage.BlobServiceProperties(blob_services_name='default', delete_retention_policy={enabled: "
        "True, days: >= 7}, container_delete_retention_policy={enabled: True, days: >= 7}, "
        "is_versioning_enabled=True)."
    ),
)

azure_blob_immutability = stack_policy(
    name="azure-blob-immutability",
    title="Backup containers are immutable",
    description=(
        "Every blob container of a backup storage account enables immutableStorageWithVersioning or has a "
        "BlobContainerImmutabilityPolicy of at least `minimumRetentionDays`. Locking a policy is an Azure "
        "action outside the resource model and cannot be checked here."
    ),
    controls=(IEC_62443("SR 7.3"), IEC_62443("SR 3.4"), IEC_62443("SR 7.4")),
    resource_types=(ACCOUNT, CONTAINER, IMMUTABILITY_POLICY),
    check=_check_immutability,
    severity=Severity.HIGH,
    remediation=(
        "Set immutable_storage_with_versioning={enabled: True} on the BlobContainer and add a "
        "BlobContainerImmutabilityPolicy with immutability_period_since_creation_in_days >= minimumRetentionDays."
    ),
    config=("minimumRetentionDays",),
)
