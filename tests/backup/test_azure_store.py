"""AzureBackupStore under the mock harness: what it registers in production and development, that the real policy
pack passes it and catches a weakened registration, the names it derives, and grant_writer's scope."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.backup.config import AzureStoreConfig
from components.backup.stores import azure
from components.backup.stores.azure import AzureBackupStore, AzureStoreArgs, grant_writer
from components.backup.stores.location import StoreLocation
from components.core.component import ComponentArgs, FactoryComponent, Protection
from factory_policies.settings import pack_config
from offline import harness
from offline.harness import Recording, Registration
from offline.policy_runner import evaluate, load_policies
from tests.support.runs import one

ROOT = Path(__file__).resolve().parents[2]
SUBSCRIPTION = "00000000-0000-4000-8000-000000000001"
TENANT = "00000000-0000-4000-8000-0000000000aa"
STORAGE = "azure-native:storage"
ACCOUNT, CONTAINER = f"{STORAGE}:StorageAccount", f"{STORAGE}:BlobContainer"
BLOB_SERVICE, LIFECYCLE = f"{STORAGE}:BlobServiceProperties", f"{STORAGE}:ManagementPolicy"
VAULT, KEY = "azure-native:keyvault:Vault", "azure-native:keyvault:Key"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
ROLE = "azure-native:authorization:RoleAssignment"
STATEFUL = {ACCOUNT: "store-account", VAULT: "store-vault", KEY: "store-key", IDENTITY: "store-identity"}
STATEFUL[CONTAINER] = "store-container"
LONGEST_FACTORY = "9" + "-a" * 31  # a 63-character DNS label that starts with a digit
POLICIES = load_policies(ROOT / "policy")


class AzureShapedEcho(harness.EchoMocks):
    """azure-native 3 takes `identity.userAssignedIdentities` as a list of ids and returns it as a map keyed by id;
    the harness echoes the list back, which the SDK refuses to read into the map. Answer the way Azure does."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        id_, outputs = super().new_resource(args)
        identity = outputs.get("identity")
        if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
            assigned: dict[str, Any] = {i: {} for i in identity["userAssignedIdentities"]}
            outputs = {**outputs, "identity": {**identity, "userAssignedIdentities": assigned}}
        return id_, outputs


@dataclass(frozen=True, kw_only=True)
class WriterArgs(ComponentArgs):
    pass


class Writer(FactoryComponent[WriterArgs]):
    """A test capability that writes to the store (Velero's side)."""


def run(
    environment: str,
    factory: str = "pilsen",
    program: Callable[[AzureBackupStore], None] | None = None,
    initial: bool = False,
    **store: Any,
) -> Recording:
    config = AzureStoreConfig.model_validate(
        {
            "subscriptionId": SUBSCRIPTION,
            "tenantId": TENANT,
            "resourceGroup": "pilsen-backups",
            "location": "westeurope",
            **store,
        }
    )

    def body() -> None:
        args = AzureStoreArgs(
            protection=Protection.of(environment, None),
            factory=factory,
            environment=environment,
            store=config,
            tenant_id=TENANT,
            initial_deployment=initial,
        )
        created = AzureBackupStore("store", args)
        pulumi.export("bucket", created.location.bucket)
        pulumi.export("velero", created.location.velero_config)
        pulumi.export("replica", created.location.replica)
        if program is not None:
            program(created)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(harness, "EchoMocks", AzureShapedEcho)
        return harness.run(body, project="factory-floor", stack=factory)


@pytest.fixture(scope="module")
def production() -> Recording:
    return run("production", geoRedundant=True)


@pytest.fixture(scope="module")
def development() -> Recording:
    return run("development")


def the(recording: Recording, type_: str) -> Registration:
    (found,) = recording.of_type(type_)
    return found


