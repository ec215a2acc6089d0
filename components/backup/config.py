"""Config of disaster recovery: `backup` — the immutable stores on AWS, GCP and Azure, how long their copies are
locked and kept, the backup policies (which lines, how often in the plant's time zone, how long Velero keeps a
backup) and the plant's recovery objectives per line criticality.

A store's copies are locked for `lockDays` (object lock, a locked GCS retention policy, an Azure immutability
policy): nobody — not an attacker with the cloud account, not a tired operator — can delete or change them
before. They are kept `retentionDays` and then expire. Every rule that spans keys is checked here, with the
exact key named, before any resource is registered.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from components.backup.drill.config import DrillConfig, check_drill
from components.backup.escrow.config import EscrowConfig, check_escrow
from components.backup.etcd.config import EtcdSnapshotConfig, check_etcd
from components.config.problems import Problems, did_you_mean, field, present
from components.config.schedule import Cron, longest_gap
from components.config.types import CloudRegion, Criticality, Name, StrictModel, Uuid, pattern
from components.identity.config import AwsAccount, WorkloadIdentityConfig

Cloud = Literal["aws", "gcp", "azure"]
ETCD_SELF_MANAGED = ("k3s", "rke2")  # distributions whose etcd is the cluster's own, snapshotted by backup.etcd
CLOUDS: tuple[Cloud, ...] = ("aws", "gcp", "azure")
LockMode = Literal["compliance", "governance"]
PRODUCTION_CLOUDS = 2  # a production plant survives the loss of a whole cloud account
# the pack's `minimumRetentionDays` default: Velero's default backup TTL (720 h) plus slack
MINIMUM_LOCK_DAYS = 30

# --- where a store's copies can live: GCS locations and the Cloud KMS location their key must share, Azure regions
# and the pair GZRS replicates to (read by the checks below and by the stores) ---

REGION = re.compile(r"^[A-Z]+-[A-Z]+[0-9]+$")
MULTI_REGIONS = {"US": "us", "EU": "europe", "ASIA": "asia"}  # GCS multi-region -> KMS multi-region
PREDEFINED_DUAL_REGIONS = {"ASIA1": "asia1", "EUR4": "eur4", "NAM4": "nam4"}  # keys live in the same dual-region


def kms_location(location: str) -> str:
    """Where the bucket's key ring must be: Cloud Storage uses a CMEK only from the bucket's own location (a
    region's key in that region, a multi-region's in the matching KMS multi-region, a predefined dual-region's in
    that dual-region; components/backup/stores/gcp.py cites the rule)."""
    if REGION.match(location):
        return location.lower()
    found = MULTI_REGIONS.get(location) or PREDEFINED_DUAL_REGIONS.get(location)
    if found is None:
        known = ", ".join([*MULTI_REGIONS, *PREDEFINED_DUAL_REGIONS])
        raise ValueError(
            f"GCS location '{location}': a CMEK key ring must match it and this store knows the key location only "
            f"for regions (EUROPE-WEST3) and {known}"
        )
    return found


def geo_redundant(location: str) -> bool:
    """A dual- or multi-region bucket keeps every object in two regions: no replica bucket is needed."""
    return location in MULTI_REGIONS or location in PREDEFINED_DUAL_REGIONS


# the secondary region GZRS replicates to (learn.microsoft.com/azure/reliability/cross-region-replication-azure,
# "Azure paired regions"). A region missing here has no pair, so no GZRS.
_PAIRS = """
    eastasia:southeastasia australiaeast:australiasoutheast australiacentral:australiacentral2
    canadacentral:canadaeast chinanorth:chinaeast chinanorth2:chinaeast2 chinanorth3:chinaeast3
    northeurope:westeurope francecentral:francesouth germanywestcentral:germanynorth centralindia:southindia
    japaneast:japanwest koreacentral:koreasouth eastus:westus eastus2:centralus northcentralus:southcentralus
    westus2:westcentralus norwayeast:norwaywest uksouth:ukwest southafricanorth:southafricawest
    swedencentral:swedensouth switzerlandnorth:switzerlandwest uaenorth:uaecentral
