"""Gatekeeper ConstraintTemplates, with the Rego written here (rego/, Rego v1, one shared workload library).

Pure builders: manifests as dicts. Each template carries its parameter schema, so constraint parameters
are validated against it in tests exactly as the Gatekeeper API server would.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from components.core import vocabulary as vocab
from components.core.kube import WAIT_FOR

REGO_DIR = Path(__file__).parent / "rego"
TEMPLATE_API = "templates.gatekeeper.sh/v1"
# Gatekeeper's status controller sets it true once a pod created the template's constraint CRD without errors
# (pkg/controller/constrainttemplatestatus); the provider compares the printed value, so `true`, not `True`
TEMPLATE_CREATED = "jsonpath={.status.created}=true"
LIBS = ("lib_workloads",)

_STRINGS = {"type": "array", "items": {"type": "string"}}
# A Kubernetes quantity, as a string ("500m", "2Gi") or a number (cores, bytes) as the library's samples
# write it. `x-kubernetes-int-or-string` keeps the schema structural for the CRD Gatekeeper generates (a
# bare anyOf without a type is not); the anyOf spells the same for validators that ignore the extension.
_QUANTITY = {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]}


def _resource_maximums(cpu: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "cpu": {**_QUANTITY, "description": cpu},
            "memory": {**_QUANTITY, "description": "The maximum memory (e.g. '2Gi'); without it only presence."},
            "exemptImages": {
                **_STRINGS,
                "description": "Images not judged: exact, or a prefix when the entry ends with '*'.",
            },
        },
    }


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
            "K8sImmutableTags",
            "Images pinned by digest, or by a release tag the registry keeps immutable; never latest or main.",
            {
                "type": "object",
                "properties": {
                    "tagPatterns": {
                        **_STRINGS,
                        "description": "RE2 patterns a tag must match whole (a digest always passes); none: "
                        "digests only.",
                    },
                    "exemptImages": {**_STRINGS, "description": "Images not judged: exact, or a prefix ending in '*'."},
                },
                "required": ["tagPatterns"],
            },
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
            "Every container and init container declares CPU and memory limits, at most the given maximums.",
            _resource_maximums("The maximum CPU limit (e.g. '2' or '500m'); '-1' or no value leaves CPU unjudged."),
        ),
        Template(
            "K8sContainerRequests",
            "Every container and init container declares CPU and memory requests, at most the given maximums.",
            _resource_maximums("The maximum CPU request (e.g. '2' or '500m'); without it only presence."),
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
        Template(
            "K8sExternalIPs",
            "Services claim no external IPs except the allowed ones (CVE-2020-8554).",
            {
                "type": "object",
                "properties": {
                    "allowedIPs": {
                        **_STRINGS,
                        "description": "The external IPs a Service may claim, matched exactly; none when empty.",
                    }
                },
            },
            uses_libs=False,
        ),
        Template(
            "K8sLineLabel",
            "A line's workloads carry the line label, equal to the line their namespace belongs to.",
            {
                "type": "object",
                "properties": {
                    "label": {"type": "string", "description": "The label key naming the line."},
                    "namespacePrefix": {"type": "string", "description": "A line's namespace is this + its name."},
                },
                "required": ["label", "namespacePrefix"],
            },
        ),
        Template(
            "K8sLineScheduling",
            "No nodeName, no toleration of the control-plane taints or of every taint.",
            {
                "type": "object",
                "properties": {
                    "forbiddenTolerationKeys": {**_STRINGS, "description": "Taint keys no toleration may name."}
                },
                "required": ["forbiddenTolerationKeys"],
            },
        ),
        Template(
            "K8sDisruptionAllowed",
            "PodDisruptionBudgets let at least one pod be evicted (no maxUnavailable 0, no minAvailable 100%).",
            {"type": "object", "properties": {}},
            uses_libs=False,
        ),
        Template(
            "K8sAllowedInlineCSIDrivers",
            "Inline CSI volumes only of the allowed drivers.",
            {
                "type": "object",
                "properties": {"allowedDrivers": {**_STRINGS, "description": "CSI driver names; none when empty."}},
            },
        ),
        Template(
            "K8sAllowedRuntimeClasses",
            "Pods run in the default runtime or an allowed RuntimeClass.",
            {
                "type": "object",
                "properties": {
                    "allowedRuntimeClasses": {**_STRINGS, "description": "RuntimeClass names; none when empty."}
                },
            },
        ),
        Template(
            "K8sBlockExternalName",
            "No ExternalName Services: an in-cluster name never aliases an outside host.",
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
            "labels": vocab.standard_labels(factory, component=vocab.SECURITY_COMPONENT),
            "annotations": {
                "description": template.description,
                # Gatekeeper sets status.created once a controller pod made the constraint CRD; its constraints
                # wait for that, not for the provider's ~1 min create retry (await/await.go Creation) to cover it
                WAIT_FOR: TEMPLATE_CREATED,
            },
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
