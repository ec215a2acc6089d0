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

REGO_DIR = Path(__file__).parent / "rego"
TEMPLATE_API = "templates.gatekeeper.sh/v1"
LIBS = ("lib_workloads",)

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
            "labels": vocab.standard_labels(factory, component=vocab.SECURITY_COMPONENT),
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
