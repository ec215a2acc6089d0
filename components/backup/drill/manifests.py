"""The restore drill's objects on one cluster: pure builders returning the exact manifests.

Velero has no restore verification (REFERENCE: Velero), so a cluster proves it, once per backup location, on a
schedule: CronJob `restore-drill-<location>` in `velero` runs drill_job.py, which backs up the marker namespace
`restore-drill` into that location, restores it into `restore-drill-scratch-<location>`, compares, and deletes
the scratch namespace. kube-state-metrics reports the CronJob's Jobs; alerts.py turns that into the drill's
success, duration and staleness (no exporter of our own).

- Marker namespace (one per cluster, restricted, default deny, no pods): the program's marker ConfigMap (what a
  restore must bring back unchanged) and, written by each run, `restore-drill-run-<location>` holding the run's
  id (what makes a restore of an older backup fail).
- Why the CronJob runs in `velero`: its Backups and Restores live there, and the namespace's policies already
  let its pods reach the API server (velero.network).
- Least privilege, per location: in `velero`, create and get Backups and Restores (no list, no delete, no
  DeleteBackupRequest: that cannot be narrowed to the drill's own backups, so Velero's garbage collection removes
  them at their TTL); in the marker namespace, create ConfigMaps and update only its run marker; cluster-wide,
  get and delete only its scratch namespace. Reading the restored ConfigMaps needs no grant outside: the marker
  namespace's Role and RoleBinding are restored with it, which proves that RBAC comes back too.
- The pod is Pod Security restricted with a read-only root, no automounted token: a projected token and the
  cluster CA are mounted where the script expects them, the only way to the API server it has.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from components.backup import names, scheduled, velero
from components.backup.config import Cloud
from components.backup.drill.config import DrillConfig
from components.catalogue.images import PINNED_PULL_POLICY, Image
from components.core import vocabulary as vocab
from components.core.kube import Manifest, restricted_security
from components.core.sizing import tool_resources

COMPONENT = "disaster-recovery"  # value of app.kubernetes.io/component, as on the rest of Velero's wiring
DRILL = "restore-drill"
MARKER_NAMESPACE = DRILL
MARKER = "restore-drill-marker"
VELERO_API = "velero.io/v1"
UID = 65534  # nobody: the image's default user is root
SCRIPT = Path(__file__).with_name("drill_job.py")
MOUNT = "/etc/restore-drill"  # the script and its settings
ACCOUNT_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"  # where drill_job.ACCOUNT reads token and CA
TOKEN_SECONDS = 3600  # the kubelet renews a projected token before it expires; the script rereads it per call
CLEAN_UP_SECONDS = 60  # of the Job's deadline, kept for the clean-up after the script's own timeout
POLL_SECONDS = 5
# how long Velero keeps a drill's Backup (and the Restore made from it) before its garbage collection removes
# them: a day to read what a failed run left (`velero backup describe`), and few objects in `velero`
BACKUP_TTL = "24h0m0s"

IMAGE = Image(
    "docker.io",
    "library/python",
    "3.13.14-slim-trixie",
    "sha256:9662417aace5ae7b8e2609cce472b72a8958e134ba372808abe9cc1a0c0125e6",
    source=(
        "docker-library/repo-info repos/python/remote/3.13.14-slim-trixie.md (commit 2986dca3a80c), Docker's own "
        "record of its official images: `docker pull python@sha256:9662...`, an OCI image index of 8 platforms "
        "including linux/amd64 and linux/arm64/v8 (Python 3.13.14, Debian trixie). Verify with `make pin-digests`."
    ),
)
POD_SECURITY, CONTAINER_SECURITY = restricted_security(UID)


def drill_name(cloud: Cloud) -> str:
    """CronJob, ServiceAccount, Roles and ConfigMap of the drill of one location; prefix of its Backups."""
    return f"{DRILL}-{names.location_name(cloud)}"


def scratch_namespace(cloud: Cloud) -> str:
    return f"{DRILL}-scratch-{names.location_name(cloud)}"


def run_marker(cloud: Cloud) -> str:
    return f"{DRILL}-run-{names.location_name(cloud)}"


def labels(factory: str, name: str = DRILL) -> dict[str, str]:
    return {**vocab.standard_labels(factory, component=COMPONENT), vocab.NAME: name}


def _metadata(factory: str, name: str, namespace: str | None = None, app: str = DRILL) -> Manifest:
    metadata: Manifest = {"name": name, "labels": labels(factory, app)}
    if namespace is not None:
        metadata["namespace"] = namespace
    return metadata


def marker_data(factory: str, cluster: str) -> dict[str, str]:
    """What the program puts in the marker, and what the drill must find restored."""
    return {"factory": factory, "cluster": cluster, "written-by": "factory-floor"}


def marker_config_map(factory: str, cluster: str) -> Manifest:
    """The program's marker in the marker namespace (one per cluster; the catalogue makes the namespace restricted
    and closed: components/backup/drill/addon.py)."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(factory, MARKER, MARKER_NAMESPACE),
        "data": marker_data(factory, cluster),
    }


def _role(kind: str, factory: str, name: str, namespace: str | None, rules: list[Manifest]) -> Manifest:
    api = "rbac.authorization.k8s.io/v1"
    return {"apiVersion": api, "kind": kind, "metadata": _metadata(factory, name, namespace, name), "rules": rules}


