"""DisasterRecovery: what one cluster backs up, where, and how often — Velero from the catalogue, one
BackupStorageLocation per store it writes to, one Schedule per backup policy and location."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi

from components.backup import names, velero
from components.backup.config import BackupPolicy, Cloud
from components.backup.stores import aws as aws_store
from components.backup.stores import azure as azure_store
from components.backup.stores import gcp as gcp_store
from components.backup.stores.location import StoreLocation
from components.backup.velero_plugins import PLUGINS
from components.catalogue.capability import ClusterCapabilityArgs
from components.catalogue.install import install, install_namespaces
from components.catalogue.release import resolve
from components.core import vocabulary as vocab
from components.core.component import FactoryComponent
from components.core.kube import Manifest, kube_resource
from components.identity.component import WorkloadIdentity, addon_binding

COMPONENT = "disaster-recovery"  # value of app.kubernetes.io/component on what this capability makes
VELERO_API = "velero.io/v1"


@dataclass(frozen=True, kw_only=True)
class RecoveryArgs(ClusterCapabilityArgs):
    locations: Mapping[Cloud, StoreLocation]  # the factory's stores (BackupStores.locations)


def schedule_manifest(
    policy: BackupPolicy, cloud: Cloud, namespaces: Sequence[str], timezone: str, factory: str
) -> Manifest:
    """One policy's backups of this cluster's lines into one location, in the plant's time zone. Owner references
    stay off: with them, replacing the Schedule would delete every backup it took (REFERENCE: Velero)."""
    return {
        "apiVersion": VELERO_API,
        "kind": "Schedule",
        "metadata": {
            "name": names.schedule_name(policy.name, cloud),
            "namespace": velero.NAMESPACE,
            "labels": vocab.standard_labels(factory, component=COMPONENT),
        },
        "spec": {
            "schedule": f"CRON_TZ={timezone} {policy.schedule}",
            "useOwnerReferencesInBackup": False,
            "template": {
                "includedNamespaces": list(namespaces),
                "storageLocation": names.location_name(cloud),
                "ttl": f"{policy.ttl_hours}h0m0s",
                "defaultVolumesToFsBackup": True,
            },
        },
    }


class DisasterRecovery(FactoryComponent[RecoveryArgs]):
    """Creates on one cluster, after its admission gate, when the cluster can write to a backup store with its own
    cloud identity (velero.clouds): the `velero` namespace (privileged for the node agents, with the reason) and
    Velero's chart with the server account's workload identity; that identity's writer grant on the store (its
    own prefix `velero/<cluster>` or container, never a way to delete a locked copy); one BackupStorageLocation per
    such store (no credential: the ambient identity); and per backup policy that selects a line on this cluster,
    one Schedule per location in the plant's time zone with the policy's TTL. Nothing otherwise."""

    def __init__(self, name: str, args: RecoveryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, args, opts)
        ctx, factory, cluster = args.context, args.config.factory.name, args.cluster
        clouds = velero.clouds(ctx)
        if not clouds:
            self.finish({"locations": []})
            return
        release = resolve(velero.ADDON, ctx)
        namespaces = install_namespaces(self, [release], factory, cluster, COMPONENT)
        binding = addon_binding(self, release, factory, cluster)
        installed = install(self, release, namespaces[velero.NAMESPACE], binding)
        identity = self.resources[f"{velero.NAME}-identity"]
        assert isinstance(identity, WorkloadIdentity)  # addon_binding made it: the cluster federates
        for cloud in clouds:
            location = args.locations[cloud]
            grants = self._grant(cloud, location, identity)
            bsl = self._object(f"location-{cloud}", self._location(cloud, location), [*installed.objects, *grants])
            for policy in args.config.backup.policies:
                lines = [
                    vocab.LINE_NAMESPACE_PREFIX + line.name
                    for line in args.config.lines_on(cluster.name)
                    if line.name in policy.lines or line.criticality in policy.criticality
                ]
                if lines:
                    manifest = schedule_manifest(policy, cloud, lines, args.config.factory.timezone, factory)
                    self._object(f"schedule-{policy.name}-{cloud}", manifest, [bsl])
        self.finish({"locations": list(clouds)})

    def _location(self, cloud: Cloud, location: StoreLocation) -> Manifest:
        return {
            "apiVersion": VELERO_API,
            "kind": "BackupStorageLocation",
            "metadata": {
                "name": names.location_name(cloud),
                "namespace": velero.NAMESPACE,
                "labels": vocab.standard_labels(self.args.config.factory.name, component=COMPONENT),
            },
            "spec": {
                "provider": PLUGINS[cloud].provider,
                "objectStorage": {"bucket": location.bucket, "prefix": names.location_prefix(self.args.cluster.name)},
                "config": dict(location.velero_config),
                "accessMode": "ReadWrite",
            },
        }

    def _grant(self, cloud: Cloud, location: StoreLocation, identity: WorkloadIdentity) -> list[pulumi.Resource]:
        """The server account's identity may write its own part of the store, and nothing more."""
        prefix, key = names.location_prefix(self.args.cluster.name), f"velero-writer-{cloud}"
        if cloud == "aws":
            role = identity.resources["role"]
            return [aws_store.grant_writer(self, key, location, role.name, prefix)]  # type: ignore[attr-defined]
        if cloud == "gcp":
            account = identity.resources["account"]
            member = account.email.apply(lambda email: f"serviceAccount:{email}")  # type: ignore[attr-defined]
            # the GCS grant names its members after `key` alone: the component's name keeps them apart per cluster
            return gcp_store.grant_writer(self, self.child_name(key), location, member, prefix)
        principal = identity.resources["identity"].principal_id  # type: ignore[attr-defined]
        assert location.provider is not None  # the Azure store's own provider: the grant is on its container
        return azure_store.grant_writer(self, key, location, principal, provider=location.provider)

    def _object(self, key: str, manifest: Manifest, after: Sequence[pulumi.Resource]) -> pulumi.Resource:
        return self.own(key, kube_resource(self.child_name(key), manifest, self.child_opts(depends_on=after)))
