"""Velero: backs up each line's objects and volume data into the immutable stores and restores them. This module is
its catalogue entry; the stores, BackupStorageLocations and Schedules belong to the backup capability.

Read at vmware-tanzu/helm-charts tag velero-12.1.0 (chart 12.1.0 = Velero 1.18.1):
- CRDs: the chart ships its 13 CRDs in `crds/`, which helm.v4.Chart applies unless `skipCrds`; their specs equal
  Velero v1.18.1's `config/crd`. `upgradeCRDs` is a Helm hook Job a v4 Chart drops, so it is off; so is every
  other kubectl Job of the chart (all hooks), hence no kubectl image.
- Plugins: one per cloud the stack's `backup` stores use (velero_plugins.py).
- Volume data: file-system backup (Kopia, by the node agent) into the same stores. No VolumeSnapshotLocation and
  no EnableCSI: a cloud or CSI snapshot stays in the cluster's own account or array, outside the immutable stores
  and lost with them; k3s' local-path has no snapshots at all.
- Identity: ambient (IRSA, GKE Workload Identity, Azure workload identity) on the cluster's own cloud through the
  add-on identity surface. No chart credentials Secret: the chart points every cloud's SDK at its one file; the
  other clouds' BackupStorageLocations name their own `spec.credential`.
"""

from __future__ import annotations

from components.backup.config import Cloud, native_store, reachable_stores
from components.backup.velero_plugins import PLUGIN_IMAGES, PLUGINS, init_containers_template, plugin_images
from components.catalogue.images import PINNED_PULL_POLICY, Image
from components.catalogue.model import (
    AddOn,
    Chart,
    ChartArchive,
    ClusterContext,
    ImageSlot,
    MetricsEndpoint,
    PodSecurity,
    ServiceAccountIdentity,
    Values,
    WorkloadSlot,
)
from components.catalogue.network import ApiServer, ClusterDns, External, NetworkNeeds, Path
from components.catalogue.rbac import ClusterRoleGrant, RbacReview
from components.catalogue.secrets import AddonSecret
from components.core import vocabulary as vocab
from components.core.sizing import resources
from components.identity.egress import HTTPS, identity_endpoints
from components.identity.trust import AZURE_USE_LABEL

VERSION = "12.1.0"
APP_VERSION = "v1.18.1"
NAME = "velero"
SERVER_PODS = {vocab.NAME: "velero"}  # the server and its node agents, each with metrics on the same port
METRICS_PORT = 8085
NAMESPACE = "velero"
SERVICE_ACCOUNT = "velero-server"  # server, node agents and repository-maintenance Jobs all run as it
# the chart binds the server's account to this ClusterRole (rbac.clusterAdministratorName); see RBAC_REVIEW
CLUSTER_ADMIN = "cluster-admin"
# the account as the pack's `clusterAdminSubjects` names it
CLUSTER_ADMIN_SUBJECT = f"ServiceAccount:{NAMESPACE}/{SERVICE_ACCOUNT}"
CREDENTIAL_KEY = "cloud"  # the key of a credential Secret, as Velero's own install names it
METRICS_PORT = 8085  # server and node agents, port `http-monitoring` (templates/deployment.yaml, node-agent-daemonset)
# the CRDs a brought BackupStorageLocation or Schedule waits for (the chart's crds/)
BACKUP_STORAGE_LOCATION_CRD = "backupstoragelocations.velero.io"
SCHEDULE_CRD = "schedules.velero.io"

VELERO_IMAGE = Image(
    "docker.io",
    "velero/velero",
    APP_VERSION,
    "sha256:11459094b1b21ec7c817b08f8067d9e89380835547915cac9c4132ff05b55b90",
    source=(
        "public GitHub files found by exact search (the index does not name their repositories): a migration tool's "
        "offline delivery notes pinning 'official Velero 1.18.1 multi-platform digest' with chart velero-12.1.0, its "
        "Go constants and tests, and a mirror build script (m.daocloud.io) name this digest; another project's notes "
        "give sha256:2752a011... as the linux/amd64 manifest of v1.18.1, consistent with this being the index. "
        "Verify with `make pin-digests`."
    ),
)


