"""The pack's configuration: every setting a stack may change, its secure default and why, in one place.

Pulumi policy config is per policy: a policy declares the keys it reads in its `config_schema`, and a stack
sets them per policy name (`pulumi preview --policy-pack policy --policy-pack-config config.json`, or a
policy group in Pulumi Cloud). Settings several policies share — exempt namespaces, the environment — are
therefore declared here once and spread over the policies that read them by `pack_config(...)`, which
writes the per-policy document. `enforcementLevel` is native to that document (per policy, or "all" for the
whole pack) and needs no schema.

The engine fills every schema `default` into a policy's config before the pack sees it, with or without
`--policy-pack-config` (pkg/resource/analyzer/config.go, ReconcilePolicyPackConfig → createConfigWithDefaults);
the Python SDK adds nothing of its own. So a setting whose value may come from somewhere else when config is
silent — `environment`, from the stack tag — must declare no schema default, or the other source is never
read. Every policy still falls back to `Setting.default` when a key is absent, so a pack run without any
config and tags is the strictest one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import Policy, PolicyConfigSchema

# Namespaces that are not judged like a production line: Kubernetes' own, and every namespace the platform's
# add-on catalogue can place an add-on in. Each entry is a decision an auditor will ask about, so the reason
# travels with it (docs/policies.md prints them). A copy of what the program derives from its catalogue
# (components/inventory.py); a test keeps the two equal.
EXEMPT_NAMESPACES: dict[str, str] = {
    "blackbox-exporter": (
        "A platform add-on from the pinned catalogue: its images and settings are reviewed there, not against the "
        "lines' allow-list."
    ),
    "external-secrets": (
        "A platform add-on from the pinned catalogue: its images and settings are reviewed there, not against the "
        "lines' allow-list."
    ),
    "falco": (
        "Falco's modern-eBPF probe runs least privileged, not as a privileged container, but still beyond baseline: "
        "the capabilities BPF, PERFMON, SYS_RESOURCE and SYS_PTRACE, AppArmor unconfined (eBPF programs cannot load "
        "under the runtime's default profile) and host mounts (/proc, and read-only /etc and /sys/kernel) plus the "
        "container runtime's socket, to observe every syscall and name its container."
    ),
    "fluent-bit": (
        "Fluent Bit reads every pod's log files and the API server's audit trail from the node (read-only hostPath "
        "mounts of /var/log and the audit directory) and keeps its read positions in /var/lib/fluent-bit on the host; "
        "hostPath is beyond baseline. It runs as root (the log files are root's, 0640) with no capabilities, no "
        "privilege escalation and a read-only root file system."
    ),
    "gatekeeper-system": (
        "The admission controller itself; Gatekeeper exempts its namespace so a bad constraint can never lock "
        "out the component that would fix it."
    ),
    "jaeger": (
        "A platform add-on from the pinned catalogue: its images and settings are reviewed there, not against the "
        "lines' allow-list."
    ),
    "kube-bench": (
        "kube-bench runs the CIS node checks on every node: it needs hostPID (the kubelet's flags) and read-only "
        "hostPath mounts of the kubelet's kubeconfig, config and CA certificate, as root with no capabilities."
    ),
    "kube-node-lease": "Kubernetes' node heartbeats (Lease objects); no workloads.",
    "kube-public": "Kubernetes' public bootstrap data (cluster-info); no workloads.",
    "kube-system": "Kubernetes' own add-ons (CNI, CoreDNS, kube-proxy, CSI node plugins) need host access.",
    "loki": (
        "A platform add-on from the pinned catalogue: its images and settings are reviewed there, not against the "
        "lines' allow-list."
    ),
    "monitoring": (
        "A platform add-on from the pinned catalogue: its images and settings are reviewed there, not against the "
        "lines' allow-list."
    ),
    "node-exporter": (
        "node-exporter reads the node's /proc and /sys (read-only host mounts, and / for file-system metrics) in the "
        "host's network and PID namespaces, which even baseline refuses. It runs as nobody, with no capabilities, no "
        "privilege escalation and a read-only root file system."
    ),
    "velero": (
        "Velero's node agent mounts the kubelet's pod and plugin directories from the host (/var/lib/kubelet/pods "
        "and /plugins, HostToContainer propagation) and runs as root to read and restore every pod's volume files "
        "on its node (file-system backup); hostPath volumes are beyond baseline. It is not a privileged container "
        "and adds no capabilities; Velero's own installer labels its namespace privileged for the same reason."
    ),
    "escrow": (
        "The escrow: restricted CronJobs that copy the bundle's images and charts and an encrypted export of the "
        "cluster's Vault secrets into the backup stores; a catalogue add-on (pinned skopeo, rclone, sops, python), "
        "not judged against the lines' allow-list."
    ),
    "opentelemetry": (
        "A platform add-on from the pinned catalogue: its images and settings are reviewed there, not against the "
        "lines' allow-list."
    ),
    "restore-drill": (
        "The restore drill's marker: a ConfigMap the drill backs up and restores into a scratch namespace to prove a "
        "location's backups come back; no pods, closed to all traffic."
    ),
    "segmentation-canary-a": (
        "The segmentation canary: a zone shaped like a line whose Job proves, after every change, that the "
        "cluster enforces NetworkPolicy; a catalogue add-on (pinned busybox), not judged against the lines' "
        "allow-list."
    ),
    "segmentation-canary-b": (
        "The segmentation canary's second zone: a listener the canary Job may reach only through its one "
        "conduit; a catalogue add-on (pinned busybox), not judged against the lines' allow-list."
    ),
    "trivy-system": (
        "trivy-operator's scan jobs run as the scanner image's root user without a seccomp profile (the chart's "
        "scan-job security context drops every capability and privilege escalation, nothing more), which restricted "
        "refuses; nothing here needs host access (the node collector is off)."
    ),
}

PRODUCTION = "production"
STAGES = (PRODUCTION, "staging", "development")

# The tags an image may carry without a digest unless the stack says otherwise: full release versions and CI
# commit tags. A copy of the program's default (components/security/gatekeeper/config.py); a test keeps the two
# equal.
DEFAULT_IMMUTABLE_TAGS = (r"v?[0-9]+\.[0-9]+\.[0-9]+([._-][0-9A-Za-z]+)*", r"sha-[0-9a-f]{7,40}")


@dataclass(frozen=True)
class Setting:
    key: str
    schema: Mapping[str, Any]  # JSON schema of the value with its description, and its default unless `fallback`
    fallback: Any = None  # for a schema without a default: the value when neither config nor anything else says

    @property
    def default(self) -> Any:
        """What a policy reads when the stack sets nothing."""
        return self.schema.get("default", self.fallback)


def _strings(description: str, default: list[str]) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string"}, "default": default, "description": description}


SETTINGS: dict[str, Setting] = {
    s.key: s
    for s in (
        Setting(
            "exemptNamespaces",
            _strings(
                "Namespaces not judged like a line: their workloads skip the Pod Security and registry policies, "
                "they may be labelled less than restricted and need no default-deny NetworkPolicy. Replaces the "
                "default list (system and platform namespaces, each with its reason); keep what you still need.",
                list(EXEMPT_NAMESPACES),
            ),
        ),
        Setting(
            "allowedRegistries",
            _strings(
                "Image patterns workloads may use, matched like Gatekeeper's K8sAllowedReposv2: an entry "
                "matches an image exactly, or as a prefix when it ends with '*'. Empty: no registry "
                "restriction (images must still be pinned).",
                [],
            ),
        ),
        Setting(
            "minimumRetentionDays",
            {
                "type": "number",
                "minimum": 1,
                "default": 30,
                "description": "Shortest immutable retention of a backup store (object lock, GCS retention "
                "policy, Azure immutability), in days. 30 matches Velero's default backup TTL (720h).",
            },
        ),
        Setting(
            "environment",
            {
                "type": "string",
                "enum": list(STAGES),
                "description": "Stage of the stack. Production requires object lock COMPLIANCE, locked GCS "
                "retention, protected backup stores, Gatekeeper constraints that deny and a Gatekeeper webhook "
                "that fails closed. Without this key the stack tag `environment` decides (`pulumi stack tag set "
                "environment development`; a tag that is no stage counts as production), and without that the "
                "strictest stage, production. No schema default, so that the engine leaves room for the tag. "
                "`make plan` writes the stack's `environment`.",
            },
            fallback=PRODUCTION,
        ),
        Setting(
            "exposedServiceNamespaces",
            _strings(
                "Namespaces where Services of type LoadBalancer or NodePort (or with externalIPs) are allowed. "
                "Default: none — a production line is a zone and opens no door to the plant network itself.",
                [],
            ),
        ),
        Setting(
            "kubernetesVersions",
            {
                "type": "object",
                "additionalProperties": {"type": "string", "pattern": "^1\\.[0-9]+$"},
                "default": {},
                "description": "Kubernetes minor of each cluster, keyed by its provider's clusterIdentifier "
                "('<factory>/<cluster>': '1.32'); the Pod Security policies judge a workload at its cluster's "
                "minor, as Pod Security Admission does. `make plan` writes it for every cluster of the stack.",
            },
        ),
        Setting(
            "kubernetesVersion",
            {
                "type": "string",
                "pattern": "^(1\\.[0-9]+)?$",
                "default": "",
                "description": "Minor used for a workload whose cluster is not in `kubernetesVersions`. Empty: "
                "the strictest reading of every supported minor (1.29-1.37): every restriction, no relaxation.",
            },
        ),
        Setting(
            "immutableTags",
            _strings(
                "Tags an image may carry when it has no digest: regular expressions (RE2, as Gatekeeper's "
                "K8sImmutableTags) matched against the whole tag. Empty: digests only. `make plan` writes the "
                "stack's `security.gatekeeper.immutableTags`.",
                list(DEFAULT_IMMUTABLE_TAGS),
            ),
        ),
        Setting(
            "inlineCsiDrivers",
            _strings(
                "CSI drivers a pod outside the exempt namespaces may mount inline (a `csi` volume). Default: none. "
                "`make plan` writes the stack's `security.gatekeeper.inlineCsiDrivers`.",
                [],
            ),
        ),
        Setting(
            "runtimeClasses",
            _strings(
                "RuntimeClasses a pod outside the exempt namespaces may name; unset is always allowed. Default: "
                "none. `make plan` writes the stack's `security.gatekeeper.runtimeClasses`.",
                [],
            ),
        ),
        Setting(
            "clusterAdminSubjects",
            _strings(
                "Subjects allowed to be bound to cluster-admin or to carry the system:masters group, written "
                "'Kind:name' ('Group:platform-admins', 'User:break-glass', 'ServiceAccount:ns/name').",
                [],
            ),
        ),
        Setting(
            "registryMirror",
            {
                "type": "string",
                "pattern": "^([a-z0-9.-]+(:[0-9]{1,5})?(/[a-z0-9._/-]+)?)?$",
                "default": "",
                "description": "The site's registry mirror (`site.registryMirror`, host[:port][/path]): a proxy "
                "cache, so `allowed-images-narrow` refuses '<mirror>/*' and '<mirror>/<registry>/*', and allows a "
                "line's own folder ('<mirror>/<factory>-lines/<line>/') only in a constraint judging that line's "
                "namespace alone. Empty: entries are judged without it. `make plan` writes it.",
            },
        ),
    )
}


def config_schema(*keys: str) -> PolicyConfigSchema:
    return PolicyConfigSchema(properties={key: dict(SETTINGS[key].schema) for key in keys})


def setting(args: Any, key: str) -> Any:
    """The stack's value of a declared setting (ResourceValidationArgs or StackValidationArgs), else default."""
    value = args.get_config().get(key)
    return SETTINGS[key].default if value is None else value


