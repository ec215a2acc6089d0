"""Writer principals for a cluster that reaches a store with a credential rather than its own cloud identity (a
k3s/RKE2 plant cluster, a cluster of another cloud or AWS account): one principal per (cluster, purpose, store),
granted its own prefix of that one store and nothing else, made with the store's own provider.

The program creates the principal and never its credential: an access key, a service-account key or a client
secret made by a program would sit in its state. The operator creates the credential for the principal named
here, straight into Vault (docs/disaster-recovery.md, "Credentials for a store"); External Secrets delivers it.

- AWS: an IAM user with no console password and no key, in an IAM group that carries the writer policy
  (checkov CKV_AWS_40: policies on groups or roles, never on users). `force_destroy` lets `pulumi destroy` remove
  the user together with the access key the operator made for it.
- GCP: a service account with no key, granted the bucket's conditional writer roles on its prefix.
- Azure: the program cannot create an Entra ID service principal (that needs the azuread provider, and a client
  secret is a credential): `backup.azure.writers` names one per cluster, and the program grants it the container.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp

from components.backup.config import (
    ETCD_SELF_MANAGED,
    AwsStoreConfig,
    AzureStoreConfig,
    Cloud,
    GcpStoreConfig,
    StoreConfig,
)
from components.backup.etcd.uploader import SSE_KMS_VARIABLES
from components.backup.stores import aws as aws_store
from components.backup.stores import azure as azure_store
from components.backup.stores import gcp as gcp_store
from components.backup.stores.location import StoreLocation
from components.config.document import FactoryConfig
from components.config.factory import ClusterConfig
from components.core.component import FactoryComponent

# where `aws s3api get-bucket-encryption` names the bucket's default KMS key
BUCKET_KEY_QUERY = "ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.KMSMasterKeyID"
ETCD_PURPOSE = "etcd"  # the servers' snapshot uploader (components/backup/etcd/uploader.py)
IAM_PATH = "/factory-floor/"  # every writer user and group, so an account's auditors find them in one place
GCP_ACCOUNT_ID = re.compile(r"^[a-z](?:[-a-z0-9]{4,28}[a-z0-9])$")


@dataclass(frozen=True)
class Writer:
    """Who writes with a credential, as the operator addresses it when creating that credential."""

    cloud: Cloud
    principal: pulumi.Input[str]  # the IAM user name, the service account's e-mail, the service principal's id


def etcd_writes_to_aws(config: FactoryConfig, cluster: ClusterConfig) -> bool:
    """A k3s/RKE2 cluster whose servers upload encrypted snapshots to the factory's AWS store (`backup.etcd`)."""
    etcd = config.backup.etcd
    return (
        etcd is not None
        and etcd.store == "aws"
        and config.backup.aws is not None
        and cluster.distribution in ETCD_SELF_MANAGED
    )


def principal_name(factory: str, cluster: str, purpose: str) -> str:
    """The IAM user and group of one writer: unique per factory, cluster and purpose within an account (64 max)."""
    name = f"{factory}-{cluster}-{purpose}"
    return name if len(name) <= 64 else f"{name[:55]}-{_digest(name)}"


def gcp_account_id(factory: str, cluster: str, purpose: str) -> str:
    """A service-account id is 6-30 of [a-z0-9-]: the purpose, the start of the cluster's name and a digest of the
    whole (factory, cluster, purpose), so two factories sharing a project never collide."""
    head = re.sub(r"-+", "-", f"{purpose[:8]}-{cluster[:14]}").rstrip("-")
    account = f"{head}-{_digest(f'{factory}/{cluster}/{purpose}')}"
    if not GCP_ACCOUNT_ID.match(account):
        raise ValueError(f"writer account id '{account}' is not a valid GCP service-account id")
    return account


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:6]


def credential_writer(
    owner: FactoryComponent[Any],
    location: StoreLocation,
    *,
    factory: str,
    cluster: str,
    purpose: str,
    prefix: str,
    azure_principal: str | None = None,
) -> Writer:
    """The writer principal of `cluster`'s `purpose` (velero, etcd, escrow) on the store at `location`, with write
    access to `prefix` of it only — children of `owner`, keys `<purpose>-writer-<cloud>*`."""
    key = f"{purpose}-writer-{location.cloud}"
    if location.cloud == "aws":
        return _aws(owner, key, location, principal_name(factory, cluster, purpose), prefix)
    if location.cloud == "gcp":
        return _gcp(owner, key, location, gcp_account_id(factory, cluster, purpose), prefix)
    if azure_principal is None:
        raise ValueError(f"cluster {cluster}: an Azure writer needs its service principal (backup.azure.writers)")
    assert location.provider is not None  # the Azure store's own provider: the grant is on its container
    azure_store.grant_writer(owner, key, location, azure_principal, provider=location.provider)
    return Writer("azure", azure_principal)


