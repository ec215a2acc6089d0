"""The escrow's objects on one cluster: pure builders returning the exact manifests (addon.py puts them in the
catalogue; recovery.py adds, per location, the store coordinates only `pulumi up` knows).

Per backup location the cluster's Velero writes to, two CronJobs in namespace `escrow`, each writing the location's
own prefix `escrow/<cluster>/` of its store and nothing else:

- `escrow-images-<location>` copies what Velero does not: every image and chart of the cluster's bundle
  (inventory.bundle: exactly what the catalogue installs there, through the site mirror). Three containers share a
  size-limited scratch volume: `inventory` (rclone) lists what the store holds; `fetch` (skopeo) copies each missing
  image — and each chart an OCI chart mirror serves — as an OCI archive, index and all platforms, digests kept;
  `upload` (rclone) downloads each missing chart archive, checks its SHA-256 against the catalogue, and uploads
  everything with --immutable. Objects are named after the catalogue's pinned reference, so a run copies only
  what is new and a name never changes meaning.
- `escrow-secrets-<location>` (where Vault is configured) exports the cluster's Vault folder (vault_export.py, as
  the account `escrow`, a Vault role that may read that folder and nothing else), encrypts the export with sops to
  the stack's age recipients, and uploads only the ciphertext. The plaintext lives on a memory-backed volume of
  the pod for the seconds between the two steps and is deleted by the step that encrypts it.

Every pod is Pod Security restricted, read-only root, its own limits, no Kubernetes API token (the secret export
mounts a projected token for Vault's login only). Store credentials: on the cluster's own cloud its workload
identity (account `escrow`, through the add-on identity surface); elsewhere the Secret `escrow-<cloud>` External
Secrets copies from the escrow's Vault folder — the same file format as Velero's, made by the credentials script
for the escrow's own writer principal. kube-state-metrics reports the CronJobs: alerts.py turns that into the
last success of each.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from components.backup import names, scheduled, velero
from components.backup.config import Cloud
from components.backup.escrow.config import EscrowConfig
from components.catalogue.images import PINNED_PULL_POLICY, Image
from components.catalogue.model import Bundle, BundleChart
from components.core import vocabulary as vocab
from components.core.kube import Manifest, restricted_security
from components.core.sizing import resources

NAME = "escrow"
NAMESPACE = "escrow"
COMPONENT = "disaster-recovery"
SERVICE_ACCOUNT = "escrow"
PREFIX_ROOT = "escrow"
IMAGES = "escrow-images"
SECRETS = "escrow-secrets"
UID = 65534
SCRATCH = "/scratch"
SCRIPTS = "/etc/escrow"
CREDENTIAL_MOUNT = "/var/run/secrets/escrow-store"
CREDENTIAL_KEY = velero.CREDENTIAL_KEY  # the same file as Velero's, made by the same steps
FETCH_SCRIPT = Path(__file__).with_name("fetch.sh")
UPLOAD_SCRIPT = Path(__file__).with_name("upload.sh")
REMOTE = "STORE"  # rclone's remote `store`, configured by RCLONE_CONFIG_STORE_* variables only

SKOPEO = Image(
    "quay.io",
    "skopeo/stable",
    "v1.22.2-immutable",
    "sha256:4a16d57b37617a04b3d643079a477a2848efe892dffcdf0ce56df4262b65f810",
    source=(
        "the skopeo project's Fedora-based image (containers/image_build skopeo/Containerfile: FROM fedora, bash and "
        "coreutils; -immutable tags are never re-pushed); this index digest (amd64 and arm64) is pinned in several "
        "independent public files, none the registry's own record. Verify with `make pin-digests`."
    ),
)
RCLONE = Image(
    "docker.io",
    "rclone/rclone",
    "1.75.1",
    "sha256:45401ad7410db1d67ffdb58e19059ad20b0d8e0285a60e38bbec55cc1019c7a5",
    source=(
        "rclone's own image (rclone/rclone Dockerfile: FROM alpine, busybox sh and sha256sum); this multi-arch index "
        "digest of 1.75.1 is pinned in many independent public files, one pulling it on arm64 (rclone v1.75.1, Alpine "
        "3.24.1). Verify with `make pin-digests`."
    ),
)
_POD, CONTAINER_SECURITY = restricted_security(UID)
# the store credential's Secret volume is group-readable by this group only (0440): without fsGroup its files are
# root's and unreadable to the containers' user
POD_SECURITY = {**_POD, "fsGroup": UID}


def object_prefix(cluster: str) -> str:
    """Where one cluster's escrow lives in every store: the writers' grants name exactly this prefix."""
    return f"{PREFIX_ROOT}/{cluster}"


def credential_secret(cloud: Cloud) -> str:
    return f"{NAME}-{cloud}"


def store_config_map(cloud: Cloud) -> str:
    """The location's coordinates (bucket, region, key): made by the backup capability, which knows the store."""
    return f"{NAME}-store-{names.location_name(cloud)}"


def job_name(kind: str, cloud: Cloud) -> str:
    return f"{kind}-{names.location_name(cloud)}"


