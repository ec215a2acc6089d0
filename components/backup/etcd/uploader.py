"""The uploader of encrypted etcd snapshots: a systemd service and timer on every etcd server of a k3s/RKE2
cluster, rendered here as the files the node bootstrap installs (pure builders: text in, text out).

Where it runs — decided: ON THE SERVER HOST, not in a Kubernetes CronJob.
- The plaintext never leaves the machine that already holds it. A snapshot is the whole datastore, every Secret
  in it; a pod reading it would need a hostPath on the snapshot directory, uid 0 (etcd writes it 0600 into a
  0700 directory) and a privileged namespace on the control plane — access to exactly what the encryption
  protects, granted to a pod. On the host it is read by a short script under systemd's sandbox (read-only file
  system, no capabilities, no devices, its own state directory).
- Its tools are what an auditor already trusts on the node: Debian's `age` (1.1.1, the binary REFERENCE-2 §14
  measured and the tests run) or `gpg`, and Debian's `rclone` — signed by the distribution, patched with the OS.
  No public container image carries age with a shell or an uploader: every project found builds its own (from
  golang or debian), and busybox-based rclone/rclone has no age. A CronJob would run an image the site builds,
  pinned by tag only; the host runs packages.
- Every etcd server uploads its own snapshots, as k3s's own etcd-s3 would. A CronJob pod lands on one server and
  sees only that one's snapshots; a server down for a while still catches up on its next run.
- Price: the store's writer credential lives on each server in a root-only file (STORE_CREDENTIAL), which the
  node bootstrap writes (from Vault) — not an External Secret. The server already holds the plaintext datastore and
  the cluster's CA keys, so the credential (put objects under etcd/<cluster>/ of a locked bucket) adds little to
  what a compromise of that host reveals. And the files are installed by the bootstrap, not applied by
  `pulumi up`: a change of recipients reaches a server when its files are rolled out again.

What the script (encrypt_upload.sh) guarantees, each tested with the real tools in tests/backup/
test_etcd_uploader.py: only ciphertext is handed to the uploader (it checks the age header / OpenPGP packet and
that the file differs from the snapshot); a failed encryption uploads nothing; a snapshot is uploaded once (a
marker per uploaded snapshot; `--ignore-existing` covers a crash between upload and marker); a snapshot still
being written (k3s writes the compressed file in place) waits for the next run.
Restore: `age -d -i <private key> <snapshot>.zip.age > <snapshot>.zip` offline, then the distribution's
`--cluster-reset --cluster-reset-restore-path=<snapshot>.zip`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from components.backup.etcd.config import EtcdSnapshotConfig
from components.backup.etcd.server_config import snapshot_distribution
from components.config.factory import ClusterConfig

SCRIPT = (Path(__file__).parent / "encrypt_upload.sh").read_text()
UNIT = "factory-floor-etcd-snapshot-upload"  # .service and .timer
UNIT_DIR = "/etc/systemd/system"
SCRIPT_PATH = "/usr/local/libexec/factory-floor/etcd-snapshot-upload"
CONFIG_DIR = "/etc/factory-floor/etcd-snapshot"
RECIPIENTS_DIR = f"{CONFIG_DIR}/recipients"
STATE_DIRECTORY = "factory-floor-etcd-snapshot"  # systemd creates /var/lib/<this>, 0700, for the service alone
# every 15 minutes: a snapshot reaches the store at most ~17 minutes after it is taken (settle time included)
UPLOAD_CALENDAR = "*:0/15"
SETTLE_SECONDS = 120  # k3s writes the compressed snapshot in place; two minutes unchanged means complete
PREFIX_ROOT = "etcd"
REMOTE = "store"  # the rclone remote, configured by RCLONE_CONFIG_STORE_* variables only (no config file)
# rclone sends Content-MD5 with a single-part upload, which a bucket with default object-lock retention requires;
# its largest single part is 5 GiB, more than an etcd database may grow (its quota is 2 GiB by default, 8 GiB max)
UPLOAD_CUTOFF = "5G"
# the node packages the service runs (Debian names): age or gpg for the scheme, rclone for the upload
PACKAGES = {"age": ("age", "rclone"), "openpgp": ("gpg", "rclone")}


def object_prefix(cluster: str) -> str:
    """Where one cluster's encrypted snapshots live in the store (Velero's are under velero/<cluster>)."""
    return f"{PREFIX_ROOT}/{cluster}"


@dataclass(frozen=True)
class StoreCredential:
    """The writer credential on each server: a root-only (0600) environment file the node bootstrap writes from
    Vault, never this program — the service reads it with EnvironmentFile=."""

    path: str
    keys: tuple[str, ...]
    # what the credential needs on the bucket: write and read back (rclone's existence check) under the prefix,
    # list the prefix (so a missing object answers 404, not 403); nothing that deletes or shortens a lock
    actions: tuple[str, ...] = ("s3:PutObject", "s3:GetObject", "s3:ListBucket")


STORE_CREDENTIAL = StoreCredential(f"{CONFIG_DIR}/store.env", ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"))
# also in the credential file for the AWS store (see rclone_environment): encrypt with the store's own key
SSE_KMS_VARIABLES = (
    f"RCLONE_CONFIG_{REMOTE.upper()}_SERVER_SIDE_ENCRYPTION",
    f"RCLONE_CONFIG_{REMOTE.upper()}_SSE_KMS_KEY_ID",
)


@dataclass(frozen=True)
class Target:
    """The S3 bucket the ciphertext goes to; `endpoint` for an S3-compatible site store (None: AWS)."""

    bucket: str
    region: str
    endpoint: str | None = None


def site_target(etcd: EtcdSnapshotConfig) -> Target | None:
    """The site store as a target; the AWS store's bucket is the store component's, so its caller names it."""
    site = etcd.site_store
    return Target(site.bucket, site.region, site.endpoint) if site else None


@dataclass(frozen=True)
class NodeFile:
    """One file the node bootstrap installs on every etcd server."""

    path: str
    content: str
    mode: int


def recipient_files(etcd: EtcdSnapshotConfig) -> list[NodeFile]:
    """One public key per file (gpg's --recipient-file takes exactly one key); public, so world-readable."""
    suffix = "txt" if etcd.scheme == "age" else "asc"
    return [
        NodeFile(f"{RECIPIENTS_DIR}/{i:02d}.{suffix}", key.strip() + "\n", 0o644)
        for i, key in enumerate(etcd.recipients, start=1)
    ]


def rclone_environment(target: Target) -> dict[str, str]:
    """The rclone remote `store` as environment variables; the keys come from the credential file."""
    prefix = f"RCLONE_CONFIG_{REMOTE.upper()}_"
    settings = {
        "TYPE": "s3",
        "PROVIDER": "Other" if target.endpoint else "AWS",
        "ENV_AUTH": "true",  # AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from the environment
        "REGION": target.region,
        "NO_CHECK_BUCKET": "true",  # the writer may not create buckets, and need not
        "UPLOAD_CUTOFF": UPLOAD_CUTOFF,
        **({"ENDPOINT": target.endpoint, "FORCE_PATH_STYLE": "true"} if target.endpoint else {}),
    }
    # On the AWS store rclone must also be told the store's KMS key (SSE_KMS_VARIABLES, in the credential file: the
    # key's ARN is known only after `pulumi up`): an SSE-KMS object's ETag is not its MD5, and only then does rclone
    # not compare the two (backend/s3 etagIsNotMD5) — else it would call every upload corrupt and delete it, leaving
    # a delete marker over the locked version. Naming the key also keeps S3 from using the AWS-managed one.
    return {prefix + key: value for key, value in settings.items()}


def _environment_line(name: str, value: str) -> str:
    if any(c.isspace() or c in "\"'\\" for c in value):
        raise ValueError(f"{name}={value!r}: a unit's environment value must have no spaces, quotes or backslashes")
    return f"Environment={name}={value.replace('%', '%%')}"  # '%' starts a systemd specifier


def script_environment(cluster: ClusterConfig, etcd: EtcdSnapshotConfig, target: Target) -> dict[str, str]:
    distribution = snapshot_distribution(cluster)
    if distribution is None:
        raise ValueError(f"{cluster.name} ({cluster.distribution}): etcd snapshots are only ours on k3s and RKE2")
    return {
        "SNAPSHOT_DIR": distribution.snapshot_dir,
        "STATE_DIR": f"/var/lib/{STATE_DIRECTORY}",
        "RECIPIENTS_DIR": RECIPIENTS_DIR,
        "SCHEME": etcd.scheme,
        "TARGET": f"{REMOTE}:{target.bucket}/{object_prefix(cluster.name)}",
        "SETTLE_SECONDS": str(SETTLE_SECONDS),
        "TOKEN_FILE": distribution.token_file,  # escrowed with the snapshots: a restore on new hosts needs it
        **rclone_environment(target),
    }


def service_unit(cluster: ClusterConfig, etcd: EtcdSnapshotConfig, target: Target) -> str:
    environment = script_environment(cluster, etcd, target)
    snapshot_dir = environment["SNAPSHOT_DIR"]
    return "\n".join(
        [
            "[Unit]",
            f"Description=factory-floor: encrypt new etcd snapshots of {cluster.name} and upload the ciphertext",
            "Documentation=file://" + SCRIPT_PATH,
            "Wants=network-online.target",
            "After=network-online.target",
            f"ConditionDirectoryNotEmpty={snapshot_dir}",  # an agent, or a server before its first snapshot
            "",
            "[Service]",
            "Type=oneshot",
            f"ExecStart={SCRIPT_PATH}",
            *(_environment_line(name, value) for name, value in environment.items()),
            f"EnvironmentFile={STORE_CREDENTIAL.path}",
            f"StateDirectory={STATE_DIRECTORY}",
            "StateDirectoryMode=0700",
            "UMask=0077",
            # root only to read the 0600 snapshots it owns; no capability, nothing writable but its state directory
            "CapabilityBoundingSet=",
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            f"ReadOnlyPaths={snapshot_dir}",
            "ProtectHome=yes",
            "PrivateTmp=yes",
            "PrivateDevices=yes",
            "ProtectKernelTunables=yes",
            "ProtectKernelModules=yes",
            "ProtectControlGroups=yes",
            "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",  # gpg talks to its agent over a socket
            "Nice=10",
            "IOSchedulingClass=idle",  # never slow etcd's own disk writes down
            "",
        ]
    )


def timer_unit(cluster: ClusterConfig) -> str:
    return "\n".join(
        [
            "[Unit]",
            f"Description=factory-floor: upload new encrypted etcd snapshots of {cluster.name}",
            "",
            "[Timer]",
            f"OnCalendar={UPLOAD_CALENDAR}",
            "RandomizedDelaySec=60",  # servers of one cluster do not all call the store in the same second
            "Persistent=true",
            "",
            "[Install]",
            "WantedBy=timers.target",
            "",
        ]
    )


def node_files(cluster: ClusterConfig, etcd: EtcdSnapshotConfig, target: Target) -> list[NodeFile]:
    """Everything the bootstrap installs on each etcd server, except the credential file (STORE_CREDENTIAL)
    and the packages (PACKAGES); then `systemctl enable --now factory-floor-etcd-snapshot-upload.timer`."""
    return [
        NodeFile(SCRIPT_PATH, SCRIPT, 0o755),
        *recipient_files(etcd),
        NodeFile(f"{UNIT_DIR}/{UNIT}.service", service_unit(cluster, etcd, target), 0o644),
        NodeFile(f"{UNIT_DIR}/{UNIT}.timer", timer_unit(cluster), 0o644),
    ]