def _binding(kind: str, factory: str, cloud: Cloud, namespace: str | None) -> Manifest:
    name = drill_name(cloud)
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": _metadata(factory, name, namespace, name),
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole" if kind == "ClusterRoleBinding" else "Role",
            "name": name,
        },
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": velero.NAMESPACE}],
    }


def rbac_manifests(factory: str, cloud: Cloud) -> list[Manifest]:
    """The drill's account and its grants, each as narrow as Kubernetes allows (create cannot name its object)."""
    name = drill_name(cloud)
    account = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _metadata(factory, name, velero.NAMESPACE, name),
        "automountServiceAccountToken": False,  # the pod mounts a projected token explicitly
    }
    velero_rules = [{"apiGroups": ["velero.io"], "resources": ["backups", "restores"], "verbs": ["create", "get"]}]
    configmaps: Manifest = {"apiGroups": [""], "resources": ["configmaps"]}
    marker_rules = [
        {**configmaps, "verbs": ["create"]},
        {**configmaps, "resourceNames": [run_marker(cloud)], "verbs": ["update"]},
        # used in the scratch namespace, where this Role and its binding are restored with the marker
        {**configmaps, "resourceNames": [MARKER, run_marker(cloud)], "verbs": ["get"]},
    ]
    scratch_rules = [
        {
            "apiGroups": [""],
            "resources": ["namespaces"],
            "resourceNames": [scratch_namespace(cloud)],
            "verbs": ["get", "delete"],
        }
    ]
    return [
        account,
        _role("Role", factory, name, velero.NAMESPACE, velero_rules),
        _binding("RoleBinding", factory, cloud, velero.NAMESPACE),
        _role("Role", factory, name, MARKER_NAMESPACE, marker_rules),
        _binding("RoleBinding", factory, cloud, MARKER_NAMESPACE),
        _role("ClusterRole", factory, name, None, scratch_rules),
        _binding("ClusterRoleBinding", factory, cloud, None),
    ]


def settings(factory: str, cluster: str, cloud: Cloud, drill: DrillConfig) -> dict[str, Any]:
    """What drill_job.py reads (drill.json): names, the expected marker, and its own time budget — the Job's
    deadline less the clean-up reserve, so the script times out first and still deletes the scratch namespace."""
    return {
        "name": drill_name(cloud),
        "location": names.location_name(cloud),
        "veleroNamespace": velero.NAMESPACE,
        "markerNamespace": MARKER_NAMESPACE,
        "marker": MARKER,
        "markerData": marker_data(factory, cluster),
        "runMarker": run_marker(cloud),
        "scratchNamespace": scratch_namespace(cloud),
        "labels": labels(factory, drill_name(cloud)),
        "backupTtl": BACKUP_TTL,
        "timeoutSeconds": drill.timeout_minutes * 60 - CLEAN_UP_SECONDS,
        "pollSeconds": POLL_SECONDS,
    }


def script_config_map(factory: str, cluster: str, cloud: Cloud, drill: DrillConfig) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(factory, drill_name(cloud), velero.NAMESPACE, drill_name(cloud)),
        "data": {
            SCRIPT.name: SCRIPT.read_text(),
            "drill.json": json.dumps(settings(factory, cluster, cloud, drill), indent=2, sort_keys=True),
        },
    }


def _pod_spec(cloud: Cloud) -> Manifest:
    container = {
        "name": "drill",
        "image": IMAGE.reference,  # the catalogue's mirror rewrite applies to it like to every image
        "imagePullPolicy": PINNED_PULL_POLICY,
        # isolated (-I: no PYTHON* variables, no user site) and writing no bytecode on the read-only root (-B)
        "command": ["python3", "-I", "-B", f"{MOUNT}/{SCRIPT.name}", f"{MOUNT}/drill.json"],
        "resources": tool_resources("10m", "32Mi", "200m", "128Mi"),
        "securityContext": dict(CONTAINER_SECURITY),
        "volumeMounts": [
            {"name": "drill", "mountPath": MOUNT, "readOnly": True},
            {"name": "api-access", "mountPath": ACCOUNT_MOUNT, "readOnly": True},
        ],
    }
    api_access = [
        {"serviceAccountToken": {"path": "token", "expirationSeconds": TOKEN_SECONDS}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
    ]
    return {
        "serviceAccountName": drill_name(cloud),
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "restartPolicy": "Never",
        "securityContext": dict(POD_SECURITY),
        "containers": [container],
        "volumes": [
            {"name": "drill", "configMap": {"name": drill_name(cloud), "defaultMode": 0o444}},
            {"name": "api-access", "projected": {"sources": api_access, "defaultMode": 0o444}},
        ],
    }


def cron_job(factory: str, cloud: Cloud, timezone: str, drill: DrillConfig) -> Manifest:
    name = drill_name(cloud)
    return scheduled.cron_job(
        _metadata(factory, name, velero.NAMESPACE, name),
        labels(factory, name),
        schedule=drill.schedule,
        timezone=timezone,
        timeout_minutes=drill.timeout_minutes,
        pod=_pod_spec(cloud),
    )


def location_manifests(
    factory: str, cluster: str, cloud: Cloud, *, timezone: str, drill: DrillConfig
) -> list[Manifest]:
    """The drill of one location: its account and grants, its script, its CronJob (the marker namespace, which
    the Roles in it need, is installed first: components/backup/drill/addon.py)."""
    return [
        *rbac_manifests(factory, cloud),
        script_config_map(factory, cluster, cloud, drill),
        cron_job(factory, cloud, timezone, drill),
    ]
