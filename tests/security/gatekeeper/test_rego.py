"""Execute every ConstraintTemplate we ship with a real Rego interpreter (regopy / rego-cpp).

Each template is run against admission reviews of compliant and violating objects, so a template that
never denies anything — or denies everything — cannot pass. Constraint parameters are validated against
the template's own parameter schema, as the Gatekeeper API server would.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest

from components.core.sizing import PROFILES, cpu, memory
from components.security.gatekeeper import constraints, line_constraints, templates
from components.security.gatekeeper.config import GatekeeperConfig
from tests.support.factories import DELETE, mutate
from tests.support.gatekeeper import container, cronjob, deployment, pod, violations

ALLOWED: dict[str, Any] = {"allowedImages": ["registry.plant.local/*", "docker.io/library/busybox:1.36"]}
TAGS: dict[str, Any] = {"tagPatterns": list(GatekeeperConfig().immutable_tags)}
PROBES: dict[str, Any] = {
    "probes": ["readinessProbe", "livenessProbe"],
    "probeTypes": ["tcpSocket", "httpGet", "exec", "grpc"],
}
LABELS: dict[str, Any] = {
    "labels": [{"key": "app.kubernetes.io/name"}, {"key": "factory-floor.io/line", "allowedRegex": "^[a-z-]+$"}]
}
MAXIMUMS: dict[str, Any] = {"cpu": "1", "memory": "2Gi"}


def test_compliant_pod_passes_every_template() -> None:
    obj = pod()
    obj["metadata"]["labels"]["factory-floor.io/line"] = "press"
    cases: list[tuple[str, dict[str, Any]]] = [
        ("K8sAllowedReposv2", ALLOWED),
        ("K8sImmutableTags", TAGS),
        ("K8sContainerLimits", MAXIMUMS),
        ("K8sContainerLimits", {}),
        ("K8sContainerRequests", MAXIMUMS),
        ("K8sContainerRequests", {}),
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
        ("registry.plant.local/a/b:latest@sha256:" + "a" * 64, True),  # the digest decides, not the tag
        ("registry.plant.local/a/b:latest", False),
        ("registry.plant.local/a/b", False),  # no tag means latest
        ("registry.plant.local:5000/a/b", False),  # a registry port is not a tag
        ("registry.plant.local/a/b:main", False),
        ("registry.plant.local/a/b:3.20", False),  # a minor moves with every patch
        ("registry.plant.local/a/b@sha256:abc", False),  # not a digest: judged as an image without a tag
    ],
)
def test_immutable_tags(image: str, ok: bool) -> None:
    found = violations("K8sImmutableTags", deployment({"containers": [container(image=image)]}), TAGS)
    assert (found == []) is ok, found


def test_immutable_tags_honours_exempt_images() -> None:
    obj = pod(containers=[container(image="registry.plant.local/a/b:latest")])
    parameters = {**TAGS, "exemptImages": ["registry.plant.local/a/*"]}
    assert violations("K8sImmutableTags", obj, parameters) == []


RESOURCE_TEMPLATES = {"limits": "K8sContainerLimits", "requests": "K8sContainerRequests"}


def sized(kind: str, name: str = "app", image: str | None = None, **values: Any) -> dict[str, Any]:
    """A container whose resources.<kind> ("limits" or "requests") is exactly `values`; the other kind stays."""
    c = container(name) if image is None else container(name, image)
    c["resources"][kind] = values
    return c


def unsized(name: str = "app", image: str = "registry.plant.local/press/plc-gateway:1.4.2") -> dict[str, Any]:
    return mutate(container(name, image), "resources", DELETE)


@pytest.mark.parametrize(
    ("resource", "value", "maximum", "above"),
    [
        # CPU: cores as decimals, millicores; equal to the maximum is allowed
        ("cpu", "1", "1", False),
        ("cpu", "1000m", "1", False),
        ("cpu", "1.0", "1", False),
        ("cpu", ".5", "1", False),
        ("cpu", "1001m", "1", True),
        ("cpu", "1.5", "1", True),
        ("cpu", "2", "1", True),
        ("cpu", "0.3", "300m", False),  # exact, not 300.00000000000006
        ("cpu", "0.301", "300m", True),
        ("cpu", "300.5m", "300m", True),
        # memory, binary suffixes
        ("memory", "2Gi", "2Gi", False),
        ("memory", "2048Mi", "2Gi", False),
        ("memory", "2097152Ki", "2Gi", False),
        ("memory", "1.5Gi", "2Gi", False),
        ("memory", "2049Mi", "2Gi", True),
        ("memory", "2097153Ki", "2Gi", True),
        ("memory", "0.002Ti", "2Gi", True),
        ("memory", "3Gi", "2Gi", True),
        # memory, decimal suffixes, plain bytes and millibytes, compared with a binary maximum
        ("memory", "2G", "2Gi", False),
        ("memory", "2.5G", "2Gi", True),
        ("memory", "2147483648", "2Gi", False),
        ("memory", "2147483649", "2Gi", True),
        ("memory", "2147483648000m", "2Gi", False),
        ("memory", "2147483649000m", "2Gi", True),
        ("memory", "2000000k", "2Gi", False),
        ("memory", "0.001P", "2Gi", True),
        # a decimal maximum, compared with binary values
        ("memory", "2000M", "2G", False),
        ("memory", "1907Mi", "2G", False),
        ("memory", "1908Mi", "2G", True),
        ("memory", "0.002T", "2G", False),
        ("memory", "1Ei", "1E", True),
    ],
)
@pytest.mark.parametrize("kind", ["limits", "requests"])
def test_container_resources_above_the_maximum(kind: str, resource: str, value: str, maximum: str, above: bool) -> None:
    template, noun = RESOURCE_TEMPLATES[kind], kind[:-1]
    other = {"cpu": "500m", "memory": "256Mi"}
    parameters = {**MAXIMUMS, resource: maximum}
    obj = pod(containers=[sized(kind, **{**other, resource: value})])
    expected = [f"container <app> {resource} {noun} <{value}> is higher than the maximum allowed of <{maximum}>"]
    assert violations(template, obj, parameters) == (expected if above else [])


@pytest.mark.parametrize("profile", list(PROFILES))
def test_each_profile_caps_limits_at_its_container_maximum(profile: Any) -> None:
    """The parameters we apply parse, and mean the LimitRange's maximum: equal passes, one unit more fails."""
    spec = next(s for s in constraints.constraint_specs([], [], profile) if s.name == "container-limits")
    sizing = PROFILES[profile].container
    assert spec.parameters == {"cpu": cpu(sizing.max_cpu_m), "memory": memory(sizing.max_memory_mi)}
    at_max = {"cpu": f"{sizing.max_cpu_m}m", "memory": f"{sizing.max_memory_mi}Mi"}
    assert violations("K8sContainerLimits", pod(containers=[sized("limits", **at_max)]), spec.parameters) == []
    above = {"cpu": f"{sizing.max_cpu_m + 1}m", "memory": f"{sizing.max_memory_mi + 1}Mi"}
    found = violations("K8sContainerLimits", pod(containers=[sized("limits", **above)]), spec.parameters)
    assert found == [
        f"container <app> cpu limit <{above['cpu']}> is higher than the maximum allowed of <{spec.parameters['cpu']}>",
        f"container <app> memory limit <{above['memory']}> is higher than the maximum allowed of "
        f"<{spec.parameters['memory']}>",
    ]


