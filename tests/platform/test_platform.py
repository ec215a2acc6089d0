"""The real __main__.py under the SDK mock runtime: the component tree, the providers, protection in
production, the stack outputs, and a refused config that registers nothing."""

from __future__ import annotations

import pytest

from components.inventory import CATALOGUE
from offline.harness import SECRET_SIG, Recording
from tests.support.factories import mutate, pulumi_config, secure_raw, valid_raw
from tests.support.runs import Runs, named, one

NS = "kubernetes:core/v1:Namespace"


@pytest.fixture(scope="module")
def recording(runs: Runs) -> Recording:
    return runs.main(valid_raw())


def test_factory_holds_one_cluster_platform_per_cluster_holding_its_lines_and_baseline(recording: Recording) -> None:
    platform = one(recording, "factory:index:FactoryPlatform", "testwerk")
    assert not platform.custom and platform.parent.endswith("pulumi:pulumi:Stack::factory-floor-test")
    clusters = {c.name: c for c in recording.of_type("factory:index:ClusterPlatform")}
    assert sorted(clusters) == ["testwerk-cloud", "testwerk-edge"]
    assert all(c.parent == platform.urn for c in clusters.values())
    lines = {line.name: line for line in recording.of_type("factory:index:ProductionLine")}
    assert {name: line.parent for name, line in lines.items()} == {
        "testwerk-press": clusters["testwerk-edge"].urn,
        "testwerk-weld": clusters["testwerk-edge"].urn,
        "testwerk-mes": clusters["testwerk-cloud"].urn,
    }
    baselines = {b.name: b.parent for b in recording.of_type("factory:index:SecurityBaseline")}
    assert baselines == {f"{name}-baseline": cluster.urn for name, cluster in clusters.items()}


def test_one_explicit_provider_per_cluster_with_secret_kubeconfig(recording: Recording) -> None:
    providers = recording.of_type("pulumi:providers:kubernetes")
    clusters = {c.name: c.urn for c in recording.of_type("factory:index:ClusterPlatform")}
    assert sorted(p.name for p in providers) == ["testwerk-cloud", "testwerk-edge"]
    for provider in providers:
        assert provider.parent == clusters[provider.name], "the provider belongs to its cluster's platform"
        kubeconfig = provider.inputs["kubeconfig"]
        assert isinstance(kubeconfig, dict) and SECRET_SIG in kubeconfig, "kubeconfig must travel as a secret"
        assert provider.inputs["clusterIdentifier"] == f"testwerk/{provider.name.removeprefix('testwerk-')}"
        assert provider.inputs["deleteUnreachable"] == "false"


def test_every_kubernetes_object_uses_its_clusters_provider(recording: Recording) -> None:
    providers = {p.urn: p.name for p in recording.of_type("pulumi:providers:kubernetes")}
    # a line's objects are named after the line, a baseline's after its cluster
    cluster_of = {"press": "edge", "weld": "edge", "mes": "cloud", "edge": "edge", "cloud": "cloud"}
    objects = [r for r in recording.resources if r.type.startswith("kubernetes:")]
    assert len(objects) > 40
    for r in objects:
        owner = r.name.removeprefix("testwerk-").split("-")[0]
        assert providers[r.provider_urn] == f"testwerk-{cluster_of[owner]}", r.name


def _line_resources(recording: Recording) -> set[str]:
    lines = {r.urn for r in recording.of_type("factory:index:ProductionLine")}
    inside = {r.urn for r in recording.resources if r.parent in lines}
    return {r.name for r in recording.resources if r.parent in lines | inside and r.custom}


def _platform_namespaces(recording: Recording) -> set[str]:
    """The namespaces the catalogue's add-ons live in: admission control's, the security baseline's, the
    segmentation canary's, disaster recovery's and observability's."""
    owners = ("-admission-ns-", "-baseline-ns-", "-verification-ns-", "-recovery-ns-", "-observability-ns-")
    return {r.name for r in recording.of_type("kubernetes:core/v1:Namespace") if any(o in r.name for o in owners)}


def _store_resources(recording: Recording) -> set[str]:
    return {r.name for r in recording.resources if "factory:index:BackupStores" in r.urn and r.custom}


def test_lines_platform_namespaces_and_stores_are_protected_in_production_and_nothing_else_is(
    recording: Recording,
) -> None:
    protected = {r.name for r in recording.resources if r.protect and r.custom}
    retained = {r.name for r in recording.resources if r.retain_on_delete}
    assert protected == retained
    assert protected - _store_resources(recording) == _line_resources(recording) | _platform_namespaces(recording)
    # a destroy leaves every store, key and the Azure identity that reaches the key (each store's tests: which)
    assert {
        "testwerk-backup-aws-bucket",
        "testwerk-backup-aws-key",
        "testwerk-backup-azure-account",
        "testwerk-backup-azure-vault",
        "testwerk-backup-azure-key",
        "testwerk-backup-azure-container",
    } <= protected
    assert {"testwerk-press-namespace", "testwerk-press-netpol-default-deny", "testwerk-press-editors"} <= protected
    assert "testwerk-edge-baseline-ns-falco" in protected, "deleting it would delete what Falco keeps there"
    assert "testwerk-edge-recovery-ns-velero" in protected, "deleting it would delete every Backup object"


