"""Per cluster: the charts and images an air-gapped plant must mirror, and what the platform costs.

Both are read from the recorded run — the chart inputs `helm.v4.Chart` received and the pod specs of the
objects we create ourselves — interpreted through the catalogue's image and workload slots, so they
describe exactly what `pulumi up` would deploy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.addons import CATALOGUE
from components.catalogue import AddOn, Release
from components.footprint import Footprint, Usage, footprint, usage_of
from offline.harness import Recording, Registration
from offline.render import cluster_of, redact

CHART_TYPE = "kubernetes:helm.sh/v4:Chart"
_BY_NAMESPACE: dict[str, AddOn] = {addon.namespace: addon for addon in CATALOGUE.values()}


@dataclass
class ClusterBundle:
    charts: list[dict[str, str]]
    images: list[str]
    artifacts: list[str]
    footprint: Footprint


def _pod_spec(manifest: dict[str, Any]) -> dict[str, Any] | None:
    kind, spec = manifest.get("kind"), manifest.get("spec") or {}
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        return ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template", {}).get("spec")
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        return (spec.get("template") or {}).get("spec")
    return None


def _release(registration: Registration) -> Release:
    inputs = redact(registration.inputs)
    addon = _BY_NAMESPACE.get(inputs.get("namespace", ""))
    if addon is None:
        raise ValueError(f"chart {registration.name} is not from the add-on catalogue")
    repository = (inputs.get("repositoryOpts") or {}).get("repo")
    return Release(addon, inputs["chart"], repository, inputs.get("values") or {})


def bundles(recording: Recording) -> dict[str, ClusterBundle]:
    by_urn = recording.by_urn()
    releases: dict[str, list[Release]] = {}
    own_images: dict[str, set[str]] = {}
    own_usage: dict[str, dict[str, Usage]] = {}
    for r in recording.resources:
        cluster = cluster_of(r, by_urn)
        if r.type == CHART_TYPE:
            releases.setdefault(cluster, []).append(_release(r))
            continue
        pod = _pod_spec(redact(r.inputs)) if r.custom and r.type.startswith("kubernetes:") else None
        for container in (pod or {}).get("containers", []) + (pod or {}).get("initContainers", []):
            own_images.setdefault(cluster, set()).add(container["image"])
            usage = usage_of(container.get("resources"), f"{r.name}/{container['name']}")
            own_usage.setdefault(cluster, {})[f"{r.inputs['metadata']['name']}"] = usage
    result = {}
    for cluster in sorted(set(releases) | set(own_images)):
        found = sorted(releases.get(cluster, []), key=lambda rel: rel.addon.name)
        result[cluster] = ClusterBundle(
            charts=[
                {
                    "name": rel.addon.name,
                    "chart": rel.chart,
                    "repository": rel.repository or "",
                    "version": rel.addon.version,
                }
                for rel in found
            ],
            images=sorted({image for rel in found for image in rel.images()} | own_images.get(cluster, set())),
            artifacts=sorted({a for rel in found for a in rel.artifacts()}),
            footprint=footprint(found, extra=own_usage.get(cluster)),
        )
    return result


def bundle_document(result: dict[str, ClusterBundle]) -> dict[str, Any]:
    return {
        cluster: {
            "charts": b.charts,
            "images": b.images,
            "artifacts": b.artifacts,
            "footprint": {
                "steadyState": b.footprint.steady.as_dict(),
                "scanJobs": b.footprint.transient.as_dict(),
                "perAddon": {name: usage.as_dict() for name, usage in sorted(b.footprint.per_addon.items())},
                "assumes": "one node: DaemonSets count once per node",
            },
        }
        for cluster, b in result.items()
    }


def write_bundle(out_dir: Path, result: dict[str, ClusterBundle]) -> None:
    (out_dir / "bundle.json").write_text(json.dumps(bundle_document(result), indent=2, sort_keys=True) + "\n")


def report_lines(result: dict[str, ClusterBundle]) -> list[str]:
    lines = []
    for cluster, b in result.items():
        steady, jobs = b.footprint.steady.as_dict(), b.footprint.transient.as_dict()
        lines.append(f"  cluster {cluster}:")
        lines += [
            f"    chart  {c['name']} {c['version']} ({c['chart']} from {c['repository'] or 'OCI'})" for c in b.charts
        ]
        lines += [f"    image  {image}" for image in b.images]
        lines += [f"    oci    {artifact}" for artifact in b.artifacts]
        lines.append(
            f"    footprint (requests / limits, 1 node): CPU {steady['cpuRequests']} / {steady['cpuLimits']} cores, "
            f"memory {steady['memoryRequestsGiB']} / {steady['memoryLimitsGiB']} GiB; "
            f"scan jobs add CPU {jobs['cpuRequests']}, memory {jobs['memoryRequestsGiB']} GiB"
        )
    return lines
