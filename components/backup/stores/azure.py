"""The Azure backup store: one storage account per factory whose blob versions are immutable for `lockDays`,
encrypted twice (infrastructure encryption under a customer-managed Key Vault key), reachable only with Entra ID
identities over TLS 1.2, and kept `retentionDays`.

Immutability is version-level WORM set on the account (`immutableStorageWithVersioning`): its default policy's
`state` is part of the StorageAccount resource, so the program itself can lock it. A container-level
BlobContainerImmutabilityPolicy cannot be locked from azure-native: its `state` is output-only and locking is the
separate POST action BlobContainers_LockImmutabilityPolicy, which azure-native does not model (and its delete needs
an etag the provider does not send, pulumi/pulumi-azure-native#1492, PR #2154). Azure creates an account policy only
Disabled or Unlocked and locks an Unlocked one on a later update, irreversibly ("A policy can only be created in a
Disabled or Unlocked state ... Only a policy in an Unlocked state can transition to a Locked state which cannot be
reverted", learn.microsoft.com AccountImmutabilityPolicyState): a new compliance store is therefore applied once with
`initial_deployment=True` (Unlocked) and locked by the next `pulumi up` — the pattern of
hashicorp/terraform-provider-azurerm#24655.

Network: plant clusters write over the internet from addresses the config does not list, so the account's firewall
allows every network; every request still needs an Entra ID token (no shared key, no anonymous access) and TLS 1.2.
The Key Vault denies every network but trusted Azure services (Azure Storage's CMK access is one).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_azure_native as azure_native
from pulumi_azure_native import authorization, keyvault, managedidentity, storage

from components.backup.config import AzureStoreConfig, paired_region
from components.backup.stores.location import StoreArgs, StoreLocation
from components.core import vocabulary as vocab
from components.core.component import FactoryComponent

# Azure built-in role ids, the same in every tenant (learn.microsoft.com/azure/role-based-access-control/built-in-roles
# security#key-vault-crypto-service-encryption-user: keys/read, wrap, unwrap; storage#storage-blob-data-contributor)
CRYPTO_SERVICE_ENCRYPTION_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6"
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
CONTAINER = "backups"
KEY = "backup-cmk"
SOFT_DELETE_DAYS = 14  # the pack asks for 7 (CIS Azure 3.11); two weekends of unnoticed deletion
KEY_ROTATION = "P90D"  # a new key version every 90 days; the account follows the versionless key URI
KEY_VERSION_LIFETIME = "P1Y"


def _digest(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:8]


def account_name(factory: str, subscription_id: str) -> str:
    """3-24 lowercase letters and digits, globally unique: the factory's first 14 alphanumerics, 'bk', and a hash
    of subscription and factory (two tenants with a factory 'dev' do not collide)."""
    return re.sub(r"[^a-z0-9]", "", factory)[:14] + "bk" + _digest(subscription_id, factory)


def vault_name(factory: str, subscription_id: str) -> str:
    """3-24 characters, starting with a letter, no double hyphen, globally unique (and reserved while soft-deleted)."""
    return f"kv-{re.sub(r'[^a-z0-9]', '', factory)[:12]}-{_digest(subscription_id, factory)}"


def immutability(store: AzureStoreConfig, environment: str, initial_deployment: bool) -> dict[str, Any]:
    """The account's version-level WORM: every version immutable `lock_days` from its creation; locked (nobody can
    shorten it) in compliance mode once the account exists."""
    locked = store.mode(environment) == "compliance" and not initial_deployment
    return {
        "enabled": True,
        "immutability_policy": {
            "immutability_period_since_creation_in_days": store.lock_days,
            "allow_protected_append_writes": False,
            "state": "Locked" if locked else "Unlocked",
        },
    }


def lifecycle(store: AzureStoreConfig) -> dict[str, Any]:
    """Current blobs and their versions expire `retention_days` after they were written (never while locked)."""
    days = float(store.retention_days)
    return {
        "rules": [
            {
                "name": "expire-after-retention",
                "enabled": True,
                "type": "Lifecycle",
                "definition": {
                    "filters": {"blob_types": ["blockBlob"]},
                    "actions": {
                        "base_blob": {"delete": {"days_after_modification_greater_than": days}},
                        "version": {"delete": {"days_after_creation_greater_than": days}},
                    },
                },
            }
        ]
    }


@dataclass(frozen=True, kw_only=True)
class AzureStoreArgs(StoreArgs):
    store: AzureStoreConfig
    # Entra ID tenant of the subscription: the vault's and the provider's (the config has no key for it yet)
    tenant_id: str
    # True only for the `pulumi up` that creates the account: Azure refuses to create a Locked policy
    initial_deployment: bool = False


class AzureBackupStore(FactoryComponent[AzureStoreArgs]):
    """Creates, with its own azure-native provider for the store's subscription and location: a Key Vault (RBAC,
    purge protection, soft delete, network deny but trusted services) holding a rotating RSA key, a user-assigned
    identity allowed only to wrap and unwrap with that key, the storage account (ZRS or GZRS, HTTPS and TLS 1.2
    only, no anonymous, shared-key or cross-tenant access, infrastructure encryption plus the key, version-level
    WORM), its blob service (blob and container soft delete, versioning, change feed), the `backups` container
    and the lifecycle that expires copies after `retentionDays`. Account, vault, key, identity and container are
    stateful: protected and retained in production."""

    location: StoreLocation
    provider: azure_native.Provider
    account: storage.StorageAccount
    container: storage.BlobContainer

    def __init__(self, name: str, args: AzureStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, args, opts)
        store = args.store
        self.provider = self.own(
            "provider",
            azure_native.Provider(
                self.child_name("azure"),
                subscription_id=store.subscription_id,
                tenant_id=args.tenant_id,
                location=store.location,
                opts=self.child_opts(),
            ),
        )
        self.account_name = account_name(args.factory, store.subscription_id)
        identity, key, vault_uri, grant = self._key()
        self.account = self._account(identity, vault_uri, depends_on=[grant, key])
        self.container = self._blobs()
        self.location = StoreLocation(
            cloud="azure",
            # known in preview, yet waiting for the container
            bucket=pulumi.Output.all(CONTAINER, self.container.urn).apply(lambda values: values[0]),
            region=store.location,
            key=key.key_uri,
            velero_config={
                "resourceGroup": store.resource_group,
                "storageAccount": self.account_name,
                "subscriptionId": store.subscription_id,
                "useAAD": "true",
            },
            replica=paired_region(store.location) if store.geo_redundant else None,
            provider=self.provider,
        )
        self.finish({"account": self.account_name, "container": CONTAINER, "key": key.key_uri})

    def _where(self) -> dict[str, str]:
        return {"resource_group_name": self.args.store.resource_group, "location": self.args.store.location}

    def _vault(self) -> keyvault.Vault:
        args, tags = self.args, vocab.cloud_tags(self.args.factory)
        properties = {
            "tenant_id": args.tenant_id,
            "sku": {"family": "A", "name": "standard"},
            "enable_rbac_authorization": True,
            "enable_purge_protection": True,  # cannot be turned off again
            "enable_soft_delete": True,
            "soft_delete_retention_in_days": 90 if args.environment == "production" else 7,
            "enabled_for_deployment": False,
            "enabled_for_disk_encryption": False,
            "enabled_for_template_deployment": False,
            "network_acls": {"default_action": "Deny", "bypass": "AzureServices"},
        }
        name = vault_name(args.factory, args.store.subscription_id)
        return self.own(
            "vault",
            keyvault.Vault(
                self.child_name("vault"),
                vault_name=name,
                properties=properties,
                tags=tags,
                **self._where(),
                opts=self.child_opts(stateful=True, provider=self.provider),
            ),
        )

    def _key(self) -> tuple[managedidentity.UserAssignedIdentity, keyvault.Key, pulumi.Output[str], pulumi.Resource]:
        """The key, the identity the account unwraps it with, and the role assignment between them (on the key)."""
        vault = self._vault()
        key = self.own(
            "key",
            keyvault.Key(
                self.child_name("key"),
                key_name=KEY,
                vault_name=vault.name,
                resource_group_name=self.args.store.resource_group,
                properties={
                    "kty": "RSA",
                    "key_size": 3072,
                    "key_ops": ["wrapKey", "unwrapKey"],
                    "attributes": {"enabled": True, "exportable": False},
                    "rotation_policy": {
                        "attributes": {"expiry_time": KEY_VERSION_LIFETIME},
                        "lifetime_actions": [
                            {"action": {"type": "rotate"}, "trigger": {"time_after_create": KEY_ROTATION}},
                            {"action": {"type": "notify"}, "trigger": {"time_before_expiry": "P30D"}},
                        ],
                    },
                },
                opts=self.child_opts(stateful=True, provider=self.provider),
            ),
        )
        identity = self.own(
            "identity",
            managedidentity.UserAssignedIdentity(
                self.child_name("identity"),
                resource_name_=f"{self.args.factory}-backup-cmk",
                tags=vocab.cloud_tags(self.args.factory),
                **self._where(),
                opts=self.child_opts(stateful=True, provider=self.provider),
            ),
        )
        grant = self.own(
            "key-user",
            authorization.RoleAssignment(
                self.child_name("key-user"),
                principal_id=identity.principal_id,
                principal_type="ServicePrincipal",
                role_definition_id=_role(self.args.store.subscription_id, CRYPTO_SERVICE_ENCRYPTION_USER),
                scope=key.id,
                opts=self.child_opts(stateful=True, provider=self.provider),
            ),
        )
        vault_uri = vault.properties.apply(lambda p: p.vault_uri)
        return identity, key, vault_uri, grant

    def _account(
        self,
        identity: managedidentity.UserAssignedIdentity,
        vault_uri: pulumi.Output[str],
        depends_on: list[pulumi.Resource],
    ) -> storage.StorageAccount:
        args = self.args
        tags = {**vocab.cloud_tags(args.factory), vocab.PURPOSE: vocab.BACKUP_PURPOSE}
        return self.own(
            "account",
            storage.StorageAccount(
                self.child_name("account"),
                account_name=self.account_name,
                kind="StorageV2",
                sku={"name": "Standard_GZRS" if args.store.geo_redundant else "Standard_ZRS"},
                access_tier="Hot",
                is_hns_enabled=False,  # version-level WORM does not support a hierarchical namespace
                enable_https_traffic_only=True,
                minimum_tls_version="TLS1_2",
                allow_blob_public_access=False,
                allow_shared_key_access=False,
                default_to_o_auth_authentication=True,
                allow_cross_tenant_replication=False,
                allowed_copy_scope="AAD",
                public_network_access="Enabled",
                network_rule_set={"default_action": "Allow", "bypass": "AzureServices"},
                identity={"type": "UserAssigned", "user_assigned_identities": [identity.id]},
                encryption={
                    "require_infrastructure_encryption": True,
                    "key_source": "Microsoft.Keyvault",
                    "key_vault_properties": {"key_name": KEY, "key_vault_uri": vault_uri},  # versionless: rotates
                    "encryption_identity": {"encryption_user_assigned_identity": identity.id},
                    "services": {"blob": {"enabled": True, "key_type": "Account"}},
                },
                immutable_storage_with_versioning=immutability(args.store, args.environment, args.initial_deployment),
                tags=tags,
                **self._where(),
                opts=self.child_opts(stateful=True, provider=self.provider, depends_on=depends_on),
            ),
        )

    def _blobs(self) -> storage.BlobContainer:
        """Blob service settings, the container and the lifecycle, all on the account (named, so known in preview)."""
        on_account = {"account_name": self.account_name, "resource_group_name": self.args.store.resource_group}
        after_account = self.child_opts(stateful=True, provider=self.provider, depends_on=[self.account])
        service = self.own(
            "blob-service",
            storage.BlobServiceProperties(
                self.child_name("blob-service"),
                blob_services_name="default",
                delete_retention_policy={"enabled": True, "days": SOFT_DELETE_DAYS, "allow_permanent_delete": False},
                container_delete_retention_policy={"enabled": True, "days": SOFT_DELETE_DAYS},
                is_versioning_enabled=True,
                change_feed={"enabled": True, "retention_in_days": self.args.store.retention_days},
                **on_account,
                opts=after_account,
            ),
        )
        self.own(
            "lifecycle",
            storage.ManagementPolicy(
                self.child_name("lifecycle"),
                management_policy_name="default",
                policy=lifecycle(self.args.store),
                **on_account,
                opts=after_account,
            ),
        )
        return self.own(
            "container",
            storage.BlobContainer(
                self.child_name("container"),
                container_name=CONTAINER,
                public_access="None",
                immutable_storage_with_versioning={"enabled": True},
                **on_account,
                opts=self.child_opts(stateful=True, provider=self.provider, depends_on=[self.account, service]),
            ),
        )


def _role(subscription_id: pulumi.Input[str], role: str) -> pulumi.Output[str]:
    return pulumi.Output.concat(
        "/subscriptions/", subscription_id, "/providers/Microsoft.Authorization/roleDefinitions/", role
    )


def container_scope(location: StoreLocation) -> pulumi.Output[str]:
    """The ARM id of the store's container: the narrowest scope a Storage Blob Data role can have."""
    config = location.velero_config
    return pulumi.Output.concat(
        "/subscriptions/",
        config["subscriptionId"],
        "/resourceGroups/",
        config["resourceGroup"],
        "/providers/Microsoft.Storage/storageAccounts/",
        config["storageAccount"],
        "/blobServices/default/containers/",
        location.bucket,
    )


def grant_writer(
    owner: FactoryComponent[Any],
    key: str,
    location: StoreLocation,
    principal_id: pulumi.Input[str],
    *,
    provider: pulumi.ProviderResource,
    principal_type: str = "ServicePrincipal",
) -> list[pulumi.Resource]:
    """Storage Blob Data Contributor for one principal (Velero's workload identity, a snapshot job's) on the
    store's container only, as `owner`'s child `key` through the store's `provider`. The role may write, read and
    delete blobs, but no role can delete or overwrite a version before its immutability period ends: the writer
    cannot destroy copies it made."""
    if location.cloud != "azure":
        raise ValueError(f"grant_writer: a {location.cloud} store is not an Azure blob container")
    return [
        owner.own(
            key,
            authorization.RoleAssignment(
                owner.child_name(key),
                principal_id=principal_id,
                principal_type=principal_type,
                role_definition_id=_role(location.velero_config["subscriptionId"], STORAGE_BLOB_DATA_CONTRIBUTOR),
                scope=container_scope(location),
                opts=owner.child_opts(provider=provider),
            ),
        )
    ]