def test_every_child_uses_the_stores_own_provider_for_its_subscription_and_location(production: Recording) -> None:
    provider = one(production, "pulumi:providers:azure-native", "store-azure")
    assert provider.inputs["subscriptionId"] == SUBSCRIPTION
    assert (provider.inputs["tenantId"], provider.inputs["location"]) == (TENANT, "westeurope")
    clouds = [r for r in production.resources if r.type.startswith("azure-native:")]
    assert {r.type for r in clouds} == {*STATEFUL, BLOB_SERVICE, LIFECYCLE, ROLE}
    assert {r.provider_urn for r in clouds} == {provider.urn}
    assert the(production, "factory:index:AzureBackupStore").name == "store"


def test_the_account_accepts_only_entra_id_over_tls_and_encrypts_twice_with_the_key(production: Recording) -> None:
    account, identity = the(production, ACCOUNT).inputs, the(production, IDENTITY)
    assert account["sku"] == {"name": "Standard_GZRS"}
    assert (account["kind"], account["enableHttpsTrafficOnly"], account["minimumTlsVersion"]) == (
        "StorageV2",
        True,
        "TLS1_2",
    )
    for flag in ("allowBlobPublicAccess", "allowSharedKeyAccess", "allowCrossTenantReplication", "isHnsEnabled"):
        assert account[flag] is False, flag
    assert account["networkRuleSet"] == {"defaultAction": "Allow", "bypass": "AzureServices"}
    encryption = account["encryption"]
    assert (encryption["requireInfrastructureEncryption"], encryption["keySource"]) == (True, "Microsoft.Keyvault")
    assert encryption["keyVaultProperties"]["keyName"] == azure.KEY
    assert "keyVersion" not in encryption["keyVaultProperties"]  # versionless: follows the rotation
    identity_id = f"{identity.name}-id"
    assert encryption["encryptionIdentity"] == {"encryptionUserAssignedIdentity": identity_id}
    assert account["identity"] == {"type": "UserAssigned", "userAssignedIdentities": [identity_id]}
    assert account["tags"] == {"factory": "pilsen", "managed-by": "pulumi", "factory-floor-purpose": "backup"}
    # the identity may use the key before the account needs it
    assert one(production, ROLE, "store-key-user").urn in the(production, ACCOUNT).dependencies


def test_the_key_lives_in_a_purge_protected_rbac_vault_and_only_the_identity_may_wrap_with_it(
    production: Recording,
) -> None:
    vault = the(production, VAULT).inputs["properties"]
    assert vault["tenantId"] == TENANT
    assert (vault["enableRbacAuthorization"], vault["enablePurgeProtection"], vault["enableSoftDelete"]) == (
        True,
        True,
        True,
    )
    assert vault["softDeleteRetentionInDays"] == 90
    assert vault["networkAcls"] == {"defaultAction": "Deny", "bypass": "AzureServices"}
    key = the(production, KEY).inputs["properties"]
    assert (key["kty"], key["keyOps"], key["attributes"]["exportable"]) == ("RSA", ["wrapKey", "unwrapKey"], False)
    rotate = key["rotationPolicy"]["lifetimeActions"][0]
    assert rotate == {"action": {"type": "rotate"}, "trigger": {"timeAfterCreate": "P90D"}}
    grant = one(production, ROLE, "store-key-user")
    assert grant.inputs["roleDefinitionId"] == (
        f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/"
        "e147488a-f6f5-4113-8e2d-b22465e65bf6"
    )
    assert grant.inputs["scope"] == "store-key-id"  # the key, not the vault
    assert grant.property_dependencies["principalId"] == [the(production, IDENTITY).urn]


