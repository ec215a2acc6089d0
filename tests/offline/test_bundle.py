"""The bundle and footprint of `make plan`: read from what the stack registers, per cluster and add-on."""

from __future__ import annotations

import json
import sysconfig
import tomllib
from pathlib import Path

import pytest

from components.catalogue.footprint import quantity
from components.catalogue.model import ClusterContext
from components.catalogue.values import get_path
from components.inventory import CATALOGUE, platform_namespaces
from offline import bundle, plugins
from offline.harness import Recording
from offline.render import cluster_of
from tests.support.factories import secure_raw
from tests.support.runs import Runs

CHART = "kubernetes:helm.sh/v4:Chart"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def recording(runs: Runs) -> Recording:
    return runs.main(secure_raw())


def test_footprint_is_read_from_the_values_the_charts_receive(recording: Recording) -> None:
    found = bundle.bundles(recording)["edge"]
    by_urn = recording.by_urn()
    gatekeeper = next(
        r for r in recording.of_type(CHART) if r.inputs["name"] == "gatekeeper" and cluster_of(r, by_urn) == "edge"
    )
    requests = get_path(gatekeeper.inputs["values"], "controllerManager.resources.requests")
    expected_cpu = quantity(requests["cpu"]) + quantity(
        gatekeeper.inputs["values"]["audit"]["resources"]["requests"]["cpu"]
    )
    assert found.footprint.per_addon["gatekeeper"].cpu_requests == expected_cpu


def test_a_manifest_add_ons_footprint_is_read_from_its_pod_spec(recording: Recording) -> None:
    found = bundle.bundles(recording)["edge"]
    bench = next(r for r in found.releases if r.addon.name == "kube-bench")
    [daemon_set] = bench.manifests
    container = daemon_set["spec"]["template"]["spec"]["containers"][0]
    # a DaemonSet: part of the steady state, once per node (the plan assumes one)
    assert found.footprint.per_addon["kube-bench"].memory_limits == quantity(container["resources"]["limits"]["memory"])
    assert found.footprint.steady.memory_requests >= quantity(container["resources"]["requests"]["memory"])


def test_edge_small_platform_fits_the_budget(runs: Runs) -> None:
    """The whole edge-small platform must leave the cell room: ≤ 1.5 vCPU and ≤ 3 GiB of requests."""
    (edge,) = bundle.bundles(runs.stack("dev").recording).values()
    steady = edge.footprint.steady
    assert steady.cpu_requests <= quantity("1500m")
    assert steady.memory_requests <= quantity("3Gi")


def test_bundle_lists_every_add_on_and_image_the_stack_needs(runs: Runs, tmp_path: Path) -> None:
    recording = runs.stack("rheinfeld").recording
    bundle.write_bundle(tmp_path, bundle.bundles(recording), plugins.pulumi_document(recording))
    document = json.loads((tmp_path / "bundle.json").read_text())
    assert set(document) == {"clusters", "pulumi"}
    assert set(document["clusters"]) == {"plant", "cloud"}
    config = runs.stack("rheinfeld").config
    for name, cluster in document["clusters"].items():
        # every add-on the cluster runs (falco-k8saudit only where the API server can post to it: RKE2, not EKS)
        ctx = ClusterContext(config, config.cluster(name), platform_namespaces())
        assert set(cluster["addons"]) == {key for key, addon in CATALOGUE.items() if addon.enabled(ctx)}
        assert ("falco-k8saudit" in cluster["addons"]) is (name == "plant")
        assert cluster["addons"]["kube-bench"]["source"] == "manifests"
        assert cluster["addons"]["falco"]["source"] == "chart"
        assert any("kube-bench" in image for image in cluster["images"])
        assert len(cluster["images"]) >= 7
        assert sorted({i for a in cluster["addons"].values() for i in a["images"]}) == cluster["images"]
        # the digests the catalogue records reach the bundle; what has none is listed as such, never hidden
        assert any("kube-bench:v0.15.6@sha256:" in image for image in cluster["images"])
        unpinned = [i for i in cluster["images"] + cluster["artifacts"] if "@sha256:" not in i]
        assert cluster["notDigestPinned"] == sorted(unpinned) and unpinned
        assert all(set(a["notDigestPinned"]) <= set(unpinned) for a in cluster["addons"].values())


