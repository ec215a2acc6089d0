"""The recovery procedure of one scenario for one factory: ordered steps with the commands to copy, built from the
stack's config and nothing else, so it names this factory's clusters, stores, schedules and lines.

The order every procedure keeps, and why:
1. The backup locations go read-only before anything is restored (REFERENCE-2 §1: Velero's own DR advice), so
   neither a Schedule nor Velero's garbage collection writes to or deletes from a store mid-restore, and no backup
   of the damaged cluster becomes the newest one a restore would pick. Where the cluster is gone they exist again
   only once its datastore is back (k3s/RKE2) or `pulumi up` has made them (a new cluster): then at once.
2. CRDs and platform first, by `pulumi up`: no backup policy covers a platform namespace or a cluster-scoped
   object — they are this stack's code — and the line's guard rails (namespace, quota, default-deny, RBAC) must
   exist before its workloads come back (Velero restores NetworkPolicies after pods).
3. Lines by criticality, critical, high, standard (stack file order within one), one `velero restore create
   --wait` each.
4. The checks that prove the plant is back, then the locations writable again.

Durations are assumptions (MINUTES), summed in order because every command waits for what it starts; restore
drills (issue #11 item 6) will replace them with measurements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from components.backup.config import CLOUDS, Cloud, StoreConfig
from components.backup.escrow import addon as escrow_addon
from components.backup.escrow import manifests as escrow_manifests
from components.backup.etcd.uploader import object_prefix
from components.backup.stores import aws as aws_store
from components.backup.stores import azure as azure_store
from components.backup.stores import gcp as gcp_store
from components.catalogue.model import ClusterContext
from components.catalogue.secrets import auth_mount, vault_folder
from components.config.document import FactoryConfig
from components.config.factory import ClusterConfig
from components.config.lines import LineConfig
from components.core.contracts import SYSTEM_NAMESPACES
from components.core.vocabulary import MANAGED_BY, MANAGER
from components.identity.config import MANAGED_CLOUD
from components.inventory import platform_namespaces
from components.security.gatekeeper.addon import NAMESPACE as GATEKEEPER_NAMESPACE
from components.security.gatekeeper.webhook_probe import NAME as WEBHOOK_PROBE
from components.verification.canary import CANARY, PROBE_NAMESPACE
from offline.node_etcd import target as etcd_target
from offline.recovery import conventions as names
from offline.recovery.choice import Choice, LineSource, line_source, nearest, own_cloud, untouched, written_stores

Scenario = Literal["namespace-lost", "cluster-lost", "site-lost", "cloud-account-lost", "ransomware"]
SCENARIOS: tuple[Scenario, ...] = ("namespace-lost", "cluster-lost", "site-lost", "cloud-account-lost", "ransomware")
CRITICALITY_ORDER = ("critical", "high", "standard")
SELF_MANAGED = ("k3s", "rke2")  # distributions whose etcd this procedure restores
ON_SITE = ("k3s", "rke2", "generic")  # a managed cluster runs in its cloud, not at the plant
DATA_DIR = {"k3s": "/var/lib/rancher/k3s", "rke2": "/var/lib/rancher/rke2"}
SERVICE = {"k3s": "k3s", "rke2": "rke2-server"}
DISPLAY = {"k3s": "k3s", "rke2": "RKE2"}
SNAPSHOT_LIST = {"k3s": "k3s etcd-snapshot ls", "rke2": "rke2 etcd-snapshot list"}
MANAGED_NAME = {"eks": "EKS", "gke": "GKE", "aks": "AKS"}
ISSUER_FIELD = {"aws": "cluster.identity.oidc.issuer", "azure": "oidcIssuerProfile.issuerUrl"}
# what a line's team deploys (the Role lets it edit these); the guard rails carry managed-by=pulumi and stay
TEAM_OBJECTS = (
    "deployments,statefulsets,daemonsets,replicasets,cronjobs,jobs,pods,persistentvolumeclaims,configmaps,services"
)

# Assumed minutes per step (not measured): what the RTO comparison sums.
MINUTES = {
    "prepare": 10,  # checkout, make plan, kubeconfig
    "isolate": 30,  # cut the cluster off, revoke its credentials
    "rebuild-managed": 45,  # a managed control plane and a node pool
    "rebuild-self": 60,  # a fresh k3s/RKE2 on re-imaged hosts
    "datastore": 30,  # etcd restore on the first server, the others rejoin
    "read-only": 5,
    "platform": 20,  # `pulumi up`: the admission gate, add-ons, guard rails, the probe and canary Jobs
    "backups": 5,  # backup sync and choosing the backups
    "line": 15,  # one line's `velero restore create --wait`, volume data by the node agent included
    "checks": 20,  # describe, `pulumi up --refresh` re-running both proofs, pods Ready
    "return": 10,
}


def _written(
    ctx: Context, cluster: ClusterConfig, excluded: frozenset[Cloud] = frozenset()
) -> dict[Cloud, StoreConfig]:
    """The stores holding the cluster's backups, outside `excluded`; a cluster with none has nothing to restore."""
    stores = written_stores(ctx.config, cluster)
    if not set(stores) - excluded:
        lost = f" outside {', '.join(sorted(excluded))}" if excluded else ""
        raise RecoveryInputError(
            "--cluster" if not excluded else "--cloud",
            f"cluster '{cluster.name}' writes its backups to no store{lost} "
            f"({', '.join(stores) or 'none'}): no copy to restore from",
        )
    return stores


class RecoveryInputError(Exception):
    """A request this factory cannot answer; `argument` is the command-line option to blame."""

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(f"{argument}: {message}")
        self.argument = argument


@dataclass(frozen=True)
class Request:
    stack: str
    scenario: Scenario
    cluster: str | None = None
    namespace: str | None = None
    cloud: Cloud | None = None


