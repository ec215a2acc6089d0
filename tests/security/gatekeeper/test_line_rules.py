"""What a line's workloads may ask of the cluster (#9 finding 11 and its low items), through the templates with
regopy and the parameters exactly as a stack applies them: each attack a line team member would `kubectl apply`
is refused, next to the legitimate object that must still pass, on CREATE, UPDATE and in the audit."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest

from components.config.loader import load_factory_config
from components.config.problems import FactoryConfigError
from components.core import vocabulary as vocab
from components.security.gatekeeper import constraints, line_constraints, templates
from components.security.gatekeeper.config import GatekeeperConfig
from tests.support.factories import mutate, valid_raw
from tests.support.gatekeeper import container, cronjob, deployment, pod, violations


def gatekeeper_config(**keys: Any) -> GatekeeperConfig:
    """`security.gatekeeper` as a stack file spells it."""
    return GatekeeperConfig.model_validate(keys)


def applied(name: str, gatekeeper: GatekeeperConfig | None = None) -> dict[str, Any]:
    """A constraint's parameters as the stack applies them (default config unless given)."""
    specs = line_constraints.line_specs(gatekeeper or GatekeeperConfig())
    return next(s for s in specs if s.name == name).parameters


def labelled(obj: dict[str, Any], line: str | None) -> dict[str, Any]:
    """The object with the line label on itself and every template it hands on (None: removed everywhere)."""
    result = copy.deepcopy(obj)
    places = [result["metadata"]]
    if result["kind"] == "CronJob":
        job = result["spec"]["jobTemplate"]
        places += [job.setdefault("metadata", {}), job["spec"]["template"].setdefault("metadata", {})]
    elif result["kind"] != "Pod":
        places.append(result["spec"]["template"].setdefault("metadata", {}))
    for metadata in places:
        labels = metadata.setdefault("labels", {})
        if line is None:
            labels.pop(vocab.LINE, None)
        else:
            labels[vocab.LINE] = line
    return result


def job(pod_spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "export", "namespace": "line-press", "labels": {vocab.NAME: "export"}},
        "spec": {"template": {"metadata": {}, "spec": pod_spec}},
    }


SPEC = {"containers": [container()], "restartPolicy": "Never"}


# --- the line label tells the truth --------------------------------------------------------------------


@pytest.mark.parametrize("make", [pod, lambda: deployment(SPEC), lambda: job(SPEC), lambda: cronjob(SPEC)])
@pytest.mark.parametrize("operation", ["CREATE", None])
def test_a_workload_naming_another_line_is_refused(make: Any, operation: str | None) -> None:
    """A team member in line-press labels a workload `paint`: its metrics, alerts and costs would be the paint
    line's. Refused on the object and on every template it hands on; the press label passes."""
    parameters = applied("line-label")
    honest = labelled(make(), "press")
    assert violations("K8sLineLabel", honest, parameters, operation) == []
    borrowed = labelled(make(), "paint")
    found = violations("K8sLineLabel", borrowed, parameters, operation)
    places = {"Pod": 1, "Deployment": 2, "Job": 2, "CronJob": 3}[borrowed["kind"]]
    assert len(found) == places, found
    assert all("names another line; it must be <press>" in message for message in found), found
    unlabelled = labelled(make(), None)
    assert len(violations("K8sLineLabel", unlabelled, parameters, operation)) == places


def test_a_template_without_the_label_is_refused_even_when_the_workload_has_it() -> None:
    obj = labelled(deployment(SPEC), "press")
    del obj["spec"]["template"]["metadata"]["labels"][vocab.LINE]
    assert violations("K8sLineLabel", obj, applied("line-label")) == [
        f"Deployment <gateway> in line-press: its pod template labels have no <{vocab.LINE}>; set it to <press>"
    ]


def test_the_line_comes_from_the_request_namespace_and_other_namespaces_are_not_judged() -> None:
    parameters = applied("line-label")
    obj = labelled(deployment(SPEC), "press")
    del obj["metadata"]["namespace"]  # `kubectl apply -n line-paint` of a manifest without a namespace
    assert len(violations("K8sLineLabel", obj, parameters, "CREATE", namespace="line-paint")) == 2
    assert violations("K8sLineLabel", obj, parameters, "CREATE", namespace="line-press") == []
    for namespace in ("default", "tools", vocab.LINE_NAMESPACE_PREFIX):
        assert violations("K8sLineLabel", labelled(obj, None), parameters, "CREATE", namespace=namespace) == []


