"""The site mirror: one setting rewrites every chart source and every image an add-on pulls, so an
air-gapped plant runs from its own registry."""

from __future__ import annotations

import copy

from components.catalogue.model import Chart, ImageSlot, Values
from components.catalogue.values import get_path, set_path


def split_image(reference: str) -> tuple[str, str]:
    """'docker.io/falcosecurity/falco' -> ('docker.io', 'falcosecurity/falco'); a bare 'nginx' is Docker Hub's."""
    first, _, rest = reference.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return "docker.io", reference if "/" in reference else f"library/{reference}"


def image_reference(values: Values, slot: ImageSlot) -> str:
    repository = get_path(values, slot.repository_key)
    tag = get_path(values, slot.tag_key) if slot.tag_key else slot.tag
    registry = get_path(values, slot.registry_key) if slot.registry_key else None
    name = f"{registry}/{repository}" if registry else str(repository)
    digest = get_path(values, slot.digest_key) if slot.digest_key else None
    if not digest:
        return f"{name}:{tag}{slot.tag_suffix}"
    return f"{name}:{tag}{slot.tag_suffix}@{'sha256:' if slot.digest_bare else ''}{digest}"


def mirrored(values: Values, slots: tuple[ImageSlot, ...], mirror: str | None) -> Values:
    """Point every image slot at `<mirror>/<original registry>/<repository>` (registry kept in the path so
    images of different registries never collide in the mirror)."""
    result = copy.deepcopy(values)
    if mirror is None:
        return result
    for slot in slots:
        if get_path(result, slot.repository_key) is None:
            continue  # a part the values switch off (Grafana on a cell) names no image
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
    """The same rewrite for an image we name ourselves (a manifest add-on's pod spec)."""
    if mirror is None:
        return reference
    registry, path = split_image(reference)
    return f"{mirror}/{registry}/{path}"


def chart_source(chart: Chart, chart_mirror: str | None) -> tuple[str, str | None]:
    """(chart, repository) for helm.v4.Chart: an OCI mirror takes the chart by reference, an HTTPS mirror
    replaces the repository URL."""
    if chart_mirror is None:
        return chart.chart, chart.repository
    if chart_mirror.startswith("oci://"):
        return f"{chart_mirror.rstrip('/')}/{chart.chart}", None
    return chart.chart, chart_mirror
