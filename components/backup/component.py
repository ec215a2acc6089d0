"""BackupStores: the factory's immutable backup stores, one per cloud the stack names."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.backup.config import BackupConfig, Cloud
from components.backup.stores.aws import AwsBackupStore, AwsStoreArgs
from components.backup.stores.azure import AzureBackupStore, AzureStoreArgs
from components.backup.stores.gcp import GcpBackupStore, GcpStoreArgs
from components.backup.stores.location import StoreLocation
from components.core.component import ComponentArgs, FactoryComponent


@dataclass(frozen=True, kw_only=True)
class BackupArgs(ComponentArgs):
    factory: str
    environment: str
    backup: BackupConfig


class BackupStores(FactoryComponent[BackupArgs]):
    """Creates one store per cloud in `backup` — AwsBackupStore, GcpBackupStore, AzureBackupStore — each with its
    own provider for the store's account, project or subscription (never a cluster's: none of the factory's other
    providers reach into a store). Every resource of a store but its provider is
    stateful — the settings too: in production protected and retained, so neither `pulumi destroy` nor a store
    removed from the stack file deletes a copy, or lifts a lock, a public-access block or a policy while keeping
    the bucket. `locations` is what the clusters' writers and the recovery runbooks use."""

    locations: dict[Cloud, StoreLocation]

    def __init__(self, name: str, args: BackupArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, args, opts)
        backup, factory, environment, protection = args.backup, args.factory, args.environment, args.protection
        stores: dict[Cloud, AwsBackupStore | GcpBackupStore | AzureBackupStore] = {}
        if backup.aws is not None:
            aws = AwsStoreArgs(protection=protection, factory=factory, environment=environment, store=backup.aws)
            stores["aws"] = AwsBackupStore(self.child_name("aws"), aws, self.child_opts())
        if backup.gcp is not None:
            gcp = GcpStoreArgs(protection=protection, factory=factory, environment=environment, store=backup.gcp)
            stores["gcp"] = GcpBackupStore(self.child_name("gcp"), gcp, self.child_opts())
        if backup.azure is not None:
            azure = AzureStoreArgs(
                protection=protection,
                factory=factory,
                environment=environment,
                store=backup.azure,
                tenant_id=backup.azure.tenant_id,
                initial_deployment=backup.azure.first_deploy,
            )
            stores["azure"] = AzureBackupStore(self.child_name("azure"), azure, self.child_opts())
        for cloud, store in stores.items():
            self.own(cloud, store)
        self.locations = {cloud: store.location for cloud, store in stores.items()}
        self.finish({"stores": sorted(stores)})