def native_cloud(ctx: ClusterContext) -> Cloud | None:
    """The store this cluster reaches with its own cloud identity (backup.config.native_store)."""
    return native_store(ctx.factory.backup, ctx.cluster.workload_identity)


def clouds(ctx: ClusterContext) -> tuple[Cloud, ...]:
    """Every store this cluster's Velero writes to, one BackupStorageLocation each, in CLOUDS order: the native one,
    and with Vault every other (Azure only where `backup.azure.writers` names the cluster's service principal: the
    program cannot create one) with a credential of its own writer principal (components/backup/writers.py)."""
    vault = ctx.factory.security.vault is not None
    return tuple(reachable_stores(ctx.factory.backup, ctx.cluster.name, ctx.cluster.workload_identity, vault))


def credential_clouds(ctx: ClusterContext) -> tuple[Cloud, ...]:
    """The stores of `clouds` this cluster writes to with a credential delivered from Vault (Velero's folder
    `<cluster>/addon.velero/<cloud>`)."""
    native = native_cloud(ctx)
    return tuple(cloud for cloud in clouds(ctx) if cloud != native)


def credential_secret(cloud: Cloud) -> str:
    """The Secret holding Velero's credential file for the store on `cloud` (its BSL's `spec.credential`)."""
    return f"{NAME}-{cloud}"


def store_credentials(ctx: ClusterContext, *, addon: str, namespace: str) -> tuple[AddonSecret, ...]:
    """One credential file per store the cluster reaches with a credential (`credential_clouds`): Secret
    `<addon>-<cloud>`, key `cloud`, copied from field `cloud` of `<cloud>` in the add-on's own Vault folder. The file
    is what the store's SDK reads: an AWS shared-credentials file, a GCP service-account key (JSON), an Azure
    AZURE_* env file (REFERENCE-2 §1; docs/disaster-recovery.md has the commands). Velero's and the escrow's."""
    return tuple(
        AddonSecret(
            addon=addon,
            namespace=namespace,
            name=f"{addon}-{cloud}",
            key=CREDENTIAL_KEY,
            remote_key=cloud,
            remote_property=CREDENTIAL_KEY,
        )
        for cloud in credential_clouds(ctx)
    )


def secrets(ctx: ClusterContext) -> tuple[AddonSecret, ...]:
    return store_credentials(ctx, addon=NAME, namespace=NAMESPACE)


def _server(ctx: ClusterContext) -> Values:
    small = ctx.single_node
    return {
        "image": {"repository": VELERO_IMAGE.name, "tag": VELERO_IMAGE.pinned_tag, "pullPolicy": PINNED_PULL_POLICY},
        "resources": resources("50m", "128Mi", "500m", "512Mi") if small else resources("100m", "128Mi", "1", "512Mi"),
        # the image's user is a name (cnb), so runAsNonRoot could not be verified by the kubelet; the rest holds.
        # Repository-maintenance Jobs copy both contexts from this Deployment
        "podSecurityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "containerSecurityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        PLUGIN_IMAGES: plugin_images(),
        "initContainers": init_containers_template(clouds(ctx)),
    }


def _configuration(ctx: ClusterContext) -> Values:
    small = ctx.single_node
    maintenance = {"cpuRequest": "50m" if small else "100m", "memoryRequest": "128Mi" if small else "256Mi"}
    return {
        # the chart's defaults hold one unnamed location of each kind, rendered as a broken `default` BSL and VSL;
        # the backup capability brings its own BackupStorageLocations, one per store
        "backupStorageLocation": [],
        "volumeSnapshotLocation": [],
        "uploaderType": "kopia",
        # every pod volume goes to the store by file-system backup unless a Schedule says otherwise
        "defaultVolumesToFsBackup": True,
        "features": "",  # no EnableCSI: see the module docstring
        "logFormat": "json",
        # Velero starts these Jobs itself with no requests or limits unless told (pkg/repository/maintenance)
        "repositoryMaintenanceJob": {
            "repositoryConfigData": {
                "global": {
                    "podResources": {**maintenance, "cpuLimit": "1", "memoryLimit": "1Gi"},
                    "keepLatestMaintenanceJobs": 3,
                }
            }
        },
    }


