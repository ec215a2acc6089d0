"""Kubernetes helpers: manifests (plain dicts, exactly what the provider receives) into Pulumi resources,
and where each workload kind keeps its pod spec."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi_kubernetes import _utilities as _kubernetes  # the options every typed class starts from

Manifest = dict[str, Any]

# The Kubernetes provider's own annotations (pulumi-kubernetes provider/pkg/metadata/overrides.go):
# `waitFor` makes create and update wait until the object matches (`jsonpath={...}=value`, `condition=Type`, or a
# JSON list of both; since provider 4.18), instead of the kind's built-in await (none for custom resources).
WAIT_FOR = "pulumi.com/waitFor"
# After a failed create or update (a Job that failed), the next `pulumi up` replaces the object instead of waiting
# on the failed one again (provider/pkg/metadata/overrides.go)
REPLACE_UNREADY = "pulumi.com/replaceUnready"
# An object of a v4 Chart (or yaml/v2) that must be created after another object of the same chart, and after
# that one's await: `<group>/namespaces/<namespace>/<Kind>/<name>` (sigs.k8s.io/cli-utils dependson, read by
# the provider's yaml/v2 Register since 4.10). A Deployment's await means Available.
CHART_DEPENDS_ON = "config.kubernetes.io/depends-on"


def chart_object_ref(group: str, kind: str, name: str, namespace: str | None = None) -> str:
    """An object of the same chart as `config.kubernetes.io/depends-on` names it (core group: '')."""
    return f"{group}/namespaces/{namespace}/{kind}/{name}" if namespace else f"{group}/{kind}/{name}"


# Kinds whose values state must keep encrypted, as the typed classes mark them (inputs and outputs).
_SECRET_FIELDS = {"Secret": ("data", "stringData"), "SecretPatch": ("data", "stringData")}

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


class KubeObject(pulumi.CustomResource):
    """One Kubernetes object: the provider's type token with the manifest as its inputs — the request the
    typed pulumi_kubernetes classes send (same token, inputs, provider version and download URL, Secret values
    as secrets). Those classes also turn every echoed output into typed Python objects, which nothing here
    reads and which was most of a plan's cost (docs/performance.md); their aliases from beta API versions
    concern objects created before those versions were retired, and no factory has any. Its own constructor
    makes the SDK record the source position of the code that builds the object, as for any resource class."""

    def __init__(self, name: str, manifest: Manifest, opts: pulumi.ResourceOptions, *, patch: bool = False) -> None:
        kind = manifest["kind"]
        props: dict[str, Any] = dict(manifest)
        defaults = _kubernetes.get_resource_opts_defaults()
        if kind in _SECRET_FIELDS:
            for key in _SECRET_FIELDS[kind]:
                if props.get(key) is not None:
                    props[key] = pulumi.Output.secret(props[key])
            secret = pulumi.ResourceOptions(additional_secret_outputs=list(_SECRET_FIELDS[kind]))
            defaults = pulumi.ResourceOptions.merge(defaults, secret)
        # a patch (server-side apply of the manifest's fields onto an object someone else owns) is the
        # `<Kind>Patch` type with the patched kind in its body: the provider treats it as a patch only when
        # the body's kind plus "Patch" is the type's kind, as the typed `...Patch` classes send it
        token = type_token(manifest["apiVersion"], f"{kind}Patch" if patch else kind)
        super().__init__(token, name, props, opts=pulumi.ResourceOptions.merge(defaults, opts))


def kube_resource(
    name: str, manifest: Manifest, opts: pulumi.ResourceOptions, *, patch: bool = False
) -> pulumi.CustomResource:
    """The manifest as a resource of its kind on the provider of `opts` (or the one the parent carries);
    with `patch`, as a patch of the existing object the manifest names (`kubernetes:<group/version>:<Kind>Patch`)."""
    return KubeObject(name, manifest, opts, patch=patch)


def restricted_security(uid: int) -> tuple[Manifest, Manifest]:
    """The pod and container security contexts of a pod we write ourselves, as Pod Security `restricted` wants
    them, plus a read-only root file system: running as `uid`, no privilege escalation, no capabilities."""
    pod = {"runAsNonRoot": True, "runAsUser": uid, "runAsGroup": uid, "seccompProfile": {"type": "RuntimeDefault"}}
    container = {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    return pod, container


def pod_spec(manifest: Manifest) -> dict[str, Any] | None:
    """The pod spec of a Pod or of any workload that templates pods; None for other kinds."""
    path = POD_SPEC_PATHS.get(str(manifest.get("kind")))
    if path is None:
        return None
    node: Any = manifest
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def pod_template_metadata(manifest: Manifest) -> dict[str, Any] | None:
    """The metadata of the pods a workload creates (the Pod's own for a Pod), created if absent."""
    path = POD_SPEC_PATHS.get(str(manifest.get("kind")))
    if path is None:
        return None
    node: Any = manifest
    for key in path[:-1]:
        node = node.setdefault(key, {})
    metadata: dict[str, Any] = node.setdefault("metadata", {})
    return metadata


def containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Containers and init containers of a pod spec: the ones that run with requests and limits."""
    return [*spec.get("initContainers", []), *spec.get("containers", [])]
