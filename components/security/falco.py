"""Falco runtime detection with the modern eBPF probe (no kernel driver download) and Falcosidekick."""

from __future__ import annotations

from typing import Any

from components.catalogue.images import PINNED_PULL_POLICY, Image
from components.catalogue.model import (
    AddOn,
    Chart,
    ChartArchive,
    ClusterContext,
    ImageSlot,
    MetricsEndpoint,
    PodSecurity,
    Values,
    WorkloadSlot,
)
from components.catalogue.network import ClusterDns, External, NetworkNeeds, OwnPods, Path
from components.catalogue.rbac import RbacReview
from components.catalogue.secrets import AddonSecret
from components.core import vocabulary as vocab
from components.core.sizing import resources

VERSION = "9.1.0"
APP_VERSION = "0.44.1"
SIDEKICK_VERSION = "2.31.1"
NAME = "falco"
NAMESPACE = "falco"

FALCO_IMAGE = Image(
    "docker.io",
    "falcosecurity/falco",
    APP_VERSION,
    "sha256:d0cfe422d6ac0e0f20857798f46c7d7273210e1b064b22821e4e6e7f843cde6b",
    source=(
        "public GitHub files found by exact search (the search index does not name their repositories): a k3s "
        "cluster's live image inventory listing DaemonSet/falco from chart falco 9.1.0 at this digest, a Falco "
        "evaluation log naming chart 9.1.0 and this digest, and three pinned env/script files; all five agree. "
        "No falcosecurity file publishes it: verify with `make pin-digests`."
    ),
)
SIDEKICK_IMAGE = Image(
    "docker.io",
    "falcosecurity/falcosidekick",
    SIDEKICK_VERSION,
    None,
    source=(
        "not digest-pinned: no public file read here names a digest for falcosidekick 2.31.1 (manifests found pin "
        "it by tag only); resolve it with `make pin-digests` where the registry is reachable."
    ),
)
# Falco's capabilities on the modern eBPF probe, least privileged (chart `driver.modernEbpf.leastPrivileged`,
# falco 9.1.0 pod-template.tpl): what the container gets instead of `privileged: true`
LEAST_PRIVILEGED_CAPABILITIES = ("BPF", "SYS_RESOURCE", "PERFMON", "SYS_PTRACE")


# The Secret that carries the alert webhook's URL into Falcosidekick (see alert_webhook)
ALERT_WEBHOOK_SECRET = "falco-alert-webhook"
WEBHOOK_ADDRESS_ENV = "WEBHOOK_ADDRESS"  # falcosidekick reads its webhook output's URL from this variable

# the archive of chart VERSION, shared by both Falco releases (this one and k8saudit.py's)
CHART_ARCHIVE = ChartArchive(
    "https://github.com/falcosecurity/charts/releases/download/falco-9.1.0/falco-9.1.0.tgz",
    "2a767d6aeccf2392c5e263ae1f5e0950520affe3a9908ff7986ac213649c45b4",
    source=(
        "falcosecurity/charts index.yaml on gh-pages (commit a226daf6fa60; entry added in eaf477230fa1), "
        "entry falco 9.1.0"
    ),
)


def alert_webhook(ctx: ClusterContext) -> AddonSecret | None:
    """The webhook URL, copied by External Secrets from Falco's own Vault folder into a Secret that Falcosidekick
    reads through the chart's `config.existingSecret` (falcosidekick chart 0.12.x, the one falco 9.1.0 packs):
    its container takes `envFrom` the chart's own Secret first and this one last, and of two sources with the
    same key the last wins (Kubernetes' EnvFromSource). The URL is never a chart value, nor anything the program
    or its state holds; the Secret the chart renders keeps WEBHOOK_ADDRESS empty."""
    webhook = ctx.factory.security.falco.alert_webhook
    if webhook is None:
        return None
    return AddonSecret(
        addon=NAME,
        namespace=NAMESPACE,
        name=ALERT_WEBHOOK_SECRET,
        key=WEBHOOK_ADDRESS_ENV,
        remote_key=webhook.remote_key,
        remote_property=webhook.remote_property,
    )


def _sidekick(ctx: ClusterContext) -> dict[str, Any]:
    falco = ctx.factory.security.falco
    config: dict[str, Any] = {}
    if falco.alert_webhook:
        # the address comes from ALERT_WEBHOOK_SECRET; the chart's own `webhook.address` stays unset
        config["webhook"] = {"minimumpriority": falco.minimum_priority, "checkcert": True}
        config["existingSecret"] = ALERT_WEBHOOK_SECRET
    return {
        "enabled": True,
        "replicaCount": 1 if ctx.single_node else 2,
        "image": {
            "registry": SIDEKICK_IMAGE.registry,
            "repository": SIDEKICK_IMAGE.repository,
            "tag": SIDEKICK_IMAGE.pinned_tag,
            "pullPolicy": PINNED_PULL_POLICY,
        },
        "resources": resources("10m", "32Mi", "100m", "128Mi"),
        "webui": {"enabled": False},
        "config": config,
    }


FALCO_METRICS_PORT = 8765  # falco 9.1.0 `falco.webserver.listen_port`: /metrics with `metrics.enabled`
SIDEKICK_PORT = 2801  # falcosidekick chart 0.12.x service.port and container port
FALCO_PODS = {vocab.NAME: "falco"}
SIDEKICK_PODS = {vocab.NAME: "falcosidekick"}


