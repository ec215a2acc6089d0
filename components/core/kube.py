"""Kubernetes helpers: manifests (plain dicts, exactly what the provider receives) into Pulumi resources,
and where each workload kind keeps its pod spec."""

from __future__ import annotations

from functools import cache
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic.alias_generators import to_snake

Manifest = dict[str, Any]

# API group -> pulumi_kubernetes module of its typed resources; other groups are custom resources
_TYPED_GROUPS = {
    "": "core",
    "apps": "apps",
    "batch": "batch",
    "policy": "policy",
    "autoscaling": "autoscaling",
    "networking.k8s.io": "networking",
    "rbac.authorization.k8s.io": "rbac",
    "storage.k8s.io": "storage",
    "scheduling.k8s.io": "scheduling",
    "admissionregistration.k8s.io": "admissionregistration",
}
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


def manifest_args(manifest: Manifest) -> dict[str, Any]:
    """Top-level manifest fields as constructor keywords; nested dicts go to the provider as they are."""
    return {to_snake(key): value for key, value in manifest.items() if key not in ("apiVersion", "kind")}


def custom_resource_args(manifest: Manifest) -> dict[str, Any]:
    """A custom resource's manifest as CustomResource keywords (apiVersion -> api_version, rest as is)."""
    return {"api_version": manifest["apiVersion"], **{k: v for k, v in manifest.items() if k != "apiVersion"}}


@cache
def typed_class(api_version: str, kind: str) -> type[pulumi.CustomResource] | None:
    group, _, version = api_version.rpartition("/")
    module_name = _TYPED_GROUPS.get(group)
    if module_name is None:
        return None
    module = getattr(getattr(k8s, module_name), version, None)
    found = getattr(module, kind, None) if module is not None else None
    return found if isinstance(found, type) and issubclass(found, pulumi.CustomResource) else None


def kube_resource(name: str, manifest: Manifest, opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """The typed Pulumi resource of a manifest's kind (CustomResource for kinds from CRDs)."""
    cls = typed_class(manifest["apiVersion"], manifest["kind"])
    if cls is None:
        return k8s.apiextensions.CustomResource(name, **custom_resource_args(manifest), opts=opts)
    return cls(name, **manifest_args(manifest), opts=opts)


def pod_spec(manifest: Manifest) -> dict[str, Any] | None:
    """The pod spec of a Pod or of any workload that templates pods; None for other kinds."""
    path = POD_SPEC_PATHS.get(str(manifest.get("kind")))
    if path is None:
        return None
    node: Any = manifest
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Containers and init containers of a pod spec: the ones that run with requests and limits."""
    return [*spec.get("initContainers", []), *spec.get("containers", [])]