@dataclass(frozen=True)
class Step:
    kind: str  # prepare, isolate, rebuild, datastore, read-only, platform, backups, line, checks, return, note
    title: str
    text: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()
    minutes: int = 0
    line: str | None = None  # a line step's line


@dataclass
class ClusterRecovery:
    cluster: ClusterConfig
    choice: Choice | None  # None: nothing is restored on this cluster
    steps: list[Step] = field(default_factory=list)
    sources: list[LineSource] = field(default_factory=list)


@dataclass
class Procedure:
    request: Request
    config: FactoryConfig
    title: str
    preface: list[str]
    first: list[Step]  # before any cluster's steps (the whole factory)
    clusters: list[ClusterRecovery]

    def steps(self) -> list[Step]:
        return [*self.first, *(step for c in self.clusters for step in c.steps)]


# --- input -------------------------------------------------------------------------------------------------


def _names(items: Sequence[str]) -> str:
    return ", ".join(items) if items else "(none)"


def _cluster(config: FactoryConfig, name: str) -> ClusterConfig:
    known = [c.name for c in config.clusters]
    if name not in known:
        raise RecoveryInputError(
            "--cluster", f"'{name}' is no cluster of '{config.factory.name}' (clusters: {_names(known)})"
        )
    return config.cluster(name)


def _require_cluster(config: FactoryConfig, request: Request) -> ClusterConfig:
    if request.cluster is None:
        known = _names([c.name for c in config.clusters])
        raise RecoveryInputError("--cluster", f"{request.scenario} needs the cluster it concerns (clusters: {known})")
    return _cluster(config, request.cluster)


def _line_for_namespace(config: FactoryConfig, request: Request) -> LineConfig:
    lines = config.lines if request.cluster is None else config.lines_on(request.cluster)
    allowed = _names([line.namespace for line in lines])
    if request.namespace is None:
        raise RecoveryInputError("--namespace", f"namespace-lost needs the lost line namespace (one of: {allowed})")
    line = next((line for line in lines if line.namespace == request.namespace), None)
    if line is None:
        where = f" on cluster '{request.cluster}'" if request.cluster else ""
        platform = request.namespace in names.platform_namespaces()
        hint = " (a platform namespace comes back with `pulumi up`: it holds no backed-up data)" if platform else ""
        raise RecoveryInputError(
            "--namespace", f"'{request.namespace}' is no line namespace{where}{hint}; allowed: {allowed}"
        )
    return line


def _check_flags(config: FactoryConfig, request: Request) -> None:
    if not config.backup.stores():
        raise RecoveryInputError(
            "--stack",
            f"'{request.stack}' declares no backup store (backup.aws, backup.gcp or backup.azure): there is no copy "
            "to restore from",
        )
    if request.namespace is not None and request.scenario != "namespace-lost":
        raise RecoveryInputError("--namespace", f"only namespace-lost takes a namespace, not {request.scenario}")
    if request.cloud is not None and request.scenario not in ("cloud-account-lost", "ransomware"):
        raise RecoveryInputError(
            "--cloud",
            f"{request.scenario} takes no cloud: --cloud names the lost cloud (cloud-account-lost) or a cloud also "
            "compromised (ransomware)",
        )
    if request.cluster is not None:
        _cluster(config, request.cluster)


# --- the parts every procedure shares --------------------------------------------------------------------


def store_description(config: FactoryConfig, cloud: Cloud, cluster: str) -> str:
    """Where the copies are, how they are locked and kept, and with which key they are encrypted."""
    factory, environment = config.factory.name, config.environment
    store = config.backup.stores()[cloud]
    lock = f"{store.mode(environment)} lock of {store.lock_days} days, kept {store.retention_days} days"
    prefix = f"prefix `{names.location_prefix(cluster)}`"
    if cloud == "aws" and (s := config.backup.aws) is not None:
        bucket = aws_store.bucket_name(factory, s.account_id, "backup", s.region)
        replica = ""
        if s.replica_region:
            replica_bucket = aws_store.bucket_name(factory, s.account_id, "backup", s.replica_region)
            replica = f", replicated to `{replica_bucket}` in {s.replica_region}"
        where = f"S3 bucket `{bucket}` (account {s.account_id}, {s.region}{replica})"
        key = "store's own KMS key (SSE-KMS, rotated yearly)"
    elif cloud == "gcp" and (g := config.backup.gcp) is not None:
        bucket = gcp_store.bucket_name(g.project, factory)
        where = f"GCS bucket `{bucket}` (project {g.project}, {g.location})"
        days = gcp_store.KEY_ROTATION_DAYS
        key = f"Cloud KMS key `{gcp_store.KEY_NAME}` in key ring `{bucket}` (new version every {days} days)"
    elif cloud == "azure" and (a := config.backup.azure) is not None:
        account = azure_store.account_name(factory, a.subscription_id)
        where = (
            f"container `{azure_store.CONTAINER}` of storage account `{account}` (subscription {a.subscription_id}, "
            f"resource group {a.resource_group}, {a.location}, {'GZRS' if a.geo_redundant else 'ZRS'})"
        )
        vault = azure_store.vault_name(factory, a.subscription_id)
        key = f"Key Vault key `{azure_store.KEY}` in `{vault}` (new version every 90 days)"
    else:  # pragma: no cover - stores() only returns declared clouds
        raise ValueError(cloud)
    return f"{where}, {prefix}; {lock}; encrypted with the {key}"


def _ordered_lines(config: FactoryConfig, lines: Sequence[LineConfig]) -> list[LineSource]:
    ranked = sorted(lines, key=lambda line: CRITICALITY_ORDER.index(line.criticality))  # stable: file order
    return [line_source(config, line) for line in ranked]


def _hours(value: float) -> str:
    return f"{value:g} h"


def _pulumi_up(stack: str, *, refresh: bool = True) -> str:
    flag = " --refresh" if refresh else ""
    return f"pulumi up --stack {stack}{flag} --policy-pack policy --policy-pack-config build/{stack}/policy-config.json"


