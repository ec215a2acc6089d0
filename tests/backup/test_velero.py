"""The Velero catalogue entry: plugins only for the clouds the stack's stores use, each pulled through the site mirror
exactly as its catalogue slot names it; nothing the backup capability brings (locations, schedules) comes from the
chart; its cluster-admin binding is reviewed and refused by the pack unless listed; its workloads are sized and
counted; its namespace is privileged for the node agent's host paths, and says why."""

from __future__ import annotations

import re
from typing import Any

import pytest

import factory_policies as fp
from components.backup.config import BackupConfig
from components.backup.velero import (
    ADDON,
    APP_VERSION,
    CLUSTER_ADMIN,
    CLUSTER_ADMIN_SUBJECT,
    METRICS_PORT,
    NAMESPACE,
    SERVICE_ACCOUNT,
    VERSION,
    clouds,
    credential_clouds,
    native_cloud,
)
from components.backup.velero_plugins import AWS_PLUGIN, PLUGIN_IMAGES, PLUGINS, init_containers
from components.catalogue.footprint import quantity
from components.catalogue.install import namespace_manifests
from components.catalogue.model import Chart, ClusterContext
from components.catalogue.network import ApiServer, ClusterDns, External, describe
from components.catalogue.rbac import unreviewed
from components.catalogue.release import Release, resolve
from components.catalogue.values import get_path
from components.config.document import FactoryConfig
from components.config.loader import load_factory_config
from components.core import vocabulary as vocab
from components.identity.trust import AZURE_USE_LABEL
from factory_policies.controls import HELM_V4_CHART
from tests.support.factories import MIRROR, secure_raw, valid_raw
from tests.support.policy_kit import Res, judge

# the shared fixture's stores (they follow the store models as those grow), plus a GCS store
AWS_STORE = valid_raw()["backup"]["aws"]
AZURE_STORE = valid_raw()["backup"]["azure"]
GCP_STORE = {"project": "plant-backup-01", "location": "EUROPE-WEST3"}
POLICIES = [{"name": "lines", "criticality": ["critical", "high", "standard"], "schedule": "0 * * * *"}]


def _config(stores: dict[str, Any], cloud: str = "aws", mirror: bool = True) -> FactoryConfig:
    raw = secure_raw(cloud=cloud, mirror=mirror)
    raw["environment"] = "staging"  # production refuses stores on fewer than two clouds
    raw["backup"] = {**stores, "policies": POLICIES}
    return load_factory_config(raw)


def _releases(config: FactoryConfig) -> list[tuple[ClusterContext, Release]]:
    contexts = [ClusterContext(config, cluster) for cluster in config.clusters]
    return [(ctx, resolve(ADDON, ctx)) for ctx in contexts]


ALL_CLOUDS = {"aws": AWS_STORE, "gcp": GCP_STORE, "azure": AZURE_STORE}


def _cloud(config: FactoryConfig) -> tuple[ClusterContext, Release]:
    """The test stack's managed cluster (it federates with the cloud `secure_raw` names); the k3s cell has none."""
    ctx = ClusterContext(config, config.cluster("cloud"))
    return ctx, resolve(ADDON, ctx)


def test_velero_runs_where_a_cluster_reaches_a_store_as_itself_or_with_a_vault_credential() -> None:
    config = _config({"aws": AWS_STORE})
    edge = ClusterContext(config, config.cluster("edge"))
    assert ADDON.enabled(edge) and clouds(edge) == ("aws",), "no cloud identity: a credential from Vault"
    assert credential_clouds(edge) == ("aws",) and native_cloud(edge) is None
    [secret] = resolve(ADDON, edge).secrets
    assert (secret.name, secret.key, secret.remote_key, secret.remote_property) == (
        "velero-aws",
        "cloud",
        "aws",
        "cloud",
    )
    ctx, release = _cloud(config)
    assert ADDON.enabled(ctx) and clouds(ctx) == ("aws",) and native_cloud(ctx) == "aws"
    assert release.secrets == (), "its own identity: no credential anywhere"
    [plugin] = init_containers(release.values)
    assert plugin["name"] == "velero-plugin-for-aws"
    assert plugin["image"] == f"{MIRROR}/{AWS_PLUGIN.reference}"
    assert plugin["image"] in release.images(), "admission and the plan list what the pod pulls"
    assert plugin["volumeMounts"] == [{"mountPath": "/target", "name": "plugins"}]


def test_an_aws_role_never_writes_to_a_store_in_another_account() -> None:
    """A role's policy cannot open another account's bucket: that store is reached with a credential instead, and
    without Vault not at all."""
    config = _config({"aws": {**AWS_STORE, "accountId": "999988887777"}})
    ctx, _release = _cloud(config)
    assert native_cloud(ctx) is None and credential_clouds(ctx) == ("aws",)
    no_vault = config.model_copy(update={"security": config.security.model_copy(update={"vault": None})})
    ctx = ClusterContext(no_vault, no_vault.cluster("cloud"))
    assert clouds(ctx) == () and not ADDON.enabled(ctx)


