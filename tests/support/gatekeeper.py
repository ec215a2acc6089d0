"""Run our ConstraintTemplates with a real Rego interpreter (regopy / rego-cpp), as Gatekeeper would: the
template's Rego and libs, and an admission review of the object (`input.review`) with the constraint's
parameters (`input.parameters`). Shared by the Gatekeeper tests; no test module is imported as a library."""

from __future__ import annotations

import json
from typing import Any

import regopy

from components.security.gatekeeper import templates


def violations(
    kind: str,
    obj: dict[str, Any],
    parameters: dict[str, Any],
    operation: str | None = None,
    *,
    old: dict[str, Any] | None = None,
    namespace: str | None = None,
) -> list[str]:
    """The messages of one template for one object. `operation` (CREATE, UPDATE) and `namespace` as the
    webhook's admission request sends them — both absent in the audit, which reads the object's own
    metadata.namespace; `old` is the object before an UPDATE (`input.review.oldObject`)."""
    template = templates.TEMPLATES[kind]
    manifest = templates.constraint_template(template, "testwerk")
    target = manifest["spec"]["targets"][0]
    interpreter = regopy.Interpreter()
    for i, lib in enumerate(target.get("libs", [])):
        interpreter.add_module(f"lib{i}", lib)
    interpreter.add_module("template", target["rego"])
    review: dict[str, Any] = {"object": obj, "kind": {"kind": obj["kind"]}}
    if operation is not None:
        review["operation"] = operation
    if old is not None:
        review["oldObject"] = old
    if namespace is not None:
        review["namespace"] = namespace
    interpreter.set_input_term(json.dumps({"review": review, "parameters": parameters}))
    result = json.loads(str(interpreter.query(f"x = data.{template.name}.violation")))
    assert "errors" not in result, result
    return sorted(v["msg"] for v in result["bindings"]["x"])


def container(name: str = "app", image: str = "registry.plant.local/press/plc-gateway:1.4.2") -> dict[str, Any]:
    """A container every template admits: pinned image, requests and limits, both probes."""
    return {
        "name": name,
        "image": image,
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
        "livenessProbe": {"tcpSocket": {"port": 8080}},
    }


def pod(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "gateway", "namespace": "line-press", "labels": {"app.kubernetes.io/name": "gw"}},
        "spec": {"containers": [container()], **spec},
    }


def deployment(pod_spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "gateway", "namespace": "line-press", "labels": {"app.kubernetes.io/name": "gw"}},
        "spec": {"template": {"metadata": {}, "spec": pod_spec}},
    }


def cronjob(pod_spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "report", "namespace": "line-press"},
        "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": {"spec": pod_spec}}}},
    }