def _kubeconfig_file(stack: str, cluster: str) -> str:
    return f'"$PWD/build/{stack}/recovery/{cluster}.kubeconfig"'


def prepare_step(config: FactoryConfig, stack: str, extra: Sequence[str] = ()) -> Step:
    return Step(
        "prepare",
        "Before you start",
        (
            "On a machine with this repository at the commit last deployed to this stack, the Pulumi CLI logged in "
            "to the stack's backend, kubectl, the velero CLI (v1.18) and jq. `RUN` names this run's restores.",
            *extra,
        ),
        (
            f"pulumi stack select {stack}",
            f"make plan STACK={stack}  # must exit 0; writes build/{stack}/policy-config.json",
            "(cd policy && pulumi install)  # once per checkout: the policy pack's environment",
            f"mkdir -p build/{stack}/recovery",
            "RUN=$(date -u +%Y%m%d%H%M)",
        ),
        MINUTES["prepare"],
    )


def connect_step(stack: str, cluster: ClusterConfig) -> Step:
    """Point kubectl and velero at the cluster, with the kubeconfig the stack holds for it."""
    key = cluster.kubeconfig.secret_key
    commands = [
        f"export KUBECONFIG={_kubeconfig_file(stack, cluster.name)}",
        f'(umask 077 && pulumi config get --stack {stack} {key} > "$KUBECONFIG")',
    ]
    if cluster.kubeconfig.context:
        commands.append(f"kubectl config use-context {cluster.kubeconfig.context}")
    return Step(
        "connect",
        f"Point kubectl and velero at cluster `{cluster.name}`",
        (f"Every `kubectl` and `velero` command below talks to cluster `{cluster.name}` through this file.",),
        tuple(commands),
    )


def read_only_step(clouds: Sequence[Cloud], when: str) -> Step:
    commands = [names.access_mode_patch(names.location_name(cloud), names.READ_ONLY) for cloud in clouds]
    commands.append(f"velero backup-location get   # ACCESS MODE {names.READ_ONLY} for {', '.join(clouds)}")
    text = (
        f"{when}, set every BackupStorageLocation read-only, before anything is restored: no Schedule writes a "
        "backup of the damaged cluster (it would become the newest one a restore picks) and Velero's garbage "
        "collection deletes nothing while you restore."
    )
    return Step("read-only", "Backup locations read-only", (text,), tuple(commands), MINUTES["read-only"])


def platform_step(config: FactoryConfig, stack: str, cluster: ClusterConfig, what: str) -> Step:
    system = set(SYSTEM_NAMESPACES)
    platform = ", ".join(f"`{n}`" for n in names.platform_namespaces() if n not in system)
    lines = ", ".join(f"`{line.namespace}`" for line in config.lines_on(cluster.name))
    return Step(
        "platform",
        "CRDs and platform first: `pulumi up`",
        (
            f"{what} No backup holds the platform: it is this stack's code, and no backup policy covers a platform "
            "namespace or a cluster-scoped object. `pulumi up` makes the cluster-scoped objects (CRDs, "
            f"ConstraintTemplates and constraints, webhooks, ClusterRoles), the platform namespaces {platform} with "
            "their add-ons behind the admission gate (Gatekeeper's webhook probe), and every line namespace "
            f"({lines}) with its guard rails — quota, limits, default-deny NetworkPolicies, RBAC, service account, "
            "ExternalSecrets — before any of a line's workloads is restored (Velero would restore NetworkPolicies "
            "only after pods). The platform's state rebuilds itself: External Secrets reads Vault again, trivy "
            "scans again.",
        ),
        (_pulumi_up(stack),),
        MINUTES["platform"],
    )


def _schedules(sources: Sequence[LineSource], cloud: Cloud) -> list[str]:
    found: list[str] = []
    for source in sources:
        schedule = source.schedule(cloud)
        if schedule is not None and schedule not in found:
            found.append(schedule)
    return found


def backups_step(sources: Sequence[LineSource], cloud: Cloud) -> Step:
    commands = [f"velero backup get --selector {names.SCHEDULE_LABEL}={s}" for s in _schedules(sources, cloud)]
    return Step(
        "backups",
        "Find the backups: they must predate the loss",
        (
            f"Velero lists what location `{cloud}` holds within a minute (backup sync). `--from-schedule` restores a "
            "schedule's newest Completed backup: it must have started before the loss. If a newer one exists (taken "
            "of the damaged cluster before the locations went read-only), restore that line with `--from-backup "
            "<the last backup before the loss>` instead.",
        ),
        tuple(commands),
        MINUTES["backups"],
    )


def _uncovered(source: LineSource) -> Step:
    line = source.line
    return Step(
        "note",
        f"`{line.namespace}` ({line.criticality}): no backup",
        (
            f"No backup policy covers line `{line.name}`: `pulumi up` made its namespace and guard rails again, its "
            "workloads come back only by the team's own deployment, and its volume data is lost.",
        ),
        line=line.name,
    )


