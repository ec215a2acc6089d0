"""Per cluster and per add-on: the charts and images an air-gapped plant must mirror, and what the
platform costs; beside them the Pulumi CLI and plugins every cluster's deployment needs (offline/plugins.py).

Read from the recorded run — each `helm.v4.Chart` (its release name is the add-on's name) and each object a
manifest add-on rendered (labelled with its add-on) — and interpreted through the catalogue, so it describes
exactly what `pulumi up` would deploy.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from components.catalogue.footprint import Footprint, footprint
from components.catalogue.images import is_digest_pinned
from components.catalogue.model import BroughtResource, Chart
from components.catalogue.release import Release
from components.core import vocabulary as vocab
from components.core.kube import pod_spec
from components.inventory import CATALOGUE
from offline.harness import Recording, Registration
from offline.render import cluster_of, is_manifest, manifest, redact

CHART_TYPE = "kubernetes:helm.sh/v4:Chart"


@dataclass
class ClusterBundle:
    releases: list[Release]
    footprint: Footprint

    def images(self) -> list[str]:
        return sorted({image for release in self.releases for image in release.images()})

    def artifacts(self) -> list[str]:
        return sorted({artifact for release in self.releases for artifact in release.artifacts()})

    def not_digest_pinned(self) -> list[str]:
        """Images and artifacts that run by tag alone: what `make pin-digests` has to resolve (or, for the
        scanner databases, what is tag-pinned on purpose: see each catalogue entry's source)."""
        return sorted(reference for reference in self.images() + self.artifacts() if not is_digest_pinned(reference))


def _chart_release(registration: Registration) -> Release:
    inputs = redact(registration.inputs)
    addon = CATALOGUE.get(str(inputs.get("name")))
    if addon is None:
        raise ValueError(f"chart {registration.name} (release {inputs.get('name')!r}) is not from the add-on catalogue")
    repository = (inputs.get("repositoryOpts") or {}).get("repo")
    return Release(addon, inputs["chart"], repository, inputs.get("values") or {})


def _recorded_releases(recording: Recording) -> dict[str, list[Release]]:
    by_urn = recording.by_urn()
    charts: dict[str, list[Release]] = {}
    manifests: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in recording.resources:
        cluster = cluster_of(r, by_urn)
        if r.type == CHART_TYPE:
            charts.setdefault(cluster, []).append(_chart_release(r))
        elif is_manifest(r):
            document = manifest(r)
            addon = (document.get("metadata", {}).get("labels") or {}).get(vocab.ADDON)
            if addon is not None:
                manifests.setdefault((cluster, addon), []).append(document)
            elif pod_spec(document) is not None:
                raise ValueError(f"{r.name} runs pods but belongs to no add-on of the catalogue")
    for (cluster, addon), documents in manifests.items():
        charted = [r for r in charts.get(cluster, []) if r.addon.name == addon]
        if charted:
            # a custom resource a chart add-on brings that runs pods of its own (the OpenTelemetry collector)
            [release] = charted
            brought = tuple(BroughtResource(d["metadata"]["name"], d, "") for d in documents)
            charts[cluster][charts[cluster].index(release)] = replace(release, brought=release.brought + brought)
        else:
            charts.setdefault(cluster, []).append(Release(CATALOGUE[addon], manifests=tuple(documents)))
    return charts


def bundles(recording: Recording) -> dict[str, ClusterBundle]:
    result = {}
    for cluster, releases in sorted(_recorded_releases(recording).items()):
        ordered = sorted(releases, key=lambda release: release.addon.name)
        result[cluster] = ClusterBundle(ordered, footprint({r.addon.name: r.workloads() for r in ordered}))
    return result


def _addon_document(release: Release, cluster: ClusterBundle) -> dict[str, Any]:
    addon = release.addon
    document: dict[str, Any] = {"namespace": addon.namespace, "version": addon.version}
    if isinstance(addon.source, Chart):
        document.update(source="chart", chart=release.chart, repository=release.repository or "")
    else:
        document.update(source="manifests", objects=[f"{m['kind']}/{m['metadata']['name']}" for m in release.manifests])
    document.update(
        images=release.images(),
        artifacts=release.artifacts(),
        notDigestPinned=sorted(r for r in release.images() + release.artifacts() if not is_digest_pinned(r)),
        footprint=cluster.footprint.per_addon[addon.name].as_dict(),
    )
    return document


def bundle_document(result: dict[str, ClusterBundle], pulumi: Mapping[str, Any]) -> dict[str, Any]:
    """`pulumi`: what `plugins.pulumi_document` says; a stack's plugins are not per cluster, so they sit beside them."""
    clusters = {
        cluster: {
            "addons": {release.addon.name: _addon_document(release, b) for release in b.releases},
            "images": b.images(),
            "artifacts": b.artifacts(),
            "notDigestPinned": b.not_digest_pinned(),
            "footprint": {
                "steadyState": b.footprint.steady.as_dict(),
                "scanJobs": b.footprint.transient.as_dict(),
                "assumes": "one node: DaemonSets count once per node",
            },
        }
        for cluster, b in result.items()
    }
    return {"clusters": clusters, "pulumi": dict(pulumi)}


def write_bundle(out_dir: Path, result: dict[str, ClusterBundle], pulumi: Mapping[str, Any]) -> None:
    document = bundle_document(result, pulumi)
    (out_dir / "bundle.json").write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")


def _source_line(release: Release) -> str:
    addon = release.addon
    if isinstance(addon.source, Chart):
        return f"    chart  {addon.name} {addon.version} ({release.chart} from {release.repository or 'OCI'})"
    return f"    manifests  {addon.name} {addon.version} ({len(release.manifests)} object(s) rendered here)"


def _pin_note(reference: str) -> str:
    return "" if is_digest_pinned(reference) else "  (not digest-pinned)"


def report_lines(result: dict[str, ClusterBundle]) -> list[str]:
    lines = []
    for cluster, b in result.items():
        steady, jobs = b.footprint.steady.as_dict(), b.footprint.transient.as_dict()
        lines.append(f"  cluster {cluster}:")
        lines += [_source_line(release) for release in b.releases]
        lines += [f"    image  {image}{_pin_note(image)}" for image in b.images()]
        lines += [f"    oci    {artifact}{_pin_note(artifact)}" for artifact in b.artifacts()]
        lines.append(
            f"    footprint (requests / limits, 1 node): CPU {steady['cpuRequests']} / {steady['cpuLimits']} cores, "
            f"memory {steady['memoryRequestsGiB']} / {steady['memoryLimitsGiB']} GiB; "
            f"scan jobs add CPU {jobs['cpuRequests']}, memory {jobs['memoryRequestsGiB']} GiB"
        )
    return lines
