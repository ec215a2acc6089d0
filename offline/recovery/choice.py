"""Which backup location a recovery restores from, and which Schedule holds each line's freshest copy.

The rules, in the words the procedures print:
- A cluster's own cloud is the cloud it runs in (EKS: aws, GKE: gcp, AKS: azure) or, for k3s/RKE2/generic, the
  cloud its workload identity federates into; a cluster without either has none. Its Velero reaches that cloud's
  store with the cluster's ambient identity, and anyone who holds the cluster holds that identity.
- Nothing hostile (namespace-lost, cluster-lost, site-lost): the store on the cluster's own cloud if there is one
  (ambient identity, no copy across clouds), else the safest store.
- ransomware: never the store on the cluster's own cloud (nor on a cloud named as also compromised) while a store
  on another cloud exists; among the rest the safest.
- cloud-account-lost: never the store on the lost cloud; among the rest the nearest as above.
- Safest, in this order: a compliance lock (nobody can shorten it) before a governance lock (a privileged
  principal can); a store whose writers cannot hide a copy (GCS: a writer may create and read objects, never
  delete one) before one where a writer's delete leaves the locked versions but hides them behind a delete
  marker (S3) or a newer version (Azure Blob); the longer lock (older clean copies are still guaranteed); then
  aws, gcp, azure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from components.backup.config import CLOUDS, BackupPolicy, Cloud, StoreConfig, reachable_stores
from components.config.document import FactoryConfig
from components.config.factory import ClusterConfig
from components.config.lines import LineConfig
from components.config.schedule import longest_gap
from components.identity.config import MANAGED_CLOUD
from offline.recovery.conventions import schedule_name

# stores whose writer grant cannot remove or hide a copy (components/backup/stores/gcp.py grant_writer)
WRITERS_CANNOT_HIDE: frozenset[Cloud] = frozenset({"gcp"})
HIDING = {
    "aws": "an S3 writer may delete an object: the locked versions stay, hidden behind a delete marker",
    "azure": "an Azure writer (Storage Blob Data Contributor) may delete a blob: its locked versions stay, hidden",
    "gcp": "a GCS writer may only create and read objects",
}


def own_cloud(cluster: ClusterConfig) -> Cloud | None:
    managed = MANAGED_CLOUD.get(cluster.distribution)
    if managed is not None:
        return managed  # type: ignore[return-value]  # the values are clouds
    if cluster.workload_identity is not None:
        return cluster.workload_identity.cloud  # type: ignore[return-value]
    return None


def own_cloud_phrase(cluster: ClusterConfig) -> str:
    cloud = own_cloud(cluster)
    if cloud is None:
        return (
            f"cluster '{cluster.name}' ({cluster.distribution}, no workload identity) has no cloud of its own: "
            "it reaches every store with credentials of the same kind"
        )
    how = "runs in" if cluster.distribution in MANAGED_CLOUD else "federates its workload identity into"
    return f"cluster '{cluster.name}' ({cluster.distribution}) {how} {cloud}"


@dataclass(frozen=True)
class Choice:
    cloud: Cloud
    reasons: tuple[str, ...]  # why this store, in the procedure's words
    warning: str | None = None  # the rule could not be kept (no other store)


def safety_key(cloud: Cloud, store: StoreConfig, environment: str) -> tuple[int, int, int, int]:
    return (
        0 if store.mode(environment) == "compliance" else 1,
        0 if cloud in WRITERS_CANNOT_HIDE else 1,
        -store.lock_days,
        CLOUDS.index(cloud),
    )


def safest(candidates: dict[Cloud, StoreConfig], environment: str) -> Cloud:
    return min(candidates, key=lambda cloud: safety_key(cloud, candidates[cloud], environment))


def _safest_reason(cloud: Cloud, candidates: dict[Cloud, StoreConfig], environment: str) -> str:
    store = candidates[cloud]
    if len(candidates) == 1:
        return f"{cloud} is the only store left to choose"
    return (
        f"{cloud} is the safest of {', '.join(candidates)}: {store.mode(environment)} lock of {store.lock_days} "
        f"days; {HIDING[cloud]} (rule: compliance before governance, writers that cannot hide a copy, the longer "
        "lock, then aws, gcp, azure)"
    )


def written_stores(config: FactoryConfig, cluster: ClusterConfig) -> dict[Cloud, StoreConfig]:
    """The stores the cluster's Velero writes to (a location each): only those hold its backups."""
    stores, vault = config.backup.stores(), config.security.vault is not None
    return {c: stores[c] for c in reachable_stores(config.backup, cluster.name, cluster.workload_identity, vault)}