"""
# the table's one-way pairs: the first region replicates to the second, not back
_ONE_WAY = "brazilsouth:southcentralus brazilsoutheast:brazilsouth westindia:southindia westus3:eastus"
PAIRED_REGION = {
    **{a: b for a, b in (p.split(":") for p in _PAIRS.split())},
    **{b: a for a, b in (p.split(":") for p in _PAIRS.split())},
    **{a: b for a, b in (p.split(":") for p in _ONE_WAY.split())},
}


def paired_region(location: str) -> str:
    if location not in PAIRED_REGION:
        raise ValueError(f"'{location}' has no region pair for GZRS to replicate to")
    return PAIRED_REGION[location]


GcpProject = Annotated[str, AfterValidator(pattern(re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$"), "a GCP project id"))]


def _key_location(location: str) -> str:
    kms_location(location)  # refuses a location whose key location is unknown
    return location


GcsLocation = Annotated[
    str,
    AfterValidator(
        pattern(
            re.compile(r"^[A-Z0-9-]+$"), "a GCS location in capitals, like EUROPE-WEST3, or a dual-region like EUR4"
        )
    ),
    AfterValidator(_key_location),
]
ResourceGroup = Annotated[str, Field(min_length=1, max_length=90)]


class StoreConfig(StrictModel):
    lock_days: int = Field(
        default=35,
        ge=1,
        le=3650,
        description=(
            f"Days every copy is immutable: nobody can delete or overwrite it before (production: at least "
            f"{MINIMUM_LOCK_DAYS}, as the policy pack's `minimumRetentionDays`)."
        ),
    )
    retention_days: int = Field(
        default=90,
        ge=1,
        le=3650,
        description="Days a copy is kept before it expires; at least `lockDays` (a lock cannot outlive its copy).",
    )
    lock_mode: LockMode | None = Field(
        default=None,
        description=(
            "compliance (nobody, not even the account's root, can shorten the lock) or governance (a privileged "
            "principal can). Default: compliance in production (the only mode it accepts), governance elsewhere."
        ),
    )

    def mode(self, environment: str) -> LockMode:
        return self.lock_mode or ("compliance" if environment == "production" else "governance")


class AwsStoreConfig(StoreConfig):
    account_id: AwsAccount = Field(description="AWS account of the store (the provider refuses any other).")
    region: CloudRegion = Field(description="Region of the bucket, e.g. eu-central-1.")
    replica_region: CloudRegion | None = Field(
        default=None, description="A second region the bucket replicates to, into a bucket locked the same way."
    )


class GcpStoreConfig(StoreConfig):
    project: GcpProject = Field(description="GCP project of the store.")
    location: GcsLocation = Field(
        description="Location of the bucket: a region (EUROPE-WEST3) or a dual-region (EUR4), which keeps every "
        "object in two regions."
    )


class AzureStoreConfig(StoreConfig):
    subscription_id: Uuid = Field(description="Subscription of the store.")
    tenant_id: Uuid = Field(description="Entra ID tenant of the subscription (the key vault's and the provider's).")
    resource_group: ResourceGroup = Field(description="Resource group the storage account and its key vault go in.")
    location: CloudRegion = Field(description="Azure region, e.g. westeurope.")
    geo_redundant: bool = Field(
        default=False,
        description="Replicate to the region's pair (GZRS) rather than across zones of one region (ZRS).",
    )
    first_deploy: bool = Field(
        default=False,
        description=(
            "true only for the `pulumi up` that creates the store: Azure creates the account's immutability policy "
            "only unlocked; then set it back to false and run `pulumi up` again, which locks it (irreversibly, "
            "under compliance). While true, a privileged principal could still shorten the policy."
        ),
    )

    writers: dict[Name, Uuid] = Field(
        default_factory=dict,
        description=(
            "Per cluster without an Azure identity that should write here: the object id of its own Entra ID "
            "service principal (create it with `az ad sp create-for-rbac --skip-assignment`; the program grants it "
            "its container and nothing else). Its credential goes to Vault, never to the program "
            "(docs/disaster-recovery.md). Needs `security.vault`."
        ),
    )

    @model_validator(mode="after")
    def _paired_when_geo_redundant(self) -> AzureStoreConfig:
        if self.geo_redundant:
            paired_region(self.location)  # GZRS needs the region's pair
        return self


class BackupPolicy(StrictModel):
    name: Name = Field(description="Policy id, part of the Velero Schedule's name.")
    lines: list[Name] = Field(
        default_factory=list, description="Lines whose namespaces it backs up (empty: use `criticality`)."
    )
    criticality: list[Criticality] = Field(default_factory=list, description="...or every line of these criticalities.")
    schedule: Cron = Field(description="Cron schedule in the plant's time zone (`factory.timezone`).")
    ttl_hours: int = Field(default=720, ge=1, le=87600, description="How long Velero keeps each backup.")

    @model_validator(mode="after")
    def _selects_lines(self) -> BackupPolicy:
        if bool(self.lines) == bool(self.criticality):
            raise ValueError("set exactly one of `lines` or `criticality`")
        return self


class Objective(StrictModel):
    rpo_hours: float = Field(gt=0, description="Most data (hours of it) the line may lose: the gap between backups.")
    rto_hours: float = Field(gt=0, description="How long restoring the line may take.")


DEFAULT_OBJECTIVES: dict[Criticality, Objective] = {
    "critical": Objective.model_validate({"rpoHours": 1, "rtoHours": 4}),
    "high": Objective.model_validate({"rpoHours": 4, "rtoHours": 8}),
    "standard": Objective.model_validate({"rpoHours": 24, "rtoHours": 24}),
}


class BackupConfig(StrictModel):
    aws: AwsStoreConfig | None = Field(default=None, description="An S3 store.")
    gcp: GcpStoreConfig | None = Field(default=None, description="A GCS store.")
    azure: AzureStoreConfig | None = Field(default=None, description="An Azure Blob store.")
    policies: list[BackupPolicy] = Field(
        default_factory=list, description="What is backed up, how often, for how long (at least one with a store)."
    )
    objectives: dict[Criticality, Objective] = Field(
        default_factory=lambda: dict(DEFAULT_OBJECTIVES),
        description="Recovery point and time objectives per line criticality (defaults: critical 1 h / 4 h, "
        "high 4 h / 8 h, standard 24 h / 24 h).",
    )
    drill: DrillConfig = Field(
        default_factory=DrillConfig,
        description="The restore drill every cluster with Velero runs per backup location (on by default).",
    )
    escrow: EscrowConfig = Field(
        default_factory=EscrowConfig,
        description=(
            "What Velero does not back up, copied into the same stores under `escrow/<cluster>/`: the bundle's images "
            "and charts, and the cluster's Vault secrets encrypted to public keys (both on by default)."
        ),
    )
    etcd: EtcdSnapshotConfig | None = Field(
        default=None,
        description=(
            "Encrypted etcd snapshots of the k3s/RKE2 clusters: taken by the distribution, encrypted on each server "
            "to public keys only, uploaded under `etcd/<cluster>/` (production needs it for such clusters)."
        ),
    )

    @property
    def enabled(self) -> bool:
        """`backup: {}` (the default) declares no store: only a development or staging stack may say so."""
        return bool(self.stores())

    def stores(self) -> dict[Cloud, StoreConfig]:
        return {cloud: store for cloud in CLOUDS if (store := getattr(self, cloud)) is not None}

    def objective(self, criticality: str) -> Objective:
        """The line's objectives: the stack's for its criticality, else the default."""
        chosen = {**DEFAULT_OBJECTIVES, **self.objectives}
        return chosen[criticality]  # type: ignore[index]  # a line's criticality is one of the three


def native_store(backup: BackupConfig, identity: WorkloadIdentityConfig | None) -> Cloud | None:
    """The store a cluster with this workload identity reaches as itself: the one on its identity's cloud — for
    AWS only in the identity's own account (a role's policy cannot open another account's bucket and key)."""
    stores = backup.stores()
    if identity is None or identity.cloud not in stores:
        return None
    if identity.aws is not None and backup.aws is not None and identity.aws.account_id != backup.aws.account_id:
        return None
    return identity.cloud