def test_line_label_updates() -> None:
    """Labels can change: relabelling is judged. A Pod admitted before the constraint whose label an UPDATE
    leaves as it was (a controller removing its finalizer) is not refused; the audit still reports it."""
    parameters = applied("line-label")
    before = labelled(pod(), None)
    housekeeping = copy.deepcopy(before)
    housekeeping["metadata"]["finalizers"] = []
    assert violations("K8sLineLabel", housekeeping, parameters, "UPDATE", old=before) == []
    assert len(violations("K8sLineLabel", housekeeping, parameters)) == 1  # audit
    relabelled = labelled(pod(), "paint")
    assert len(violations("K8sLineLabel", relabelled, parameters, "UPDATE", old=labelled(pod(), "press"))) == 1
    assert len(violations("K8sLineLabel", labelled(pod(), None), parameters, "UPDATE", old=labelled(pod(), "press")))
    # a workload's update is judged whatever it was before: its template makes new pods
    stale = labelled(deployment(SPEC), None)
    assert len(violations("K8sLineLabel", stale, parameters, "UPDATE", old=stale)) == 2


@pytest.mark.parametrize("make", [lambda: job(SPEC), lambda: cronjob(SPEC)])
def test_attribution_labels_judge_jobs_and_cronjobs(make: Any) -> None:
    spec = next(s for s in constraints.constraint_specs([], [vocab.NAME], "site") if s.name == "attribution-labels")
    assert {"apiGroups": ["batch"], "kinds": ["Job", "CronJob"]} in spec.kinds
    obj = make()
    obj["metadata"]["labels"] = {}
    if obj["kind"] == "CronJob":
        obj["spec"]["jobTemplate"]["metadata"] = {"labels": {vocab.NAME: "report"}}
    assert violations("K8sRequiredLabels", obj, spec.parameters) == [
        f"{obj['kind']} <{obj['metadata']['name']}> is missing the required label <{vocab.NAME}>"
    ]
    obj["metadata"]["labels"][vocab.NAME] = "export"
    assert violations("K8sRequiredLabels", obj, spec.parameters) == []


def test_a_cronjob_whose_jobs_would_be_refused_is_refused_itself() -> None:
    """The Jobs a CronJob creates carry its job template's labels: without the required ones there, each Job
    would be refused when the schedule fires. The CronJob is refused at apply instead."""
    spec = next(s for s in constraints.constraint_specs([], [vocab.NAME], "site") if s.name == "attribution-labels")
    obj = cronjob(SPEC)
    obj["metadata"]["labels"] = {vocab.NAME: "report"}
    assert violations("K8sRequiredLabels", obj, spec.parameters) == [
        f"CronJob <report>: its job template is missing the required label <{vocab.NAME}> (the Jobs it creates "
        "would be refused)"
    ]
    obj["spec"]["jobTemplate"]["metadata"] = {"labels": {vocab.NAME: "report"}}
    assert violations("K8sRequiredLabels", obj, spec.parameters) == []
    pattern = {"labels": [{"key": vocab.NAME, "allowedRegex": "^[a-z-]+$"}]}
    obj["spec"]["jobTemplate"]["metadata"]["labels"][vocab.NAME] = "Report_1"
    assert violations("K8sRequiredLabels", obj, pattern) == [
        f"label <{vocab.NAME}: Report_1> of CronJob <report>'s job template does not match <^[a-z-]+$>"
    ]


# --- placement is the scheduler's ---------------------------------------------------------------------

