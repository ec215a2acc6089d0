"""The snapshot settings of a k3s/RKE2 cluster's servers, as the distribution's config file takes them — a pure
builder whose fragment the plan writes for the node bootstrap, next to the other server fragments — and what a
managed cluster backs up instead.

The distribution takes the snapshots and keeps `retention` of them on each etcd server, compressed (compress
BEFORE encrypting: ciphertext does not compress). It never uploads them: `etcd-s3` would send them unencrypted
(only server-side encryption, which whoever holds the cloud account can undo), so it is set false explicitly —
an `etcd-s3: true` left in a node's own config would otherwise still upload plaintext. The uploader
(uploader.py) encrypts each new snapshot on the server and uploads only the ciphertext.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.backup.etcd.config import EtcdSnapshotConfig
from components.config.factory import ClusterConfig


@dataclass(frozen=True)
class SnapshotDistribution:
    """Where a distribution reads its server config and writes its snapshots."""

    config_file: str
    drop_in_dir: str
    snapshot_dir: str
    server_service: str  # its systemd unit on a server node
    token_file: str  # the server token a `--cluster-reset` on new hosts needs (`<server data dir>/token`)


# Our own table, not components/security/server_config.py's (capabilities meet only in core): the same paths,
# read from the distributions. Snapshots go to `<server data dir>/db/snapshots` (k3s pkg/etcd/snapshot.go,
# snapshotDir(): filepath.Join(config.DataDir, "db", "snapshots"), where the server's DataDir is
# /var/lib/rancher/<k3s|rke2>/server). The fragment names that directory explicitly, so the uploader reads exactly
# where the server writes; k3s creates only its default directory itself (a node whose `data-dir` differs must
# create this one, or the platform team changes the table).
SNAPSHOT_DISTRIBUTIONS: dict[str, SnapshotDistribution] = {
    "k3s": SnapshotDistribution(
        config_file="/etc/rancher/k3s/config.yaml",
        drop_in_dir="/etc/rancher/k3s/config.yaml.d",
        snapshot_dir="/var/lib/rancher/k3s/server/db/snapshots",
        server_service="k3s",
        token_file="/var/lib/rancher/k3s/server/token",
    ),
    "rke2": SnapshotDistribution(
        config_file="/etc/rancher/rke2/config.yaml",
        drop_in_dir="/etc/rancher/rke2/config.yaml.d",
        snapshot_dir="/var/lib/rancher/rke2/server/db/snapshots",
        server_service="rke2-server",
        token_file="/var/lib/rancher/rke2/server/token",
    ),
}
MANAGED = {"eks": "Amazon EKS", "gke": "Google GKE", "aks": "Azure AKS"}


def snapshot_distribution(cluster: ClusterConfig) -> SnapshotDistribution | None:
    return SNAPSHOT_DISTRIBUTIONS.get(cluster.distribution)


def snapshot_config(cluster: ClusterConfig, etcd: EtcdSnapshotConfig) -> dict[str, Any] | None:
    """The server config fragment of the snapshot settings (k3s, RKE2), or None where etcd is not ours."""
    distribution = snapshot_distribution(cluster)
    if distribution is None:
        return None
    return {
        "etcd-disable-snapshots": False,  # a node's own config cannot quietly turn them off
        "etcd-snapshot-schedule-cron": etcd.schedule,
        "etcd-snapshot-retention": etcd.retention,
        "etcd-snapshot-compress": True,
        "etcd-snapshot-dir": distribution.snapshot_dir,
        "etcd-s3": False,  # plaintext would leave the plant; the uploader sends ciphertext instead
    }


def snapshot_notes(cluster: ClusterConfig) -> list[str]:
    """What the platform team must know when merging the fragment on a server (comment lines for its header)."""
    distribution = snapshot_distribution(cluster)
    if distribution is None:
        return []
    notes = [
        f"etcd-*: merge on every server of '{cluster.name}' into {distribution.config_file} (or a file in",
        f"{distribution.drop_in_dir}), then `systemctl restart {distribution.server_service}` one server at a time.",
        "Snapshots stay on the server (etcd-s3: false); the factory-floor-etcd-snapshot-upload timer encrypts",
        "each new one to the recipients' public keys and uploads only the ciphertext.",
    ]
    if cluster.distribution == "k3s":
        # k3s snapshots its embedded etcd only; a single server on the default SQLite (kine) has no etcd
        notes += [
            "k3s takes etcd snapshots only with embedded etcd (`cluster-init: true` on the first server, or servers",
            "joined to it). A single server on the default SQLite takes none: back up its db/state.db otherwise,",
            "or move it to embedded etcd (k3s migrates SQLite on a restart with `cluster-init: true`).",
        ]
    return notes


def managed_cluster_note(cluster: ClusterConfig) -> str | None:
    """Why a cluster gets no snapshot settings, and what is backed up instead; None for k3s/RKE2."""
    if cluster.distribution in SNAPSHOT_DISTRIBUTIONS:
        return None
    if cluster.distribution in MANAGED:
        provider = MANAGED[cluster.distribution]
        return (
            f"{cluster.name} ({provider}): etcd is the provider's — not reachable, not snapshotted or restored by "
            "us; the provider runs and backs it up. What a recovery needs is backed up instead: Velero's copies "
            "of the lines' Kubernetes objects and volumes (backup.policies), and the platform itself, rebuilt "
            "from this program and its stack (`pulumi up` onto a new cluster)."
        )
    return (
        f"{cluster.name} ({cluster.distribution}): its datastore is not ours to know, so no snapshot settings; "
        "back it up the way the cluster's operator does. Velero's copies of the lines' objects and volumes and "
        "this program's stack are what the platform backs up."
    )