def test_blobs_are_soft_deleted_versioned_immutable_and_expire_after_retention(production: Recording) -> None:
    service = the(production, BLOB_SERVICE).inputs
    assert service["deleteRetentionPolicy"] == {"enabled": True, "days": 14, "allowPermanentDelete": False}
    assert service["containerDeleteRetentionPolicy"] == {"enabled": True, "days": 14}
    assert (service["isVersioningEnabled"], service["changeFeed"]["enabled"]) == (True, True)
    container = the(production, CONTAINER).inputs
    assert (container["containerName"], container["publicAccess"]) == ("backups", "None")
    assert container["immutableStorageWithVersioning"] == {"enabled": True}
    worm = the(production, ACCOUNT).inputs["immutableStorageWithVersioning"]
    assert worm["enabled"] is True
    assert worm["immutabilityPolicy"]["immutabilityPeriodSinceCreationInDays"] == 35
    (rule,) = the(production, LIFECYCLE).inputs["policy"]["rules"]
    assert rule["definition"]["actions"] == {
        "baseBlob": {"delete": {"daysAfterModificationGreaterThan": 90}},
        "version": {"delete": {"daysAfterCreationGreaterThan": 90}},
    }
    for type_ in (BLOB_SERVICE, LIFECYCLE, CONTAINER):
        assert the(production, type_).inputs["accountName"] == the(production, ACCOUNT).inputs["accountName"]
        assert the(production, ACCOUNT).urn in the(production, type_).dependencies


@pytest.mark.parametrize(
    ("environment", "store", "state"),
    [
        ("production", {}, "Locked"),
        ("production", {"initial": True}, "Unlocked"),  # Azure creates a policy only Unlocked
        ("development", {}, "Unlocked"),  # governance
        ("development", {"lockMode": "compliance"}, "Locked"),
    ],
)
def test_compliance_locks_the_immutability_policy_once_the_account_exists(
    environment: str, store: dict[str, Any], state: str
) -> None:
    account = the(run(environment, **store), ACCOUNT).inputs
    assert account["immutableStorageWithVersioning"]["immutabilityPolicy"]["state"] == state


def test_production_protects_and_retains_every_stateful_resource(production: Recording) -> None:
    for type_, name in STATEFUL.items():
        registration = one(production, type_, name)
        assert (registration.protect, registration.retain_on_delete) == (True, True), name
    # the settings too: a destroy must not lift soft delete, versioning or the lifecycle while keeping the account
    for type_ in (BLOB_SERVICE, LIFECYCLE, ROLE):
        assert (the(production, type_).protect, the(production, type_).retain_on_delete) == (True, True), type_


def test_development_protects_nothing(development: Recording) -> None:
    assert not [r.name for r in development.resources if r.protect or r.retain_on_delete]
    assert the(development, ACCOUNT).inputs["sku"] == {"name": "Standard_ZRS"}
    assert the(development, VAULT).inputs["properties"]["softDeleteRetentionInDays"] == 7


def _verdicts(recording: Recording) -> list[Any]:
    return evaluate(POLICIES, recording, config=pack_config(POLICIES, environment="production"))


