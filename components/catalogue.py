"""The one add-on catalogue: every piece of third-party software, pinned, with the same small surface.

An entry says which chart (name, repository, pinned version) goes into which namespace, which image slots
and workloads its values control, and how to build those values for a cluster. From the same values
the program hands to `helm.v4.Chart`, the catalogue derives the bundle an air-gapped plant mirrors
(charts and images) and the footprint (requests and limits) of every add-on.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from components.config import ClusterConfig, FactoryConfig

Values = dict[str, Any]


@dataclass(frozen=True)
class ImageSlot:
    """Where a chart's values name one image: an optional registry key, the repository key, the tag key
    (or a tag the software itself chooses, for OCI artifacts such as scanner databases)."""

    repository_key: str
    tag_key: str | None = None
    registry_key: str | None = None
    tag: str | None = None
    artifact: bool = False


@dataclass(frozen=True)
class WorkloadSlot:
    """One pod template the chart runs, where its resources live in values, and how many copies run."""

    name: str
    resources_key: str
    replicas_key: str | None = None  # None: one copy (a Deployment with a fixed replica count of 1)
    per_node: bool = False  # a DaemonSet: the footprint counts one copy per node
    transient: bool = False  # a scan Job or CronJob: counted separately from the steady state
    containers: int = 1  # containers sharing the same resources block


@dataclass(frozen=True)
class ClusterContext:
    factory: FactoryConfig
    cluster: ClusterConfig
    # Kubernetes' and the platform's own namespaces: never judged or scanned as a production line
    platform_namespaces: tuple[str, ...] = ()

    @property
    def single_node(self) -> bool:
        return self.cluster.profile == "edge-small"


@dataclass(frozen=True)
class AddOn:
    name: str
    chart: str
    repository: str
    version: str
    namespace: str
    values: Callable[[ClusterContext], Values]
    images: tuple[ImageSlot, ...]
    workloads: tuple[WorkloadSlot, ...]
    # Pod Security level of the add-on's namespace, and why anything less than restricted is needed
    pod_security: str = "restricted"
    exemption_reason: str | None = None
    enabled: Callable[[ClusterContext], bool] = field(default=lambda _ctx: True)


# --- values paths ---------------------------------------------------------------------------------------


def get_path(values: Mapping[str, Any], key: str) -> Any:
    node: Any = values
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def set_path(values: Values, key: str, value: Any) -> None:
    node = values
    *parents, last = key.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


# --- mirror rewrite -------------------------------------------------------------------------------------


def split_image(reference: str) -> tuple[str, str]:
    """'docker.io/falcosecurity/falco' -> ('docker.io', 'falcosecurity/falco'); a bare 'nginx' is Docker Hub's."""
    first, _, rest = reference.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return "docker.io", reference if "/" in reference else f"library/{reference}"


def image_reference(values: Mapping[str, Any], slot: ImageSlot) -> str:
    repository = get_path(values, slot.repository_key)
    tag = get_path(values, slot.tag_key) if slot.tag_key else slot.tag
    registry = get_path(values, slot.registry_key) if slot.registry_key else None
    name = f"{registry}/{repository}" if registry else str(repository)
    return f"{name}:{tag}"


def mirrored(values: Values, slots: tuple[ImageSlot, ...], mirror: str | None) -> Values:
    """Point every image slot at `<mirror>/<original registry>/<repository>` (registry kept in the path so
    images of different registries never collide in the mirror)."""
    result = copy.deepcopy(values)
    if mirror is None:
        return result
    for slot in slots:
        registry_value = get_path(result, slot.registry_key) if slot.registry_key else None
        repository = str(get_path(result, slot.repository_key))
        if registry_value:
            origin, path = str(registry_value), repository
        else:
            origin, path = split_image(repository)
        if slot.registry_key:
            set_path(result, slot.registry_key, f"{mirror}/{origin}")
            set_path(result, slot.repository_key, path)
        else:
            set_path(result, slot.repository_key, f"{mirror}/{origin}/{path}")
    return result


def mirror_image(reference: str, mirror: str | None) -> str:
    """The same rewrite for an image we name ourselves (outside any chart's values)."""
    if mirror is None:
        return reference
    registry, path = split_image(reference)
    return f"{mirror}/{registry}/{path}"


def chart_source(addon: AddOn, chart_mirror: str | None) -> tuple[str, str | None]:
    """(chart, repository) for helm.v4.Chart: an OCI mirror takes the chart by reference, an HTTPS mirror
    replaces the repository URL."""
    if chart_mirror is None:
        return addon.chart, addon.repository
    if chart_mirror.startswith("oci://"):
        return f"{chart_mirror.rstrip('/')}/{addon.chart}", None
    return addon.chart, chart_mirror


# --- what a cluster runs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Release:
    """An add-on resolved for one cluster: the exact chart source and values `helm.v4.Chart` receives."""

    addon: AddOn
    chart: str
    repository: str | None
    values: Values

    def images(self) -> list[str]:
        return [image_reference(self.values, slot) for slot in self.addon.images if not slot.artifact]

    def artifacts(self) -> list[str]:
        return [image_reference(self.values, slot) for slot in self.addon.images if slot.artifact]


def resolve(addon: AddOn, ctx: ClusterContext) -> Release:
    site = ctx.factory.site
    chart, repository = chart_source(addon, site.chart_mirror)
    return Release(addon, chart, repository, mirrored(addon.values(ctx), addon.images, site.registry_mirror))
