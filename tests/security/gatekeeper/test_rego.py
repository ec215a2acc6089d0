"""Execute every ConstraintTemplate we ship with a real Rego interpreter (regopy / rego-cpp).

Each template is run against admission reviews of compliant and violating objects, so a template that
never denies anything — or denies everything — cannot pass. Constraint parameters are validated against
the template's own parameter schema, as the Gatekeeper API server would.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest
import regopy

from components.security.gatekeeper import constraints, templates
from tests.support.factories import mutate


def violations(kind: str, obj: dict[str, Any], parameters: dict[str, Any]) -> list[str]:
    template = templates.TEMPLATES[kind]
    manifest = templates.constraint_template(template, "testwerk")
    target = manifest["spec"]["targets"][0]
    interpreter = regopy.Interpreter()
    for i, lib in enumerate(target.get("libs", [])):
        interpreter.add_module(f"lib{i}", lib)
    interpreter.add_module("template", target["rego"])
    interpreter.set_input_term(
        json.dumps({"review": {"object": obj, "kind": {"kind": obj["kind"]}}, "parameters": parameters})
    )
    package = template.name
    result = json.loads(str(interpreter.query(f"x = data.{package}.violation")))
    assert "errors" not in result, result
    return sorted(v["msg"] for v in result["bindings"]["x"])


def container(name: str = "app", image: str = "registry.plant.local/press/plc-gateway:1.4.2") -> dict[str, Any]:
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


ALLOWED: dict[str, Any] = {"allowedImages": ["registry.plant.local/*", "docker.io/library/busybox:1.36"]}
TAGS: dict[str, Any] = {"tags": ["latest"]}
PROBES: dict[str, Any] = {
    "probes": ["readinessProbe", "livenessProbe"],
    "probeTypes": ["tcpSocket", "httpGet", "exec", "grpc"],
}
LABELS: dict[str, Any] = {
    "labels": [{"key": "app.kubernetes.io/name"}, {"key": "factory-floor.io/line", "allowedRegex": "^[a-z-]+$"}]
}


def test_compliant_pod_passes_every_template() -> None:
    obj = pod()
    obj["metadata"]["labels"]["factory-floor.io/line"] = "press"
    cases: list[tuple[str, dict[str, Any]]] = [
        ("K8sAllowedReposv2", ALLOWED),
        ("K8sDisallowedTags", TAGS),
        ("K8sContainerLimits", {}),
        ("K8sRequiredProbes", PROBES),
        ("K8sPSPHostNamespace", {}),
        ("K8sRequiredLabels", LABELS),
    ]
    for kind, parameters in cases:
        assert violations(kind, obj, parameters) == [], kind


@pytest.mark.parametrize(
    ("image", "allowed"),
    [
        ("registry.plant.local/press/plc-gateway:1.4.2", True),
        ("docker.io/library/busybox:1.36", True),  # exact entry
        ("docker.io/library/busybox:1.37", False),  # exact entries are not prefixes
        ("registry.plant.local.attacker.example/x:1", False),  # the bypass plain prefix matching allows
        ("ghcr.io/evil/miner:1.0", False),
        ("registry.plant.local", False),
    ],
)
def test_allowed_repos(image: str, allowed: bool) -> None:
    found = violations("K8sAllowedReposv2", pod(containers=[container(image=image)]), ALLOWED)
    assert (found == []) is allowed, found


def test_allowed_repos_checks_init_and_ephemeral_containers_of_every_workload_kind() -> None:
    bad = container("debug", "ghcr.io/evil/tool:1")
    for field in ("initContainers", "ephemeralContainers"):
        spec = {"containers": [container()], field: [bad]}
        for obj in (pod(**{field: [bad]}), deployment(spec), cronjob(spec)):
            found = violations("K8sAllowedReposv2", obj, ALLOWED)
            assert len(found) == 1 and field in found[0] and "ghcr.io/evil/tool:1" in found[0], (obj["kind"], found)


@pytest.mark.parametrize(
    ("image", "ok"),
    [
        ("registry.plant.local/a/b:1.2.3", True),
        ("registry.plant.local:5000/a/b:1.2.3", True),
        ("registry.plant.local/a/b@sha256:" + "a" * 64, True),
        ("registry.plant.local/a/b:latest", False),
        ("registry.plant.local/a/b", False),  # no tag means latest
        ("registry.plant.local:5000/a/b", False),  # a registry port is not a tag
    ],
)
def test_disallowed_tags(image: str, ok: bool) -> None:
    found = violations("K8sDisallowedTags", deployment({"containers": [container(image=image)]}), TAGS)
    assert (found == []) is ok, found


def test_disallowed_tags_honours_exempt_images() -> None:
    obj = pod(containers=[container(image="registry.plant.local/a/b:latest")])
    assert (
        violations("K8sDisallowedTags", obj, {"tags": ["latest"], "exemptImages": ["registry.plant.local/a/b:latest"]})
        == []
    )


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("resources.limits", {"cpu": "1"}, "has no limits.memory"),
        ("resources.requests", {"memory": "1Gi"}, "has no requests.cpu"),
        ("resources", {}, "has no limits.cpu"),
    ],
)
def test_container_limits(path: str, value: Any, expected: str) -> None:
    obj = pod(containers=[mutate(container(), path, value)])
    assert any(expected in v for v in violations("K8sContainerLimits", obj, {}))


def test_container_limits_judge_init_containers() -> None:
    init = container("init")
    del init["resources"]
    assert len(violations("K8sContainerLimits", pod(initContainers=[init]), {})) == 4


def test_required_probes() -> None:
    no_liveness = copy.deepcopy(container())
    del no_liveness["livenessProbe"]
    found = violations("K8sRequiredProbes", deployment({"containers": [no_liveness]}), PROBES)
    assert found == ['container <app> has no livenessProbe using one of ["tcpSocket", "httpGet", "exec", "grpc"]']
    # a probe of a type that is not allowed does not count
    odd = mutate(container(), "readinessProbe", {"initialDelaySeconds": 5})
    assert len(violations("K8sRequiredProbes", deployment({"containers": [odd]}), PROBES)) == 1
    # init containers are not asked for probes
    init = {"name": "init", "image": "registry.plant.local/x:1"}
    assert (
        violations("K8sRequiredProbes", deployment({"containers": [container()], "initContainers": [init]}), PROBES)
        == []
    )


@pytest.mark.parametrize("field", ["hostPID", "hostIPC", "hostNetwork"])
def test_host_namespaces(field: str) -> None:
    assert violations("K8sPSPHostNamespace", pod(**{field: False}), {}) == []
    found = violations("K8sPSPHostNamespace", cronjob({"containers": [container()], field: True}), {})
    assert found == [f"CronJob <report> sets {field}: true; sharing host namespaces is not allowed"]


def test_required_labels() -> None:
    obj = deployment({"containers": [container()]})
    found = violations("K8sRequiredLabels", obj, LABELS)
    assert found == ["Deployment <gateway> is missing the required label <factory-floor.io/line>"]
    obj["metadata"]["labels"]["factory-floor.io/line"] = "Press_1"
    assert violations("K8sRequiredLabels", obj, LABELS) == [
        "label <factory-floor.io/line: Press_1> of Deployment <gateway> does not match <^[a-z-]+$>"
    ]


def test_block_node_port() -> None:
    service: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "hmi"},
        "spec": {"type": "ClusterIP"},
    }
    assert violations("K8sBlockNodePort", service, {}) == []
    service["spec"]["type"] = "NodePort"
    assert violations("K8sBlockNodePort", service, {}) == ["Service <hmi> is of type NodePort, which is not allowed"]


def test_every_template_is_exercised_here() -> None:
    tested = {
        "K8sAllowedReposv2",
        "K8sDisallowedTags",
        "K8sContainerLimits",
        "K8sRequiredProbes",
        "K8sPSPHostNamespace",
        "K8sRequiredLabels",
        "K8sBlockNodePort",
    }
    assert set(templates.TEMPLATES) == tested


def test_constraint_parameters_match_their_template_schemas() -> None:
    specs = constraints.constraint_specs(["registry.plant.local/*"], ["factory-floor.io/line"])
    assert {s.kind for s in specs} == set(templates.TEMPLATES)
    for spec in specs:
        schema = templates.TEMPLATES[spec.kind].parameters
        jsonschema.validate(spec.parameters, schema)
        body = constraints.constraint(spec, "testwerk", "deny", ["kube-system"])
        assert body["spec"]["match"]["excludedNamespaces"] == ["kube-system"]


def test_schema_rejects_wrong_parameters() -> None:
    schema = templates.TEMPLATES["K8sAllowedReposv2"].parameters
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"allowedImages": "registry.plant.local/*"}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({}, schema)