def line_step(
    config: FactoryConfig, source: LineSource, cloud: Cloud, *, clear_first: bool = False, from_backup: bool = False
) -> Step:
    """One line's restore: from its schedule on the chosen location (ransomware: the last backup before)."""
    line = source.line
    schedule = source.schedule(cloud)
    if schedule is None or source.policy is None:
        return _uncovered(source)
    rto = config.backup.objective(line.criticality).rto_hours
    gap = source.gap.total_seconds() / 3600 if source.gap else 0
    text = [
        f"Line `{line.name}` ({line.criticality}, team {line.team}, RTO {_hours(rto)}): schedule `{schedule}` "
        f"(policy `{source.policy.name}`, at most {_hours(gap)} between backups)."
    ]
    commands = []
    if clear_first:
        text.append(
            "The datastore brought the line back as the snapshot saw it, with volumes that are gone: delete the "
            "team's objects (not the guard rails, which carry managed-by=pulumi) so Velero restores them with their "
            "volume data. Skip this step for a line whose pods came back Ready with their volumes: those are newer "
            "than any backup."
        )
        commands.append(f"kubectl -n {line.namespace} delete {TEAM_OBJECTS} -l '{MANAGED_BY}!={MANAGER}' --wait=true")
    restore = f"restore-{line.name}-$RUN"
    if from_backup:
        commands += [
            f'B=$(last_clean {schedule}) && [ -n "$B" ] && echo "restoring $B" '
            f'|| echo "no backup of {schedule} before $BEFORE"',
            f'velero restore create {restore} --from-backup "$B" --include-namespaces {line.namespace} --wait',
        ]
    else:
        commands.append(
            f"velero restore create {restore} --from-schedule {schedule} --include-namespaces {line.namespace} --wait"
        )
    return Step(
        "line",
        f"Restore `{line.namespace}` ({line.criticality})",
        tuple(text),
        tuple(commands),
        MINUTES["line"],
        line.name,
    )


def checks_step(stack: str, sources: Sequence[LineSource]) -> Step:
    restored = [s for s in sources if s.policy is not None]
    line_namespaces = " ".join(s.line.namespace for s in sources)
    commands = [
        f"velero restore describe restore-{s.line.name}-$RUN --details   # Phase: Completed, no errors"
        for s in restored
    ]
    commands += [
        f"kubectl get ns {' '.join(names.platform_namespaces())} {line_namespaces}   # every one Active",
        f"kubectl -n {GATEKEEPER_NAMESPACE} delete job {WEBHOOK_PROBE} --ignore-not-found",
        f"kubectl -n {PROBE_NAMESPACE} delete job {CANARY} --ignore-not-found",
        f"{_pulumi_up(stack)}   # runs both proof Jobs again; fails if either fails",
        f'kubectl -n {GATEKEEPER_NAMESPACE} logs job/{WEBHOOK_PROBE}   # "answered 10 times in a row"',
        f'kubectl -n {PROBE_NAMESPACE} logs job/{CANARY}   # "segmentation enforced"',
    ]
    commands += [
        f"kubectl -n {s.line.namespace} wait pods --all --for=condition=Ready "
        "--field-selector=status.phase!=Succeeded --timeout=10m"
        for s in sources
    ]
    return Step(
        "checks",
        "Prove the plant is back",
        (
            "Each restore Completed; every namespace Active; the admission gate answers (Gatekeeper's webhook probe "
            "Job) and segmentation holds (the segmentation canary Job): deleting both Jobs makes `pulumi up --refresh` "
            "run them again, and the update fails if either does; every line's pods Ready. A restored pod that "
            "breaks a Gatekeeper rule of today was refused: `velero restore describe` lists it.",
        ),
        tuple(commands),
        MINUTES["checks"],
    )


def return_step(
    clouds: Sequence[Cloud], sources: Sequence[LineSource], cloud: Cloud, extra: Sequence[str] = ()
) -> Step:
    commands = [names.access_mode_patch(names.location_name(c), names.READ_WRITE) for c in clouds]
    commands += [
        f"velero backup create --from-schedule {s} --wait   # a first backup of the restored lines"
        for s in _schedules(sources, cloud)
    ]
    return Step(
        "return",
        "Back to normal: locations writable, a backup at once",
        ("The Schedules resume with the locations writable; a backup now starts the RPO clock again.", *extra),
        tuple(commands),
        MINUTES["return"],
    )


# --- datastore: etcd or the provider's -------------------------------------------------------------------


def _offsite(config: FactoryConfig, cluster: ClusterConfig) -> tuple[str, tuple[str, ...]]:
    """Where the encrypted copies of the cluster's snapshots are, and the commands that fetch and decrypt one."""
    etcd, where = config.backup.etcd, etcd_target(config)
    if etcd is None or where is None:
        return (
            "This stack takes no encrypted off-site copies (`backup.etcd`): use a surviving copy on a server's disk. ",
            (),
        )
    prefix = f"{where.bucket}/{object_prefix(cluster.name)}/"
    tool = "age -d -i <recipient's private key file>" if etcd.scheme == "age" else "gpg --decrypt"
    ext = ".age" if etcd.scheme == "age" else ".gpg"
    endpoint = f" --endpoint-url {where.endpoint}" if where.endpoint else f" --region {where.region}"
    return (
        f"Every server uploads each snapshot, encrypted to the recipients' public keys ({etcd.scheme}), to "
        f"`{prefix}`: a recipient decrypts the newest one from before the loss on a trusted machine, and the "
        "plaintext goes only to the first server. ",
        (
            f"aws s3 ls s3://{prefix}{endpoint}   # newest from before the loss",
            f"aws s3 cp s3://{prefix}<snapshot>.zip{ext} .{endpoint}",
            f"{tool} <snapshot>.zip{ext} > <snapshot>.zip   # on the recovery team's machine; copy to the first server",
            f"aws s3 cp s3://{prefix}server-token-<hash>{ext} .{endpoint}   # the newest from before the loss",
            f'TOKEN="$({tool} server-token-<hash>{ext})"   # decrypted by the recovery team, set on the first server',
        ),
    )


