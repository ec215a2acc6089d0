"""node-exporter, one per node, as its own release in its own namespace: it reads the host's /proc and /sys and
runs in the host's network and PID namespaces, which Pod Security allows only at `privileged`. Keeping it out of
`monitoring` keeps that namespace `restricted` (kube-prometheus-stack's own node-exporter is switched off)."""

from __future__ import annotations

from components.catalogue.images import PINNED_PULL_POLICY, Image
from components.catalogue.model import (
    AddOn,
    Chart,
    ChartArchive,
    ClusterContext,
    ImageSlot,
    PodSecurity,
    Values,
    WorkloadSlot,
)
from components.catalogue.network import NetworkNeeds
from components.catalogue.rbac import RbacReview
from components.observability.sizing import stack_size

NAME = "node-exporter"
NAMESPACE = "node-exporter"
VERSION = "4.56.1"
IMAGE = Image(
    "quay.io",
    "prometheus/node-exporter",
    "v1.12.1-distroless",
    "sha256:8c9bac11973b94b59be88d6e11fee4429aa743c8846cdc75d65b18db33f6a106",
    source=(
        "public files found by exact search pin this digest as node-exporter:v1.12.1-distroless (a supply-chain lock "
        "script and two values files); one other labels it v1.12.1. Verify with `make pin-digests` first."
    ),
)
JOB = "node-exporter"  # the job kube-prometheus-stack's node rules and dashboards select (job="node-exporter")
JOB_LABEL_KEY = "jobLabel"  # the Service label the ServiceMonitor takes the job name from
DISTROLESS = "-distroless"  # the chart appends it to the tag when `image.distroless` is on


def values(ctx: ClusterContext) -> Values:
    return {
        "fullnameOverride": NAME,
        "image": {
            "registry": IMAGE.registry,
            "repository": IMAGE.repository,
            "tag": IMAGE.tag.removesuffix(DISTROLESS),
            "distroless": True,
            # this chart refuses `sha`; `digest` is printed after `@` as given
            "digest": IMAGE.digest,
            "pullPolicy": PINNED_PULL_POLICY,
        },
        "resources": stack_size(ctx.cluster.profile).node_exporter,
        # a ServiceMonitor in this namespace (Prometheus selects every namespace's), whose targets get
        # job="node-exporter": the name kube-prometheus-stack's node rules and dashboards select on. Alone, the chart
        # would name the job after its `app.kubernetes.io/name` (prometheus-node-exporter), and every node alert
        # would stay silent; these three settings are what kube-prometheus-stack sets on its own copy
        "prometheus": {"monitor": {"enabled": True, "jobLabel": JOB_LABEL_KEY, "interval": "30s"}},
        "podLabels": {JOB_LABEL_KEY: JOB},
        "service": {"labels": {JOB_LABEL_KEY: JOB}},
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 65534,
            "runAsGroup": 65534,
            "fsGroup": 65534,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containerSecurityContext": {
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
        # every node, whatever its taints (a server tainted CriticalAddonsOnly:NoExecute included): a node without
        # metrics is a node nobody is alerted about
        "tolerations": [{"operator": "Exists"}],
        # kube-prometheus-stack's own exclusions for its copy, plus k3s' containerd: without them every pod volume
        # and local-path mount becomes series, and a full disk raises one alert per mount
        "extraArgs": [
            "--collector.filesystem.mount-points-exclude=^/(dev|proc|sys|run/containerd/.+|run/k3s/containerd/.+|"
            "var/lib/docker/.+|var/lib/kubelet/.+)($|/)",
            "--collector.filesystem.fs-types-exclude=^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|"
            "devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|"
            "selinuxfs|squashfs|sysfs|tracefs|erofs)$",
        ],
    }


ADDON = AddOn(
    name=NAME,
    namespace=NAMESPACE,
    version=VERSION,
    source=Chart(
        chart="prometheus-node-exporter",
        repository="https://prometheus-community.github.io/helm-charts",
        archive=ChartArchive(
            "https://github.com/prometheus-community/helm-charts/releases/download/prometheus-node-exporter-4.56.1/"
            "prometheus-node-exporter-4.56.1.tgz",
            "70fab291e00a34c58fd943bb075fecc2e2e73fa95db1bcbbe7cdfe008795354a",
            source=(
                "prometheus-community/helm-charts index.yaml on gh-pages (stored copy at commit 0163faed668a), entry "
                "prometheus-node-exporter 4.56.1, created 27 s after the tag's commit 8b8e639c"
            ),
        ),
        values=values,
        images=(ImageSlot.block("image", IMAGE, digest="digest", tag_suffix=DISTROLESS),),
        workloads=(WorkloadSlot("node-exporter", "resources", per_node=True),),
    ),
    # on the host's network: NetworkPolicies do not apply to its pods; the namespace's default deny stays for
    # anything else ever placed here. Prometheus reaches it at the node's address (observability/network.py)
    network=lambda _ctx: NetworkNeeds(),
    rbac=RbacReview(
        VERSION,
        (),
        narrowed="No ClusterRole: the chart renders one only with kube-rbac-proxy, which is off.",
    ),
    pod_security=PodSecurity(
        "privileged",
        "node-exporter reads the node's /proc and /sys (read-only host mounts, and / for file-system metrics) in the "
        "host's network and PID namespaces, which even baseline refuses. It runs as nobody, with no capabilities, "
        "no privilege escalation and a read-only root file system.",
    ),
)