def test_a_pod_outside_the_catalogue_is_refused(recording: Recording) -> None:
    bench = next(r for r in recording.resources if r.name == "testwerk-edge-baseline-kube-bench-daemonset")
    stray = Recording(recording.project, recording.stack, list(recording.resources))
    unlabelled = {**bench.inputs, "metadata": {**bench.inputs["metadata"], "labels": {}}}
    stray.resources[stray.resources.index(bench)] = type(bench)(**{**bench.__dict__, "inputs": unlabelled})
    with pytest.raises(ValueError, match="belongs to no add-on of the catalogue"):
        bundle.bundles(stray)


def _pins() -> dict[str, str]:
    """pyproject.toml's [project] dependencies, each an exact pin: package -> version."""
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return dict(str(d).split("==") for d in dependencies)


def _pinned_providers() -> dict[str, str]:
    """The provider SDKs among them, as plugin name -> version: pulumi-* but the SDK and the policy SDK."""
    pins = {name.removeprefix("pulumi-"): v for name, v in _pins().items() if name.startswith("pulumi-")}
    del pins["policy"]  # no plugin: its pulumi-plugin.json says resource false
    return pins


def test_the_plugins_to_mirror_are_the_provider_sdks_pyproject_pins() -> None:
    found = {plugin.name: plugin.version for plugin in plugins.required_plugins()}
    assert found == _pinned_providers()
    assert {"kubernetes", "aws", "gcp", "azure-native"} <= set(found)
    # read again straight from the files the language host reads, not through importlib.metadata
    site = Path(sysconfig.get_path("purelib"))
    declared = [json.loads(path.read_text()) for path in site.glob("*/pulumi-plugin.json")]
    assert found == {d["name"]: d["version"] for d in declared if d.get("resource")}
    assert plugins.cli_version() == _pins()["pulumi"]


def test_every_installed_provider_is_listed_whether_or_not_the_stack_uses_it(runs: Runs) -> None:
    document = plugins.pulumi_document(runs.stack("dev").recording)
    used = {p["name"]: p["usedByThisStack"] for p in document["plugins"]}
    # dev is one k3s cluster backed up to AWS: no GCP or Azure resource, yet the engine pre-installs every plugin
    assert used == {"kubernetes": True, "aws": True, "gcp": False, "azure-native": False}
    pilsen = plugins.pulumi_document(runs.stack("pilsen").recording)
    assert {p["name"] for p in pilsen["plugins"] if p["usedByThisStack"]} == {"kubernetes", "aws", "azure-native"}
    rheinfeld = plugins.pulumi_document(runs.stack("rheinfeld").recording)
    assert all(p["usedByThisStack"] for p in rheinfeld["plugins"])
    kubernetes = next(p for p in document["plugins"] if p["name"] == "kubernetes")
    version = kubernetes["version"]
    assert kubernetes["assets"] == {
        platform: f"pulumi-resource-kubernetes-v{version}-{platform}.tar.gz"
        for platform in ("linux-amd64", "linux-arm64", "darwin-arm64", "windows-amd64")
    }
    assert kubernetes["source"] == "github://api.github.com/pulumi/pulumi-kubernetes"


def test_plugins_are_read_the_way_the_language_host_reads_them(runs: Runs, monkeypatch: pytest.MonkeyPatch) -> None:
    installed = [
        plugins.InstalledPackage("pulumi", "3.272.0", None),  # the SDK: not named pulumi-*, no plugin file
        plugins.InstalledPackage("pulumi-policy", "1.21.0", None),  # known to have none, file or not
        plugins.InstalledPackage("pulumi-esc-sdk", "0.12.0", None),
        plugins.InstalledPackage("pulumi-tls", "5.2.0", {"resource": False}),
        plugins.InstalledPackage("pulumi-command", "1.1.0", {"name": "command"}),  # resource missing: false
        plugins.InstalledPackage("pulumi-random", "4.18.0", None),  # no file: the name and version say it
        plugins.InstalledPackage(
            "acme-cloud", "2.0.0", {"resource": True, "name": "acme", "version": "v2.0.1", "server": "https://x/acme"}
        ),
        plugins.InstalledPackage("requests", "2.32.0", None),
    ]
    monkeypatch.setattr(plugins, "installed_packages", lambda: installed)
    document = plugins.pulumi_document(runs.stack("dev").recording)
    found = {(p["name"], p["version"], p["package"], p["source"]) for p in document["plugins"]}
    assert found == {
        ("random", "4.18.0", "pulumi-random", "github://api.github.com/pulumi/pulumi-random"),
        ("acme", "2.0.1", "acme-cloud", "https://x/acme"),
    }
