"""Kubernetes-audit detection on k3s and RKE2: the API server sends its audit events to Falco's k8saudit plugin,
which judges them with our rules (components/security/rules/factory-floor-k8saudit.yaml) and sends what they
catch to Falcosidekick, like the syscall alerts.

- The receiver: a second release of the falco chart, `falco-k8saudit` — one Deployment replica with the k8saudit
  and json plugins and no driver (the chart's values-k8saudit.yaml scenario), in the `falco` namespace. falcoctl
  (an init container) pulls the two plugins by full OCI reference, from the site mirror where there is one, and
  nothing else (no index, no rulesets, no follower). Its Service has the fixed ClusterIP
  `security.falco.kubernetesAudit.serviceIp`, because the API server reads its webhook address from a file on the
  server, before cluster DNS exists for it.
- The sender: the API server, started with our audit policy and an audit webhook config pointing at that address
  (server flags: offline/node_config.py writes them to build/<stack>/node-config/ with the server config). The
  policy records request bodies only where the rules read them — Jobs and CronJobs in line namespaces, Services —
  and metadata of every request a line's `line-workload` token makes; never a Secret's body.

Managed clusters (EKS, GKE, AKS) send no webhook: their audit logs go to the cloud (docs/security.md).
"""

from __future__ import annotations

import importlib.resources
from typing import Any

import yaml

from components.catalogue.images import PINNED_PULL_POLICY, Image
from components.catalogue.mirror import mirror_image
from components.catalogue.model import AddOn, Chart, ClusterContext, ImageSlot, PodSecurity, Values, WorkloadSlot
from components.catalogue.network import ApiServer, ClusterDns, External, NetworkNeeds, OwnPods, Path
from components.catalogue.rbac import RbacReview
from components.config.document import FactoryConfig
from components.config.factory import ClusterConfig
from components.core import vocabulary as vocab
from components.core.contracts import AUDIT_LOG
from components.core.sizing import resources
from components.security import falco, trivy

NAME = "falco-k8saudit"
DISTRIBUTIONS = ("k3s", "rke2")  # whose API server flags the platform team sets (node config)
PORT = 9765  # the k8saudit plugin's webhook (its open_params)
PATH = "/k8s-audit"
RULES_FILE = "factory-floor-k8saudit.yaml"
SIDEKICK_URL = f"http://{falco.NAME}-falcosidekick.{falco.NAMESPACE}.svc:{falco.SIDEKICK_PORT}/"
PODS = {vocab.NAME: "falco", vocab.INSTANCE: NAME}  # the falco chart's selector labels for this release
ARTIFACTS_KEY = "factoryFloorArtifacts"  # values the chart ignores: where the catalogue's slots see the plugins

FALCOCTL_IMAGE = Image(
    "docker.io",
    "falcosecurity/falcoctl",
    "0.13.0",
    None,
    source=(
        "not digest-pinned: the falco chart 9.1.0 default tag; no public file read here names its digest. Resolve "
        "it with `make pin-digests` where the registry is reachable."
    ),
)
PLUGINS = {
    "k8saudit": Image(
        "ghcr.io",
        "falcosecurity/plugins/plugin/k8saudit",
        "0.16.0",
        None,
        source="not digest-pinned: plugins/k8saudit CHANGELOG v0.16.0 (falcosecurity/plugins); no digest read here.",
    ),
    "json": Image(
        "ghcr.io",
        "falcosecurity/plugins/plugin/json",
        "0.7.3",
        None,
        source="not digest-pinned: json 0.7.3 as falcoctl resolves it for k8saudit 0.16; no digest read here.",
    ),
}


def rules_text() -> str:
    return importlib.resources.files("components.security").joinpath("rules", RULES_FILE).read_text()


def rules() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = yaml.safe_load(rules_text())
    return found


def enabled(ctx: ClusterContext) -> bool:
    return ctx.factory.security.falco.kubernetes_audit is not None and ctx.cluster.distribution in DISTRIBUTIONS


def _image(image: Image) -> dict[str, str]:
    return {"registry": image.registry, "repository": image.repository, "tag": image.pinned_tag}


