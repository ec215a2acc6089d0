"""kube-bench: a manifest add-on (it ships no Helm chart), a weekly CronJob with the CIS benchmark that
matches the cluster's distribution.

It must read the node's process table and configuration files: hostPID and read-only hostPath mounts. That
is why its namespace is a documented exception to Pod Security `restricted` (docs/security.md).
"""

from __future__ import annotations

from components.catalogue.model import AddOn, ClusterContext, Manifest, Manifests, PodSecurity
from components.config.factory import ClusterConfig
from components.config.types import MANAGED_DISTRIBUTIONS
from components.core import vocabulary as vocab
from components.core.sizing import resources

NAMESPACE = "kube-bench"
VERSION = "0.15.6"
IMAGE = f"docker.io/aquasec/kube-bench:v{VERSION}"

# The newest benchmark kube-bench ships per distribution; auto-detection picks the generic CIS profile on
# k3s, so distributions are always named. Generic clusters use kube-bench's version mapping.
BENCHMARKS = {
    "k3s": "k3s-cis-1.8",
    "rke2": "rke2-cis-1.8",
    "eks": "eks-1.8.0",
    "gke": "gke-1.8.0",
    "aks": "aks-1.8.0",
}
MANAGED_TARGETS = "node,policies,managedservices"  # managed control planes expose only the nodes

_HOST_PATHS = [
    "/var/lib/etcd",
    "/var/lib/kubelet",
    "/var/lib/kube-scheduler",
    "/var/lib/kube-controller-manager",
    "/etc/systemd",
    "/lib/systemd",
    "/srv/kubernetes",
    "/etc/kubernetes",
    "/etc/cni/net.d",
    "/opt/cni/bin",
]
_RANCHER_PATHS = ["/var/lib/rancher", "/etc/rancher"]  # where k3s and RKE2 keep kubelet and etcd config


def command(cluster: ClusterConfig) -> list[str]:
    args = ["kube-bench", "run"]
    if cluster.distribution in BENCHMARKS:
        args += ["--benchmark", BENCHMARKS[cluster.distribution]]
    if cluster.distribution in MANAGED_DISTRIBUTIONS:
        args += ["--targets", MANAGED_TARGETS]
    return args


def host_paths(cluster: ClusterConfig) -> list[str]:
    return _HOST_PATHS + (_RANCHER_PATHS if cluster.distribution in ("k3s", "rke2") else [])


def _volume_name(path: str) -> str:
    return path.strip("/").replace("/", "-").replace(".", "-")


def cron_job(ctx: ClusterContext) -> Manifest:
    cluster = ctx.cluster
    paths = host_paths(cluster)
    labels = vocab.standard_labels(ctx.factory.factory.name, component=vocab.SECURITY_COMPONENT)
    pod_labels = {**labels, vocab.NAME: "kube-bench"}
    container = {
        "name": "kube-bench",
        "image": IMAGE,  # the catalogue rewrites it to the site mirror
        "imagePullPolicy": "Always",  # tag-pinned, not digest-pinned: always ask the mirror what the tag is
        "command": command(cluster),
        "resources": resources("50m", "64Mi", "500m", "256Mi"),
        # root to stat root-owned 0600 files, and nothing else: no capabilities (so no reading across owners:
        # checks under an etcd-owned 0700 directory report as not found), no escalation, read-only root
        "securityContext": {
            "runAsUser": 0,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": _volume_name(p), "mountPath": p, "readOnly": True} for p in paths],
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "kube-bench", "namespace": NAMESPACE, "labels": labels},
        "spec": {
            "schedule": "0 3 * * 0",  # Sunday 03:00 plant time, when most plants run maintenance shifts
            "timeZone": ctx.factory.factory.timezone,
            "concurrencyPolicy": "Forbid",
            "successfulJobsHistoryLimit": 2,
            "failedJobsHistoryLimit": 2,
            "jobTemplate": {
                "spec": {
                    "backoffLimit": 1,
                    "activeDeadlineSeconds": 1800,
                    "ttlSecondsAfterFinished": 604800,
                    "template": {
                        "metadata": {"labels": pod_labels},
                        "spec": {
                            "hostPID": True,
                            "securityContext": {"runAsUser": 0, "seccompProfile": {"type": "RuntimeDefault"}},
                            "restartPolicy": "Never",
                            "automountServiceAccountToken": False,
                            "containers": [container],
                            # no hostPath type: a path missing on a worker must not block the scan
                            "volumes": [{"name": _volume_name(p), "hostPath": {"path": p}} for p in paths],
                        },
                    },
                }
            },
        },
    }


ADDON = AddOn(
    name="kube-bench",
    namespace=NAMESPACE,
    version=VERSION,
    source=Manifests(render=lambda ctx: [cron_job(ctx)]),
    pod_security=PodSecurity(
        "privileged",
        "kube-bench runs the CIS node checks: it needs hostPID and hostPath mounts of /etc and /var/lib, weekly, "
        "for a few minutes.",
    ),
)
