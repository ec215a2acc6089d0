"""Sizing profiles: how much a production line may consume on each kind of cluster.

CPU is in millicores and memory in MiB so that arithmetic stays exact; `cpu()` and `memory()` format
Kubernetes quantities.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from components.config.types import Criticality, Profile


@dataclass(frozen=True, kw_only=True)
class LineBudget:
    """What one line may consume (a ResourceQuota). Criticality scales it (`line_budget`)."""

    requests_cpu_m: int
    requests_memory_mi: int
    limits_cpu_m: int
    limits_memory_mi: int
    # container writable layers, container logs and disk-backed emptyDirs: the node's disk, which a line
    # could otherwise fill until the kubelet evicts the platform and every other line with it
    requests_ephemeral_mi: int
    limits_ephemeral_mi: int
    pods: int
    persistent_volume_claims: int
    storage_gi: int


@dataclass(frozen=True, kw_only=True)
class ObjectCounts:
    """How many API objects of each kind one line may hold (`count/<resource>` quotas).

    They protect the control plane, not the nodes: every object lives in the datastore (etcd or kine's
    SQLite on a single-node k3s cell) and in the API server's watch caches, a ConfigMap or Secret up to 1 MiB
    each, and a controller stuck creating objects in a loop would grow them without bound. The numbers
    follow the profile's pod quota, and criticality does not scale them: a surge mid-shift adds replicas
    (pods, CPU, memory), not Deployments."""

    configmaps: int
    secrets: int  # headroom for Secrets controllers make; the line's declared ones are added on top
    services: int
    deployments: int
    replicasets: int
    jobs: int
    cronjobs: int

    def hard(self, declared_secrets: int = 0) -> dict[str, str]:
        """The quota's `hard` entries; Secrets the line declares (External Secrets) always fit."""
        return {
            "count/configmaps": str(self.configmaps),
            "count/secrets": str(self.secrets + declared_secrets),
            "count/services": str(self.services),
            "count/deployments.apps": str(self.deployments),
            "count/replicasets.apps": str(self.replicasets),
            "count/jobs.batch": str(self.jobs),
            "count/cronjobs.batch": str(self.cronjobs),
        }


# A Deployment keeps its old ReplicaSets for rollback (`revisionHistoryLimit`, 10 by default) next to the
# current one; fewer would stop a rollout of a Deployment that keeps the default.
REPLICASETS_PER_DEPLOYMENT = 11
# A CronJob keeps its last 3 successful and last failed Job (the defaults), and one may be running.
JOBS_PER_CRONJOB = 5


def object_counts(pods: int) -> ObjectCounts:
    """Counts for a profile whose standard line may run `pods` pods: one Deployment and one Service per pod
    (single replicas are the rule on a cell), two ConfigMaps and two Secrets per pod (configuration and
    certificates, plus the `kube-root-ca.crt` ConfigMap every namespace gets), a CronJob per two pods, and
    the ReplicaSets and Jobs their defaults keep."""
    cronjobs = pods // 2
    return ObjectCounts(
        configmaps=2 * pods,
        secrets=2 * pods,
        services=pods,
        deployments=pods,
        replicasets=pods * REPLICASETS_PER_DEPLOYMENT,
        jobs=cronjobs * JOBS_PER_CRONJOB,
        cronjobs=cronjobs,
    )


@dataclass(frozen=True, kw_only=True)
class ContainerDefaults:
    """The LimitRange of a line: defaults for containers that declare nothing, and per-container maximums."""

    request_cpu_m: int
    request_memory_mi: int
    request_ephemeral_mi: int
    limit_cpu_m: int
    limit_memory_mi: int
    limit_ephemeral_mi: int
    max_cpu_m: int
    max_memory_mi: int
    max_ephemeral_mi: int


@dataclass(frozen=True)
class ProfileSizing:
    line_budget: LineBudget
    container: ContainerDefaults
    objects: ObjectCounts