def values(ctx: ClusterContext) -> Values:
    audit = ctx.factory.security.falco.kubernetes_audit
    # a disabled release is still resolved (catalogue tests, the bundle's image lists): no fixed address then
    fixed = {"clusterIP": audit.service_ip} if audit is not None else {}
    mirror = ctx.factory.site.registry_mirror
    refs = [mirror_image(plugin.reference, mirror) for plugin in PLUGINS.values()]
    return {
        "image": {**_image(falco.FALCO_IMAGE), "pullPolicy": PINNED_PULL_POLICY},
        # no syscalls, no container metadata: only the audit events the API server posts; driver.kind other
        # than `auto` also keeps the chart's Role (configmaps) away
        "driver": {"enabled": False, "kind": "modern_ebpf"},
        "collectors": {"enabled": False},
        "controller": {"kind": "deployment", "deployment": {"replicas": 1}},
        "falcoctl": {
            "image": {**_image(FALCOCTL_IMAGE), "pullPolicy": PINNED_PULL_POLICY},
            "artifact": {
                "install": {"enabled": True, "resources": resources("10m", "32Mi", "200m", "128Mi")},
                "follow": {"enabled": False},
            },
            # full references only: no index to download, no dependency to resolve, plugins only
            "config": {
                "indexes": [],
                "artifact": {"allowedTypes": ["plugin"], "install": {"resolveDeps": False, "refs": refs}},
            },
        },
        "services": [
            {
                "name": "webhook",
                "type": "ClusterIP",
                **fixed,
                "ports": [{"port": PORT, "targetPort": PORT, "protocol": "TCP"}],
            }
        ],
        "customRules": {RULES_FILE: rules_text()},
        "falco": {
            "rules_files": ["/etc/falco/rules.d"],
            "load_plugins": ["k8saudit", "json"],
            "plugins": [
                {
                    "name": "k8saudit",
                    "library_path": "libk8saudit.so",
                    "init_config": "",
                    "open_params": f"http://:{PORT}{PATH}",
                },
                {"name": "json", "library_path": "libjson.so", "init_config": ""},
            ],
            "plugins_hostinfo": False,  # no /proc of the node: this Falco sees no syscalls
            "json_output": True,
            "http_output": {"enabled": True, "url": SIDEKICK_URL},
        },
        "falcosidekick": {"enabled": False},  # the falco release's Falcosidekick forwards these alerts too
        "resources": resources("50m", "128Mi", "500m", "512Mi"),
        "tty": False,
        ARTIFACTS_KEY: {name: _image(plugin) for name, plugin in PLUGINS.items()},
    }


def network(ctx: ClusterContext) -> NetworkNeeds:
    """The API server posts audit events; Falco sends alerts to Falcosidekick (whose ingress admits every Falco
    pod, this release's included: they share the falco chart's name label); falcoctl pulls the plugins."""
    registries = External("the OCI registry of the k8saudit and json plugins", trivy.registry_ports(ctx))
    return NetworkNeeds(
        (
            Path("audit-events", "ingress", ApiServer(), "the API server's audit webhook", (PORT,), PODS),
            Path("sidekick", "egress", OwnPods(falco.SIDEKICK_PODS), "alerts", (falco.SIDEKICK_PORT,), PODS),
            Path("dns", "egress", ClusterDns(), "resolves Falcosidekick and the registry", pods=PODS),
            Path("registries", "egress", registries, "falcoctl pulls the plugins", pods=PODS),
        )
    )


def _artifact_slot(name: str, image: Image) -> ImageSlot:
    key = f"{ARTIFACTS_KEY}.{name}"
    return ImageSlot(
        registry_key=f"{key}.registry",
        repository_key=f"{key}.repository",
        tag_key=f"{key}.tag",
        artifact=True,
        image=image,
    )


ADDON = AddOn(
    name=NAME,
    namespace=falco.NAMESPACE,
    version=falco.VERSION,
    source=Chart(
        chart="falco",
        repository="https://falcosecurity.github.io/charts",
        archive=falco.CHART_ARCHIVE,
        values=values,
        images=(
            falco.FALCO_IMAGE_SLOT,
            ImageSlot(
                registry_key="falcoctl.image.registry",
                repository_key="falcoctl.image.repository",
                tag_key="falcoctl.image.tag",
                image=FALCOCTL_IMAGE,
                pull_policy_key="falcoctl.image.pullPolicy",
            ),
            *(_artifact_slot(name, plugin) for name, plugin in PLUGINS.items()),
        ),
        workloads=(WorkloadSlot(NAME, "resources", replicas_key="controller.deployment.replicas"),),
    ),
    enabled=enabled,
    network=network,
    rbac=RbacReview(
        falco.VERSION,
        (),
        narrowed=(
            "No ClusterRole and no Role: the chart's Role exists only with driver.kind auto (set to modern_ebpf, "
            "driver off); falcosidekick, k8s-metacollector and falco-talon are off in this release."
        ),
    ),
    pod_security=PodSecurity(
        "baseline",
        "Falco with the k8saudit plugin runs as its image's root user without a seccomp profile, which restricted "
        "refuses; it needs no host access (no driver, no /proc of the node).",
    ),
)


# --- the API server's side (written to node-config by the offline plan) ------------------------------------

AUDIT_FILES = {
    "k3s": (
        "/var/lib/rancher/k3s/server/factory-floor-audit-policy.yaml",
        "/var/lib/rancher/k3s/server/factory-floor-audit-webhook.yaml",
    ),
    "rke2": ("/etc/rancher/rke2/factory-floor-audit-policy.yaml", "/etc/rancher/rke2/factory-floor-audit-webhook.yaml"),
}


