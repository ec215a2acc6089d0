"""Where each workload kind keeps its pod spec, and every container in it, with a readable path.

A CronJob nests its pod spec two templates deep; a Pod carries it directly. Policies judge the pod spec
and each container (containers, initContainers, ephemeralContainers) the same way for every kind.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import ResourceValidationArgs

from factory_policies.controls import dig, items, mapping, namespace_of
from factory_policies.settings import EXEMPT_NAMESPACES, setting

# type token -> path of the pod spec inside the object
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "kubernetes:core/v1:Pod": ("spec",),
    "kubernetes:core/v1:PodTemplate": ("template", "spec"),
    "kubernetes:core/v1:ReplicationController": ("spec", "template", "spec"),
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
WORKLOAD_TYPES = tuple(POD_SPEC_PATHS)
CONTAINER_FIELDS = ("containers", "initContainers", "ephemeralContainers")


@dataclass(frozen=True)
class PodSpec:
    path: str  # e.g. "spec.jobTemplate.spec.template.spec"
    spec: Mapping[str, Any]


@dataclass(frozen=True)
class Container:
    path: str  # e.g. "spec.template.spec.initContainers[0]"
    name: str
    field: str  # containers | initContainers | ephemeralContainers
    body: Mapping[str, Any]

    def get(self, *path: str) -> Any:
        return dig(self.body, *path)

    def where(self, *path: str) -> str:
        return ".".join((f"{self.path}({self.name})", *path))


def pod_spec(resource_type: str, props: Mapping[str, Any]) -> PodSpec | None:
    path = POD_SPEC_PATHS.get(resource_type)
    if path is None:
        return None
    return PodSpec(".".join(path), mapping(props, *path))


def pod_metadata(resource_type: str, props: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    """(path, metadata) of the pods a workload creates (a Pod's own): where legacy AppArmor annotations live."""
    path = (*POD_SPEC_PATHS.get(resource_type, ("spec",))[:-1], "metadata")
    return ".".join(path), mapping(props, *path)


def containers(pod: PodSpec, fields: tuple[str, ...] = CONTAINER_FIELDS) -> Iterator[Container]:
    for field in fields:
        for index, body in enumerate(items(pod.spec, field)):
            if isinstance(body, Mapping):
                name = dig(body, "name") or f"#{index}"
                yield Container(f"{pod.path}.{field}[{index}]", str(name), field, body)


def exempt_namespace(args: ResourceValidationArgs) -> str | None:
    """Why a workload is not judged: it runs in an exempt namespace (the reason is shown in compliance.md)."""
    namespace = namespace_of(args.props)
    if namespace not in setting(args, "exemptNamespaces"):
        return None
    reason = EXEMPT_NAMESPACES.get(namespace, "listed in the stack's exemptNamespaces config")
    return f"namespace '{namespace}' is exempt: {reason}"
