"""Gatekeeper ConstraintTemplates (Rego written here, in components/rego/) and the constraints we apply.

Pure builders: manifests as dicts. Each template carries its parameter schema, so constraint parameters
are validated against it in tests exactly as the Gatekeeper API server would.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from components import labels as lbl

REGO_DIR = Path(__file__).parent / "rego"
TEMPLATE_API = "templates.gatekeeper.sh/v1"
CONSTRAINT_API = "constraints.gatekeeper.sh/v1beta1"
LIBS = ("lib_workloads",)

WORKLOAD_KINDS = [
    {"apiGroups": [""], "kinds": ["Pod"]},
    {"apiGroups": ["apps"], "kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"]},
    {"apiGroups": ["batch"], "kinds": ["Job", "CronJob"]},
]
_STRINGS = {"type": "array", "items": {"type": "string"}}


@dataclass(frozen=True)
class Template:
    kind: str
    description: str
    parameters: dict[str, Any]  # openAPIV3Schema of the constraint's spec.parameters
    uses_libs: bool = True

    @property
    def name(self) -> str:
        return self.kind.lower()

    def rego(self) -> str:
        return rego_source(self.name)


TEMPLATES: dict[str, Template] = {
    t.kind: t
    for t in (
        Template(
            "K8sAllowedReposv2",
            "Images only from the site's allow-list (exact, or prefix ending in '*').",
            {"type": "object", "properties": {"allowedImages": _STRINGS}, "required": ["allowedImages"]},
        ),
        Template(
            "K8sDisallowedTags",
            "Images pinned by tag or digest; no mutable tags such as 'latest'.",
            {"type": "object", "properties": {"tags": _STRINGS, "exemptImages": _STRINGS}, "required": ["tags"]},
        ),
        Template(
            "K8sRequiredLabels",
            "Objects carry the factory's attribution labels.",
            {
                "type": "object",
                "properties": {
                    "labels": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"key": {"type": "string"}, "allowedRegex": {"type": "string"}},
                            "required": ["key"],
                        },
                    }
                },
                "required": ["labels"],
            },
            uses_libs=False,
        ),
        Template(
            "K8sContainerLimits",
            "Every container declares CPU and memory requests and limits.",
            {"type": "object", "properties": {}},
        ),
        Template(
            "K8sRequiredProbes",
            "Long-running containers declare readiness and liveness probes.",
            {"type": "object", "properties": {"probes": _STRINGS, "probeTypes": _STRINGS}, "required": ["probes"]},
        ),
        Template(
            "K8sPSPHostNamespace",
            "No hostPID, hostIPC or hostNetwork.",
            {"type": "object", "properties": {}},
        ),
        Template(
            "K8sBlockNodePort",
            "No NodePort Services.",
            {"type": "object", "properties": {}},
            uses_libs=False,
        ),
    )
}


@cache
def rego_source(name: str) -> str:
    return (REGO_DIR / f"{name}.rego").read_text()


def constraint_template(template: Template, factory: str) -> dict[str, Any]:
    target: dict[str, Any] = {"target": "admission.k8s.gatekeeper.sh", "rego": template.rego()}
    if template.uses_libs:
        target["libs"] = [rego_source(lib) for lib in LIBS]
    return {
        "apiVersion": TEMPLATE_API,
        "kind": "ConstraintTemplate",
        "metadata": {
            "name": template.name,
            "labels": lbl.standard_labels(factory, component="security-baseline"),
            "annotations": {"description": template.description},
        },
        "spec": {
            "crd": {
                "spec": {
                    "names": {"kind": template.kind},
                    "validation": {"openAPIV3Schema": template.parameters},
                }
            },
            "targets": [target],
        },
    }


@dataclass(frozen=True)
class ConstraintSpec:
    kind: str
    name: str
    parameters: dict[str, Any]
    kinds: list[dict[str, Any]]


def constraint_specs(allowed_images: list[str], required_labels: list[str]) -> list[ConstraintSpec]:
    services = [{"apiGroups": [""], "kinds": ["Service"]}]
    return [
        ConstraintSpec("K8sAllowedReposv2", "allowed-images", {"allowedImages": allowed_images}, WORKLOAD_KINDS),
        ConstraintSpec("K8sDisallowedTags", "pinned-images", {"tags": ["latest"]}, WORKLOAD_KINDS),
        ConstraintSpec(
            "K8sRequiredLabels",
            "attribution-labels",
            {"labels": [{"key": key} for key in required_labels]},
            [{"apiGroups": ["apps"], "kinds": ["Deployment", "StatefulSet", "DaemonSet"]}],
        ),
        # Pods only: the LimitRanger admission plugin fills a line's defaults before this webhook runs, so
        # the constraint catches what escapes a LimitRange instead of rejecting templates that rely on it
        ConstraintSpec("K8sContainerLimits", "container-limits", {}, [{"apiGroups": [""], "kinds": ["Pod"]}]),
        # templates of long-running workloads: the team hears about a missing probe at `apply`, not when a
        # ReplicaSet silently fails to create pods; Jobs need no probes
        ConstraintSpec(
            "K8sRequiredProbes",
            "required-probes",
            {"probes": ["readinessProbe", "livenessProbe"], "probeTypes": ["tcpSocket", "httpGet", "exec", "grpc"]},
            [{"apiGroups": ["apps"], "kinds": ["Deployment", "StatefulSet", "DaemonSet"]}],
        ),
        ConstraintSpec("K8sPSPHostNamespace", "no-host-namespaces", {}, WORKLOAD_KINDS),
        ConstraintSpec("K8sBlockNodePort", "no-node-ports", {}, services),
    ]


def constraint(spec: ConstraintSpec, factory: str, enforcement_action: str, exempt: list[str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "enforcementAction": enforcement_action,
        "match": {"kinds": spec.kinds, "excludedNamespaces": sorted(exempt)},
    }
    if spec.parameters:
        body["parameters"] = spec.parameters
    return {
        "apiVersion": CONSTRAINT_API,
        "kind": spec.kind,
        "metadata": {"name": spec.name, "labels": lbl.standard_labels(factory, component="security-baseline")},
        "spec": body,
    }