def reachable_stores(
    backup: BackupConfig, cluster: str, identity: WorkloadIdentityConfig | None, vault: bool
) -> list[Cloud]:
    """Every store a cluster's Velero writes to: the native one, and with Vault every other (Azure only for a
    cluster `backup.azure.writers` names), in CLOUDS order."""
    native = native_store(backup, identity)
    return [
        cloud
        for cloud in backup.stores()
        if cloud == native
        or (vault and (cloud != "azure" or (backup.azure is not None and cluster in backup.azure.writers)))
    ]


def check_backup(
    environment: str | None,
    timezone: str | None,
    backup: BackupConfig | None,
    lines: Sequence[object | None],
    problems: Problems,
) -> None:
    """Clouds, locks and retention, and whether each policy's schedule meets the RPO of every line it backs up."""
    if backup is None:
        return  # the section failed on its own
    if _stores_declared(environment, backup, problems):
        for cloud, store in backup.stores().items():
            _check_store(environment, cloud, store, problems)
        _check_policies(environment, timezone, backup, lines, problems)
        check_drill(timezone, backup.drill, problems)
        check_etcd(backup.etcd, backup.aws is not None, problems)


def _stores_declared(environment: str | None, backup: BackupConfig, problems: Problems) -> bool:
    stores = backup.stores()
    if not stores:
        if environment == "production":
            problems.add(
                ("backup",), "production needs backup stores (aws, gcp, azure): a plant must come back from copies"
            )
        if backup.policies:
            problems.add(("backup", "policies"), "back up to what? declare a store (aws, gcp or azure) first")
        return False
    if environment == "production" and len(stores) < PRODUCTION_CLOUDS:
        problems.add(
            ("backup",),
            f"production needs stores on at least {PRODUCTION_CLOUDS} clouds (of aws, gcp, azure) so losing one "
            f"cloud account loses no copy; got {', '.join(stores)}",
        )
    if not backup.policies:
        problems.add(("backup", "policies"), "a store nobody writes to: declare at least one policy")
    return True