def etcd_step(
    cluster: ClusterConfig, *, new_hosts: bool, environments: Sequence[str] = (), config: FactoryConfig | None = None
) -> Step:
    """REFERENCE-2 §2: stop every server, reset the first from a snapshot, the others drop their datastore."""
    dist = cluster.distribution
    data, service = DATA_DIR[dist], SERVICE[dist]
    offsite_text, fetch = _offsite(config, cluster) if config is not None else ("", ())
    token_text = (
        "every server escrows it beside the snapshots, encrypted the same way (`server-token-<hash>`, the newest "
        "from before the loss); decrypt it like a snapshot. "
        if fetch
        else "`server/token` of a surviving server, or wherever the site keeps it. "
    )
    hosts = (
        "on new hosts (the site's were lost), installed as before with the node settings `make plan` writes"
        if new_hosts
        else "on the cluster's servers (new hosts where a server is gone, installed as before)"
    )
    text = (
        f"{DISPLAY[dist]} keeps the cluster's state in its embedded etcd: restore it from a snapshot {hosts}. "
        "It brings back the cluster's CA and keys (the stack's kubeconfig works again), Velero and its locations, "
        "and every object as the snapshot saw it.",
        f"Snapshots are taken on the servers (`{data}/server/db/snapshots`). "
        + offsite_text
        + "Without any snapshot, install a fresh cluster, give the stack its kubeconfig "
        f"({kubeconfig_home(cluster.kubeconfig.secret_key, environments)}) and go on: every step below also works "
        "on an empty cluster, the "
        "read-only step after `pulumi up`.",
        "`--token` is the cluster's original server token, required on new hosts: "
        + token_text
        + "A single-server cell without `cluster-init` keeps SQLite "
        f"(`{data}/server/db/state.db`) instead: restore that file with {service} stopped.",
    )
    commands = (
        *fetch,
        f"# every server:  systemctl stop {service}",
        f"SNAPSHOT={data}/server/db/snapshots/<snapshot>.zip   # the decrypted copy, put there on the first server;"
        f" or a local one: `{SNAPSHOT_LIST[dist]}`",
        *(() if fetch else ("TOKEN='<the original server token>'",)),
        "# first server (a local file: --etcd-s3=false keeps it from looking in S3):",
        f'{dist} server --cluster-reset --cluster-reset-restore-path="$SNAPSHOT" --token="$TOKEN"',
        f"systemctl start {service}",
        "# every other server, then agents as they rejoin:",
        f"rm -rf {data}/server/db && systemctl start {service}",
        "kubectl get nodes   # every node Ready",
    )
    return Step("datastore", f"Restore the datastore ({dist} etcd snapshot)", text, commands, MINUTES["datastore"])


def kubeconfig_home(key: str, environments: Sequence[str]) -> str:
    if environments:
        return f"in the ESC environment {', '.join(environments)}, values.pulumiConfig.{key}"
    return f"`pulumi config set --secret {key}`"


def managed_note(cluster: ClusterConfig) -> str:
    dist = MANAGED_NAME[cluster.distribution]
    return (
        f"{dist} runs the cluster's etcd itself: there is no etcd snapshot to take or restore, and none is. What comes "
        f"back instead: the cluster (made again the way it was made — this program addresses clusters, it does not "
        f"create them), then everything in it from this stack (`pulumi up`: CRDs, admission gate, platform add-ons, "
        f"every line's namespace and guard rails) and from Velero (each line's objects and volume data). Objects "
        f"made outside this program in namespaces no backup policy covers are not restored."
    )


def rebuild_step(
    config: FactoryConfig, stack: str, cluster: ClusterConfig, *, reason: str, environments: Sequence[str]
) -> Step:
    key = cluster.kubeconfig.secret_key
    managed = cluster.distribution in MANAGED_CLOUD
    text = [reason]
    if managed:
        text.append(managed_note(cluster))
    elif cluster.distribution in SELF_MANAGED:
        text.append(
            f"Install a fresh {cluster.distribution} on re-imaged hosts with a new token and the node settings `make "
            f"plan` wrote to build/{stack}/node-config/."
        )
    else:
        text.append(
            "A generic cluster's datastore is its distribution's to restore (kubeadm: `etcdutl snapshot restore`); "
            "without one, install the cluster again the way it was installed."
        )
    identity = cluster.workload_identity
    if identity is not None and identity.cloud in ISSUER_FIELD:
        index = [c.name for c in config.clusters].index(cluster.name)
        text.append(
            "A new cluster has a new OIDC issuer: set "
            f"`clusters[{index}].workloadIdentity.{identity.cloud}.oidcIssuer` "
            f"in stacks/Pulumi.{stack}.yaml to it ({ISSUER_FIELD[identity.cloud]}), and its network fields if the "
            "network changed, then `make plan` again."
        )
    if config.security.vault is not None:
        text.append(
            f"Vault's auth mount `{auth_mount(config.security.vault, cluster)}` must trust the new cluster's "
            "service-account tokens (its API server and CA) before External Secrets can read; "
            f"build/{stack}/vault/{cluster.name}.sh then re-creates the roles if they were lost."
        )
    text.append(f"Then give the stack the new cluster's kubeconfig ({kubeconfig_home(key, environments)}):")
    commands: tuple[str, ...] = (
        () if environments else (f'pulumi config set --stack {stack} --secret {key} "$(cat new-kubeconfig.yaml)"',)
    )
    commands += (f'(umask 077 && pulumi config get --stack {stack} {key} > "$KUBECONFIG")', f"make plan STACK={stack}")
    minutes = MINUTES["rebuild-managed" if managed else "rebuild-self"]
    return Step("rebuild", f"Make cluster `{cluster.name}` again", tuple(text), commands, minutes)


# --- scenarios ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    config: FactoryConfig
    request: Request
    environments: tuple[str, ...] = ()

    @property
    def stack(self) -> str:
        return self.request.stack

    @property
    def clouds(self) -> list[Cloud]:
        return list(self.config.backup.stores())

    def written(self, cluster: ClusterConfig) -> list[Cloud]:
        """The stores the cluster's Velero has a location for."""
        return list(written_stores(self.config, cluster))


