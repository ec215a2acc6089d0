"""DisasterRecovery: what one cluster backs up, where, and how often — Velero from the catalogue, one
BackupStorageLocation per store it writes to, one Schedule per backup policy and location."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi

from components.backup import names, velero
from components.backup.config import BackupPolicy, Cloud
from components.backup.drill import addon as drill_addon
from components.backup.escrow import addon as escrow_addon
from components.backup.escrow import manifests as escrow_manifests
from components.backup.etcd.uploader import object_prefix
from components.backup.stores import aws as aws_store
from components.backup.stores import azure as azure_store
from components.backup.stores import gcp as gcp_store
from components.backup.stores.location import StoreLocation
from components.backup.velero_plugins import PLUGINS
from components.backup.writers import ETCD_PURPOSE, Writer, credential_writer, etcd_writes_to_aws
from components.catalogue.capability import ClusterCapabilityArgs
from components.catalogue.install import install, install_namespaces
from components.catalogue.release import Release, resolve
from components.catalogue.secrets import AddonSecret, SecretDelivery, install_secrets
from components.core import vocabulary as vocab
from components.core.component import FactoryComponent
from components.core.kube import Manifest, kube_resource
from components.identity.component import WorkloadIdentity, addon_binding

COMPONENT = "disaster-recovery"  # value of app.kubernetes.io/component on what this capability makes
VELERO_API = "velero.io/v1"


@dataclass(frozen=True, kw_only=True)
class RecoveryArgs(ClusterCapabilityArgs):
    locations: Mapping[Cloud, StoreLocation]  # the factory's stores (BackupStores.locations)
    secrets: SecretDelivery | None = None  # the cluster's Vault delivery (SecurityBaseline), for store credentials


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


RESTORE_HELPER_CONFIG = "fs-restore-action-config"
# what a restored line pod's `restore-wait` init container runs as (Velero 1.18.1 pod_volume_restore_action.go: the
# ConfigMap's `secCtx` is parsed into the container's securityContext; its default user is 1000): Pod Security
# restricted in the line's namespace, and no writable root file system
RESTORE_HELPER_SECURITY = {
    "runAsNonRoot": True,
    "runAsUser": 1000,
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def restore_helper_config(factory: str) -> Manifest:
    """The plugin config Velero reads when it adds its `restore-wait` init container to a restored pod with file-
    system backups (labels: common.GetPluginConfig): sized and restricted explicitly rather than copied from the
    pod's first container. The image stays the server's (mirrored, pinned), which admission admits in lines."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": RESTORE_HELPER_CONFIG,
            "namespace": velero.NAMESPACE,
            "labels": {
                **vocab.standard_labels(factory, component=COMPONENT),
                "velero.io/plugin-config": "",
                "velero.io/pod-volume-restore": "RestoreItemAction",
            },
        },
        "data": {
            "cpuRequest": "50m",
            "memRequest": "64Mi",
            "cpuLimit": "200m",
            "memLimit": "128Mi",
            "secCtx": json.dumps(RESTORE_HELPER_SECURITY, sort_keys=True),
        },
    }


def escrow_store_config(factory: str, cluster: str, cloud: Cloud, location: StoreLocation) -> Manifest:
    environment = escrow_manifests.store_environment(
        cloud,
        bucket=location.bucket,
        cluster=cluster,
        region=location.region,
        key=location.key,
        account=location.velero_config.get("storageAccount"),
    )
    return escrow_manifests.store_config(factory, cloud, environment)