def _check_store(environment: str | None, cloud: Cloud, store: StoreConfig, problems: Problems) -> None:
    if store.retention_days < store.lock_days:
        problems.add(
            ("backup", cloud, "retentionDays"),
            f"{store.retention_days} is shorter than lockDays {store.lock_days}: a copy cannot expire while locked",
        )
    if environment != "production":
        return
    if store.lock_mode == "governance":
        problems.add(
            ("backup", cloud, "lockMode"),
            "production accepts only compliance: under governance a privileged principal can delete copies",
        )
    if store.lock_days < MINIMUM_LOCK_DAYS:
        problems.add(
            ("backup", cloud, "lockDays"),
            f"{store.lock_days} is below the production minimum of {MINIMUM_LOCK_DAYS} days",
        )


def _check_policies(
    environment: str | None,
    timezone: str | None,
    backup: BackupConfig,
    lines: Sequence[object | None],
    problems: Problems,
) -> None:
    shortest_retention = min(s.retention_days for s in backup.stores().values())
    known = {field(line, "name"): field(line, "criticality") for _, line in present(lines)}
    covered: set[str] = set()
    for i, policy in enumerate(backup.policies):
        for j, name in enumerate(policy.lines):
            if name not in known:
                problems.add(("backup", "policies", i, "lines", j), _unknown("line", name, list(known)))
        selected = [name for name, crit in known.items() if name in policy.lines or crit in policy.criticality]
        covered.update(selected)
        if policy.ttl_hours > shortest_retention * 24:
            problems.add(
                ("backup", "policies", i, "ttlHours"),
                f"{policy.ttl_hours} h outlives the shortest store retention ({shortest_retention} days): the copy "
                "would expire before Velero expects",
            )
        if timezone is not None:
            selected_lines = {name: known[name] for name in selected}
            _check_rpo(i, policy, timezone, selected_lines, backup=backup, problems=problems)
    if environment == "production":
        for name in sorted(set(known) - covered):
            problems.add(("backup", "policies"), f"no policy backs up line '{name}': in production every line has one")


