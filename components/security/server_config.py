"""What the nodes of a k3s or RKE2 cluster must be started with for the baseline to hold where no Kubernetes
object can say it: the API server's admission plugins (servers) and the kubelet's PID limit (every node). Pure
builders; the offline plan writes each fragment (offline/node_config.py) for the platform team to merge into
every node's config file.

Managed control planes (EKS, GKE, AKS) take no API server flags, and a generic cluster's are not ours to
know: they get no fragment, and there the Gatekeeper constraints (`no-external-ips`) are the control.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.config.factory import ClusterConfig

# CVE-2020-8554: the in-tree plugin refuses any Service that sets spec.externalIPs (Kubernetes 1.21+), for
# every user and namespace alike, whether or not Gatekeeper is running
DENY_SERVICE_EXTERNAL_IPS = "DenyServiceExternalIPs"
API_SERVER_ARGS = "kube-apiserver-arg"  # both distributions: a list of "flag=value" strings
ADMISSION_PLUGINS_FLAG = "enable-admission-plugins"
KUBELET_ARGS = "kubelet-arg"  # every node, servers and agents alike
# Quotas cannot bound processes: one pod forking or spawning threads without end exhausts the node's PIDs, and
# then nothing on it (kubelet, runtime, the platform, every other line) starts a process. Ample for JVM and
# Python services with hundreds of threads; docs/operations.md says when to lower it (kernel.pid_max 32768).
POD_PIDS_LIMIT = 4096


@dataclass(frozen=True)
class ServerDistribution:
    """Where a distribution reads its server config, and the admission plugins it enables itself."""

    config_file: str
    drop_in_dir: str
    # The value the distribution passes as --enable-admission-plugins. Our `kube-apiserver-arg` entry for the
    # same flag REPLACES it (the distribution keeps one value per flag, the user's last), so the fragment
    # repeats it. Kubernetes' own default plugins (NamespaceLifecycle, LimitRanger, ServiceAccount,
    # PodSecurity, ResourceQuota, the admission webhooks, ...) stay on either way: the flag adds to them.
    default_admission_plugins: tuple[str, ...]


SERVER_DISTRIBUTIONS: dict[str, ServerDistribution] = {
    # k3s sets only NodeRestriction: pkg/daemons/control/server.go, apiServer():
    # argsMap["enable-admission-plugins"] = "NodeRestriction", then config.GetArgsList(argsMap, ExtraAPIArgs)
    # lets a `kube-apiserver-arg` of the same flag override it
    "k3s": ServerDistribution(
        config_file="/etc/rancher/k3s/config.yaml",
        drop_in_dir="/etc/rancher/k3s/config.yaml.d",
        default_admission_plugins=("NodeRestriction",),
    ),
    # RKE2 prepends "enable-admission-plugins=NodeRestriction" to the user's kube-apiserver-arg list
    # (pkg/cli/defaults/defaults.go, Set), with or without `profile: cis`: since Kubernetes 1.25 (rke2 commit
    # 68e5e0c, which dropped PodSecurityPolicy from it) the CIS profile adds no admission plugin; it configures
    # Pod Security through --admission-control-config-file and adds audit and token flags instead
    # (pkg/executor/staticpod/staticpod.go). Every Kubernetes minor we support is 1.29 or later.
    "rke2": ServerDistribution(
        config_file="/etc/rancher/rke2/config.yaml",
        drop_in_dir="/etc/rancher/rke2/config.yaml.d",
        default_admission_plugins=("NodeRestriction",),
    ),
}


def admission_plugins(distribution: ServerDistribution) -> list[str]:
    """The distribution's own plugins, then ours."""
    return [*distribution.default_admission_plugins, DENY_SERVICE_EXTERNAL_IPS]


def kubelet_config(cluster: ClusterConfig) -> dict[str, Any] | None:
    """What every node's kubelet of a k3s/RKE2 cluster needs (servers run a kubelet too), or None elsewhere: the
    per-pod PID limit (`--pod-max-pids`, the flag form of the kubelet config's podPidsLimit)."""
    if cluster.distribution not in SERVER_DISTRIBUTIONS:
        return None
    return {KUBELET_ARGS: [f"pod-max-pids={POD_PIDS_LIMIT}"]}


def server_config(cluster: ClusterConfig) -> dict[str, Any] | None:
    """The server config fragment of one cluster (k3s, RKE2), or None where the API server is not ours to
    configure (EKS, GKE, AKS, generic): the API server's admission plugins and the kubelet's settings."""
    distribution = SERVER_DISTRIBUTIONS.get(cluster.distribution)
    if distribution is None:
        return None
    plugins = ",".join(admission_plugins(distribution))
    return {API_SERVER_ARGS: [f"{ADMISSION_PLUGINS_FLAG}={plugins}"], **(kubelet_config(cluster) or {})}