CONTROL_PLANE = {"key": vocab.CONTROL_PLANE_TAINT, "operator": "Exists", "effect": "NoSchedule"}
TOLERATIONS_REFUSED = {
    "control-plane": [CONTROL_PLANE],
    "legacy master": [{"key": vocab.LEGACY_MASTER_TAINT, "operator": "Exists", "effect": "NoSchedule"}],
    "etcd-only node": [{"key": vocab.ETCD_TAINT, "operator": "Exists", "effect": "NoExecute"}],
    # k3s/RKE2 servers and AKS system pools keep CriticalAddonsOnly=true:NoExecute for the cluster's own add-ons
    "critical add-ons": [
        {"key": vocab.CRITICAL_ADDONS_TAINT, "operator": "Equal", "value": "true", "effect": "NoExecute"}
    ],
    "control-plane by value": [{"key": vocab.CONTROL_PLANE_TAINT, "operator": "Equal", "value": ""}],
    "every taint": [{"operator": "Exists"}],
    "every taint, empty key": [{"key": "", "operator": "Exists", "effect": "NoExecute"}],
}
TOLERATIONS_ADMITTED = [
    {"key": "plant.example/line", "operator": "Equal", "value": "press", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
]


@pytest.mark.parametrize("case", list(TOLERATIONS_REFUSED))
@pytest.mark.parametrize("make", [pod, lambda **spec: deployment({**SPEC, **spec}), lambda **s: cronjob({**SPEC, **s})])
def test_control_plane_and_wildcard_tolerations_are_refused(case: str, make: Any) -> None:
    parameters = applied("line-scheduling")
    assert parameters == {
        "forbiddenTolerationKeys": [
            vocab.CONTROL_PLANE_TAINT,
            vocab.LEGACY_MASTER_TAINT,
            vocab.ETCD_TAINT,
            vocab.CRITICAL_ADDONS_TAINT,
        ]
    }
    found = violations("K8sLineScheduling", make(tolerations=TOLERATIONS_REFUSED[case]), parameters)
    assert len(found) == 1 and ("control-plane taint" in found[0] or "every taint" in found[0]), found
    assert violations("K8sLineScheduling", make(tolerations=TOLERATIONS_ADMITTED), parameters) == []


@pytest.mark.parametrize("make", [pod, lambda **spec: deployment({**SPEC, **spec}), lambda **s: cronjob({**SPEC, **s})])
def test_node_name_is_refused(make: Any) -> None:
    """A team member pins a pod onto the control-plane node by name, past the scheduler and every taint."""
    found = violations("K8sLineScheduling", make(nodeName="cp-1"), applied("line-scheduling"), "CREATE")
    assert len(found) == 1 and "sets nodeName <cp-1>" in found[0], found
    assert (
        violations(
            "K8sLineScheduling", make(nodeSelector={"plant.example/zone": "press"}), {**applied("line-scheduling")}
        )
        == []
    )


def test_scheduling_updates_of_pods() -> None:
    """The scheduler sets a Pod's nodeName (pods/binding); every later UPDATE carries it and must pass. A Pod's
    tolerations can only grow: an UPDATE is judged on those it gains. Workload updates are judged whole."""
    parameters = applied("line-scheduling")
    scheduled = pod(nodeName="edge-1", tolerations=TOLERATIONS_ADMITTED)
    relabelled = copy.deepcopy(scheduled)
    relabelled["metadata"]["labels"]["release"] = "2"
    assert violations("K8sLineScheduling", relabelled, parameters, "UPDATE", old=scheduled) == []
    gaining = pod(nodeName="edge-1", tolerations=[*TOLERATIONS_ADMITTED, CONTROL_PLANE])
    assert len(violations("K8sLineScheduling", gaining, parameters, "UPDATE", old=scheduled)) == 1
    assert violations("K8sLineScheduling", gaining, parameters, "UPDATE", old=gaining) == []
    assert len(violations("K8sLineScheduling", gaining, parameters)) == 2  # audit: nodeName and the toleration
    template = deployment({**SPEC, "tolerations": [CONTROL_PLANE]})
    assert len(violations("K8sLineScheduling", template, parameters, "UPDATE", old=template)) == 1


# --- node drains can evict ----------------------------------------------------------------------------


def pdb(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "gateway", "namespace": "line-press"},
        "spec": {"selector": {"matchLabels": {vocab.NAME: "gw"}}, **spec},
    }


@pytest.mark.parametrize("operation", ["CREATE", "UPDATE", None])
@pytest.mark.parametrize(
    ("spec", "refused"),
    [
        ({"maxUnavailable": 0}, True),
        ({"maxUnavailable": "0%"}, True),
        ({"minAvailable": "100%"}, True),
        ({"maxUnavailable": 1}, False),
        ({"maxUnavailable": "25%"}, False),
        ({"minAvailable": 1}, False),  # equal to the replicas or not: the PDB alone cannot tell
        ({"minAvailable": "50%"}, False),
        ({"minAvailable": "99%"}, False),
    ],
)
def test_zero_disruption_budgets_are_refused(spec: dict[str, Any], refused: bool, operation: str | None) -> None:
    found = violations("K8sDisruptionAllowed", pdb(**spec), applied("pdb-allows-disruption"), operation)
    assert (len(found) == 1 and "no pod may ever be evicted" in found[0]) is refused, found
    assert refused or found == []


