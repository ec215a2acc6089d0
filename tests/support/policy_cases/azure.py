"""Azure Storage backup stores (azure-native): account settings, blob service, containers."""

from __future__ import annotations

from dataclasses import replace

import factory_policies as fp
from tests.support.policy_kit import DELETE, DROP, Case, Mutation, Res

STORAGE = "azure-native:storage"
ACCOUNT = "backupaccount"
ON_ACCOUNT = {"accountName": (ACCOUNT,)}

FIXTURE = (
    Res(
        f"{STORAGE}:StorageAccount",
        {
            "accountName": "pilsenbackups",
            "resourceGroupName": "pilsen-backups",
            "kind": "StorageV2",
            "sku": {"name": "Standard_ZRS"},
            "enableHttpsTrafficOnly": True,
            "minimumTlsVersion": "TLS1_2",
            "allowBlobPublicAccess": False,
            "allowSharedKeyAccess": False,
            "allowCrossTenantReplication": False,
            "encryption": {
                "requireInfrastructureEncryption": True,
                "keySource": "Microsoft.Keyvault",
                "keyVaultProperties": {"keyName": "velero", "keyVaultUri": "https://pilsen-kv.vault.azure.net"},
                "services": {"blob": {"enabled": True}},
            },
            "tags": {"factory-floor-purpose": "backup"},
        },
        name=ACCOUNT,
        protect=True,
    ),
    Res(
        f"{STORAGE}:BlobServiceProperties",
        {
            "accountName": "pilsenbackups",
            "resourceGroupName": "pilsen-backups",
            "blobServicesName": "default",
            "deleteRetentionPolicy": {"enabled": True, "days": 14},
            "containerDeleteRetentionPolicy": {"enabled": True, "days": 14},
            "isVersioningEnabled": True,
        },
        name="blob-service",
        links=ON_ACCOUNT,
    ),
    Res(
        f"{STORAGE}:BlobContainer",
        {
            "accountName": "pilsenbackups",
            "resourceGroupName": "pilsen-backups",
            "containerName": "velero",
            "publicAccess": "None",
        },
        name="velero",
        links=ON_ACCOUNT,
    ),
    Res(
        f"{STORAGE}:BlobContainerImmutabilityPolicy",
        {
            "accountName": "pilsenbackups",
            "resourceGroupName": "pilsen-backups",
            "containerName": "velero",
            "immutabilityPeriodSinceCreationInDays": 35,
            "allowProtectedAppendWrites": True,
        },
        name="velero-worm",
        links={**ON_ACCOUNT, "containerName": ("velero",)},
    ),
)

# version-level immutability instead of a container policy
VERSION_WORM = tuple(
    replace(r, props={**r.props, "immutableStorageWithVersioning": {"enabled": True}}) if r.name == "velero" else r
    for r in FIXTURE
    if r.name != "velero-worm"
)


def account_case(policy: object, *mutations: Mutation) -> Case:
    return Case(policy, FIXTURE, tuple(Mutation(m.id, m.path, m.value, m.expect, ACCOUNT) for m in mutations))


CASES = [
    account_case(
        fp.azure_storage_secure_transfer,
        Mutation("http-allowed", "enableHttpsTrafficOnly", False, "enableHttpsTrafficOnly is False"),
        Mutation("tls-1-0", "minimumTlsVersion", "TLS1_0", "'TLS1_0', must be TLS1_2"),
        Mutation("tls-unset", "minimumTlsVersion", DELETE, "minimumTlsVersion is None"),
    ),
    account_case(
        fp.azure_storage_no_public_blobs,
        Mutation("public-blobs", "allowBlobPublicAccess", True, "allowBlobPublicAccess is True"),
    ),
    account_case(
        fp.azure_storage_no_shared_key,
        Mutation("shared-key", "allowSharedKeyAccess", True, "allowSharedKeyAccess is True"),
        Mutation("shared-key-unset-means-true", "allowSharedKeyAccess", DELETE, "allowSharedKeyAccess is None"),
    ),
    account_case(
        fp.azure_storage_no_cross_tenant,
        Mutation("cross-tenant", "allowCrossTenantReplication", True, "allowCrossTenantReplication is True"),
    ),
    account_case(
        fp.azure_storage_encryption,
        Mutation(
            "no-infrastructure-encryption", "encryption.requireInfrastructureEncryption", False, "requireInfrastructure"
        ),
        Mutation("microsoft-managed-key", "encryption.keySource", "Microsoft.Storage", "not Microsoft.Keyvault"),
        Mutation("no-key-named", "encryption.keyVaultProperties", DELETE, "no encryption.keyVaultProperties"),
    ),
    Case(
        fp.azure_blob_soft_delete,
        FIXTURE,
        (
            Mutation(
                "blob-soft-delete-off",
                "deleteRetentionPolicy.enabled",
                False,
                "deleteRetentionPolicy keeps",
                "blob-service",
            ),
            Mutation(
                "blob-soft-delete-short", "deleteRetentionPolicy.days", 3, "keeps deleted data 3 days", "blob-service"
            ),
            Mutation(
                "container-soft-delete-unset",
                "containerDeleteRetentionPolicy",
                DELETE,
                "containerDeleteRetentionPolicy",
                "blob-service",
            ),
            Mutation("versioning-off", "isVersioningEnabled", False, "isVersioningEnabled", "blob-service"),
            Mutation("no-blob-service", "", DROP, "has no BlobServiceProperties", "blob-service"),
        ),
    ),
    Case(
        fp.azure_blob_immutability,
        FIXTURE,
        (
            Mutation(
                "policy-too-short", "immutabilityPeriodSinceCreationInDays", 7, "keeps blobs 7 days", "velero-worm"
            ),
            Mutation("no-policy", "", DROP, "neither immutableStorageWithVersioning nor", "velero-worm"),
        ),
        id="azure-blob-immutability-policy",
    ),
    Case(
        fp.azure_blob_immutability,
        VERSION_WORM,
        (Mutation("version-worm-off", "immutableStorageWithVersioning.enabled", False, "neither", "velero"),),
        id="azure-blob-immutability-version-level",
    ),
]