@pytest.mark.parametrize("kind", ["limits", "requests"])
def test_container_resources_must_be_present(kind: str) -> None:
    template, noun = RESOURCE_TEMPLATES[kind], kind[:-1]

    def found(c: dict[str, Any], parameters: dict[str, Any] = MAXIMUMS) -> list[str]:
        return violations(template, pod(containers=[c]), parameters)

    assert found(unsized()) == [f"container <app> has no resource {kind}"]
    assert found(mutate(container(), f"resources.{kind}", DELETE)) == [f"container <app> has no resource {kind}"]
    assert found(sized(kind)) == [f"container <app> has no cpu {noun}", f"container <app> has no memory {noun}"]
    assert found(sized(kind, cpu="500m")) == [f"container <app> has no memory {noun}"]
    assert found(sized(kind, memory="256Mi")) == [f"container <app> has no cpu {noun}"]
    # without maximums only presence is judged: memory always, cpu for requests (limits: see below)
    assert found(sized(kind, cpu="64", memory="64Gi"), {}) == []
    assert found(sized(kind, cpu="500m"), {}) == [f"container <app> has no memory {noun}"]
    # a workload's pod template is judged like a Pod
    assert violations(template, deployment({"containers": [unsized()]}), MAXIMUMS) == [
        f"container <app> has no resource {kind}"
    ]


@pytest.mark.parametrize("kind", ["limits", "requests"])
@pytest.mark.parametrize(
    ("resource", "value"),
    [
        ("cpu", "1 core"),
        ("cpu", "1e3"),
        ("cpu", "1k"),
        ("cpu", "-1"),
        ("memory", "2 GB"),
        ("memory", "2gi"),
        ("memory", "1e9"),
        ("memory", "Mi"),
    ],
)
def test_unparsable_quantities_are_reported(kind: str, resource: str, value: str) -> None:
    template, noun = RESOURCE_TEMPLATES[kind], kind[:-1]
    obj = pod(containers=[sized(kind, **{"cpu": "500m", "memory": "256Mi", resource: value})])
    assert violations(template, obj, MAXIMUMS) == [f"container <app> {resource} {noun} <{value}> could not be parsed"]