def nearest(
    cluster: ClusterConfig, stores: dict[Cloud, StoreConfig], environment: str, excluded: frozenset[Cloud]
) -> Choice:
    """The store a restore reaches most directly, of those the cluster writes to (`stores`): the cluster's own
    cloud, else the safest of the others."""
    candidates = {c: s for c, s in stores.items() if c not in excluded}
    if not candidates:
        raise ValueError("no store left")  # the caller refuses this input first (procedure._written)
    own = own_cloud(cluster)
    reasons = [own_cloud_phrase(cluster)]
    if own in candidates:
        reasons.append(f"{own} is its own cloud: its Velero reaches that store with its ambient identity")
        return Choice(own, tuple(reasons))
    cloud = safest(candidates, environment)
    reasons.append(_safest_reason(cloud, candidates, environment))
    return Choice(cloud, tuple(reasons))


def untouched(
    cluster: ClusterConfig, stores: dict[Cloud, StoreConfig], environment: str, compromised: frozenset[Cloud]
) -> Choice:
    """ransomware: the safest store, of those the cluster writes to (`stores`), on a cloud the attacker's foothold
    does not reach."""
    own = own_cloud(cluster)
    avoid = compromised | ({own} if own is not None else set())
    candidates = {c: s for c, s in stores.items() if c not in avoid}
    reasons = [own_cloud_phrase(cluster)]
    warning = None
    if own is not None and own in stores and candidates:
        reasons.append(f"not {own}: the store on the cluster's own cloud may be reached with what the attacker holds")
    for cloud in sorted(compromised & set(stores), key=CLOUDS.index):
        if candidates:
            reasons.append(f"not {cloud}: named as compromised too (--cloud)")
    if not candidates:
        candidates = dict(stores)
        warning = (
            f"every store of this factory is on a cloud the attacker may reach ({', '.join(sorted(avoid))}): "
            "restoring from it anyway; its copies are locked, but check the listing for hidden copies (below)"
        )
    cloud = safest(candidates, environment)
    reasons.append(_safest_reason(cloud, candidates, environment))
    return Choice(cloud, tuple(reasons), warning)


@dataclass(frozen=True)
class LineSource:
    line: LineConfig
    policy: BackupPolicy | None  # None: no policy backs the line up
    gap: timedelta | None  # the policy schedule's longest gap between backups

    def schedule(self, cloud: Cloud) -> str | None:
        return schedule_name(self.policy.name, cloud) if self.policy is not None else None


def covers(policy: BackupPolicy, line: LineConfig) -> bool:
    return line.name in policy.lines or line.criticality in policy.criticality


def line_source(config: FactoryConfig, line: LineConfig) -> LineSource:
    """The policy whose schedule leaves the shortest gap (the freshest copy); ties go to the first in the file."""
    best: tuple[timedelta, int, BackupPolicy] | None = None
    for index, policy in enumerate(config.backup.policies):
        if covers(policy, line):
            gap = longest_gap(policy.schedule, config.factory.timezone)
            if best is None or (gap, index) < best[:2]:
                best = (gap, index, policy)
    if best is None:
        return LineSource(line, None, None)
    return LineSource(line, best[2], best[0])