class DisasterRecovery(FactoryComponent[RecoveryArgs]):
    """Creates on one cluster, after its admission gate, when the cluster can write to a backup store
    (velero.clouds): the `velero` namespace (privileged for the node agents, with the reason) and Velero's chart;
    per store, a writer with its own prefix `velero/<cluster>` (or container) of that store only and no way to delete
    a locked copy — the server account's workload identity on the cluster's own cloud, elsewhere a writer principal
    whose credential External Secrets copies from Velero's Vault folder (components/backup/writers.py) — and one
    BackupStorageLocation; per backup policy that selects a line on this cluster, one Schedule per location in the
    plant's time zone with the policy's TTL; the restore helper's config. Nothing otherwise."""

    def __init__(self, name: str, args: RecoveryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, args, opts)
        ctx, factory, cluster = args.context, args.config.factory.name, args.cluster
        clouds = velero.clouds(ctx)
        etcd = self._etcd_writer()
        if not clouds:
            self.finish({"locations": [], "writers": {}, "etcdWriter": etcd})
            return
        release = resolve(velero.ADDON, ctx)
        drills = {r.addon.name: r for r in args.releases(drill_addon.ADDONS)}
        escrow = args.releases([escrow_addon.ADDON])
        namespaces = install_namespaces(self, [release, *drills.values(), *escrow], factory, cluster, COMPONENT)
        binding = addon_binding(self, release, factory, cluster)
        installed = install(self, release, namespaces[velero.NAMESPACE], binding)
        # Velero re-validates a location every minute (Unavailable until its credential Secret exists and its grant
        # holds), so a location waits for neither: the cluster's deepest chain stays gate -> namespace -> Role ->
        # binding, and the whole update no deeper than the stores' own chains
        self._credentials([*release.secrets, *(secret for r in escrow for secret in r.secrets)], namespaces)
        self._object("restore-helper-config", restore_helper_config(factory), [namespaces[velero.NAMESPACE]])
        writers: dict[str, pulumi.Input[str]] = {}
        locations: list[pulumi.Resource] = []
        for cloud in clouds:
            location = args.locations[cloud]
            secret = None
            if cloud == velero.native_cloud(ctx):
                self._grant(
                    cloud, location, identity=f"{velero.NAME}-identity", prefix=names.location_prefix(cluster.name)
                )
            else:
                writer = self._writer(location, velero.NAME, names.location_prefix(cluster.name))
                writers[cloud], secret = writer.principal, velero.credential_secret(cloud)
            locations.append(
                self._object(f"location-{cloud}", self._location(cloud, location, secret), installed.objects)
            )
            self._schedules(cloud, locations[-1])
        if len(drills) == len(drill_addon.ADDONS):
            install(self, drills[drill_addon.MARKER_ENTRY.name], namespaces[drill_addon.MARKER_NAMESPACE])
            # the drill's Roles live in the marker namespace; each CronJob tests a location, which exists first. The
            # marker itself is not waited for: a run before it exists fails its comparison, which the alert reports
            after = [namespaces[drill_addon.MARKER_NAMESPACE], *installed.objects]
            drill = drills[drill_addon.DRILL_ENTRY.name]
            install(self, drill, namespaces[velero.NAMESPACE], after=after, gated_on=locations)
        escrow_writers = self._escrow(escrow[0], namespaces[escrow_manifests.NAMESPACE]) if escrow else {}
        self.finish(
            {
                "locations": list(clouds),
                "writers": writers,
                "drills": sorted(drills),
                "etcdWriter": etcd,
                "escrowWriters": escrow_writers,
            }
        )

    def _escrow(self, release: Release, namespace: pulumi.Resource) -> dict[str, pulumi.Input[str]]:
        """The escrow's writer per location (its workload identity on the cluster's own cloud, else a writer
        principal of its own), each granted `escrow/<cluster>/` of that store only; per location the ConfigMap of the
        store's coordinates its jobs read; then its objects, its CronJobs last."""
        ctx, factory, cluster = self.args.context, self.args.config.factory.name, self.args.cluster
        native = velero.native_cloud(ctx)
        binding = addon_binding(self, release, factory, cluster) if native is not None else None
        prefix = escrow_manifests.object_prefix(cluster.name)
        writers: dict[str, pulumi.Input[str]] = {}
        stores: list[pulumi.Resource] = []
        for cloud in velero.clouds(ctx):
            location = self.args.locations[cloud]
            if cloud == native:
                self._grant(cloud, location, identity=f"{escrow_manifests.NAME}-identity", prefix=prefix)
            elif cloud == "azure":
                # the one service principal `backup.azure.writers` names for the cluster already holds Velero's grant
                # on the container (Azure grants no prefix): a second, identical role assignment would be refused
                azure = self.args.config.backup.azure
                assert azure is not None  # velero.clouds offers Azure only to a cluster it names
                writers[cloud] = azure.writers[cluster.name]
            else:
                writers[cloud] = self._writer(location, escrow_manifests.NAME, prefix).principal
            manifest = escrow_store_config(factory, cluster.name, cloud, location)
            stores.append(self._object(f"escrow-store-{cloud}", manifest, [namespace]))
        install(self, release, namespace, binding, gated_on=stores)
        return writers

    def _schedules(self, cloud: Cloud, bsl: pulumi.Resource) -> None:
        """Per policy that selects a line on this cluster: its Schedule into this location."""
        config = self.args.config
        for policy in config.backup.policies:
            lines = [
                vocab.LINE_NAMESPACE_PREFIX + line.name
                for line in config.lines_on(self.args.cluster.name)
                if line.name in policy.lines or line.criticality in policy.criticality
            ]
            if lines:
                manifest = schedule_manifest(policy, cloud, lines, config.factory.timezone, config.factory.name)
                self._object(f"schedule-{policy.name}-{cloud}", manifest, [bsl])

    def _credentials(self, secrets: Sequence[AddonSecret], namespaces: dict[str, pulumi.Resource]) -> None:
        """Velero's credential Secrets, each from its Vault folder."""
        if not secrets:
            return
        delivery = self.args.secrets
        assert delivery is not None  # velero.clouds offers credential stores only with Vault, which brings ESO
        cluster = self.args.cluster
        install_secrets(
            self,
            secrets,
            delivery,
            factory=self.args.config.factory.name,
            cluster=cluster,
            namespaces=namespaces,
            component=COMPONENT,
        )

    def _etcd_writer(self) -> pulumi.Input[str] | None:
        """The servers' snapshot uploader writes `etcd/<cluster>/` of the AWS store as a principal of its own (its key
        goes to the servers, never through the program: offline/vault.py writes the steps)."""
        if not etcd_writes_to_aws(self.args.config, self.args.cluster):
            return None
        return self._writer(self.args.locations["aws"], ETCD_PURPOSE, object_prefix(self.args.cluster.name)).principal

    def _writer(self, location: StoreLocation, purpose: str, prefix: str) -> Writer:
        """On Azure every writer of a cluster is the one service principal `backup.azure.writers` names for it (the
        program cannot create one): Velero and the escrow share it there."""
        azure = self.args.config.backup.azure
        cluster = self.args.cluster.name
        return credential_writer(
            self,
            location,
            factory=self.args.config.factory.name,
            cluster=cluster,
            purpose=purpose,
            prefix=prefix,
            azure_principal=azure.writers.get(cluster) if azure is not None else None,
        )

    def _location(self, cloud: Cloud, location: StoreLocation, credential: str | None) -> Manifest:
        """The store as Velero addresses it; with a credential Secret for a store its own identity cannot reach."""
        manifest: Manifest = {
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
        if credential is not None:
            manifest["spec"]["credential"] = {"name": credential, "key": velero.CREDENTIAL_KEY}
        return manifest

    def _grant(self, cloud: Cloud, location: StoreLocation, *, identity: str, prefix: str) -> list[pulumi.Resource]:
        """An add-on account's workload identity (the resource `identity` of this component) may write `prefix` of
        the store, and nothing more."""
        made = self.resources[identity]
        assert isinstance(made, WorkloadIdentity)  # addon_binding made it: the cluster federates
        key = f"{identity.removesuffix('-identity')}-writer-{cloud}"
        if cloud == "aws":
            role = made.resources["role"]
            return [aws_store.grant_writer(self, key, location, role.name, prefix)]  # type: ignore[attr-defined]
        if cloud == "gcp":
            account = made.resources["account"]
            member = account.email.apply(lambda email: f"serviceAccount:{email}")  # type: ignore[attr-defined]
            # the GCS grant names its members after `key` alone: the component's name keeps them apart per cluster
            return gcp_store.grant_writer(self, self.child_name(key), location, member, prefix)
        principal = made.resources["identity"].principal_id  # type: ignore[attr-defined]
        assert location.provider is not None  # the Azure store's own provider: the grant is on its container
        return azure_store.grant_writer(self, key, location, principal, provider=location.provider)

    def _object(self, key: str, manifest: Manifest, after: Sequence[pulumi.Resource]) -> pulumi.Resource:
        return self.own(key, kube_resource(self.child_name(key), manifest, self.child_opts(depends_on=after)))