WRITES = ["create", "update", "patch", "delete", "deletecollection"]
HEALTH = ["/healthz*", "/livez*", "/readyz*", "/version", "/metrics"]


def audit_policy(factory: FactoryConfig, cluster: ClusterConfig) -> dict[str, Any]:
    """What the API server records — the audit trail on disk and, with `security.falco.kubernetesAudit`, what
    falco-k8saudit judges — first matching rule wins:
    - nothing of the platform's own heartbeat: health probes, Events, Leases, the nodes' reads and status updates;
    - Secret-like objects by metadata only, whoever reads or writes them: a body would hold the secret;
    - RBAC changes, writes of Jobs and CronJobs in the cluster's lines and of Services, with their request body
      (who granted what; what a Job runs; where a Service points);
    - everything else by its metadata: who did what to which object, from where, and the answer's code."""
    lines = factory.lines_on(cluster.name)
    writes = ["create", "update", "patch"]
    rules: list[dict[str, Any]] = [
        {"level": "None", "nonResourceURLs": list(HEALTH)},
        {"level": "None", "resources": [{"group": "", "resources": ["events"]}, {"group": "events.k8s.io"}]},
        {"level": "None", "resources": [{"group": "coordination.k8s.io", "resources": ["leases"]}]},
        {
            "level": "None",
            "userGroups": ["system:nodes"],
            "verbs": ["get", "list", "watch"],
            "resources": [{"group": "", "resources": ["nodes", "pods", "services", "endpoints"]}],
        },
        {
            "level": "None",
            "userGroups": ["system:nodes"],
            "verbs": ["update", "patch"],
            "resources": [{"group": "", "resources": ["nodes/status", "pods/status"]}],
        },
        {
            "level": "Metadata",
            "resources": [{"group": "", "resources": ["secrets", "configmaps", "serviceaccounts/token"]}],
        },
        {"level": "Request", "verbs": list(WRITES), "resources": [{"group": "rbac.authorization.k8s.io"}]},
    ]
    if lines:
        rules.append(
            {
                "level": "Request",
                "verbs": list(writes),
                "namespaces": [line.namespace for line in lines],
                "resources": [{"group": "batch", "resources": ["jobs", "cronjobs"]}],
            }
        )
    rules.append({"level": "Request", "verbs": list(writes), "resources": [{"group": "", "resources": ["services"]}]})
    rules.append({"level": "Metadata"})
    return {"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "omitStages": ["RequestReceived"], "rules": rules}


def audit_webhook_config(factory: FactoryConfig) -> dict[str, Any]:
    """The kubeconfig-format file the API server reads its audit webhook from."""
    audit = factory.security.falco.kubernetes_audit
    assert audit is not None
    host = f"[{audit.service_ip}]" if ":" in audit.service_ip else audit.service_ip
    server = f"http://{host}:{PORT}{PATH}"
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": NAME, "cluster": {"server": server}}],
        "contexts": [{"name": NAME, "context": {"cluster": NAME, "user": ""}}],
        "current-context": NAME,
        "users": [],
    }


def log_args(factory: FactoryConfig, cluster: ClusterConfig) -> list[str]:
    """The audit trail on each server's disk, rotated by size and kept `observability.audit.retentionDays`."""
    audit = factory.observability.audit
    return [
        f"audit-log-path={AUDIT_LOG[cluster.distribution]}",
        f"audit-log-maxage={audit.retention_days}",
        f"audit-log-maxbackup={audit.max_backups}",
        f"audit-log-maxsize={audit.max_size_mb}",
    ]


def server_flags(factory: FactoryConfig, cluster: ClusterConfig) -> dict[str, list[str] | str]:
    """The server config entries that make the API server keep its audit trail (every k3s/RKE2 cluster) and, with
    `security.falco.kubernetesAudit`, post it to falco-k8saudit; {} on a managed cluster (its provider's log)."""
    if cluster.distribution not in AUDIT_FILES:
        return {}
    policy, webhook = AUDIT_FILES[cluster.distribution]
    webhook_args: list[str] = []
    if factory.security.falco.kubernetes_audit is not None:
        # batches leave within 5 s (the default waits up to 30 s), so an alert follows its request closely
        webhook_args = [f"audit-webhook-config-file={webhook}", "audit-webhook-batch-max-wait=5s"]
    if cluster.distribution == "k3s":  # the API server runs inside the k3s process: it reads the host's files
        return {"kube-apiserver-arg": [f"audit-policy-file={policy}", *log_args(factory, cluster), *webhook_args]}
    # RKE2 runs the API server as a static pod: its own option mounts the policy (and its log directory), the
    # webhook file needs a mount
    flags: dict[str, list[str] | str] = {
        "audit-policy-file": policy,
        "kube-apiserver-arg": [*log_args(factory, cluster), *webhook_args],
    }
    if webhook_args:
        flags["kube-apiserver-extra-mount"] = [f"{webhook}:{webhook}:ro"]
    return flags