def location_text(config: FactoryConfig, recovery: ClusterRecovery) -> list[str]:
    """Which location a cluster restores from, where its copies are, and the rule that chose it."""
    choice = recovery.choice
    assert choice is not None
    text = [
        f"Restore from location `{names.location_name(choice.cloud)}`: "
        f"{store_description(config, choice.cloud, recovery.cluster.name)}.",
        "Why: " + "; ".join(choice.reasons) + ".",
    ]
    if choice.warning:
        text.append(f"WARNING: {choice.warning}.")
    return text


def _restore_lines(
    ctx: Context, recovery: ClusterRecovery, *, clear_first: bool = False, from_backup: bool = False
) -> list[Step]:
    assert recovery.choice is not None
    return [
        line_step(ctx.config, source, recovery.choice.cloud, clear_first=clear_first, from_backup=from_backup)
        for source in recovery.sources
    ]


def _finish(
    ctx: Context, recovery: ClusterRecovery, *, writable: Sequence[Cloud] | None = None, extra: Sequence[str] = ()
) -> None:
    assert recovery.choice is not None
    recovery.steps.append(checks_step(ctx.stack, recovery.sources))
    recovery.steps.append(
        return_step(
            writable if writable is not None else ctx.written(recovery.cluster),
            recovery.sources,
            recovery.choice.cloud,
            extra,
        )
    )


def namespace_lost(ctx: Context) -> list[ClusterRecovery]:
    line = _line_for_namespace(ctx.config, ctx.request)
    cluster = ctx.config.cluster(line.cluster)
    choice = nearest(cluster, _written(ctx, cluster), ctx.config.environment, frozenset())
    recovery = ClusterRecovery(cluster, choice, sources=_ordered_lines(ctx.config, [line]))
    recovery.steps += [
        connect_step(ctx.stack, cluster),
        read_only_step(ctx.written(cluster), "First, while the cluster still runs its Schedules"),
        backups_step(recovery.sources, choice.cloud),
        Step(
            "platform",
            "CRDs and platform first: the line's guard rails by `pulumi up`",
            (
                "The platform and the CRDs are unharmed; `pulumi up --refresh` finds "
                f"`{line.namespace}` gone and makes "
                "it again with its guard rails (quota, limits, default-deny NetworkPolicies, RBAC, service account, "
                "ExternalSecrets) before Velero brings its workloads back: a restored pod never runs without them. "
                "Wait until the old namespace has finished terminating.",
            ),
            (f"kubectl wait --for=delete namespace/{line.namespace} --timeout=10m", _pulumi_up(ctx.stack)),
            MINUTES["platform"],
        ),
        *_restore_lines(ctx, recovery),
    ]
    _finish(ctx, recovery)
    return [recovery]


def _lost_cluster(
    ctx: Context, cluster: ClusterConfig, *, site: bool, excluded: frozenset[Cloud] = frozenset()
) -> ClusterRecovery:
    choice = nearest(cluster, _written(ctx, cluster, excluded), ctx.config.environment, excluded)
    sources = _ordered_lines(ctx.config, ctx.config.lines_on(cluster.name))
    recovery = ClusterRecovery(cluster, choice, sources=sources)
    clouds = [c for c in ctx.written(cluster) if c not in excluded]
    recovery.steps.append(connect_step(ctx.stack, cluster))
    if cluster.distribution in SELF_MANAGED and not excluded:
        recovery.steps += [
            etcd_step(cluster, new_hosts=site, environments=ctx.environments, config=ctx.config),
            read_only_step(clouds, "As soon as the API server answers"),
            platform_step(
                ctx.config,
                ctx.stack,
                cluster,
                "Reconcile the restored cluster with the stack: `pulumi up --refresh` makes again what the snapshot "
                "lacks and sets back what changed since it was taken.",
            ),
            backups_step(sources, choice.cloud),
            *_restore_lines(ctx, recovery, clear_first=True),
        ]
    else:
        reason = (
            f"Cluster `{cluster.name}` is gone."
            if not excluded
            else f"Cluster `{cluster.name}` ran in the lost {', '.join(sorted(excluded))} account: make it again in "
            "another account (and set the stack's account fields for it) or on another cloud."
        )
        recovery.steps += [
            rebuild_step(ctx.config, ctx.stack, cluster, reason=reason, environments=ctx.environments),
            platform_step(ctx.config, ctx.stack, cluster, "On the new, empty cluster, from the stack."),
            read_only_step(clouds, "At once, now that `pulumi up` has made Velero and its locations"),
            backups_step(sources, choice.cloud),
            *_restore_lines(ctx, recovery),
        ]
    _finish(ctx, recovery, writable=clouds)
    return recovery


def cluster_lost(ctx: Context) -> list[ClusterRecovery]:
    cluster = _require_cluster(ctx.config, ctx.request)
    return [_lost_cluster(ctx, cluster, site=False)]


def site_lost(ctx: Context) -> list[ClusterRecovery]:
    on_site = [c for c in ctx.config.clusters if c.distribution in ON_SITE]
    if ctx.request.cluster is not None:
        cluster = ctx.config.cluster(ctx.request.cluster)
        if cluster not in on_site:
            raise RecoveryInputError(
                "--cluster",
                f"'{cluster.name}' ({cluster.distribution}) runs in its cloud, not at the site; clusters at the site: "
                f"{_names([c.name for c in on_site])}",
            )
        on_site = [cluster]
    if not on_site:
        raise RecoveryInputError(
            "--scenario",
            f"site-lost: no cluster of '{ctx.config.factory.name}' runs at the site (all are managed); "
            "use cluster-lost",
        )
    return [_lost_cluster(ctx, cluster, site=True) for cluster in on_site]


