"""The server config fragment k3s and RKE2 clusters need (components/security/server_config.py): the in-tree
DenyServiceExternalIPs admission plugin next to the plugins the distribution enables itself, whose value our
entry replaces; managed and generic clusters get none (their API server flags are not ours to set)."""

from __future__ import annotations

from typing import Any, get_args

import pytest
import yaml

from components.config.factory import ClusterConfig
from components.config.types import MANAGED_DISTRIBUTIONS, Distribution
from components.security.server_config import SERVER_DISTRIBUTIONS, kubelet_config, server_config


def cluster(distribution: str) -> ClusterConfig:
    return ClusterConfig.model_validate(
        {
            "name": "edge",
            "distribution": distribution,
            "kubernetesVersion": "1.32",
            "profile": "edge-small",
            "kubeconfig": {"secretKey": "edgeKubeconfig"},
        }
    )


def plugins(fragment: dict[str, Any]) -> list[str]:
    """The admission plugins of a fragment's one enable-admission-plugins entry."""
    entries = [a for a in fragment["kube-apiserver-arg"] if a.startswith("enable-admission-plugins=")]
    assert len(entries) == 1, fragment  # a second entry would silently replace the first
    return entries[0].removeprefix("enable-admission-plugins=").split(",")


@pytest.mark.parametrize("distribution", ["k3s", "rke2"])
def test_k3s_and_rke2_get_the_plugin_and_keep_their_defaults(distribution: str) -> None:
    fragment = server_config(cluster(distribution))
    assert fragment == {
        "kube-apiserver-arg": ["enable-admission-plugins=NodeRestriction,DenyServiceExternalIPs"],
        # servers run a kubelet too: the same PID limit as the agents
        "kubelet-arg": ["pod-max-pids=4096"],
    }
    # both distributions enable NodeRestriction themselves; our value replaces theirs, so it must name it again
    assert plugins(fragment) == [
        *SERVER_DISTRIBUTIONS[distribution].default_admission_plugins,
        "DenyServiceExternalIPs",
    ]
    assert "NodeRestriction" in plugins(fragment)
    # what the distribution reads: a YAML mapping whose kube-apiserver-arg is a list of "flag=value" strings
    assert yaml.safe_load(yaml.safe_dump(fragment)) == fragment


def test_config_files_are_where_the_distributions_read_them() -> None:
    assert SERVER_DISTRIBUTIONS["k3s"].config_file == "/etc/rancher/k3s/config.yaml"
    assert SERVER_DISTRIBUTIONS["rke2"].config_file == "/etc/rancher/rke2/config.yaml"
    assert SERVER_DISTRIBUTIONS["rke2"].drop_in_dir == "/etc/rancher/rke2/config.yaml.d"


@pytest.mark.parametrize("distribution", ["k3s", "rke2"])
def test_every_node_caps_the_pids_of_each_pod(distribution: str) -> None:
    """A fork bomb in one line's pod must not take the node's PIDs from the kubelet, the runtime and every other
    line: each pod gets at most 4096 (the kubelet's podPidsLimit, as the flag k3s and RKE2 pass through)."""
    assert kubelet_config(cluster(distribution)) == {"kubelet-arg": ["pod-max-pids=4096"]}


@pytest.mark.parametrize("distribution", ["eks", "gke", "aks", "generic"])
def test_managed_and_generic_clusters_get_none(distribution: str) -> None:
    assert server_config(cluster(distribution)) is None
    assert kubelet_config(cluster(distribution)) is None


def test_every_distribution_is_decided() -> None:
    """A new distribution must be placed on one side: a server config of ours, or none."""
    assert set(SERVER_DISTRIBUTIONS) | MANAGED_DISTRIBUTIONS | {"generic"} == set(get_args(Distribution))
    assert not set(SERVER_DISTRIBUTIONS) & MANAGED_DISTRIBUTIONS