def labels(factory: str, name: str) -> dict[str, str]:
    return {**vocab.standard_labels(factory, component=COMPONENT), vocab.NAME: name}


def _metadata(factory: str, name: str, app: str = NAME) -> Manifest:
    return {"name": name, "namespace": NAMESPACE, "labels": labels(factory, app)}


def image_object(origin: str) -> str:
    """`images/<registry>/<repository>/<tag>@sha256-<hex>`, a directory (fetch.sh: a skopeo `dir:` layout) named
    after the catalogue's pinned reference; a port's ':' and the digest's ':' become '_' and '-' (object names
    that work as local paths on every system)."""
    name, _, digest = origin.partition("@")
    repository, _, tag = name.rpartition(":")
    registry, _, path = repository.partition("/")
    suffix = f"@{digest.replace(':', '-')}" if digest else ""
    return f"images/{registry.replace(':', '_')}/{path}/{tag}{suffix}"


def by_digest(reference: str) -> str:
    """`<name>@sha256:...` for a pinned `<name>:<tag>@sha256:...`: skopeo refuses a reference with both (docker
    transport: "both a tag and digest are currently not supported"); the digest is what must match anyway."""
    name, at, digest = reference.partition("@")
    if not at:
        return reference
    repository, _, tag = name.rpartition(":")
    return f"{repository}@{digest}" if tag and "/" not in tag else reference


def chart_object(chart: BundleChart) -> str:
    """An HTTPS chart's archive, or the directory of an OCI chart artifact (a skopeo `dir:` layout, like images)."""
    return f"charts/oci/{chart.chart}-{chart.version}" if chart.oci else f"charts/{chart.chart}-{chart.version}.tgz"


def oci_list(bundle: Bundle) -> str:
    """What `fetch` copies: each image by digest, and each chart an OCI chart mirror serves (an OCI artifact that
    skopeo copies unchanged: containers/image copies artifacts since #1574)."""
    rows = [f"{by_digest(image.pull)} {image_object(image.origin)}" for image in bundle.images]
    rows += [f"{chart.oci} {chart_object(chart)}" for chart in bundle.charts if chart.oci]
    return "".join(f"{row}\n" for row in rows)


def charts_list(bundle: Bundle) -> str:
    rows = [f"{c.url} {chart_object(c)} {c.archive.digest}" for c in bundle.charts if c.url]
    return "".join(f"{row}\n" for row in rows)


def service_account(factory: str) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _metadata(factory, SERVICE_ACCOUNT),
        "automountServiceAccountToken": False,  # only the secret export mounts a token, for Vault
    }


def scripts_config_map(factory: str, bundle: Bundle, extra: Mapping[str, str] | None = None) -> Manifest:
    data = {
        "fetch.sh": FETCH_SCRIPT.read_text(),
        "upload.sh": UPLOAD_SCRIPT.read_text(),
        "oci.list": oci_list(bundle),
        "charts.list": charts_list(bundle),
        **(extra or {}),
    }
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _metadata(factory, NAME), "data": data}


def store_environment(
    cloud: Cloud, *, bucket: Any, cluster: str, region: str, key: Any = None, account: Any = None
) -> dict[str, Any]:
    """The rclone remote `store` of one location as environment variables (values may be Pulumi outputs)."""
    prefix = f"RCLONE_CONFIG_{REMOTE}_"
    if cloud == "aws":
        # SSE-KMS with the store's own key, named: else S3 would use the AWS-managed key, and rclone would compare
        # an SSE-KMS object's ETag with its MD5 and call every upload corrupt (backend/s3 etagIsNotMD5)
        settings: dict[str, Any] = {
            "TYPE": "s3",
            "PROVIDER": "AWS",
            "ENV_AUTH": "true",
            "REGION": region,
            "NO_CHECK_BUCKET": "true",
            "SERVER_SIDE_ENCRYPTION": "aws:kms",
            "SSE_KMS_KEY_ID": key,
        }
    elif cloud == "gcp":
        # uniform bucket-level access: rclone must set no object ACL
        settings = {"TYPE": "google cloud storage", "ENV_AUTH": "true", "BUCKET_POLICY_ONLY": "true"}
    else:
        settings = {"TYPE": "azureblob", "ENV_AUTH": "true", "ACCOUNT": account, "NO_CHECK_CONTAINER": "true"}
    target = {"ESCROW_TARGET": _target(bucket, cluster)}
    return {**{prefix + k: v for k, v in settings.items()}, **target}


def _target(bucket: Any, cluster: str) -> Any:
    """With the trailing '/': rclone's S3 backend then takes the root for a directory; without it, it first asks
    for an object of that name, which the writer may not read, and ends up treating the prefix as a file."""
    suffix = f"/{object_prefix(cluster)}/"
    if isinstance(bucket, str):
        return f"store:{bucket}{suffix}"
    return bucket.apply(lambda name: f"store:{name}{suffix}")


