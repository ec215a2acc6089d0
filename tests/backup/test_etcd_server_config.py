"""The servers' snapshot settings: the keys k3s and RKE2 read, the distribution's own snapshot directory (where the
uploader reads), never an upload of their own; managed clusters get a note instead of settings."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from components.backup.etcd.config import EtcdSnapshotConfig
from components.backup.etcd.server_config import (
    managed_cluster_note,
    snapshot_config,
    snapshot_notes,
)
from components.backup.etcd.uploader import Target, script_environment
from components.config.factory import ClusterConfig

ETCD = EtcdSnapshotConfig.model_validate(
    {"recipients": ["age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"], "schedule": "30 */4 * * *"}
)


def _cluster(distribution: str) -> ClusterConfig:
    raw: dict[str, Any] = {
        "name": "edge",
        "distribution": distribution,
        "kubernetesVersion": "1.32",
        "profile": "edge-small",
        "kubeconfig": {"secretKey": "edgeKubeconfig"},
    }
    return ClusterConfig.model_validate(raw)


def test_k3s_snapshots_locally_compressed_and_never_uploads_them_itself() -> None:
    fragment = snapshot_config(_cluster("k3s"), ETCD)
    assert fragment == {
        "etcd-disable-snapshots": False,
        "etcd-snapshot-schedule-cron": "30 */4 * * *",
        "etcd-snapshot-retention": 5,
        "etcd-snapshot-compress": True,
        "etcd-snapshot-dir": "/var/lib/rancher/k3s/server/db/snapshots",
        "etcd-s3": False,
    }
    # the config file the distribution reads back gives the same values (a cron's `*` is no YAML alias here)
    assert yaml.safe_load(yaml.safe_dump(fragment)) == fragment


@pytest.mark.parametrize("distribution", ["k3s", "rke2"])
def test_the_uploader_reads_where_the_server_writes(distribution: str) -> None:
    cluster = _cluster(distribution)
    fragment = snapshot_config(cluster, ETCD)
    assert fragment is not None
    environment = script_environment(cluster, ETCD, Target("bucket", "eu-central-1"))
    assert environment["SNAPSHOT_DIR"] == fragment["etcd-snapshot-dir"]
    assert fragment["etcd-snapshot-dir"] == f"/var/lib/rancher/{distribution}/server/db/snapshots"


def test_the_notes_say_where_to_merge_and_what_k3s_needs_for_etcd() -> None:
    k3s = "\n".join(snapshot_notes(_cluster("k3s")))
    assert "/etc/rancher/k3s/config.yaml" in k3s and "systemctl restart k3s`" in k3s
    assert "cluster-init: true" in k3s and "SQLite" in k3s
    rke2 = "\n".join(snapshot_notes(_cluster("rke2")))
    assert "systemctl restart rke2-server" in rke2 and "SQLite" not in rke2
    assert snapshot_notes(_cluster("eks")) == []


@pytest.mark.parametrize(
    ("distribution", "provider"), [("eks", "Amazon EKS"), ("gke", "Google GKE"), ("aks", "Azure AKS")]
)
def test_a_managed_cluster_gets_a_note_instead_of_settings(distribution: str, provider: str) -> None:
    cluster = _cluster(distribution)
    assert snapshot_config(cluster, ETCD) is None
    note = managed_cluster_note(cluster)
    assert note is not None and f"edge ({provider}): etcd is the provider's" in note
    assert "Velero" in note and "pulumi up" in note


def test_a_generic_cluster_is_not_ours_to_know_and_k3s_needs_no_note() -> None:
    note = managed_cluster_note(_cluster("generic"))
    assert note is not None and "not ours to know" in note
    assert managed_cluster_note(_cluster("k3s")) is None and managed_cluster_note(_cluster("rke2")) is None