@pytest.mark.parametrize("stack", ["pilsen", "rheinfeld"])
def test_a_destroy_leaves_every_store_with_its_locks_keys_replica_and_settings(runs: Runs, stack: str) -> None:
    """Deleting a bucket's lock configuration, public-access block or policy while the protected bucket stays
    would leave a weaker store: in production every store resource but the providers is protected and retained."""
    stores = [
        r
        for r in runs.stack(stack).recording.resources
        if "factory:index:BackupStores" in r.urn and r.custom and not r.type.startswith("pulumi:providers:")
    ]
    assert len(stores) > 20
    assert [r.name for r in stores if not (r.protect and r.retain_on_delete)] == []


def test_a_removed_line_cannot_lose_its_guard_rails_before_its_namespace(runs: Runs) -> None:
    """Deleting a line's NetworkPolicies first would leave its workloads unisolated: they are protected too."""
    recording = runs.main(secure_raw())
    for name in ("testwerk-mes-netpol-default-deny", "testwerk-mes-quota", "testwerk-mes-identity-role"):
        assert named(recording, name).protect, name


def test_a_disposable_stack_protects_nothing_and_can_opt_in(runs: Runs) -> None:
    staging = runs.main(mutate(valid_raw(), "environment", "staging"))
    assert not [r.name for r in staging.resources if r.protect or r.retain_on_delete]
    opted = runs.main(mutate(mutate(valid_raw(), "environment", "staging"), "protection", {"stateful": True}))
    protected = {r.name for r in opted.resources if r.protect and r.custom}
    assert protected - _store_resources(opted) == _line_resources(opted) | _platform_namespaces(opted)
    assert "testwerk-backup-aws-bucket" in protected


def test_stack_outputs_name_namespaces_and_no_secrets(recording: Recording) -> None:
    assert recording.outputs["factory"] == "testwerk"
    assert recording.outputs["clusters"] == ["edge", "cloud"]
    assert recording.outputs["lines"] == {
        "press": {"namespace": "line-press", "serviceAccount": "line-workload"},
        "weld": {"namespace": "line-weld", "serviceAccount": "line-workload"},
        "mes": {"namespace": "line-mes", "serviceAccount": "line-workload"},
    }
    assert "kubeconfig" not in repr(recording.outputs)


def test_broken_config_stops_before_any_resource(runs: Runs) -> None:
    message, recording = runs.failing(*pulumi_config(mutate(valid_raw(), "lines.1.cluster", "edgy")))
    assert "factory-floor:lines[1].cluster" in message
    assert recording.resources == []


def test_missing_kubeconfig_names_the_key(runs: Runs) -> None:
    raw = valid_raw()
    del raw["cloudKubeconfig"]
    message, recording = runs.failing(*pulumi_config(raw))
    assert "factory-floor:clusters[1].kubeconfig.secretKey" in message
    assert "pulumi config set --secret cloudKubeconfig" in message
    assert recording.resources == []


def test_plaintext_kubeconfig_is_refused(runs: Runs) -> None:
    config, secrets = pulumi_config(valid_raw())
    secrets.remove("factory-floor:edgeKubeconfig")
    message, recording = runs.failing(config, secrets)
    assert "holds a kubeconfig in plain text" in message
    assert recording.resources == []


def test_every_helm_release_is_named_after_its_add_on_however_long_the_factory_and_cluster_names(runs: Runs) -> None:
    """Helm refuses release names over 53 characters (pkg/chartutil/validate_name.go); a v4 Chart without `name`
    would take its resource name, `<factory>-<cluster>-<component>-<add-on>`, which valid names push past it."""
    factory, cluster = "f" * 63, "c" * 63
    raw = mutate(secure_raw(), "factory.name", factory)
    raw = mutate(raw, "clusters.1.name", cluster)
    raw["lines"] = [line | {"cluster": cluster} if line["cluster"] == "cloud" else line for line in raw["lines"]]
    recording = runs.main(raw)
    charts = recording.of_type("kubernetes:helm.sh/v4:Chart")
    on_long_cluster = [c for c in charts if c.name.startswith(f"{factory}-{cluster}-")]
    assert on_long_cluster and all(len(c.name) > 53 for c in on_long_cluster), "the resource names are long"
    for chart in charts:
        # `<factory>-<cluster>-<component>-<add-on>`: the release is the add-on's name alone
        assert chart.name.endswith(f"-{chart.inputs['name']}") and chart.inputs["name"] in CATALOGUE, chart.name
        assert len(chart.inputs["name"]) <= 53