def credential_access(cloud: Cloud, native: bool) -> tuple[list[Manifest], list[Manifest], list[Manifest]]:
    """(env, volume mounts, volumes) giving the store's SDK this location's credential."""
    if native:
        return [], [], []
    path = f"{CREDENTIAL_MOUNT}/{CREDENTIAL_KEY}"
    env = {
        "aws": {"name": "AWS_SHARED_CREDENTIALS_FILE", "value": path},
        "gcp": {"name": f"RCLONE_CONFIG_{REMOTE}_SERVICE_ACCOUNT_FILE", "value": path},
        "azure": {"name": "ESCROW_CREDENTIAL_ENV", "value": path},
    }[cloud]
    mount = {"name": "credential", "mountPath": CREDENTIAL_MOUNT, "readOnly": True}
    volume = {"name": "credential", "secret": {"secretName": credential_secret(cloud), "defaultMode": 0o440}}
    return [env], [mount], [volume]


def container(
    name: str,
    image: Image,
    command: Sequence[str],
    *,
    sizing: Manifest,
    mounts: Sequence[Manifest],
    env: Sequence[Manifest] = (),
    store: Cloud | None = None,
) -> Manifest:
    built: Manifest = {
        "name": name,
        "image": image.reference,  # the catalogue's mirror rewrite applies to it like to every image
        "imagePullPolicy": PINNED_PULL_POLICY,
        "command": list(command),
        "env": [
            {"name": "SCRATCH", "value": SCRATCH},
            {"name": "ESCROW_DIR", "value": SCRIPTS},
            {"name": "HOME", "value": f"{SCRATCH}/home"},
            *env,
        ],
        "resources": sizing,
        "securityContext": dict(CONTAINER_SECURITY),
        "volumeMounts": list(mounts),
    }
    if store is not None:
        built["envFrom"] = [{"configMapRef": {"name": store_config_map(store)}}]
    return built


def sized(cpu: str, memory: str, cpu_limit: str, memory_limit: str, disk: str) -> Manifest:
    sized = resources(cpu, memory, cpu_limit, memory_limit)
    sized["requests"]["ephemeral-storage"] = sized["limits"]["ephemeral-storage"] = disk
    return sized


def images_pod(cloud: Cloud, native: bool, escrow: EscrowConfig) -> Manifest:
    scratch = f"{escrow.scratch_gib}Gi"
    env, credential_mounts, credential_volumes = credential_access(cloud, native)
    mounts: list[Manifest] = [
        {"name": "scratch", "mountPath": SCRATCH},
        {"name": "scripts", "mountPath": SCRIPTS, "readOnly": True},
    ]
    small = sized("10m", "32Mi", "500m", "128Mi", "64Mi")
    # the scratch volume is node disk the kubelet charges to the pod: fetch fills it, upload holds it to the end
    disk = f"{escrow.scratch_gib * 1024 + 64}Mi"
    fetch = sized("100m", "128Mi", "1", "512Mi", disk)
    send = sized("100m", "64Mi", "1", "256Mi", disk)
    store_side = [*mounts, *credential_mounts]
    upload = ["/bin/sh", f"{SCRIPTS}/upload.sh"]
    return {
        "serviceAccountName": SERVICE_ACCOUNT,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "restartPolicy": "Never",
        "securityContext": dict(POD_SECURITY),
        "initContainers": [
            container(
                "inventory", RCLONE, [*upload, "inventory"], sizing=small, mounts=store_side, env=env, store=cloud
            ),
            # skopeo holds a layer in its tmpdir and the archive on the same volume: the scratch limit bounds both
            container("fetch", SKOPEO, ["/bin/bash", f"{SCRIPTS}/fetch.sh"], sizing=fetch, mounts=mounts),
        ],
        "containers": [
            container("upload", RCLONE, [*upload, "upload"], sizing=send, mounts=store_side, env=env, store=cloud),
        ],
        "volumes": [
            {"name": "scratch", "emptyDir": {"sizeLimit": scratch}},
            {"name": "scripts", "configMap": {"name": NAME, "defaultMode": 0o444}},
            *credential_volumes,
        ],
    }


def cron_job(factory: str, name: str, *, schedule: str, timezone: str, timeout_minutes: int, pod: Manifest) -> Manifest:
    return scheduled.cron_job(
        _metadata(factory, name, name),
        labels(factory, name),
        schedule=schedule,
        timezone=timezone,
        timeout_minutes=timeout_minutes,
        pod=pod,
    )


def images_cron_job(factory: str, cloud: Cloud, native: bool, timezone: str, escrow: EscrowConfig) -> Manifest:
    return cron_job(
        factory,
        job_name(IMAGES, cloud),
        schedule=escrow.images_schedule,
        timezone=timezone,
        timeout_minutes=escrow.images_timeout_minutes,
        pod=images_pod(cloud, native, escrow),
    )


def export_settings(**settings: Any) -> str:
    return json.dumps(settings, indent=2, sort_keys=True)


def store_config(factory: str, cloud: Cloud, environment: Mapping[str, Any]) -> Manifest:
    """The location's store as the escrow's containers address it (`envFrom`): not secret — bucket, region, key,
    account — and known only after `pulumi up`, so the backup capability makes it from the store's outputs."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(factory, store_config_map(cloud)),
        "data": dict(environment),
    }