def _check_rpo(
    index: int, policy: BackupPolicy, timezone: str, lines: dict[str, str], *, backup: BackupConfig, problems: Problems
) -> None:
    gap = longest_gap(policy.schedule, timezone)
    for name, criticality in lines.items():
        rpo = backup.objective(criticality).rpo_hours
        if gap > timedelta(hours=rpo):
            problems.add(
                ("backup", "policies", index, "schedule"),
                f"'{policy.schedule}' leaves up to {gap.total_seconds() / 3600:g} h between backups, more than "
                f"the {rpo:g} h RPO of line '{name}' ({criticality})",
            )


def check_cluster_backups(
    environment: str | None,
    backup: BackupConfig | None,
    vault: bool,
    *,
    clusters: Sequence[object | None],
    lines: Sequence[object | None],
    problems: Problems,
) -> None:
    """Per cluster: one whose lines a policy backs up reaches a store, and `backup.azure.writers` names clusters
    that need it — a backup that cannot be written is a config error, not a log line found after the loss."""
    if backup is None or not backup.enabled:
        return
    names = [field(cluster, "name") for _, cluster in present(clusters)]
    azure = backup.azure
    for name in azure.writers if azure is not None else ():
        path = ("backup", "azure", "writers", name)
        if name not in names:
            problems.add(path, _unknown("cluster", name, names))
        elif not vault:
            problems.add(path, "needs security.vault: the service principal's credential comes from Vault only")
    etcd_recipients = list(backup.etcd.recipients) if backup.etcd is not None else None
    check_escrow(backup.escrow, etcd_recipients, vault, environment, problems)
    if backup.etcd is not None and backup.etcd.store == "aws" and not vault:
        problems.add(
            ("backup", "etcd", "store"),
            "'aws' needs security.vault: the servers' store key goes from the cloud into Vault and from there to them",
        )
    covered = _covered_clusters(backup, lines)
    for i, cluster in present(clusters):
        name, identity = field(cluster, "name"), field(cluster, "workload_identity")
        if name in covered and not reachable_stores(backup, name, identity, vault):
            problems.add(
                ("clusters", i),
                f"backup policies cover its lines ({', '.join(sorted(covered[name]))}) but it reaches no backup "
                f"store: give it a workload identity on the cloud of a store (of {', '.join(backup.stores())}), or "
                "set security.vault so Velero writes with a credential from Vault",
            )


def _covered_clusters(backup: BackupConfig, lines: Sequence[object | None]) -> dict[str, set[str]]:
    covered: dict[str, set[str]] = {}
    for _, line in present(lines):
        name, criticality = field(line, "name"), field(line, "criticality")
        if any(name in policy.lines or criticality in policy.criticality for policy in backup.policies):
            covered.setdefault(field(line, "cluster"), set()).add(name)
    return covered


def _unknown(kind: str, name: str, known: list[str]) -> str:
    hint = did_you_mean(name, known).strip()
    return f"unknown {kind} '{name}'" + (f" ({hint})" if hint else "")


def check_etcd_clusters(
    environment: str | None, backup: BackupConfig | None, clusters: Sequence[object | None], problems: Problems
) -> None:
    """In production a k3s/RKE2 cluster's etcd is snapshotted off-site (`backup.etcd`): without it, `site-lost`
    means a fresh cluster. Judged whatever else of the document failed."""
    if environment != "production" or backup is None or backup.etcd is not None:
        return
    for _, cluster in present(clusters):
        if field(cluster, "distribution") in ETCD_SELF_MANAGED:
            problems.add(
                ("backup", "etcd"),
                f"cluster '{field(cluster, 'name')}' ({field(cluster, 'distribution')}) keeps its state in its own "
                "etcd: production needs encrypted off-site snapshots of it (recipients, schedule, store)",
            )