def _cloud_opts(owner: FactoryComponent[Any], location: StoreLocation) -> pulumi.ResourceOptions:
    """A cloud principal needs nothing of the cluster: not after its admission gate (the owner's `after`)."""
    return pulumi.ResourceOptions(parent=owner, provider=location.provider)


def _aws(owner: FactoryComponent[Any], key: str, location: StoreLocation, name: str, prefix: str) -> Writer:
    opts = _cloud_opts(owner, location)
    user = owner.own(
        f"{key}-user",
        aws.iam.User(owner.child_name(f"{key}-user"), name=name, path=IAM_PATH, force_destroy=True, opts=opts),
    )
    group = owner.own(
        f"{key}-group", aws.iam.Group(owner.child_name(f"{key}-group"), name=name, path=IAM_PATH, opts=opts)
    )
    owner.own(
        f"{key}-membership",
        aws.iam.UserGroupMembership(
            owner.child_name(f"{key}-membership"), user=user.name, groups=[group.name], opts=opts
        ),
    )
    aws_store.grant_writer(owner, key, location, group.name, prefix, group=True)
    return Writer("aws", user.name)


def _gcp(owner: FactoryComponent[Any], key: str, location: StoreLocation, account_id: str, prefix: str) -> Writer:
    account = owner.own(
        f"{key}-account",
        gcp.serviceaccount.Account(
            owner.child_name(f"{key}-account"),
            account_id=account_id,
            display_name=f"backup writer {account_id}",
            description="Writes one prefix of the factory's backup store; its key lives in Vault only",
            opts=_cloud_opts(owner, location),
        ),
    )
    member = account.email.apply(lambda email: f"serviceAccount:{email}")
    gcp_store.grant_writer(owner, owner.child_name(key), location, member, prefix)
    return Writer("gcp", account.email)


def credential_steps(
    cloud: Cloud,
    store: StoreConfig,
    *,
    factory: str,
    cluster: str,
    purpose: str,
    vault_path: str,
    folder: str,
    also: Sequence[str] = (),
) -> list[str]:
    """The shell steps that put one writer's credential into Vault (`<folder>/<cloud>`, field `cloud`), as the file
    format each Velero plugin reads (REFERENCE-2 §1) — or, for the etcd uploader, the environment file its service
    reads; the credential goes from the cloud's CLI into Vault (`also`: the same file into more folders), and the
    file is shredded. Never run by the program:
    `make plan` writes them next to the Vault setup."""
    file = f"{purpose}-{cloud}.cred"
    if isinstance(store, AwsStoreConfig) and purpose == ETCD_PURPOSE:
        bucket = aws_store.bucket_name(factory, store.account_id, "backup", store.region)
        sse, key_id = SSE_KMS_VARIABLES
        make = [
            f"KEY=$(aws iam create-access-key --user-name {principal_name(factory, cluster, purpose)} \\",
            "  --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)",
            "set -- $KEY",
            "# the store's own KMS key, which every upload names (components/backup/etcd/uploader.py)",
            f"KMS=$(aws s3api get-bucket-encryption --bucket {bucket} --output text --query \\",
            f"  '{BUCKET_KEY_QUERY}')",
            f"printf 'AWS_ACCESS_KEY_ID=%s\\nAWS_SECRET_ACCESS_KEY=%s\\n{sse}=aws:kms\\n{key_id}=%s\\n' "
            f'"$1" "$2" "$KMS" > {file}',
        ]
    elif isinstance(store, AwsStoreConfig):
        make = [
            f"KEY=$(aws iam create-access-key --user-name {principal_name(factory, cluster, purpose)} \\",
            "  --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)",
            "set -- $KEY",
            f'printf \'[default]\\naws_access_key_id=%s\\naws_secret_access_key=%s\\n\' "$1" "$2" > {file}',
        ]
    elif isinstance(store, GcpStoreConfig):
        account = f"{gcp_account_id(factory, cluster, purpose)}@{store.project}.iam.gserviceaccount.com"
        make = [f"gcloud iam service-accounts keys create {file} --iam-account={account}"]
    else:
        assert isinstance(store, AzureStoreConfig)
        make = [
            f"CLIENT_ID=$(az ad sp show --id {store.writers[cluster]} --query appId -o tsv)",
            "# a client secret expires (the CLI's default is one year): rotate before it does, or the location fails",
            'SECRET=$(az ad app credential reset --id "$CLIENT_ID" --append --years 1 --query password -o tsv)',
            f"printf 'AZURE_SUBSCRIPTION_ID={store.subscription_id}\\nAZURE_TENANT_ID={store.tenant_id}\\n"
            f"AZURE_RESOURCE_GROUP={store.resource_group}\\nAZURE_CLOUD_NAME=AzurePublicCloud\\n"
            f'AZURE_CLIENT_ID=%s\\nAZURE_CLIENT_SECRET=%s\\n\' "$CLIENT_ID" "$SECRET" > {file}',
        ]
    puts = [f"vault kv put -mount={vault_path} {where}/{cloud} cloud=@{file}" for where in (folder, *also)]
    return [*make, *puts, f"shred -u {file}"]
