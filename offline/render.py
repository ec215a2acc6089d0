"""Turn a recorded run into what people and judges read: a preview-like tree, plan.json, manifests."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.config.types import REDACTED
from offline.harness import SECRET_SIG, SECRET_VALUE_SIG, Recording, Registration
from offline.policy_runner import Verdict

K8S_PREFIX = "kubernetes:"
# Remote components and provider-side objects that are not manifests we create directly
NOT_MANIFESTS = ("kubernetes:helm.sh/", "kubernetes:yaml/", "kubernetes:kustomize/")


def redact(value: Any) -> Any:
    """Secrets become '[secret]'; integral floats (the wire has only doubles) become ints again."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG) == SECRET_VALUE_SIG:
            return REDACTED
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def tree_lines(recording: Recording) -> list[str]:
    children: dict[str, list[Registration]] = defaultdict(list)
    urns = {r.urn for r in recording.resources}
    roots = []
    for r in recording.resources:
        if r.parent in urns:
            children[r.parent].append(r)
        else:
            roots.append(r)
    width = max((len(r.type) for r in recording.resources), default=10) + 12
    stack_name = f"{recording.project}-{recording.stack}"
    lines = [f"    {'Type':<{width}} Name", f" +  {'pulumi:pulumi:Stack':<{width}} {stack_name}"]

    def walk(nodes: list[Registration], prefix: str) -> None:
        ordered = sorted(nodes, key=lambda n: (n.custom, n.type, n.name))
        for i, node in enumerate(ordered):
            last = i == len(ordered) - 1
            branch = "└─ " if last else "├─ "
            label = f"{prefix}{branch}{node.type}"
            lines.append(f" +  {label:<{width}} {node.name}")
            walk(children.get(node.urn, []), prefix + ("   " if last else "│  "))

    walk(roots, "")
    return lines


def type_counts(recording: Recording) -> list[tuple[str, int]]:
    return sorted(Counter(r.type for r in recording.resources).items())


def is_manifest(r: Registration) -> bool:
    return r.custom and r.type.startswith(K8S_PREFIX) and not r.type.startswith(NOT_MANIFESTS)


def api_version_kind(type_: str) -> tuple[str, str]:
    """'kubernetes:networking.k8s.io/v1:NetworkPolicy' -> ('networking.k8s.io/v1', 'NetworkPolicy')"""
    _, group_version, kind = type_.split(":")
    group, version = group_version.split("/")
    return (version if group == "core" else f"{group}/{version}"), kind


def is_patch(r: Registration) -> bool:
    """A `<Kind>Patch` resource: server-side apply of its fields onto an existing object. The provider's own
    test — the body's kind plus "Patch" is the type's kind — so a custom resource whose kind merely ends in
    "Patch" is not one."""
    return f"{r.inputs.get('kind')}Patch" == api_version_kind(r.type)[1]


def manifest(r: Registration) -> dict[str, Any]:
    """The object as the API server receives it. A patch renders as the kind it patches, with only the fields
    it sets (what server-side apply sends), so the judges see those fields against the real schema."""
    api_version, kind = api_version_kind(r.type)
    if is_patch(r):
        kind = str(r.inputs["kind"])
    body = {k: v for k, v in redact(r.inputs).items() if k not in ("apiVersion", "kind")}
    return {"apiVersion": api_version, "kind": kind, **body}


@dataclass(frozen=True)
class RenderedManifest:
    cluster: str
    path: str  # relative to the manifests directory
    document: dict[str, Any]


def cluster_of(r: Registration, by_urn: dict[str, Registration]) -> str:
    provider = by_urn.get(r.provider_urn)
    if provider is None:
        return "_default"
    identifier = provider.inputs.get("clusterIdentifier")
    return str(identifier).rsplit("/", 1)[-1] if isinstance(identifier, str) else provider.name


def manifests(recording: Recording) -> list[RenderedManifest]:
    by_urn = recording.by_urn()
    rendered = []
    for r in recording.resources:
        if not is_manifest(r):
            continue
        document = manifest(r)
        meta = document.get("metadata") or {}
        cluster = cluster_of(r, by_urn)
        scope = meta.get("namespace") or "_cluster"
        name = meta.get("name") or r.name
        rendered.append(
            RenderedManifest(cluster, f"{cluster}/{scope}/{document['kind'].lower()}-{name}.yaml", document)
        )
    return sorted(rendered, key=lambda m: m.path)


def plan_document(recording: Recording, verdicts: Sequence[Verdict]) -> dict[str, Any]:
    return {
        "stack": recording.stack,
        "project": recording.project,
        "resources": [
            {
                "type": r.type,
                "name": r.name,
                "urn": r.urn,
                "parent": r.parent,
                "custom": r.custom,
                "provider": r.provider_urn,
                "dependencies": r.dependencies,
                "dependsOn": r.depends_on,
                "aliases": r.aliases,
                "protect": r.protect,
                "retainOnDelete": r.retain_on_delete,
                "inputs": redact(r.inputs),
            }
            for r in recording.resources
        ],
        "outputs": redact(recording.outputs),
        "violations": [
            {"policy": v.policy, "level": v.level, "resource": v.resource, "message": v.message}
            for verdict in verdicts
            for v in verdict.violations
        ],
    }


def write_artifacts(out_dir: Path, recording: Recording, verdicts: Sequence[Verdict]) -> list[RenderedManifest]:
    """plan.json and manifests/ — sorted keys and paths so two runs give byte-identical files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    document = plan_document(recording, verdicts)
    (out_dir / "plan.json").write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    manifest_dir = out_dir / "manifests"
    if manifest_dir.exists():
        for old in sorted(manifest_dir.rglob("*"), reverse=True):
            old.unlink() if old.is_file() else old.rmdir()
    rendered = manifests(recording)
    for item in rendered:
        path = manifest_dir / item.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(item.document, sort_keys=True, default_flow_style=False))
    return rendered