def test_the_policy_pack_passes_the_production_store_and_judges_its_account(production: Recording) -> None:
    verdicts = _verdicts(production)
    assert [v for verdict in verdicts for v in verdict.violations] == []
    account = the(production, ACCOUNT).urn
    judging = {v.policy.name for v in verdicts if account in v.judged}
    assert {"backup-store-protected", "azure-storage-no-shared-key", "azure-blob-immutability"} <= judging


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(inputs: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        for part in parents:
            inputs = inputs[part]
        inputs[last] = value

    return change


def _mutated(recording: Recording, type_: str, change: Callable[[dict[str, Any]], None] | None) -> Recording:
    def one_changed(r: Registration) -> Registration:
        if r.type != type_:
            return r
        if change is None:
            return replace(r, protect=False)
        inputs = copy.deepcopy(r.inputs)
        change(inputs)
        return replace(r, inputs=inputs)

    return replace(recording, resources=[one_changed(r) for r in recording.resources])


@pytest.mark.parametrize(
    ("type_", "change", "policy"),
    [
        (ACCOUNT, _set("allowSharedKeyAccess", True), "azure-storage-no-shared-key"),
        (ACCOUNT, _set("encryption.keySource", "Microsoft.Storage"), "azure-storage-cmk-infrastructure-encryption"),
        (ACCOUNT, None, "backup-store-protected"),  # protect dropped
        (CONTAINER, _set("immutableStorageWithVersioning.enabled", False), "azure-blob-immutability"),
        (BLOB_SERVICE, _set("isVersioningEnabled", False), "azure-blob-soft-delete-and-versioning"),
    ],
    ids=["shared-key", "microsoft-managed-key", "unprotected", "container-not-worm", "versioning-off"],
)
def test_the_policy_pack_catches_a_weakened_registration(
    production: Recording, type_: str, change: Callable[[dict[str, Any]], None] | None, policy: str
) -> None:
    verdicts = _verdicts(_mutated(production, type_, change))
    caught = {verdict.policy.name for verdict in verdicts if verdict.violations}
    assert caught == {policy}
    assert all(v.level == "mandatory" for verdict in verdicts for v in verdict.violations)


@pytest.mark.parametrize("factory", ["pilsen", LONGEST_FACTORY, "a"])
def test_names_are_valid_for_any_factory_name(factory: str) -> None:
    assert len(LONGEST_FACTORY) == 63
    account, vault = azure.account_name(factory, SUBSCRIPTION), azure.vault_name(factory, SUBSCRIPTION)
    assert re.fullmatch(r"[a-z0-9]{3,24}", account), account
    assert re.fullmatch(r"[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]", vault), vault
    assert azure.account_name(factory, SUBSCRIPTION) == account  # deterministic
    other_subscription = SUBSCRIPTION.replace("1", "2")
    assert azure.account_name(factory, other_subscription) != account
    assert azure.vault_name(factory + "0", SUBSCRIPTION) != vault


def test_a_63_character_factory_registers_valid_names() -> None:
    recording = run("development", factory=LONGEST_FACTORY)
    assert len(the(recording, ACCOUNT).inputs["accountName"]) <= 24
    assert len(the(recording, VAULT).inputs["vaultName"]) <= 24


def test_the_location_tells_velero_where_and_how_to_write(production: Recording, development: Recording) -> None:
    account = the(production, ACCOUNT).inputs["accountName"]
    assert production.outputs["bucket"] == "backups"
    assert production.outputs["velero"] == {
        "resourceGroup": "pilsen-backups",
        "storageAccount": account,
        "subscriptionId": SUBSCRIPTION,
        "useAAD": "true",
    }
    assert (production.outputs["replica"], development.outputs["replica"]) == ("northeurope", None)
    with pytest.raises(ValueError, match="'polandcentral' has no region pair"):
        azure.paired_region("polandcentral")


def test_grant_writer_gives_one_principal_blob_data_contributor_on_the_container_only() -> None:
    def writer(store: AzureBackupStore) -> None:
        owner = Writer("velero", WriterArgs(protection=Protection(False)))
        grants = grant_writer(owner, "blob-writer", store.location, "principal-1", provider=store.provider)
        assert grants == [owner.resources["blob-writer"]]

    recording = run("production", program=writer)
    grant = one(recording, ROLE, "velero-blob-writer")
    account = the(recording, ACCOUNT).inputs["accountName"]
    assert grant.inputs["scope"] == (
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/pilsen-backups/providers/Microsoft.Storage/storageAccounts/"
        f"{account}/blobServices/default/containers/backups"
    )
    assert grant.inputs["roleDefinitionId"].endswith("/roleDefinitions/ba92f5b4-2d11-453d-a403-e96b0029c9fe")
    assert (grant.inputs["principalId"], grant.inputs["principalType"]) == ("principal-1", "ServicePrincipal")
    assert grant.parent == one(recording, "factory:index:Writer", "velero").urn
    assert grant.provider_urn == one(recording, "pulumi:providers:azure-native", "store-azure").urn
    assert the(recording, CONTAINER).urn in grant.dependencies  # the scope waits for the container


def test_grant_writer_refuses_a_store_of_another_cloud(production: Recording) -> None:
    other = StoreLocation(
        cloud="aws", bucket=pulumi.Output.from_input("b"), region="eu", key=pulumi.Output.from_input("k")
    )
    with pytest.raises(ValueError, match="aws store is not an Azure blob container"):
        grant_writer(None, "w", other, "p", provider=None)  # type: ignore[arg-type]