def test_cpu_minus_one_or_no_cpu_parameter_leaves_cpu_limits_alone() -> None:
    no_cpu = sized("limits", memory="256Mi")
    bad_cpu = sized("limits", cpu="lots", memory="256Mi")
    high_cpu = sized("limits", cpu="64", memory="256Mi")
    for parameters in ({"cpu": "-1", "memory": "2Gi"}, {"cpu": -1, "memory": "2Gi"}, {"memory": "2Gi"}):
        for c in (no_cpu, bad_cpu, high_cpu):
            assert violations("K8sContainerLimits", pod(containers=[c]), parameters) == [], (parameters, c)
    # memory is judged all the same: presence, parsing and the maximum
    judged = [
        (sized("limits"), "container <app> has no memory limit"),
        (sized("limits", memory="lots"), "container <app> memory limit <lots> could not be parsed"),
        (
            sized("limits", memory="3Gi"),
            "container <app> memory limit <3Gi> is higher than the maximum allowed of <2Gi>",
        ),
        (unsized(), "container <app> has no resource limits"),
    ]
    for c, message in judged:
        assert violations("K8sContainerLimits", pod(containers=[c]), {"cpu": "-1", "memory": "2Gi"}) == [message]


def test_cpu_minus_one_means_nothing_for_requests() -> None:
    """No "-1" for requests: cpu presence stays required, and "-1" is no maximum (so none is applied)."""
    parameters = {"cpu": "-1", "memory": "2Gi"}
    assert violations("K8sContainerRequests", pod(containers=[sized("requests", memory="256Mi")]), parameters) == [
        "container <app> has no cpu request"
    ]
    assert (
        violations("K8sContainerRequests", pod(containers=[sized("requests", cpu="64", memory="256Mi")]), parameters)
        == []
    )


def test_memory_parameter_absent_skips_only_the_memory_maximum() -> None:
    assert (
        violations("K8sContainerLimits", pod(containers=[sized("limits", cpu="1", memory="64Gi")]), {"cpu": "1"}) == []
    )
    assert violations("K8sContainerLimits", pod(containers=[sized("limits", cpu="1")]), {"cpu": "1"}) == [
        "container <app> has no memory limit"
    ]


@pytest.mark.parametrize("template", ["K8sContainerLimits", "K8sContainerRequests"])
def test_container_resources_honour_exempt_images(template: str) -> None:
    image = "registry.plant.local/press/plc-gateway:1.4.2"
    cases = [
        (["registry.plant.local/press/plc-gateway:1.4.2"], True),  # exact
        (["registry.plant.local/press/*"], True),  # prefix ending in '*'
        (["registry.plant.local/*"], True),
        (["registry.plant.local/press/plc-gateway:1.4.3"], False),  # exact entries are not prefixes
        (["registry.plant.local/press/"], False),  # neither is an entry without '*'
        (["registry.plant.local/hmi/*"], False),
        ([], False),
    ]
    for exempt, skipped in cases:
        parameters = {**MAXIMUMS, "exemptImages": exempt}
        found = violations(template, pod(containers=[unsized(image=image)]), parameters)
        assert (found == []) is skipped, (exempt, found)
    # an exempt image exempts only its own container
    parameters = {**MAXIMUMS, "exemptImages": ["registry.plant.local/tools/*"]}
    obj = pod(containers=[unsized("tool", "registry.plant.local/tools/x:1"), unsized()])
    assert len(violations(template, obj, parameters)) == 1


@pytest.mark.parametrize("kind", ["limits", "requests"])
def test_container_resources_judge_init_but_not_ephemeral_containers(kind: str) -> None:
    template, noun = RESOURCE_TEMPLATES[kind], kind[:-1]
    # the API refuses resources on ephemeral containers: asking for them would refuse every `kubectl debug`
    debug = {"name": "debug", "image": "registry.plant.local/tools/debug:1"}
    obj = pod(initContainers=[unsized("init")], ephemeralContainers=[debug])
    assert violations(template, obj, MAXIMUMS) == [f"container <init> has no resource {kind}"]
    obj = pod(initContainers=[sized(kind, "init", cpu="2", memory="256Mi")])
    assert violations(template, obj, MAXIMUMS) == [
        f"container <init> cpu {noun} <2> is higher than the maximum allowed of <1>"
    ]
    spec = {"containers": [container()], "initContainers": [unsized("init")], "ephemeralContainers": [debug]}
    assert violations(template, cronjob(spec), MAXIMUMS) == [f"container <init> has no resource {kind}"]