# --- inline CSI volumes and runtime classes ----------------------------------------------------------

SECRETS_STORE = {
    "name": "vault",
    "csi": {"driver": "secrets-store.csi.k8s.io", "readOnly": True, "volumeAttributes": {"secretProviderClass": "x"}},
}
EPHEMERAL_CLAIM = {
    "name": "scratch",
    "ephemeral": {"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"], "resources": {}}}},
}


@pytest.mark.parametrize("make", [pod, lambda **spec: deployment({**SPEC, **spec}), lambda **s: cronjob({**SPEC, **s})])
def test_inline_csi_volumes_only_of_allowed_drivers(make: Any) -> None:
    """By default no inline CSI driver: a secrets-store volume would read whatever its provider can."""
    default = applied("inline-csi-drivers")
    assert default == {"allowedDrivers": []}
    found = violations("K8sAllowedInlineCSIDrivers", make(volumes=[SECRETS_STORE]), default)
    assert len(found) == 1 and "driver <secrets-store.csi.k8s.io>" in found[0], found
    ordinary = [EPHEMERAL_CLAIM, {"name": "cfg", "configMap": {"name": "cfg"}}]
    assert violations("K8sAllowedInlineCSIDrivers", make(volumes=ordinary), default) == []
    allowed = applied("inline-csi-drivers", gatekeeper_config(inlineCsiDrivers=["secrets-store.csi.k8s.io"]))
    assert violations("K8sAllowedInlineCSIDrivers", make(volumes=[SECRETS_STORE]), allowed) == []


@pytest.mark.parametrize("make", [pod, lambda **spec: deployment({**SPEC, **spec}), lambda **s: cronjob({**SPEC, **s})])
def test_runtime_class_unset_or_allowed(make: Any) -> None:
    default = applied("runtime-classes")
    assert default == {"allowedRuntimeClasses": []}
    found = violations("K8sAllowedRuntimeClasses", make(runtimeClassName="runc-privileged"), default)
    assert len(found) == 1 and "RuntimeClass <runc-privileged>" in found[0], found
    assert violations("K8sAllowedRuntimeClasses", make(), default) == []
    allowed = applied("runtime-classes", gatekeeper_config(runtimeClasses=["gvisor"]))
    assert violations("K8sAllowedRuntimeClasses", make(runtimeClassName="gvisor"), allowed) == []
    assert len(violations("K8sAllowedRuntimeClasses", make(runtimeClassName="kata"), allowed)) == 1


def test_immutable_pod_fields_skip_pod_updates_only() -> None:
    """Volumes and runtimeClassName of a Pod cannot change: an UPDATE of one admitted before is not refused
    (its deletion and controllers need them); the audit reports it; a workload's UPDATE is judged."""
    for template, spec in (
        ("K8sAllowedInlineCSIDrivers", {"volumes": [SECRETS_STORE]}),
        ("K8sAllowedRuntimeClasses", {"runtimeClassName": "kata"}),
    ):
        parameters = applied("inline-csi-drivers" if "CSI" in template else "runtime-classes")
        existing = pod(**spec)
        assert violations(template, existing, parameters, "UPDATE", old=existing) == []
        assert len(violations(template, existing, parameters)) == 1
        changed = deployment({**SPEC, **spec})
        assert len(violations(template, changed, parameters, "UPDATE", old=changed)) == 1


# --- break-glass stays possible -----------------------------------------------------------------------


def test_kubectl_debug_passes_every_constraint_that_judges_pods() -> None:
    """`kubectl debug` adds an ephemeral container to a running line pod: an UPDATE of pods/ephemeralcontainers
    whose object carries what the scheduler set (nodeName) and no resources on the debug container (the API
    refuses them). With a pinned debug image every constraint on Pods admits it; its image is still judged."""
    specs = [
        *constraints.constraint_specs(["registry.plant.local/*"], [vocab.NAME], "edge-small"),
        *line_constraints.line_specs(GatekeeperConfig()),
    ]
    on_pods = [s for s in specs if any("Pod" in kinds["kinds"] for kinds in s.kinds)]
    assert {s.kind for s in on_pods} >= {"K8sContainerLimits", "K8sLineScheduling", "K8sImmutableTags"}
    running = labelled(pod(nodeName="edge-1", tolerations=TOLERATIONS_ADMITTED), "press")
    debug = {"name": "debugger", "image": "registry.plant.local/tools/debug:1.2.0", "stdin": True, "tty": True}
    debugged = copy.deepcopy(running)
    debugged["spec"]["ephemeralContainers"] = [debug]
    for spec in on_pods:
        assert violations(spec.kind, debugged, spec.parameters, "UPDATE", old=running) == [], spec.name
    mutable = {**debug, "image": "registry.plant.local/tools/debug:latest"}
    debugged["spec"]["ephemeralContainers"] = [mutable]
    assert violations("K8sImmutableTags", debugged, applied("pinned-images"), "UPDATE", old=running) != []


