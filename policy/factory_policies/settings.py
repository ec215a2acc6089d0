"""The pack's configuration: every setting a stack may change, its secure default and why, in one place.

Pulumi policy config is per policy: a policy declares the keys it reads in its `config_schema`, and a stack
sets them per policy name (`pulumi preview --policy-pack policy --policy-pack-config config.json`, or a
policy group in Pulumi Cloud). Settings several policies share — exempt namespaces, the environment — are
therefore declared here once and spread over the policies that read them by `pack_config(...)`, which
writes the per-policy document. Every policy also falls back to the default below when its config omits
a key, so a pack run without any config is the strictest one. `enforcementLevel` is native to that
document (per policy, or "all" for the whole pack) and needs no schema.
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
    "gatekeeper-system": (
        "The admission controller itself; Gatekeeper exempts its namespace so a bad constraint can never lock "
        "out the component that would fix it."
    ),
    "kube-bench": (
        "kube-bench runs the CIS node checks on every node: it needs hostPID (the kubelet's flags) and read-only "
        "hostPath mounts of the kubelet's kubeconfig, config and CA certificate, as root with no capabilities."
    ),
    "kube-node-lease": "Kubernetes' node heartbeats (Lease objects); no workloads.",
    "kube-public": "Kubernetes' public bootstrap data (cluster-info); no workloads.",
    "kube-system": "Kubernetes' own add-ons (CNI, CoreDNS, kube-proxy, CSI node plugins) need host access.",
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

# The tags an image may carry without a digest unless the stack says otherwise: full release versions and CI
# commit tags. A copy of the program's default (components/security/gatekeeper/config.py); a test keeps the two
# equal.
DEFAULT_IMMUTABLE_TAGS = (r"v?[0-9]+\.[0-9]+\.[0-9]+([._-][0-9A-Za-z]+)*", r"sha-[0-9a-f]{7,40}")


@dataclass(frozen=True)
class Setting:
    key: str
    schema: Mapping[str, Any]  # JSON schema of the value, including its default and description

    @property
    def default(self) -> Any:
        return self.schema["default"]


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
                "enum": ["production", "staging", "development"],
                "default": PRODUCTION,
                "description": "Stage of the stack. Production requires object lock COMPLIANCE, locked GCS "
                "retention, protected backup stores, Gatekeeper constraints that deny and a Gatekeeper webhook "
                "that fails closed. Without config the stack tag `environment` is used, and without that the "
                "strictest stage, production.",
            },
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
    configured = args.get_config().get("environment") or args.stack_tags.get("environment")
    return str(configured or SETTINGS["environment"].default)


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