@pytest.mark.parametrize("kind", ["limits", "requests"])
def test_container_resources_accept_numbers_as_parameters(kind: str) -> None:
    """As in the library's samples: a number is cores for cpu and bytes for memory."""
    template, noun = RESOURCE_TEMPLATES[kind], kind[:-1]
    parameters = {"cpu": 1, "memory": 2 * 1024**3}
    jsonschema.validate(parameters, templates.TEMPLATES[template].parameters)
    assert violations(template, pod(containers=[sized(kind, cpu="1000m", memory="2Gi")]), parameters) == []
    assert violations(template, pod(containers=[sized(kind, cpu="1001m", memory="2049Mi")]), parameters) == [
        f"container <app> cpu {noun} <1001m> is higher than the maximum allowed of <1>",
        f"container <app> memory {noun} <2049Mi> is higher than the maximum allowed of <2147483648>",
    ]


@pytest.mark.parametrize("template", ["K8sContainerLimits", "K8sContainerRequests"])
def test_resource_schemas_take_quantities_as_strings_or_integers(template: str) -> None:
    schema = templates.TEMPLATES[template].parameters
    for good in ({}, {"cpu": "500m", "memory": "2Gi"}, {"cpu": 2, "memory": 1024}, {"exemptImages": ["a/b:*"]}):
        jsonschema.validate(good, schema)
    for bad in ({"cpu": True}, {"memory": ["2Gi"]}, {"cpu": 0.5}, {"exemptImages": "registry.plant.local/*"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)
    # structural for the CRD Gatekeeper generates: a quantity is int-or-string, not an untyped anyOf
    for field in ("cpu", "memory"):
        assert schema["properties"][field]["x-kubernetes-int-or-string"] is True


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


def test_host_namespaces_skip_updates_of_pods_only() -> None:
    """A Pod's host namespaces are immutable: refusing an UPDATE of an existing Pod (labels, finalizers) would
    only block its deletion. A Deployment's pod template can change, so its UPDATE is judged."""
    existing = pod(hostPID=True)
    message = "Pod <gateway> sets hostPID: true; sharing host namespaces is not allowed"
    assert violations("K8sPSPHostNamespace", existing, {}, "UPDATE") == []
    assert violations("K8sPSPHostNamespace", existing, {}, "CREATE") == [message]
    assert violations("K8sPSPHostNamespace", existing, {}) == [message]  # audit: no operation, still reported
    changed = deployment({"containers": [container()], "hostPID": True})
    assert violations("K8sPSPHostNamespace", changed, {}, "UPDATE") == [
        "Deployment <gateway> sets hostPID: true; sharing host namespaces is not allowed"
    ]
    assert violations("K8sPSPHostNamespace", cronjob(changed["spec"]["template"]["spec"]), {}, "UPDATE") != []


def test_required_probes_skip_updates_of_pods_only() -> None:
    """A Pod's probes are immutable too; a Deployment gaining a container without probes is judged."""
    no_liveness = mutate(container(), "livenessProbe", DELETE)
    message = 'container <app> has no livenessProbe using one of ["tcpSocket", "httpGet", "exec", "grpc"]'
    existing = pod(containers=[no_liveness])
    assert violations("K8sRequiredProbes", existing, PROBES, "UPDATE") == []
    assert violations("K8sRequiredProbes", existing, PROBES, "CREATE") == [message]
    assert violations("K8sRequiredProbes", existing, PROBES) == [message]
    assert violations("K8sRequiredProbes", deployment({"containers": [no_liveness]}), PROBES, "UPDATE") == [message]


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


def service(name: str = "hmi", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "line-press", "labels": {"app.kubernetes.io/name": name}},
        "spec": {
            "type": "ClusterIP",
            "selector": {"app.kubernetes.io/name": name},
            "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}],
            **spec,
        },
    }


# CVE-2020-8554, as a line team member would `kubectl apply -f` it in their own namespace: a plain ClusterIP
# Service whose externalIPs name the API server's address, so kube-proxy on every node hands the traffic
# nodes and platform components send to 10.0.0.1:6443 to the team's own pod
API_SERVER_INTERCEPT: dict[str, Any] = service(
    "api-intercept",
    ports=[{"name": "https", "port": 6443, "targetPort": 6443, "protocol": "TCP"}],
    externalIPs=["10.0.0.1"],
)
# an in-cluster name that resolves to a host of the team's choice (a CNAME kube-dns answers for it)
EXTERNAL_NAME_ALIAS: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "vault", "namespace": "line-press"},
    "spec": {"type": "ExternalName", "externalName": "exfil.attacker.example"},
}


