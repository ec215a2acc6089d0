"""The bundle and footprint of `make plan`: read from what the stack registers, per cluster and add-on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.catalogue.footprint import quantity
from components.catalogue.model import ClusterContext
from components.catalogue.values import get_path
from components.inventory import CATALOGUE, platform_namespaces
from offline import bundle
from offline.harness import Recording
from tests.support.factories import secure_raw
from tests.support.runs import Runs

CHART = "kubernetes:helm.sh/v4:Chart"


@pytest.fixture(scope="module")
def recording(runs: Runs) -> Recording:
    return runs.main(secure_raw())


def test_footprint_is_read_from_the_values_the_charts_receive(recording: Recording) -> None:
    found = bundle.bundles(recording)["edge"]
    gatekeeper = next(r for r in recording.of_type(CHART) if r.name == "testwerk-edge-baseline-gatekeeper")
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
    found = bundle.bundles(runs.stack("rheinfeld").recording)
    bundle.write_bundle(tmp_path, found)
    document = json.loads((tmp_path / "bundle.json").read_text())
    assert set(document) == {"plant", "cloud"}
    config = runs.stack("rheinfeld").config
    for name, cluster in document.items():
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
