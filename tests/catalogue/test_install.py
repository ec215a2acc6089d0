"""The one add-on surface, end to end, with two test add-ons that share a namespace — a chart whose
controller needs a cloud identity and brings two custom resources (the second needing the first's CRD),
and a privileged manifest add-on — installed by a test capability under the SDK mock runtime."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from components.catalogue.install import install, install_namespaces
from components.catalogue.model import (
    AddOn,
    BroughtResource,
    Chart,
    ClusterContext,
    Manifests,
    PodSecurity,
    ServiceAccountIdentity,
    WorkloadSlot,
)
from components.catalogue.release import resolve
from components.config.loader import load_factory_config
from components.core.component import ComponentArgs, FactoryComponent, Protection
from components.identity.component import addon_binding, cloud_provider
from offline import bundle, harness
from offline.harness import Recording
from tests.support.factories import AZURE, MIRROR, secure_raw
from tests.support.runs import named

LIMITS = {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}}
STORE = {"apiVersion": "example.io/v1", "kind": "Store", "metadata": {"name": "s3", "namespace": "shared"}}
SCHEDULE = {"apiVersion": "example.io/v1", "kind": "Schedule", "metadata": {"name": "daily", "namespace": "shared"}}
CHART_ADDON = AddOn(
    name="backup-agent",
    namespace="shared",
    version="1.2.3",
    source=Chart(
        "backup-agent",
        "https://charts.example.io",
        values=lambda _ctx: {"serviceAccount": {"name": "backup-agent"}, "resources": LIMITS},
        workloads=(WorkloadSlot("server", "resources"),),
    ),
    identity=ServiceAccountIdentity("backup-agent", "serviceAccount.annotations", "podLabels"),
    brings=lambda _ctx: [
        BroughtResource("store", STORE, "stores.example.io"),
        BroughtResource("schedule", SCHEDULE, "schedules.example.io", after="store"),
    ],
)
NODE_AGENT = {
    "apiVersion": "apps/v1",
    "kind": "DaemonSet",
    "metadata": {"name": "node-agent", "namespace": "shared"},
    "spec": {
        "template": {
            "spec": {
                "serviceAccountName": "node-agent",
                "containers": [{"name": "agent", "image": "ghcr.io/example/agent:2.0.0", "resources": LIMITS}],
            }
        }
    },
}
ACCOUNT = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "node-agent", "namespace": "shared"}}
MANIFEST_ADDON = AddOn(
    name="node-agent",
    namespace="shared",
    version="2.0.0",
    source=Manifests(lambda _ctx: [NODE_AGENT, ACCOUNT]),
    pod_security=PodSecurity("privileged", "The node agent reads every node's disk."),
    identity=ServiceAccountIdentity("node-agent"),
)


@dataclass(frozen=True, kw_only=True)
class HostArgs(ComponentArgs):
    context: ClusterContext
    addons: tuple[AddOn, ...] = (CHART_ADDON, MANIFEST_ADDON)


class Host(FactoryComponent[HostArgs]):
    """A test capability: installs the two test add-ons the way every capability installs its own."""

    def __init__(self, name: str, args: HostArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, args, opts)
        factory, cluster = args.context.factory.factory.name, args.context.cluster
        releases = [resolve(addon, args.context) for addon in args.addons]
        namespaces = install_namespaces(self, releases, factory, cluster, "test")
        for release in releases:
            binding = addon_binding(self, release, factory, cluster)
            install(self, release, namespaces[release.addon.namespace], binding)
        self.finish()


def run_host(raw: dict[str, Any], addons: tuple[AddOn, ...] = (CHART_ADDON, MANIFEST_ADDON)) -> Recording:
    config = load_factory_config(raw)
    cluster = config.cluster("cloud")

    def program() -> None:
        kube = k8s.Provider("cloud", kubeconfig="offline")
        cloud = cloud_provider("cloud", cluster, pulumi.ResourceOptions())
        assert cloud is not None
        Host(
            "host",
            HostArgs(protection=Protection(False), context=ClusterContext(config, cluster, ("shared",)), addons=addons),
            pulumi.ResourceOptions(providers=[kube, cloud]),
        )

    return harness.run(program, project="factory-floor", stack="test")


@pytest.fixture(scope="module")
def recording() -> Recording:
    return run_host(secure_raw("aws"))  # with the site mirrors


def test_add_ons_sharing_a_namespace_get_one_namespace_at_the_level_they_need(recording: Recording) -> None:
    [namespace] = recording.of_type("kubernetes:core/v1:Namespace")
    metadata = namespace.inputs["metadata"]
    assert metadata["name"] == "shared"
    assert metadata["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    assert metadata["annotations"] == {
        "factory-floor.io/pod-security-exemption": "The node agent reads every node's disk."
    }


def test_a_chart_is_a_release_named_after_its_add_on_with_its_identity_in_values(recording: Recording) -> None:
    chart = named(recording, "host-backup-agent")
    assert chart.inputs["name"] == "backup-agent" and chart.inputs["version"] == "1.2.3"
    arn = "arn:aws:iam::123456789012:role/testwerk-cloud-addon-backup-agent"
    # with the shortest projected token the EKS pod identity webhook mounts (600 s), as for a line
    assert chart.inputs["values"]["serviceAccount"]["annotations"] == {
        "eks.amazonaws.com/role-arn": arn,
        "eks.amazonaws.com/token-expiration": "600",
    }
    role = named(recording, "host-backup-agent-identity-role")
    condition = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Condition"]["StringEquals"]
    assert "system:serviceaccount:shared:backup-agent" in condition.values()
    assert role.provider_urn == recording.of_type("pulumi:providers:aws")[0].urn, "the cloud provider is inherited"


def test_brought_resources_wait_for_what_defines_their_crd(recording: Recording) -> None:
    chart, namespace = named(recording, "host-backup-agent"), named(recording, "host-ns-shared")
    store, schedule = named(recording, "host-backup-agent-store"), named(recording, "host-backup-agent-schedule")
    assert namespace.urn in chart.dependencies
    assert store.dependencies == [chart.urn]
    assert schedule.dependencies == [store.urn]


def test_a_manifest_add_on_is_attributed_mirrored_and_its_account_bound(recording: Recording) -> None:
    daemon_set = named(recording, "host-node-agent-daemonset")
    labels = daemon_set.inputs["metadata"]["labels"]
    assert labels == {"factory-floor.io/addon": "node-agent", "app.kubernetes.io/version": "2.0.0"}
    image = daemon_set.inputs["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == f"{MIRROR}/ghcr.io/example/agent:2.0.0"
    account = named(recording, "host-node-agent-serviceaccount")
    assert account.inputs["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/testwerk-cloud-addon-node-agent",
        "eks.amazonaws.com/token-expiration": "600",
    }


def test_azure_identity_also_labels_the_pods_of_charts_and_manifests() -> None:
    azure = run_host(secure_raw("azure", AZURE))
    values = named(azure, "host-backup-agent").inputs["values"]
    assert values["podLabels"] == {"azure.workload.identity/use": "true"}
    assert "azure.workload.identity/client-id" in values["serviceAccount"]["annotations"]
    pods = named(azure, "host-node-agent-daemonset").inputs["spec"]["template"]["metadata"]
    assert pods["labels"] == {"azure.workload.identity/use": "true"}


@pytest.mark.parametrize(
    ("addon", "expected"),
    [
        # a chart that cannot be told to label its pods: Azure would never give them a token
        (
            replace(CHART_ADDON, identity=ServiceAccountIdentity("backup-agent", "serviceAccount.annotations")),
            "pod_labels_key",
        ),
        # manifests whose pods do not run as the identity's account
        (replace(MANIFEST_ADDON, identity=ServiceAccountIdentity("other-account")), "do not create"),
    ],
)
def test_an_identity_the_add_on_cannot_use_is_refused(addon: AddOn, expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        run_host(secure_raw("azure", AZURE), (addon,))


def test_the_bundle_keys_add_ons_by_name_even_in_one_namespace(
    recording: Recording, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bundle, "CATALOGUE", {a.name: a for a in (CHART_ADDON, MANIFEST_ADDON)})
    [(cluster, found)] = bundle.bundles(recording).items()
    assert cluster == "cloud"
    assert [r.addon.name for r in found.releases] == ["backup-agent", "node-agent"]
    assert found.images() == [f"{MIRROR}/ghcr.io/example/agent:2.0.0"]  # read from the recorded pod spec
    assert set(found.footprint.per_addon) == {"backup-agent", "node-agent"}
    assert (
        found.footprint.per_addon["node-agent"].cpu_requests == found.footprint.per_addon["backup-agent"].cpu_requests
    )


def test_a_brought_resource_waiting_for_one_brought_later_is_refused() -> None:
    backwards = replace(
        CHART_ADDON,
        brings=lambda _ctx: [
            BroughtResource("schedule", SCHEDULE, "schedules.example.io", after="store"),
            BroughtResource("store", STORE, "stores.example.io"),
        ],
    )
    with pytest.raises(ValueError, match="schedule waits for store, which it does not bring before it"):
        run_host(secure_raw("aws"), (backwards,))
