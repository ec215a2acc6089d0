"""Falco runtime detection with the modern eBPF probe (no kernel driver download) and Falcosidekick."""

from __future__ import annotations

from typing import Any

from components.catalogue.model import AddOn, Chart, ClusterContext, ImageSlot, PodSecurity, Values, WorkloadSlot
from components.core.sizing import resources
from components.security.secrets.addon_scope import AddonSecret

VERSION = "9.1.0"
APP_VERSION = "0.44.1"
SIDEKICK_VERSION = "2.31.1"
NAME = "falco"
NAMESPACE = "falco"


# The Secret that carries the alert webhook's URL into Falcosidekick (see alert_webhook)
ALERT_WEBHOOK_SECRET = "falco-alert-webhook"
WEBHOOK_ADDRESS_ENV = "WEBHOOK_ADDRESS"  # falcosidekick reads its webhook output's URL from this variable


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
        "image": {"registry": "docker.io", "repository": "falcosecurity/falcosidekick", "tag": SIDEKICK_VERSION},
        "resources": resources("10m", "32Mi", "100m", "128Mi"),
        "webui": {"enabled": False},
        "config": config,
    }


def values(ctx: ClusterContext) -> Values:
    result: Values = {
        "image": {"registry": "docker.io", "repository": "falcosecurity/falco", "tag": APP_VERSION},
        # the probe is compiled into Falco: nothing is downloaded or built on the node, which air-gapped
        # plants require
        "driver": {"kind": "modern_ebpf"},
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
        "falcosidekick": _sidekick(ctx),
    }
    # the chart's default CRI socket list already includes k3s' /run/k3s/containerd/containerd.sock
    return result


ADDON = AddOn(
    name=NAME,
    namespace=NAMESPACE,
    version=VERSION,
    source=Chart(
        chart="falco",
        repository="https://falcosecurity.github.io/charts",
        values=values,
        images=(
            ImageSlot(registry_key="image.registry", repository_key="image.repository", tag_key="image.tag"),
            ImageSlot(
                registry_key="falcosidekick.image.registry",
                repository_key="falcosidekick.image.repository",
                tag_key="falcosidekick.image.tag",
            ),
        ),
        workloads=(
            WorkloadSlot("falco", "resources", per_node=True),
            WorkloadSlot("falcosidekick", "falcosidekick.resources", replicas_key="falcosidekick.replicaCount"),
        ),
    ),
    pod_security=PodSecurity(
        "privileged",
        "Falco's modern-eBPF probe needs privileged mode, hostPID and host mounts to observe every syscall.",
    ),
)