# --- parameters and config -----------------------------------------------------------------------------


def test_applied_parameters_match_their_template_schemas() -> None:
    configured = gatekeeper_config(inlineCsiDrivers=["secrets-store.csi.k8s.io"], runtimeClasses=["gvisor"])
    for gatekeeper in (GatekeeperConfig(), configured, gatekeeper_config(immutableTags=[])):
        for spec in line_constraints.line_specs(gatekeeper):
            jsonschema.validate(spec.parameters, templates.TEMPLATES[spec.kind].parameters)
    for bad in ({"tagPatterns": "v.*"}, {}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, templates.TEMPLATES["K8sImmutableTags"].parameters)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"label": vocab.LINE}, templates.TEMPLATES["K8sLineLabel"].parameters)


def test_pinned_images_on_pod_updates_judge_only_changed_images() -> None:
    """A Pod admitted before the rule with a moving tag keeps its controller and deletion: an UPDATE that leaves
    its images alone (a finalizer removed) passes, and the audit still reports it. Changing an image to a moving
    tag, or adding a container with one, is refused; a workload's UPDATE is judged whole."""
    parameters = applied("pinned-images")
    moving = "registry.plant.local/press/plc-gateway:3.20"
    before = pod(containers=[container(image=moving)])
    finalized = copy.deepcopy(before)
    finalized["metadata"]["finalizers"] = []
    assert violations("K8sImmutableTags", finalized, parameters, "UPDATE", old=before) == []
    assert len(violations("K8sImmutableTags", finalized, parameters)) == 1  # audit
    pinned = pod()
    assert len(violations("K8sImmutableTags", before, parameters, "UPDATE", old=pinned)) == 1  # image changed
    renamed = pod(containers=[container("other", image=moving)])
    assert len(violations("K8sImmutableTags", renamed, parameters, "UPDATE", old=before)) == 1  # another container
    template = deployment({"containers": [container(image=moving)]})
    assert len(violations("K8sImmutableTags", template, parameters, "UPDATE", old=template)) == 1


def test_digests_only_when_no_tag_pattern_is_allowed() -> None:
    parameters = applied("pinned-images", gatekeeper_config(immutableTags=[]))
    assert parameters == {"tagPatterns": []}
    assert violations("K8sImmutableTags", pod(), parameters) != []
    assert (
        violations("K8sImmutableTags", pod(containers=[container(image="r.plant/a@sha256:" + "0" * 64)]), parameters)
        == []
    )


def problems_of(key: str, value: Any) -> list[str]:
    with pytest.raises(FactoryConfigError) as caught:
        load_factory_config(mutate(valid_raw(), f"security.gatekeeper.{key}", value))
    return [str(p) for p in caught.value.problems]


def test_careless_tag_patterns_are_refused_at_their_key() -> None:
    """A pattern that admits a moving tag, or that Gatekeeper's RE2 cannot compile, never reaches a cluster."""
    found = problems_of("immutableTags", ["v?[0-9]+\\.[0-9]+\\.[0-9]+", ".*", "v?[0-9]+", "(?!latest).+", "[0-9"])
    assert [p.split(": ", 1)[0] for p in found] == [
        f"factory-floor:security.gatekeeper.immutableTags[{i}]" for i in (1, 2, 3, 4)
    ], found
    assert (
        "'latest'" in found[0] and "'v1'" in found[1] and "RE2" in found[2] and "not a regular expression" in found[3]
    )


def test_driver_and_runtime_class_names_are_validated() -> None:
    found = problems_of("inlineCsiDrivers", ["secrets-store.csi.k8s.io", "Secrets_Store"])
    assert len(found) == 1 and found[0].startswith("factory-floor:security.gatekeeper.inlineCsiDrivers[1]"), found
    found = problems_of("runtimeClasses", ["gvisor", "*"])
    assert len(found) == 1 and found[0].startswith("factory-floor:security.gatekeeper.runtimeClasses[1]"), found