def _node_agent(ctx: ClusterContext) -> Values:
    small = ctx.single_node
    identity = ctx.cluster.workload_identity
    agent: Values = {
        # Kopia's memory grows with the files of a volume; a limit hit mid-backup fails the backup
        "resources": resources("50m", "128Mi", "1", "1Gi") if small else resources("100m", "256Mi", "1", "2Gi"),
        # root, as upstream runs it (its installer and this chart): it reads and restores files of every owner
        "podSecurityContext": {"runAsUser": 0, "seccompProfile": {"type": "RuntimeDefault"}},
        "containerSecurityContext": {"allowPrivilegeEscalation": False},
    }
    if identity is not None and identity.azure is not None:
        # node agents upload volume data themselves and run as the server's account, but the identity surface
        # labels only the server's pods (`podLabels`); Azure injects tokens only into labelled pods
        agent["podLabels"] = {AZURE_USE_LABEL: "true"}
    return agent


def values(ctx: ClusterContext) -> Values:
    return {
        **_server(ctx),
        "upgradeCRDs": False,  # a hook Job: CRDs come from crds/
        "cleanUpCRDs": False,  # a pre-delete hook that would delete every Backup object
        # see RBAC_REVIEW: the server's account is bound to cluster-admin, by design
        "rbac": {"create": True, "clusterAdministrator": True, "clusterAdministratorName": CLUSTER_ADMIN},
        "serviceAccount": {"server": {"create": True, "name": SERVICE_ACCOUNT}},
        "credentials": {"useSecret": False},
        "configuration": _configuration(ctx),
        "snapshotsEnabled": False,
        "deployNodeAgent": True,
        "nodeAgent": _node_agent(ctx),
        # metrics on 8085, scraped through the observability capability's PodMonitor (the chart's monitors would
        # need their CRDs when the chart renders, which a first `up` does not have)
        "metrics": {
            "enabled": True,
            "serviceMonitor": {"enabled": False},
            "nodeAgentPodMonitor": {"enabled": False},
            "prometheusRule": {"enabled": False},
        },
        "schedules": {},  # the backup capability brings one Schedule per policy and store
    }


def network(ctx: ClusterContext) -> NetworkNeeds:
    """Every path holds for every pod of the namespace: the server, the node agents and the repository-maintenance
    Jobs the server starts (which carry none of the chart's labels). The stores are reached over HTTPS at any
    address: a NetworkPolicy cannot name S3, GCS or Azure Blob, and the stack names no addresses for them."""
    stores = External("the backup stores (S3, GCS, Azure Blob) and the clouds' token services", (HTTPS,))
    paths = [
        Path("api-server", "egress", ApiServer(), "reads every object it backs up, creates what it restores"),
        Path("dns", "egress", ClusterDns(), "resolves the stores and the clouds' token services"),
        Path("stores", "egress", stores, "writes and reads backups and volume data; gets cloud credentials"),
    ]
    return NetworkNeeds((*paths, *identity_paths(ctx)))


def identity_paths(ctx: ClusterContext) -> list[Path]:
    """GKE Workload Identity answers on the metadata server, not on 443 (identity/egress.py): the path there, for
    every pod of the backup capability that writes a store as its own cloud identity."""
    paths = []
    for cidr, port in identity_endpoints(ctx.cluster):
        if port != HTTPS:
            endpoint = External("the GKE metadata server (Workload Identity)", (port,), (cidr,))
            paths.append(Path(f"identity-{port}", "egress", endpoint, "exchanges its account's token for credentials"))
    return paths