def environment(args: Any) -> str:
    """The stage: the policy's config, else the stack tag `environment`, else production.

    A tag is free text that no schema checks: anything but a known stage reads as production, so a typo
    (`prod`, `Development`) can only make the pack stricter.
    """
    configured = args.get_config().get("environment")
    if configured is not None:
        return str(configured)
    tagged = (args.stack_tags or {}).get("environment")
    return tagged if tagged in STAGES else str(SETTINGS["environment"].default)


def is_production(args: Any) -> bool:
    return environment(args) == PRODUCTION


def pack_config(policies: Iterable[Policy], **values: Any) -> dict[str, dict[str, Any]]:
    """The per-policy config document for shared settings: each value goes to every policy declaring it.

    `pack_config(ALL_POLICIES, environment="development")` is what `--policy-pack-config` reads and what
    the offline runner's `evaluate(config=...)` takes.
    """
    unknown = set(values) - set(SETTINGS)
    if unknown:
        raise KeyError(f"unknown pack settings: {', '.join(sorted(unknown))} (known: {', '.join(SETTINGS)})")
    document: dict[str, dict[str, Any]] = {}
    for policy in policies:
        declared = policy.config_schema.properties if policy.config_schema else {}
        chosen = {key: value for key, value in values.items() if key in declared}
        if chosen:
            document[policy.name] = chosen
    return document