def test_azure_is_written_with_a_credential_only_by_a_cluster_its_writers_name() -> None:
    config = _config(ALL_CLOUDS)
    edge = ClusterContext(config, config.cluster("edge"))
    assert clouds(edge) == ("aws", "gcp"), "no service principal for the edge cluster: the program cannot make one"
    writers = {**AZURE_STORE, "writers": {"edge": "00000000-0000-4000-8000-0000000000e1"}}
    config = _config({**ALL_CLOUDS, "azure": writers})
    edge = ClusterContext(config, config.cluster("edge"))
    assert clouds(edge) == ("aws", "gcp", "azure")
    assert [s.name for s in resolve(ADDON, edge).secrets] == ["velero-aws", "velero-gcp", "velero-azure"]


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure"])
def test_a_cluster_runs_the_plugins_of_the_stores_it_writes_to_only(cloud: str) -> None:
    for mirror in (True, False):
        ctx, release = _cloud(_config(ALL_CLOUDS, cloud=cloud, mirror=mirror))
        found = {c["name"]: c["image"] for c in init_containers(release.values)}
        expected = {
            PLUGINS[c].container: f"{MIRROR}/{PLUGINS[c].image.reference}" if mirror else PLUGINS[c].image.reference
            for c in clouds(ctx)
        }
        assert found == expected and len(found) == len(clouds(ctx))
        assert set(found.values()) <= set(release.images())


def test_the_init_containers_name_images_only_through_mirrored_slots() -> None:
    """The chart passes the string through `tpl`: every value it refers to is a slot key the mirror rewrites."""
    assert isinstance(ADDON.source, Chart)
    slot_keys = {
        key
        for slot in ADDON.source.images
        for key in (slot.registry_key, slot.repository_key, slot.tag_key, slot.pull_policy_key)
    }
    _ctx, release = _cloud(_config(ALL_CLOUDS))
    referenced = set(re.findall(r"\{\{ \.Values\.([A-Za-z0-9_.]+) \}\}", release.values["initContainers"]))
    assert referenced and referenced <= slot_keys
    assert all(key.startswith(f"{PLUGIN_IMAGES}.") for key in referenced)


def test_without_backup_stores_velero_is_off() -> None:
    config = _config({"aws": AWS_STORE}).model_copy(update={"backup": BackupConfig()})
    for ctx, release in _releases(config):
        assert not ADDON.enabled(ctx) and clouds(ctx) == ()
        assert init_containers(release.values) == []
        assert not any(image.endswith((":None", ":")) for image in release.images()), "every slot still names its image"


def test_nothing_the_backup_capability_brings_comes_from_the_chart() -> None:
    for _ctx, release in _releases(_config(ALL_CLOUDS)):
        values = release.values
        # the chart's defaults would render an unnamed `default` location of each kind
        assert values["configuration"]["backupStorageLocation"] == []
        assert values["configuration"]["volumeSnapshotLocation"] == []
        assert values["snapshotsEnabled"] is False
        assert values["schedules"] == {}
        assert values["credentials"] == {"useSecret": False}
        assert values["configuration"]["features"] == "", "no EnableCSI: volume data goes to the stores"
        assert values["configuration"]["defaultVolumesToFsBackup"] is True
        assert values["deployNodeAgent"] is True
        # hooks a v4 Chart drops: CRDs come from the chart's crds/ directory instead
        assert values["upgradeCRDs"] is False and values["cleanUpCRDs"] is False
        assert values["metrics"]["enabled"] is True
        assert not any(values["metrics"][m]["enabled"] for m in ("serviceMonitor", "nodeAgentPodMonitor"))


def test_the_server_runs_the_chart_version_it_was_read_at() -> None:
    [(_ctx, release), *_] = _releases(_config({"aws": AWS_STORE}, mirror=False))
    assert VERSION == "12.1.0" and APP_VERSION == "v1.18.1"  # chart 12.1.0 = Velero 1.18.1
    assert release.values["image"]["tag"].startswith(f"{APP_VERSION}@sha256:")
    assert all(plugin.image.tag.startswith("v1.14.") for plugin in PLUGINS.values()), "plugin 1.14.x = Velero 1.18"


def test_the_identity_surface_reaches_the_server_account_and_azure_node_agents() -> None:
    assert ADDON.identity is not None
    assert ADDON.identity.service_account == SERVICE_ACCOUNT == "velero-server"
    for cloud in ("aws", "azure"):
        for ctx, release in _releases(_config({"aws": AWS_STORE}, cloud=cloud)):
            values = release.values
            assert get_path(values, "serviceAccount.server.name") == SERVICE_ACCOUNT
            labels = values["nodeAgent"].get("podLabels", {})
            azure = ctx.cluster.workload_identity is not None and ctx.cluster.workload_identity.azure is not None
            assert labels == ({AZURE_USE_LABEL: "true"} if azure else {}), (cloud, ctx.cluster.name)