RBAC_REVIEW = RbacReview(
    VERSION,
    (
        ClusterRoleGrant(
            CLUSTER_ADMIN,
            ("*",),
            "Velero reads every object of every kind in every namespace, Secrets included, to back it up, and creates "
            "any of them, RBAC included, to restore it; ClusterRoleBinding velero-server binds its account (server, "
            "node agents, maintenance Jobs) to cluster-admin. Velero's own docs (v1.18 rbac.md): restrictive RBAC "
            "confines it to one namespace's objects.",
        ),
    ),
    narrowed=(
        "The chart renders no ClusterRole of its own: besides that binding, a Role velero-server (every verb on "
        "everything, in velero only) and its RoleBinding; the upgrade-CRDs ClusterRole is a hook, off and never run "
        "by a v4 Chart. Not narrowed: rbac.clusterAdministrator false would leave Velero its own namespace only (no "
        "line could be backed up); a purpose-built role through rbac.clusterAdministratorName would still need to "
        "create pods, workloads and RoleBindings everywhere to restore them, cluster-admin in practice, and without "
        "bind or escalate could not restore the lines' RBAC. The pack's rbac-no-cluster-admin-bindings refuses the "
        "binding unless `clusterAdminSubjects` lists CLUSTER_ADMIN_SUBJECT."
    ),
)

ADDON = AddOn(
    name=NAME,
    namespace=NAMESPACE,
    version=VERSION,
    source=Chart(
        chart="velero",
        repository="https://vmware-tanzu.github.io/helm-charts",
        archive=ChartArchive(
            "https://github.com/vmware-tanzu/helm-charts/releases/download/velero-12.1.0/velero-12.1.0.tgz",
            "cd23589ad1b2d25cdd3220f6866b3f6f4c5683c4c09494e76a14700b33f81f83",
            source=(
                "vmware-tanzu/helm-charts index.yaml on gh-pages (commit 4a381e078c0e, which added the entry), entry "
                "velero 12.1.0"
            ),
        ),
        values=values,
        images=(
            ImageSlot(
                repository_key="image.repository",
                tag_key="image.tag",
                image=VELERO_IMAGE,
                pull_policy_key="image.pullPolicy",
            ),
            *(
                ImageSlot(
                    registry_key=f"{plugin.values_key}.registry",
                    repository_key=f"{plugin.values_key}.repository",
                    tag_key=f"{plugin.values_key}.tag",
                    image=plugin.image,
                    pull_policy_key=f"{plugin.values_key}.pullPolicy",
                )
                for plugin in PLUGINS.values()
            ),
        ),
        workloads=(
            WorkloadSlot("velero", "resources"),  # the chart fixes `replicas: 1` (and a Recreate strategy)
            WorkloadSlot("node-agent", "nodeAgent.resources", per_node=True),
        ),
    ),
    identity=ServiceAccountIdentity(
        SERVICE_ACCOUNT, annotations_key="serviceAccount.server.annotations", pod_labels_key="podLabels"
    ),
    network=network,
    metrics=(MetricsEndpoint("velero", SERVER_PODS, METRICS_PORT),),
    rbac=RBAC_REVIEW,
    pod_security=PodSecurity(
        "privileged",
        "Velero's node agent mounts the kubelet's pod and plugin directories from the host (/var/lib/kubelet/pods "
        "and /plugins, HostToContainer propagation) and runs as root to read and restore every pod's volume files "
        "on its node (file-system backup); hostPath volumes are beyond baseline. It is not a privileged container "
        "and adds no capabilities; Velero's own installer labels its namespace privileged for the same reason.",
    ),
    secrets=secrets,
    # a restored pod with file-system backups gets a `restore-wait` init container running the server's image
    # (Velero 1.18.1 pod_volume_restore_action.go: GetVeleroServerImage of the velero Deployment)
    line_image="image.repository",
    enabled=lambda ctx: bool(clouds(ctx)),
)
