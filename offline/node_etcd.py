"""The encrypted etcd snapshots of each k3s/RKE2 cluster (components/backup/etcd/) as files for the node bootstrap:
build/<stack>/node-config/<cluster>/etcd-snapshot/ — the distribution's snapshot settings (a config drop-in), and
under `root/` every file the uploader needs at its path on a server (script, units, recipients' public keys), with
a README saying where each goes and what then. The program cannot install them: servers are the plant's machines.
For a managed cluster the plan prints why there is nothing to snapshot, and what is backed up instead."""

from __future__ import annotations

from pathlib import Path

import yaml

from components.backup.etcd.server_config import managed_cluster_note, snapshot_config, snapshot_distribution
from components.backup.etcd.uploader import (
    PACKAGES,
    SSE_KMS_VARIABLES,
    STORE_CREDENTIAL,
    UNIT,
    Target,
    node_files,
    object_prefix,
    site_target,
)
from components.backup.stores import aws as aws_store
from components.config.document import FactoryConfig
from components.config.factory import ClusterConfig

ETCD_DIR = "etcd-snapshot"
NODE_FOLDER = "node.etcd-snapshot"  # the Vault folder of the servers' credential (no pod reads it: no role binds it)
DROP_IN = "60-factory-floor-etcd-snapshot.yaml"


def target(config: FactoryConfig) -> Target | None:
    """The bucket the ciphertext goes to: the factory's AWS store, or the site's S3-compatible store."""
    etcd, store = config.backup.etcd, config.backup.aws
    if etcd is None:
        return None
    if etcd.store == "site":
        return site_target(etcd)
    assert store is not None  # check_etcd: `aws` needs the AWS store
    return Target(aws_store.bucket_name(config.factory.name, store.account_id, "backup", store.region), store.region)


def write_etcd(directory: Path, config: FactoryConfig, cluster: ClusterConfig) -> str | None:
    """The cluster's files, or the note of a cluster whose etcd is not ours; None when the stack takes none."""
    etcd, where = config.backup.etcd, target(config)
    if etcd is None or where is None:
        return None
    distribution = snapshot_distribution(cluster)
    fragment = snapshot_config(cluster, etcd)
    if distribution is None or fragment is None:
        return managed_cluster_note(cluster)
    files = node_files(cluster, etcd, where)
    for file in files:
        path = directory / "root" / file.path.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(file.content)
        path.chmod(file.mode)
    (directory / DROP_IN).write_text(yaml.safe_dump(fragment, sort_keys=True, default_flow_style=False))
    (directory / "README.md").write_text(_readme(config, cluster, [file.path for file in files], where))
    return (
        f"{cluster.name} ({cluster.distribution}): wrote {directory}/ (snapshot settings and the encrypting "
        f"uploader for every server; ciphertext to {where.bucket}/{object_prefix(cluster.name)}/)"
    )


def _readme(config: FactoryConfig, cluster: ClusterConfig, paths: list[str], where: Target) -> str:
    etcd = config.backup.etcd
    distribution = snapshot_distribution(cluster)
    assert etcd is not None and distribution is not None
    credential = ", ".join(STORE_CREDENTIAL.keys)
    mount = config.security.vault.path if config.security.vault else "<your KV mount>"
    lines = [
        f"# Encrypted etcd snapshots of cluster `{cluster.name}` ({cluster.distribution}), factory "
        f"`{config.factory.name}`",
        "",
        "Written by `make plan` (offline/node_etcd.py): do not edit here, change the stack and plan again.",
        "",
        "On EVERY server of the cluster (each uploads its own snapshots):",
        "",
        f"1. `apt-get install {' '.join(PACKAGES[etcd.scheme])}`",
        f"2. Copy `{DROP_IN}` to `{distribution.drop_in_dir}/{DROP_IN}`.",
        "3. Copy every file under `root/` to the same path on the server, keeping its mode:",
        *(f"   - `{path}`" for path in paths),
        f"4. The store credential, root-only, at `{STORE_CREDENTIAL.path}` (mode 0600, variables {credential}).",
        "   For the AWS store it is the key of the writer `pulumi up` made for this cluster, plus",
        f"   {' and '.join(SSE_KMS_VARIABLES)} (the store's own KMS key, which every upload names), which",
        f"   `build/<stack>/vault/{cluster.name}-credentials.sh` puts into Vault; copy it from there:",
        f"   `(umask 077; vault kv get -mount={mount} -field=cloud {cluster.name}/{NODE_FOLDER}/aws > store.env)`.",
        f"   It may write only `{object_prefix(cluster.name)}/` of `{where.bucket}`.",
        f"5. `systemctl daemon-reload && systemctl restart {distribution.server_service}` (one server at a time),",
        f"   then `systemctl enable --now {UNIT}.timer`.",
        "",
        "Check: `systemctl list-timers` shows the timer; after the next snapshot and at most ~17 minutes,",
        f"`journalctl -u {UNIT}` reports the upload. Restore: download the `.age`/`.gpg` object, decrypt it offline",
        "with a recipient's private key (`age -d -i key.txt`, `gpg --decrypt`), then the distribution's",
        "`--cluster-reset --cluster-reset-restore-path=<snapshot>` (the recovery procedures print it).",
    ]
    return "\n".join(lines) + "\n"
