"""kube-bench: a manifest add-on (it ships no Helm chart) that runs the CIS node checks of the cluster's
distribution on every node — a DaemonSet whose container runs `kube-bench run --targets node`, then sleeps a
week, and again.

Why a DaemonSet and not a CronJob: a Job runs on one node the scheduler picks, and a Job per node needs node
names the plan cannot know (a cell gains and loses nodes; a node pool scales). A DaemonSet covers every node,
including one that joins tomorrow, which is checked the moment it joins. Results go to the container's log
(`kubectl logs -n kube-bench ds/kube-bench` per pod), once at start and then weekly.

Why only the node checks, with only the files they stat or read: the control-plane and etcd checks need the
CA private keys, the admin kubeconfig and the datastore inside the pod — the keys to the whole cluster in the
hands of one image. Those checks belong to the platform team on the servers themselves (docs/security.md); on
managed control planes they do not apply. Each node file is mounted on its own, read-only, with hostPath type
`File`, so a directory holding keys (the kubelet's client key sits next to its kubeconfig) is never mounted
and a missing file is an error on the pod, never a directory created on the node.
"""

from __future__ import annotations

import shlex
from typing import Any

from components.catalogue.images import PINNED_PULL_POLICY, Image
from components.catalogue.model import AddOn, ClusterContext, Manifest, Manifests, PodSecurity
from components.catalogue.network import NetworkNeeds
from components.config.factory import ClusterConfig
from components.core import vocabulary as vocab
from components.core.sizing import resources

NAMESPACE = "kube-bench"
VERSION = "0.15.6"
IMAGE = Image(
    "docker.io",
    "aquasec/kube-bench",
    f"v{VERSION}",
    "sha256:861900910eec45b54a97e4a2af81b16fae7203d768f7f8e7de3b7456807870f5",
    source=(
        "draugr-dev/draugr internal/scanners/kube_bench_job.go (defaultKubeBenchImage, pinned by digest); two "
        "public kube-bench v0.15.6 evaluation logs quote the same digest prefix."
    ),
)

# The newest benchmark kube-bench v0.15.6 ships per distribution (cfg/config.yaml version_mapping); auto-detection
# picks the generic CIS profile on k3s, so distributions are always named.
BENCHMARKS = {
    "k3s": "k3s-cis-1.9",
    "rke2": "rke2-cis-1.8",
    "eks": "eks-1.8.0",
    "gke": "gke-1.9.0",
    "aks": "aks-1.8",
}
# A generic cluster gets the CIS benchmark of its Kubernetes minor (kube-bench's own version_mapping; 1.35+
# have no newer benchmark than cis-1.12). The pod has no API access to let kube-bench find the version itself.
GENERIC_BENCHMARKS = {29: "cis-1.11", 30: "cis-1.11", 31: "cis-1.11"}
GENERIC_NEWEST = "cis-1.12"
TARGETS = "node"

# Exactly the files each benchmark's node checks stat or read (kube-bench v0.15.6 cfg/<benchmark>/config.yaml,
# node.yaml, and cfg/config.yaml's node defaults): the kubelet's kubeconfig and config, the kube-proxy kubeconfig,
# the kubelet's client CA certificate (public). Never a private key, an admin kubeconfig or a datastore.
NODE_FILES: dict[str, tuple[str, ...]] = {
    "k3s": (
        "/var/lib/rancher/k3s/agent/kubelet.kubeconfig",
        "/var/lib/rancher/k3s/agent/kubeproxy.kubeconfig",
        "/var/lib/rancher/k3s/agent/client-ca.crt",
    ),
    "rke2": (
        "/var/lib/rancher/rke2/agent/kubelet.kubeconfig",
        "/var/lib/rancher/rke2/agent/kubeproxy.kubeconfig",
        "/var/lib/rancher/rke2/agent/client-ca.crt",
    ),
    "eks": (
        "/var/lib/kubelet/kubeconfig",
        "/etc/kubernetes/kubelet/kubelet-config.json",
        "/etc/kubernetes/pki/ca.crt",
    ),
    "gke": ("/var/lib/kubelet/kubeconfig", "/home/kubernetes/kubelet-config.yaml"),
    # not /etc/kubernetes/azure.json, which kube-bench would read too: it holds the node's cloud credentials
    "aks": ("/var/lib/kubelet/kubeconfig", "/etc/default/kubeletconfig.json", "/etc/kubernetes/certs/ca.crt"),
    # kubeadm's layout
    "generic": ("/etc/kubernetes/kubelet.conf", "/var/lib/kubelet/config.yaml", "/etc/kubernetes/pki/ca.crt"),
}
RESULTS_DIR = "/run/kube-bench"  # an emptyDir: when the last run finished, for the probes
INTERVAL_SECONDS = 7 * 24 * 3600


