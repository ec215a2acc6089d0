"""An add-on resolved for one cluster: the exact chart source and values, or the exact manifests, that get
installed — and, read from those, the images to mirror and the workloads that cost CPU and memory."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from components.catalogue.footprint import Usage, Workload, usage_of
from components.catalogue.mirror import chart_source, image_reference, mirror_image, mirrored
from components.catalogue.model import (
    AddOn,
    BroughtResource,
    Chart,
    ClusterContext,
    ImageSlot,
    Manifest,
    MetricsEndpoint,
    Values,
    WorkloadSlot,
)
from components.catalogue.network import Namespace, NetworkNeeds, Path
from components.catalogue.secrets import AddonSecret
from components.catalogue.values import get_path
from components.core import vocabulary as vocab
from components.core.contracts import MONITORING_NAMESPACE, PROMETHEUS_PODS
from components.core.kube import containers, pod_spec

_TRANSIENT_KINDS = frozenset({"Job", "CronJob"})


@dataclass(frozen=True)
class Release:
    addon: AddOn
    chart: str | None = None  # chart reference for helm.v4.Chart (None: a manifest add-on)
    repository: str | None = None
    values: Values = field(default_factory=dict)
    manifests: tuple[Manifest, ...] = ()
    brought: tuple[BroughtResource, ...] = ()
    network: NetworkNeeds | None = None  # None: the add-on renders its own NetworkPolicies
    secrets: tuple[AddonSecret, ...] = ()  # Secrets it reads, delivered from its Vault folder (catalogue/secrets.py)

    def images(self) -> list[str]:
        if isinstance(self.addon.source, Chart):
            return [image_reference(self.values, slot) for slot in self._slots() if not slot.artifact]
        return sorted({c["image"] for m in self.manifests if (spec := pod_spec(m)) for c in containers(spec)})

    def artifacts(self) -> list[str]:
        if isinstance(self.addon.source, Chart):
            return [image_reference(self.values, slot) for slot in self._slots() if slot.artifact]
        return []

    def _slots(self) -> list[ImageSlot]:
        """The chart's image slots its values fill: a part switched off (Grafana on a cell) pulls nothing."""
        assert isinstance(self.addon.source, Chart)
        return [slot for slot in self.addon.source.images if get_path(self.values, slot.repository_key) is not None]

    def workloads(self) -> list[Workload]:
        return self._own_workloads() + [w for b in self.brought if (w := _brought_workload(self.addon, b)) is not None]

    def _own_workloads(self) -> list[Workload]:
        if isinstance(self.addon.source, Chart):
            # a part the values switch off (no Alertmanager on a cell) has no replicas and costs nothing
            return [
                _chart_workload(self.addon, self.values, slot)
                for slot in self.addon.source.workloads
                if slot.replicas_key is None or get_path(self.values, slot.replicas_key)
            ]
        return [w for m in self.manifests if (w := _manifest_workload(self.addon, m)) is not None]


def _chart_workload(addon: AddOn, values: Values, slot: WorkloadSlot) -> Workload:
    replicas = int(get_path(values, slot.replicas_key) or 0) if slot.replicas_key else 1
    usage = usage_of(get_path(values, slot.resources_key), f"{addon.name}.{slot.resources_key}")
    return Workload(slot.name, usage.times(slot.containers), replicas, slot.per_node, slot.transient)


def _manifest_workload(addon: AddOn, manifest: Manifest) -> Workload | None:
    spec = pod_spec(manifest)
    if spec is None:
        return None
    name = f"{manifest['kind']}/{manifest['metadata']['name']}"
    usage = Usage()
    for container in containers(spec):
        usage = usage + usage_of(container.get("resources"), f"{addon.name} {name} {container['name']}")
    replicas = int(manifest.get("spec", {}).get("replicas", 1))
    kind = manifest["kind"]
    return Workload(name, usage, replicas, per_node=kind == "DaemonSet", transient=kind in _TRANSIENT_KINDS)


def _brought_workload(addon: AddOn, brought: BroughtResource) -> Workload | None:
    """A custom resource that runs pods of its own (an OpenTelemetryCollector): `spec.replicas` copies of
    `spec.resources`, as its operator runs them."""
    spec = brought.manifest.get("spec") or {}
    if "resources" not in spec:
        return None
    where = f"{addon.name} {brought.manifest['kind']}/{brought.manifest['metadata']['name']}"
    return Workload(where, usage_of(spec["resources"], where), int(spec.get("replicas", 1)))


def _labelled(addon: AddOn, manifest: Manifest, mirror: str | None) -> Manifest:
    """A manifest add-on's object as installed: attributed to its add-on and version, images mirrored."""
    result = copy.deepcopy(manifest)
    labels = result.setdefault("metadata", {}).setdefault("labels", {})
    labels.update({vocab.ADDON: addon.name, "app.kubernetes.io/version": addon.version})
    spec = pod_spec(result)
    for container in containers(spec) if spec else []:
        container["image"] = mirror_image(container["image"], mirror)
    return result


def _scraped(endpoint: MetricsEndpoint) -> Path:
    prometheus = Namespace(MONITORING_NAMESPACE, PROMETHEUS_PODS)
    return Path(f"metrics-{endpoint.name}", "ingress", prometheus, "scraped", (endpoint.port,), endpoint.pods)


def resolve(addon: AddOn, ctx: ClusterContext) -> Release:
    site = ctx.factory.site
    brought = tuple(addon.brings(ctx))
    network = addon.network(ctx) if addon.network else None
    if network is not None and addon.metrics:
        network = NetworkNeeds(network.paths + tuple(_scraped(endpoint) for endpoint in addon.metrics))
    secrets = tuple(addon.secrets(ctx))
    if isinstance(addon.source, Chart):
        chart, repository = chart_source(addon.source, site.chart_mirror)
        values = mirrored(addon.source.values(ctx), addon.source.images, site.registry_mirror)
        return Release(addon, chart, repository, values, brought=brought, network=network, secrets=secrets)
    manifests = tuple(_labelled(addon, m, site.registry_mirror) for m in addon.source.render(ctx))
    return Release(addon, manifests=manifests, brought=brought, network=network, secrets=secrets)