# Ephemeral storage (docs/operations.md, Sizing): a container's default limit (512Mi on edge, 1Gi elsewhere)
# holds the kubelet's rotated logs (5 files of 10Mi by default) and a working scratch area. A standard
# line's quota matches its memory quota: an edge-small cell (one industrial PC, typically 64-128 GB of
# disk) keeps roughly 25-30 GiB for pods once the OS, the images and the kubelet's eviction reserve
# (nodefs 10 %, imagefs 15 %) are taken, so 4Gi of limits per standard line lets several lines and the
# platform share it; larger profiles run on larger disks. Requests are what the scheduler reserves on a
# node's allocatable ephemeral storage; limits are enforced by the kubelet, which evicts a pod above its
# limit instead of letting it fill the node.
PROFILES: dict[Profile, ProfileSizing] = {
    # single small node at the cell: lines must leave room for the platform itself
    "edge-small": ProfileSizing(
        LineBudget(
            requests_cpu_m=1000,
            requests_memory_mi=2048,
            limits_cpu_m=2000,
            limits_memory_mi=4096,
            requests_ephemeral_mi=2048,
            limits_ephemeral_mi=4096,
            pods=20,
            persistent_volume_claims=5,
            storage_gi=20,
        ),
        ContainerDefaults(
            request_cpu_m=50,
            request_memory_mi=64,
            request_ephemeral_mi=64,
            limit_cpu_m=500,
            limit_memory_mi=512,
            limit_ephemeral_mi=512,
            max_cpu_m=1000,
            max_memory_mi=2048,
            max_ephemeral_mi=2048,
        ),
        object_counts(pods=20),
    ),
    "edge-ha": ProfileSizing(
        LineBudget(
            requests_cpu_m=2000,
            requests_memory_mi=4096,
            limits_cpu_m=4000,
            limits_memory_mi=8192,
            requests_ephemeral_mi=4096,
            limits_ephemeral_mi=8192,
            pods=40,
            persistent_volume_claims=10,
            storage_gi=50,
        ),
        ContainerDefaults(
            request_cpu_m=50,
            request_memory_mi=64,
            request_ephemeral_mi=64,
            limit_cpu_m=500,
            limit_memory_mi=512,
            limit_ephemeral_mi=512,
            max_cpu_m=2000,
            max_memory_mi=4096,
            max_ephemeral_mi=4096,
        ),
        object_counts(pods=40),
    ),
    "site": ProfileSizing(
        LineBudget(
            requests_cpu_m=4000,
            requests_memory_mi=8192,
            limits_cpu_m=8000,
            limits_memory_mi=16384,
            requests_ephemeral_mi=8192,
            limits_ephemeral_mi=16384,
            pods=80,
            persistent_volume_claims=20,
            storage_gi=200,
        ),
        ContainerDefaults(
            request_cpu_m=100,
            request_memory_mi=128,
            request_ephemeral_mi=128,
            limit_cpu_m=1000,
            limit_memory_mi=1024,
            limit_ephemeral_mi=1024,
            max_cpu_m=4000,
            max_memory_mi=8192,
            max_ephemeral_mi=8192,
        ),
        object_counts(pods=80),
    ),
    "cloud": ProfileSizing(
        LineBudget(
            requests_cpu_m=8000,
            requests_memory_mi=16384,
            limits_cpu_m=16000,
            limits_memory_mi=32768,
            requests_ephemeral_mi=16384,
            limits_ephemeral_mi=32768,
            pods=150,
            persistent_volume_claims=40,
            storage_gi=500,
        ),
        ContainerDefaults(
            request_cpu_m=100,
            request_memory_mi=128,
            request_ephemeral_mi=128,
            limit_cpu_m=1000,
            limit_memory_mi=1024,
            limit_ephemeral_mi=1024,
            max_cpu_m=4000,
            max_memory_mi=8192,
            max_ephemeral_mi=8192,
        ),
        object_counts(pods=150),
    ),
}

# Critical lines get headroom so a surge (rework, recipe change) never hits the quota mid-shift.
CRITICALITY_FACTOR: dict[Criticality, Fraction] = {
    "standard": Fraction(1),
    "high": Fraction(3, 2),
    "critical": Fraction(2),
}


def line_budget(profile: Profile, criticality: Criticality) -> LineBudget:
    base = PROFILES[profile].line_budget
    factor = CRITICALITY_FACTOR[criticality]

    def scale(value: int) -> int:
        return int(value * factor)

    return LineBudget(
        requests_cpu_m=scale(base.requests_cpu_m),
        requests_memory_mi=scale(base.requests_memory_mi),
        limits_cpu_m=scale(base.limits_cpu_m),
        limits_memory_mi=scale(base.limits_memory_mi),
        requests_ephemeral_mi=scale(base.requests_ephemeral_mi),
        limits_ephemeral_mi=scale(base.limits_ephemeral_mi),
        pods=scale(base.pods),
        persistent_volume_claims=scale(base.persistent_volume_claims),
        storage_gi=scale(base.storage_gi),
    )


def cpu(millicores: int) -> str:
    return str(millicores // 1000) if millicores % 1000 == 0 else f"{millicores}m"


def memory(mebibytes: int) -> str:
    return f"{mebibytes // 1024}Gi" if mebibytes % 1024 == 0 else f"{mebibytes}Mi"


# --- the platform's own add-ons ------------------------------------------------------------------------

# Replicas of highly available platform controllers (Gatekeeper): one on a single-node cell.
ADDON_REPLICAS: dict[Profile, int] = {"edge-small": 1, "edge-ha": 2, "site": 3, "cloud": 3}


def resources(cpu_request: str, memory_request: str, cpu_limit: str, memory_limit: str) -> dict[str, Any]:
    """A container's requests and limits, as chart values and pod specs spell them."""
    return {
        "requests": {"cpu": cpu_request, "memory": memory_request},
        "limits": {"cpu": cpu_limit, "memory": memory_limit},
    }


# the node's disk a tool container we write needs: nothing but its log
TOOL_EPHEMERAL_STORAGE = ("8Mi", "32Mi")


def tool_resources(cpu_request: str, memory_request: str, cpu_limit: str, memory_limit: str) -> dict[str, Any]:
    """`resources` for a small tool container of ours (the canary, the webhook probe), with its node disk bounded
    too: it writes nothing but its log, and on a small cell the node's disk is shared with the lines."""
    sized = resources(cpu_request, memory_request, cpu_limit, memory_limit)
    sized["requests"]["ephemeral-storage"], sized["limits"]["ephemeral-storage"] = TOOL_EPHEMERAL_STORAGE
    return sized