def network(ctx: ClusterContext) -> NetworkNeeds:
    """Falco sends events to Falcosidekick only; Falcosidekick posts alerts to the webhook only. Neither talks
    to the API server (no Kubernetes metadata collector: Falco names pods from the container runtime)."""
    paths = [
        Path("sidekick", "egress", OwnPods(SIDEKICK_PODS), "events to Falcosidekick", (SIDEKICK_PORT,), FALCO_PODS),
        Path("dns", "egress", ClusterDns(), "resolves the Falcosidekick service and the webhook host"),
        Path("events", "ingress", OwnPods(FALCO_PODS), "events from Falco", (SIDEKICK_PORT,), SIDEKICK_PODS),
    ]
    if ctx.factory.security.falco.alert_webhook is not None:
        # the webhook's URL is a secret, so its port is unknown here: https on 443
        webhook = External("the alert webhook (HTTPS)", (443,))
        paths.append(Path("webhook", "egress", webhook, "posts alerts to the SIEM/SOAR", pods=SIDEKICK_PODS))
    return NetworkNeeds(tuple(paths))


def values(ctx: ClusterContext) -> Values:
    result: Values = {
        "image": {
            "registry": FALCO_IMAGE.registry,
            "repository": FALCO_IMAGE.repository,
            "tag": FALCO_IMAGE.pinned_tag,
            "pullPolicy": PINNED_PULL_POLICY,
        },
        # the probe is compiled into Falco: nothing is downloaded or built on the node, which air-gapped
        # plants require. Least privileged: the container gets the four capabilities the probe needs
        # (LEAST_PRIVILEGED_CAPABILITIES) instead of `privileged: true`, so a compromised Falco cannot load kernel
        # modules, mount filesystems or reach every device of the node
        "driver": {"kind": "modern_ebpf", "modernEbpf": {"leastPrivileged": True}},
        # rules ship in the image; an air-gapped plant cannot follow the online rules index
        "falcoctl": {"artifact": {"install": {"enabled": False}, "follow": {"enabled": False}}},
        # falcosecurity/charts#1057: with falcoctl and the driver loader both off, chart 9.1.x registers the
        # container plugin twice and Falco exits; an emptyDir over config.d is the upstream fix (9.2.0)
        "mounts": {
            "volumes": [{"name": "config-d", "emptyDir": {}}],
            "volumeMounts": [{"name": "config-d", "mountPath": "/etc/falco/config.d"}],
        },
        "resources": resources("100m", "256Mi", "1", "1Gi")
        if ctx.single_node
        else resources("100m", "512Mi", "1", "1Gi"),
        "tty": False,
        # Prometheus metrics on the webserver (FALCO_METRICS_PORT): rule matches by rule and priority, drops, the
        # security dashboard's Falco panels
        "metrics": {"enabled": True},
        "falcosidekick": _sidekick(ctx),
    }
    # the chart's default CRI socket list already includes k3s' /run/k3s/containerd/containerd.sock
    return result


# where the falco chart takes Falco's own image: this release and the k8saudit one (components/security/k8saudit.py)
FALCO_IMAGE_SLOT = ImageSlot(
    registry_key="image.registry",
    repository_key="image.repository",
    tag_key="image.tag",
    image=FALCO_IMAGE,
    pull_policy_key="image.pullPolicy",
)

ADDON = AddOn(
    name=NAME,
    namespace=NAMESPACE,
    version=VERSION,
    source=Chart(
        chart="falco",
        repository="https://falcosecurity.github.io/charts",
        archive=CHART_ARCHIVE,
        values=values,
        images=(
            FALCO_IMAGE_SLOT,
            ImageSlot(
                registry_key="falcosidekick.image.registry",
                repository_key="falcosidekick.image.repository",
                tag_key="falcosidekick.image.tag",
                image=SIDEKICK_IMAGE,
                pull_policy_key="falcosidekick.image.pullPolicy",
            ),
        ),
        workloads=(
            WorkloadSlot("falco", "resources", per_node=True),
            WorkloadSlot("falcosidekick", "falcosidekick.resources", replicas_key="falcosidekick.replicaCount"),
        ),
    ),
    network=network,
    metrics=(
        MetricsEndpoint("falco", FALCO_PODS, FALCO_METRICS_PORT),
        MetricsEndpoint("falcosidekick", SIDEKICK_PODS, SIDEKICK_PORT),
    ),
    secrets=lambda ctx: tuple(secret for secret in [alert_webhook(ctx)] if secret is not None),
    rbac=RbacReview(
        VERSION,
        (),
        narrowed=(
            "No ClusterRole: Falco's Role exists only with driver.kind auto (we run modern_ebpf); falcosidekick "
            "0.12.x binds a Role (get endpoints in its namespace) and a ClusterRole only with policyreport output or "
            "PodSecurityPolicies, both off; k8s-metacollector and falco-talon are off."
        ),
    ),
    pod_security=PodSecurity(
        "privileged",
        "Falco's modern-eBPF probe runs least privileged, not as a privileged container, but still beyond baseline: "
        "the capabilities BPF, PERFMON, SYS_RESOURCE and SYS_PTRACE, AppArmor unconfined (eBPF programs cannot "
        "load under the runtime's default profile) and host mounts (/proc, and read-only /etc and /sys/kernel) plus "
        "the container runtime's socket, to observe every syscall and name its container.",
    ),
)