def applied(name: str) -> dict[str, Any]:
    """The parameters of a constraint as the stack applies it."""
    return next(s for s in constraints.constraint_specs([], [], "site") if s.name == name).parameters


@pytest.mark.parametrize("operation", ["CREATE", "UPDATE", None])
def test_external_ips_refuse_the_api_server_intercept(operation: str | None) -> None:
    """Refused at admission (CREATE), when added to an existing Service (UPDATE: Services are mutable) and
    reported by the audit (no operation) for a Service admitted before the constraint."""
    parameters = applied("no-external-ips")
    assert parameters == {"allowedIPs": []}
    assert violations("K8sExternalIPs", API_SERVER_INTERCEPT, parameters, operation) == [
        'Service <api-intercept> has forbidden external IPs: ["10.0.0.1"]'
    ]


def test_external_ips_pass_only_the_allowed_addresses() -> None:
    parameters = {"allowedIPs": ["10.0.0.1", "192.168.10.20"]}
    jsonschema.validate(parameters, templates.TEMPLATES["K8sExternalIPs"].parameters)
    assert violations("K8sExternalIPs", API_SERVER_INTERCEPT, parameters) == []
    # exact match, and only the addresses that are not listed are reported
    claims = service("gateway", externalIPs=["192.168.10.20", "192.168.10.2", "10.0.0.10"])
    assert violations("K8sExternalIPs", claims, parameters, "UPDATE") == [
        'Service <gateway> has forbidden external IPs: ["10.0.0.10", "192.168.10.2"]'
    ]
    # without the parameter nothing is allowed, as in the library
    assert violations("K8sExternalIPs", API_SERVER_INTERCEPT, {}) != []


@pytest.mark.parametrize("operation", ["CREATE", "UPDATE", None])
def test_plain_services_pass_the_service_templates(operation: str | None) -> None:
    for plain in (service(), service(externalIPs=[]), service(type="LoadBalancer")):
        assert violations("K8sExternalIPs", plain, applied("no-external-ips"), operation) == []
        assert violations("K8sBlockExternalName", plain, applied("no-external-name-services"), operation) == []


@pytest.mark.parametrize("operation", ["CREATE", "UPDATE", None])
def test_external_name_services_are_refused(operation: str | None) -> None:
    """Also when an existing ClusterIP Service is changed to ExternalName (UPDATE)."""
    message = "Service <vault> is of type ExternalName (an alias for <exfil.attacker.example>), which is not allowed"
    parameters = applied("no-external-name-services")
    assert parameters == {}
    assert violations("K8sBlockExternalName", EXTERNAL_NAME_ALIAS, parameters, operation) == [message]


def test_service_constraints_judge_services_outside_the_platform_namespaces() -> None:
    for name in ("no-external-ips", "no-external-name-services"):
        spec = next(s for s in constraints.constraint_specs([], [], "edge-small") if s.name == name)
        body = constraints.constraint(spec, "testwerk", "deny", ["kube-system", "gatekeeper-system"])
        assert body["spec"]["match"] == {
            "kinds": [{"apiGroups": [""], "kinds": ["Service"]}],
            "excludedNamespaces": ["gatekeeper-system", "kube-system"],
        }
        assert body["spec"]["enforcementAction"] == "deny"


def test_every_template_is_exercised_here() -> None:
    tested = {
        "K8sAllowedReposv2",
        "K8sImmutableTags",
        "K8sLineLabel",
        "K8sLineScheduling",
        "K8sDisruptionAllowed",
        "K8sAllowedInlineCSIDrivers",
        "K8sAllowedRuntimeClasses",
        "K8sContainerLimits",
        "K8sContainerRequests",
        "K8sRequiredProbes",
        "K8sPSPHostNamespace",
        "K8sRequiredLabels",
        "K8sBlockNodePort",
        "K8sExternalIPs",
        "K8sBlockExternalName",
    }
    assert set(templates.TEMPLATES) == tested


@pytest.mark.parametrize("profile", list(PROFILES))
def test_constraint_parameters_match_their_template_schemas(profile: Any) -> None:
    specs = constraints.constraint_specs(["registry.plant.local/*"], ["factory-floor.io/line"], profile)
    specs += line_constraints.line_specs(GatekeeperConfig())
    assert {s.kind for s in specs} == set(templates.TEMPLATES)
    assert {"container-limits", "container-requests"} <= {s.name for s in specs}
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