def test_the_rbac_review_matches_the_chart_at_its_pinned_version() -> None:
    assert unreviewed(ADDON.name, ADDON.version, ADDON.rbac) is None
    assert ADDON.rbac is not None
    # cluster-admin reads every Secret; the catalogue's secret-reader list must name it once Velero is in it
    assert ADDON.rbac.secret_readers() == {CLUSTER_ADMIN: ("*",)}
    [(_ctx, release), *_] = _releases(_config({"aws": AWS_STORE}))
    assert release.values["rbac"] == {
        "create": True,
        "clusterAdministrator": True,
        "clusterAdministratorName": CLUSTER_ADMIN,
    }


def _chart_binding() -> Res:
    """templates/clusterrolebinding.yaml at 12.1.0 as the chart renders it for release `velero` with our values."""
    return Res(
        "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
        {
            "metadata": {"name": "velero-server"},
            "subjects": [{"kind": "ServiceAccount", "namespace": NAMESPACE, "name": SERVICE_ACCOUNT}],
            "roleRef": {"kind": "ClusterRole", "name": CLUSTER_ADMIN, "apiGroup": "rbac.authorization.k8s.io"},
        },
        name="velero-server",
        parents=(HELM_V4_CHART,),
    )


def test_the_pack_refuses_the_chart_binding_unless_the_stack_lists_velero() -> None:
    binding = _chart_binding()
    assert judge(fp.rbac_no_superuser_bindings, [binding]) == [
        f"velero-server binds {CLUSTER_ADMIN_SUBJECT} to cluster-admin"
    ]
    assert judge(fp.rbac_no_superuser_bindings, [binding], {"clusterAdminSubjects": [CLUSTER_ADMIN_SUBJECT]}) == []


def _sized(block: dict[str, Any]) -> bool:
    return all(quantity(block[kind][res]) > 0 for kind in ("requests", "limits") for res in ("cpu", "memory"))


def test_every_container_is_sized_and_the_footprint_counts_server_and_node_agents() -> None:
    for ctx, release in _releases(_config(ALL_CLOUDS)):
        workloads = {w.name: w for w in release.workloads()}
        assert set(workloads) == {"velero", "node-agent"}
        assert workloads["velero"].replicas == 1 and not workloads["velero"].per_node
        assert workloads["node-agent"].per_node
        assert all(w.usage.cpu_requests > 0 and w.usage.memory_limits > 0 for w in workloads.values())
        values = release.values
        assert _sized(values["resources"]) and _sized(values["nodeAgent"]["resources"])
        assert all(_sized(c["resources"]) for c in init_containers(values))
        maintenance = get_path(values, "configuration.repositoryMaintenanceJob.repositoryConfigData.global")
        assert all(maintenance["podResources"][k] for k in ("cpuRequest", "memoryRequest", "cpuLimit", "memoryLimit"))
        if ctx.single_node:
            assert quantity(values["resources"]["requests"]["cpu"]) < quantity("100m")


def test_the_namespace_is_privileged_for_the_node_agents_host_paths_and_says_why() -> None:
    assert ADDON.pod_security.level == "privileged"
    assert ADDON.pod_security.reason and "hostPath" in ADDON.pod_security.reason
    config = _config({"aws": AWS_STORE})
    cluster = config.clusters[0]
    [namespace] = namespace_manifests([resolve(ADDON, ClusterContext(config, cluster))], "testwerk", cluster, "backup")
    assert namespace["metadata"]["name"] == NAMESPACE
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    assert namespace["metadata"]["annotations"][vocab.POD_SECURITY_EXEMPTION] == ADDON.pod_security.reason


def test_every_velero_pod_reaches_the_api_server_dns_and_the_stores_only() -> None:
    for cloud in ("aws", "gcp"):
        for ctx, release in _releases(_config({"aws": AWS_STORE}, cloud=cloud)):
            assert release.network is not None
            paths = {p.name: p for p in release.network.paths if p.direction == "egress"}
            # repository-maintenance Jobs carry none of the chart's labels: the paths select every pod
            assert all(not p.pods for p in paths.values())
            # the one way in: Prometheus scraping the server's and node agents' metrics port
            [scraped] = [p for p in release.network.paths if p.direction == "ingress"]
            assert scraped.name == "metrics-velero" and scraped.ports == (METRICS_PORT,)
            assert isinstance(paths["api-server"].peer, ApiServer) and isinstance(paths["dns"].peer, ClusterDns)
            stores = paths["stores"]
            assert isinstance(stores.peer, External) and stores.peer.ports == (443,)
            # no stack names the stores' addresses: any address, HTTPS only
            assert "(any address) on 443" in describe(stores, ctx.cluster)
            gke = ctx.cluster.distribution == "gke"
            metadata = {n for n in paths if n.startswith("identity-")}
            assert metadata == ({"identity-80", "identity-988"} if gke else set()), ctx.cluster.name