def benchmark(cluster: ClusterConfig) -> str:
    if cluster.distribution in BENCHMARKS:
        return BENCHMARKS[cluster.distribution]
    minor = int(cluster.kubernetes_version.split(".")[1])
    return GENERIC_BENCHMARKS.get(minor, GENERIC_NEWEST)


def command(cluster: ClusterConfig) -> list[str]:
    return ["kube-bench", "run", "--targets", TARGETS, "--benchmark", benchmark(cluster)]


def host_files(cluster: ClusterConfig) -> tuple[str, ...]:
    return NODE_FILES[cluster.distribution]


def _volume_name(path: str) -> str:
    return path.strip("/").replace("/", "-").replace(".", "-").replace("_", "-")[-63:].strip("-")


def _loop(cluster: ClusterConfig) -> str:
    """Run, record when, sleep a week; a failed check is a result in the log, not a reason to stop."""
    run = shlex.join(command(cluster))
    return f"while true; do {run}; date +%s > {RESULTS_DIR}/last-run; sleep {INTERVAL_SECONDS}; done"


def _probe(script: str, **timing: int) -> dict[str, Any]:
    return {"exec": {"command": ["/bin/sh", "-c", script]}, **timing}


def _container(cluster: ClusterConfig) -> dict[str, Any]:
    files = host_files(cluster)
    # ready once a run has finished; alive while the last run is younger than the interval plus a day
    stale_minutes = INTERVAL_SECONDS // 60 + 24 * 60
    return {
        "name": "kube-bench",
        "image": IMAGE.reference,  # the catalogue rewrites it to the site mirror
        "imagePullPolicy": PINNED_PULL_POLICY,
        "command": ["/bin/sh", "-c", _loop(cluster)],
        "resources": resources("10m", "64Mi", "500m", "256Mi"),
        # root to stat and read root-owned 0600 files, and nothing else: no capabilities, no escalation, a
        # read-only root; what it can read is only the files mounted below
        "securityContext": {
            "runAsUser": 0,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "readinessProbe": _probe(f"test -f {RESULTS_DIR}/last-run", periodSeconds=60),
        "livenessProbe": _probe(
            f"find {RESULTS_DIR}/last-run -mmin -{stale_minutes} | grep -q .",
            initialDelaySeconds=900,
            periodSeconds=3600,
        ),
        "volumeMounts": [
            {"name": "results", "mountPath": RESULTS_DIR},
            *({"name": _volume_name(p), "mountPath": p, "readOnly": True} for p in files),
        ],
    }


def daemon_set(ctx: ClusterContext) -> Manifest:
    cluster = ctx.cluster
    labels = vocab.standard_labels(ctx.factory.factory.name, component=vocab.SECURITY_COMPONENT)
    selector = {vocab.NAME: "kube-bench"}
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "kube-bench", "namespace": NAMESPACE, "labels": labels},
        "spec": {
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": {**labels, **selector}},
                "spec": {
                    # the kubelet's command line (its flags) is in the node's process table
                    "hostPID": True,
                    "securityContext": {"runAsUser": 0, "seccompProfile": {"type": "RuntimeDefault"}},
                    "automountServiceAccountToken": False,  # node checks need no API; the pod has no token
                    # every node is checked, whatever its taints (control-plane nodes run kubelets too)
                    "tolerations": [{"operator": "Exists"}],
                    "containers": [_container(cluster)],
                    "volumes": [
                        {"name": "results", "emptyDir": {"sizeLimit": "1Mi"}},
                        *(
                            {"name": _volume_name(p), "hostPath": {"path": p, "type": "File"}}
                            for p in host_files(cluster)
                        ),
                    ],
                },
            },
        },
    }


ADDON = AddOn(
    name="kube-bench",
    namespace=NAMESPACE,
    version=VERSION,
    source=Manifests(render=lambda ctx: [daemon_set(ctx)], images=(IMAGE,)),
    # the node checks read files and the process table: no network at all, not even DNS
    network=lambda _ctx: NetworkNeeds(),
    pod_security=PodSecurity(
        "privileged",
        "kube-bench runs the CIS node checks on every node: it needs hostPID (the kubelet's flags) and read-only "
        "hostPath mounts of the kubelet's kubeconfig, config and CA certificate, as root with no capabilities.",
    ),
)
