"""Kubernetes helpers: manifests (plain dicts, exactly what the provider receives) into Pulumi resources,
and where each workload kind keeps its pod spec."""

from __future__ import annotations

from importlib import metadata
from typing import Any

import pulumi

Manifest = dict[str, Any]

# What the typed pulumi_kubernetes classes put on every registration: the provider plugin's version; and on
# Secrets, outputs that state must keep encrypted.
_PROVIDER_DEFAULTS = pulumi.ResourceOptions(version=metadata.version("pulumi-kubernetes"))
_SECRET_OUTPUTS = {"Secret": ["data", "stringData"], "SecretPatch": ["data", "stringData"]}
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


def type_token(api_version: str, kind: str) -> str:
    """The provider's type token of a kind: ('networking.k8s.io/v1', 'NetworkPolicy') ->
    'kubernetes:networking.k8s.io/v1:NetworkPolicy'; the core group is spelled 'core'."""
    group, _, version = api_version.rpartition("/")
    return f"kubernetes:{group or 'core'}/{version}:{kind}"


def kube_resource(name: str, manifest: Manifest, opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """One Kubernetes object: the provider's type token with the manifest as its inputs — the request the
    typed pulumi_kubernetes classes send (same token, inputs, provider version). Those classes also turn every
    echoed output into typed Python objects, which nothing here reads and which was most of a plan's cost
    (docs/performance.md); their aliases from beta API versions concern objects created before those
    versions were retired, and no factory has any."""
    kind = manifest["kind"]
    defaults = _PROVIDER_DEFAULTS
    if kind in _SECRET_OUTPUTS:
        defaults = pulumi.ResourceOptions.merge(
            defaults, pulumi.ResourceOptions(additional_secret_outputs=_SECRET_OUTPUTS[kind])
        )
    return pulumi.CustomResource(
        type_token(manifest["apiVersion"], kind),
        name,
        dict(manifest),
        opts=pulumi.ResourceOptions.merge(defaults, opts),
    )


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