def _lost_cloud(ctx: Context) -> Cloud:
    lost = ctx.request.cloud
    stores = ctx.clouds
    if lost is None:
        raise RecoveryInputError("--cloud", f"cloud-account-lost needs the lost cloud (one of: {', '.join(CLOUDS)})")
    if lost not in stores and not any(own_cloud(c) == lost for c in ctx.config.clusters):
        raise RecoveryInputError(
            "--cloud",
            f"'{ctx.config.factory.name}' has neither a store nor a cluster on {lost} (stores: {', '.join(stores)})",
        )
    if set(stores) <= {lost}:
        raise RecoveryInputError(
            "--cloud",
            f"the only store of '{ctx.config.factory.name}' is on {lost}: no copy survives its loss (declare a "
            "store on another cloud: backup.aws, backup.gcp, backup.azure)",
        )
    return lost


def cloud_account_lost(ctx: Context) -> list[ClusterRecovery]:
    lost = _lost_cloud(ctx)
    excluded = frozenset({lost})
    if ctx.request.cluster is not None:
        affected = [ctx.config.cluster(ctx.request.cluster)]
    else:
        affected = [c for c in ctx.config.clusters if MANAGED_CLOUD.get(c.distribution) == lost]
    recoveries = []
    for cluster in ctx.config.clusters:
        if cluster in affected:
            recoveries.append(_lost_cluster(ctx, cluster, site=False, excluded=excluded))
        elif lost in ctx.written(cluster):
            recoveries.append(_keep_running(ctx, cluster, lost))
    return recoveries


def _keep_running(ctx: Context, cluster: ClusterConfig, lost: Cloud) -> ClusterRecovery:
    """A cluster outside the lost account: its lines keep running; only the lost location is shut."""
    sources = _ordered_lines(ctx.config, ctx.config.lines_on(cluster.name))
    location = names.location_name(lost)
    pause = [f"velero schedule pause {s}" for s in _schedules(sources, lost)]
    others = [c for c in ctx.written(cluster) if c != lost]
    listing = [
        f"velero backup get --selector {names.SCHEDULE_LABEL}={s}" for c in others for s in _schedules(sources, c)
    ]
    recovery = ClusterRecovery(cluster, None, sources=sources)
    recovery.steps += [
        connect_step(ctx.stack, cluster),
        Step(
            "read-only",
            f"Shut location `{location}` on cluster `{cluster.name}`",
            (
                f"Cluster `{cluster.name}` does not run in {lost}: its lines keep running and nothing is restored. Its "
                f"location `{location}` points into the lost account — unreachable, or in someone else's hands: "
                "read-only "
                f"and its Schedules paused. Backups go on to {', '.join(others)}; confirm a recent Completed one each.",
            ),
            (names.access_mode_patch(location, names.READ_ONLY), *pause, *listing),
            MINUTES["read-only"],
        ),
    ]
    return recovery


def ransomware(ctx: Context) -> list[ClusterRecovery]:
    cluster = _require_cluster(ctx.config, ctx.request)
    compromised = frozenset({ctx.request.cloud}) if ctx.request.cloud else frozenset()
    choice = untouched(cluster, _written(ctx, cluster), ctx.config.environment, compromised)
    sources = _ordered_lines(ctx.config, ctx.config.lines_on(cluster.name))
    recovery = ClusterRecovery(cluster, choice, sources=sources)
    recovery.steps += [
        isolate_step(ctx, cluster),
        connect_step(ctx.stack, cluster),
        rebuild_step(
            ctx.config,
            ctx.stack,
            cluster,
            reason=(
                f"Never restore cluster `{cluster.name}`'s etcd snapshots or reuse its disks: they may carry the "
                "attacker's objects (a webhook, a ClusterRoleBinding, a DaemonSet). Build a new cluster."
            ),
            environments=ctx.environments,
        ),
        platform_step(ctx.config, ctx.stack, cluster, "On the new, empty cluster, from the stack."),
        read_only_step(ctx.written(cluster), "At once, now that `pulumi up` has made Velero and its locations"),
        clean_backups_step(sources, choice.cloud),
        *_restore_lines(ctx, recovery, from_backup=True),
    ]
    _finish(ctx, recovery, extra=("Set the locations writable only once the credentials named above are rotated.",))
    return [recovery]


def isolate_step(ctx: Context, cluster: ClusterConfig) -> Step:
    text = [
        f"Cut cluster `{cluster.name}` off at the site's firewall or the cloud's network (plant network and "
        "internet); keep its disks for forensics, do not wipe them yet. Treat everything it could read as known "
        "to the attacker and rotate it before the new cluster gets it:",
        "- the kubeconfig credentials in the stack, and every credential Velero's locations use on this cluster "
        "(its cloud identity's role and the other clouds' credential Secrets fed from Vault);",
    ]
    vault = ctx.config.security.vault
    if vault is not None:
        text.append(f"- Vault's trust in this cluster: auth mount `{auth_mount(vault, cluster)}`;")
        for line in ctx.config.lines_on(cluster.name):
            for secret in line.secrets:
                path = f"{vault.path}/data/{vault_folder(cluster.name, line.name)}/{secret.remote_key}"
                text.append(
                    f"- line `{line.name}`'s secret `{secret.name}`: Vault `{path}` ({', '.join(secret.properties)});"
                )
    text.append("- anything the lines' workloads held (database and PLC credentials not in Vault).")
    return Step(
        "isolate", f"Isolate cluster `{cluster.name}`, rotate what it held", ("\n".join(text),), (), MINUTES["isolate"]
    )


