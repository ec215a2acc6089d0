"""kube-bench as the real program registers it: on every node (a DaemonSet), the node checks of the cluster's
distribution only, and nothing of the node mounted but the files those checks read — never a private key, an
admin kubeconfig or the datastore (the finding: the CronJob mounted /var/lib/rancher, /etc/kubernetes and
/var/lib/etcd, i.e. the CA keys, the admin kubeconfig and etcd itself)."""

from __future__ import annotations

from typing import Any

import pytest

from components.catalogue.model import ClusterContext
from components.config.loader import load_factory_config
from components.inventory import platform_namespaces
from components.security import kube_bench
from offline.harness import Recording
from tests.support.factories import secure_raw
from tests.support.runs import Runs, named

# What a compromised kube-bench image must never see: the cluster's keys and the datastore.
FORBIDDEN = (
    "/var/lib/rancher/k3s/server",
    "/var/lib/rancher/rke2/server",
    "/etc/rancher",
    "/var/lib/etcd",
    "/etc/kubernetes/pki/ca.key",
    "/etc/kubernetes/admin.conf",
    "/etc/kubernetes/azure.json",
)
# directories that hold private keys next to the files the checks read: never mounted whole
KEY_DIRECTORIES = ("/var/lib/rancher/k3s/agent", "/var/lib/rancher/rke2/agent", "/var/lib/kubelet", "/etc/kubernetes")


@pytest.fixture(scope="module")
def recording(runs: Runs) -> Recording:
    return runs.main(secure_raw())


def _spec(recording: Recording, cluster: str) -> dict[str, Any]:
    daemon_set = named(recording, f"testwerk-{cluster}-baseline-kube-bench-daemonset")
    assert daemon_set.inputs["kind"] == "DaemonSet"
    spec: dict[str, Any] = daemon_set.inputs["spec"]["template"]["spec"]
    return spec


def _mounted(spec: dict[str, Any]) -> list[str]:
    return [v["hostPath"]["path"] for v in spec["volumes"] if "hostPath" in v]


def test_every_node_runs_the_node_checks_of_its_distribution(recording: Recording) -> None:
    edge, cloud = _spec(recording, "edge"), _spec(recording, "cloud")
    assert "--targets node --benchmark k3s-cis-1.9" in edge["containers"][0]["command"][-1]
    assert "--targets node --benchmark eks-1.8.0" in cloud["containers"][0]["command"][-1]
    # every node, whatever its taints; weekly after the first run, which is when the pod starts
    assert edge["tolerations"] == [{"operator": "Exists"}]
    assert f"sleep {7 * 24 * 3600}" in edge["containers"][0]["command"][-1]


def test_a_compromised_kube_bench_holds_no_key_of_the_cluster(recording: Recording) -> None:
    """The attack: an image swapped under the tag, or an exploited scanner, reads what the pod mounts. Only the
    kubelet's kubeconfig, config and CA certificate are there: no private key, no admin kubeconfig, no etcd."""
    for cluster in ("edge", "cloud"):
        spec = _spec(recording, cluster)
        paths = _mounted(spec)
        assert paths and all(not p.startswith(FORBIDDEN) for p in paths), (cluster, paths)
        assert not set(paths) & set(KEY_DIRECTORIES), "a directory holding keys is mounted whole"
        assert all(v["hostPath"]["type"] == "File" for v in spec["volumes"] if "hostPath" in v)
        container = spec["containers"][0]
        host_mounts = [m for m in container["volumeMounts"] if m["mountPath"] in paths]
        assert len(host_mounts) == len(paths) and all(m["readOnly"] for m in host_mounts)
        assert spec["automountServiceAccountToken"] is False  # no API token: node checks need none
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
        assert container["securityContext"]["readOnlyRootFilesystem"] is True


@pytest.mark.parametrize("distribution", sorted(kube_bench.NODE_FILES))
def test_each_distribution_mounts_only_files_and_no_key(distribution: str) -> None:
    config = load_factory_config(secure_raw())
    cluster = config.clusters[0].model_copy(update={"distribution": distribution})
    spec = kube_bench.daemon_set(ClusterContext(config, cluster, platform_namespaces()))
    paths = _mounted(spec["spec"]["template"]["spec"])
    assert paths == list(kube_bench.NODE_FILES[distribution])
    assert not [p for p in paths if p.endswith((".key", "admin.conf", "azure.json")) or p.startswith(FORBIDDEN)]


def test_the_benchmark_exists_for_each_distribution() -> None:
    """kube-bench v0.15.6 names: aks has no '-1.8.0' (it is 'aks-1.8'), generic clusters use their minor's CIS."""
    assert kube_bench.BENCHMARKS["aks"] == "aks-1.8"
    config = load_factory_config(secure_raw())
    cluster = config.clusters[0]
    generic = cluster.model_copy(update={"distribution": "generic", "kubernetes_version": "1.30"})
    assert kube_bench.benchmark(generic) == "cis-1.11"
    newest = cluster.model_copy(update={"distribution": "generic", "kubernetes_version": "1.37"})
    assert kube_bench.benchmark(newest) == "cis-1.12"


def test_probes_follow_the_weekly_run(recording: Recording) -> None:
    container = _spec(recording, "edge")["containers"][0]
    assert container["readinessProbe"]["exec"]["command"][-1] == f"test -f {kube_bench.RESULTS_DIR}/last-run"
    liveness = container["livenessProbe"]
    assert "-mmin -11520" in liveness["exec"]["command"][-1]  # a week and a day without a finished run
    assert liveness["initialDelaySeconds"] >= 600