def clean_backups_step(sources: Sequence[LineSource], cloud: Cloud) -> Step:
    schedules = _schedules(sources, cloud)
    jq = (
        '\'[.items[] | select(.status.phase == "Completed" and .status.startTimestamp < $t)] '
        "| sort_by(.status.startTimestamp) | last | .metadata.name // empty'"
    )
    commands = [
        "BEFORE='YYYY-MM-DDTHH:MM:SSZ'   # the earliest sign of compromise, UTC",
        f"last_clean() {{ kubectl -n {names.VELERO_NAMESPACE} get backups.velero.io "
        f'-l {names.SCHEDULE_LABEL}="$1" -o json '
        f'| jq -r --arg t "$BEFORE" {jq}; }}',
        *(f"velero backup get --selector {names.SCHEDULE_LABEL}={s}" for s in schedules),
        *(f"last_clean {s}" for s in schedules),
    ]
    return Step(
        "backups",
        "Choose the last backups from before the compromise",
        (
            "Not `--from-schedule`: a schedule's newest backup may already hold encrypted or planted data. Each line "
            "is restored from its schedule's last Completed backup that started before `BEFORE`. Fewer backups than "
            "expected? A writer's credentials can hide copies but not remove them while locked: S3 keeps the locked "
            "versions behind delete markers (`aws s3api list-object-versions`), Azure keeps the versions of a deleted "
            "blob (`az storage blob list --include v`).",
        ),
        tuple(commands),
        MINUTES["backups"],
    )


BUILDERS = {
    "namespace-lost": namespace_lost,
    "cluster-lost": cluster_lost,
    "site-lost": site_lost,
    "cloud-account-lost": cloud_account_lost,
    "ransomware": ransomware,
}


def _site_prerequisites(config: FactoryConfig) -> list[str]:
    needs = []
    if config.site.registry_mirror:
        needs.append(f"the site's registry mirror `{config.site.registry_mirror}` (every image comes from it)")
    if config.site.chart_mirror:
        needs.append(f"the chart mirror `{config.site.chart_mirror}`")
    if config.security.vault is not None:
        needs.append(f"Vault `{config.security.vault.server}`, unsealed (External Secrets reads every secret from it)")
    escrowed = [
        c.name for c in config.clusters if escrow_addon.enabled(ClusterContext(config, c, platform_namespaces()))
    ]
    if needs and escrowed:
        where = ", ".join(f"`{escrow_manifests.object_prefix(name)}/`" for name in escrowed)
        needs.append(
            f"whatever of these the site took with it comes back from the escrow under {where} of any store: images "
            "and charts with `skopeo copy --all --preserve-digests dir:…`, the secrets from the newest "
            '`secrets/vault-<time>.sops.json`, decrypted by a recipient (docs/disaster-recovery.md, "Rebuilding '
            'from the escrow")'
        )
    return needs


def _title(ctx: Context, recoveries: Sequence[ClusterRecovery]) -> str:
    request, factory = ctx.request, ctx.config.factory.name
    if request.scenario == "namespace-lost":
        return f"{request.scenario}: `{request.namespace}` of factory `{factory}`"
    if request.scenario == "cloud-account-lost":
        return f"{request.scenario}: the {request.cloud} account of factory `{factory}`"
    restored = [r.cluster.name for r in recoveries if r.choice is not None]
    which = ", ".join(f"`{n}`" for n in restored)
    return f"{request.scenario}: cluster{'s' if len(restored) > 1 else ''} {which} of factory `{factory}`"


def build(config: FactoryConfig, request: Request, environments: Sequence[str] = ()) -> Procedure:
    """The procedure, or RecoveryInputError naming the option at fault."""
    if request.scenario not in BUILDERS:
        raise RecoveryInputError("--scenario", f"'{request.scenario}' is not one of {', '.join(SCENARIOS)}")
    _check_flags(config, request)
    ctx = Context(config, request, tuple(environments))
    recoveries = BUILDERS[request.scenario](ctx)
    extra = []
    if request.scenario == "site-lost" and (needs := _site_prerequisites(config)):
        extra.append("Back first, outside this procedure: " + "; ".join(needs) + ".")
    if request.scenario == "cloud-account-lost":
        extra.append(cloud_account_note(config, request.cloud))
    return Procedure(
        request=request,
        config=config,
        title=_title(ctx, recoveries),
        preface=_preface(ctx),
        first=[prepare_step(config, request.stack, extra)],
        clusters=recoveries,
    )


def cloud_account_note(config: FactoryConfig, cloud: Cloud | None) -> str:
    key = {"aws": "accountId", "gcp": "project", "azure": "subscriptionId"}.get(cloud or "", "")
    return (
        f"While the {cloud} account is unreachable, every `pulumi up` that refreshes the {cloud} store fails; its "
        f"resources stay in state, protected. Once the account is back, or the store moved to a new one "
        f"(`backup.{cloud}.{key}`), `pulumi up` makes it again; a production stack keeps stores on two clouds "
        "meanwhile only if it had three."
    )


def _preface(ctx: Context) -> list[str]:
    config, request = ctx.config, ctx.request
    flags = " ".join(
        f"--{flag} {value}"
        for flag, value in (("cluster", request.cluster), ("namespace", request.namespace), ("cloud", request.cloud))
        if value
    )
    command = f"python -m offline.recover --stack {request.stack} --scenario {request.scenario}" + (
        f" {flags}" if flags else ""
    )
    return [
        f"Factory `{config.factory.name}` ({config.factory.site}, {config.environment}, {config.factory.timezone}). "
        f"Generated from stacks/Pulumi.{request.stack}.yaml by `{command}`: generate it again after every change "
        "to the stack. Run the steps in order; every command waits for what it starts.",
    ]


# --- durations ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    line: LineConfig
    minutes: int  # from the first step until its restore is done
    rto_hours: float

    @property
    def within(self) -> bool:
        return self.minutes <= self.rto_hours * 60


def timings(procedure: Procedure, recovery: ClusterRecovery) -> list[Timing]:
    """Each restored line's time until it is back: the factory's first steps and every step of its cluster up to
    its own restore, one after another (every command waits; a cluster's steps do not wait for another's)."""
    elapsed = sum(step.minutes for step in procedure.first)
    found = []
    lines = {source.line.name: source.line for source in recovery.sources}
    for step in recovery.steps:
        elapsed += step.minutes
        if step.kind == "line" and step.line is not None:
            line = lines[step.line]
            found.append(Timing(line, elapsed, procedure.config.backup.objective(line.criticality).rto_hours))
    return found
