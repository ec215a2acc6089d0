"""What keeps one line from starving the cell or reaching past its zone (issue #9, finding 11 and the Low
findings, line side): ephemeral storage and object counts in quota and LimitRange per profile and
criticality, traffic among the line's own pods and nothing more, the scrape path from Prometheus pods only,
no token on the `default` account, and a scrape port that is never a conduit port.

Network behaviour is judged by evaluating the recorded NetworkPolicies the way the API defines them (a
connection needs an egress allow at its source and an ingress allow at its destination), not by comparing
their text alone."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from pulumi.runtime import rpc

from components.config.loader import load_factory_config
from components.config.types import Criticality, Profile
from components.core.component import Protection
from components.core.contracts import MONITORING_NAMESPACE
from components.core.kube import kube_resource
from components.core.sizing import (
    CRITICALITY_FACTOR,
    JOBS_PER_CRONJOB,
    PROFILES,
    REPLICASETS_PER_DEPLOYMENT,
    line_budget,
    memory,
)
from components.lines import manifests as build
from offline import harness, render
from offline import plan as plan_cli
from offline.harness import Recording
from tests.support.factories import mutate, valid_raw
from tests.support.projects import ROOT, project_copy
from tests.support.runs import Runs, inputs_in_namespace

NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
SA_PATCH = "kubernetes:core/v1:ServiceAccountPatch"
LINES = ("line-press", "line-weld", "line-mes")  # valid_raw: press critical and weld standard on edge-small,
# mes standard on cloud; press declares TCP 4840 to weld


@pytest.fixture(scope="module")
def recording(runs: Runs) -> Recording:
    return runs.main(valid_raw())


def _by_namespace(recording: Recording, kind: str) -> dict[str, dict[str, Any]]:
    return {
        r["metadata"]["namespace"]: r
        for r in (render.redact(x.inputs) for x in recording.resources if x.type.endswith(f":{kind}"))
    }


# --- quota and limits -------------------------------------------------------------------------------------


def test_quota_bounds_ephemeral_storage_by_profile_and_criticality(recording: Recording) -> None:
    hard = {ns: q["spec"]["hard"] for ns, q in _by_namespace(recording, "ResourceQuota").items()}
    # edge-small: 2Gi requests / 4Gi limits for a standard line, twice that for a critical one; cloud: 16/32
    assert (hard["line-weld"]["requests.ephemeral-storage"], hard["line-weld"]["limits.ephemeral-storage"]) == (
        "2Gi",
        "4Gi",
    )
    assert (hard["line-press"]["requests.ephemeral-storage"], hard["line-press"]["limits.ephemeral-storage"]) == (
        "4Gi",
        "8Gi",
    )
    assert (hard["line-mes"]["requests.ephemeral-storage"], hard["line-mes"]["limits.ephemeral-storage"]) == (
        "16Gi",
        "32Gi",
    )


def test_quota_counts_objects_by_profile_not_by_criticality(recording: Recording) -> None:
    hard = {ns: q["spec"]["hard"] for ns, q in _by_namespace(recording, "ResourceQuota").items()}
    edge = {
        "count/configmaps": "40",
        "count/secrets": "40",
        "count/services": "20",
        "count/deployments.apps": "20",
        "count/replicasets.apps": "220",
        "count/jobs.batch": "50",
        "count/cronjobs.batch": "10",
    }
    cloud = {
        "count/configmaps": "300",
        "count/secrets": "300",
        "count/services": "150",
        "count/deployments.apps": "150",
        "count/replicasets.apps": "1650",
        "count/jobs.batch": "375",
        "count/cronjobs.batch": "75",
    }
    counts = {ns: {k: v for k, v in h.items() if k.startswith("count/")} for ns, h in hard.items()}
    assert counts == {"line-press": edge, "line-weld": edge, "line-mes": cloud}  # press is critical: same counts


def test_declared_secrets_always_fit_on_top_of_the_headroom(runs: Runs) -> None:
    raw = mutate(
        valid_raw(),
        "lines.1.secrets",
        [{"name": f"plc-{i}", "remoteKey": f"plc-{i}", "properties": ["password"]} for i in range(3)],
    )
    raw["security"]["vault"] = {"server": "https://vault.plant.local:8200"}
    quota = _by_namespace(runs.main(raw), "ResourceQuota")
    assert quota["line-weld"]["spec"]["hard"]["count/secrets"] == "43"  # edge-small headroom 40 + 3 declared
    assert quota["line-press"]["spec"]["hard"]["count/secrets"] == "40"


@pytest.mark.parametrize("profile", list(PROFILES))
def test_every_profile_keeps_defaults_workable_and_one_line_bounded(profile: Profile) -> None:
    sizing = PROFILES[profile]
    c, objects = sizing.container, sizing.objects
    for criticality in CRITICALITY_FACTOR:
        budget = line_budget(profile, criticality)
        # one container at its maximum fits into a standard line; a default request fits many times
        assert c.max_ephemeral_mi <= budget.limits_ephemeral_mi
        assert c.request_ephemeral_mi * budget.pods <= 2 * budget.requests_ephemeral_mi
        assert budget.requests_ephemeral_mi <= budget.limits_ephemeral_mi
    # the default limit holds the kubelet's rotated container logs (5 x 10Mi) with room to work
    assert c.limit_ephemeral_mi >= 4 * 5 * 10
    assert c.request_ephemeral_mi <= c.limit_ephemeral_mi <= c.max_ephemeral_mi
    # a Deployment or CronJob that keeps the default history never stalls on the counts
    assert objects.replicasets >= objects.deployments * REPLICASETS_PER_DEPLOYMENT
    assert objects.jobs >= objects.cronjobs * JOBS_PER_CRONJOB
    assert objects.configmaps >= 1  # every namespace holds kube-root-ca.crt


@pytest.mark.parametrize("criticality", list(CRITICALITY_FACTOR))
@pytest.mark.parametrize("profile", list(PROFILES))
def test_criticality_scales_ephemeral_storage_with_cpu_and_memory(profile: Profile, criticality: Criticality) -> None:
    base, budget = PROFILES[profile].line_budget, line_budget(profile, criticality)
    factor = CRITICALITY_FACTOR[criticality]
    assert budget.requests_ephemeral_mi == int(base.requests_ephemeral_mi * factor)
    assert budget.limits_ephemeral_mi == int(base.limits_ephemeral_mi * factor)
    assert budget.limits_memory_mi / base.limits_memory_mi == budget.limits_ephemeral_mi / base.limits_ephemeral_mi


def test_limit_range_defaults_and_caps_ephemeral_storage_per_container(recording: Recording) -> None:
    limits = {ns: x["spec"]["limits"] for ns, x in _by_namespace(recording, "LimitRange").items()}
    for namespace, (request, default, maximum) in {
        "line-weld": ("64Mi", "512Mi", "2Gi"),
        "line-press": ("64Mi", "512Mi", "2Gi"),  # per container: criticality does not change it
        "line-mes": ("128Mi", "1Gi", "8Gi"),
    }.items():
        [container] = limits[namespace]
        assert container["type"] == "Container"
        assert container["defaultRequest"]["ephemeral-storage"] == request
        assert container["default"]["ephemeral-storage"] == default
        assert container["max"]["ephemeral-storage"] == maximum


def test_operations_guide_states_the_numbers_the_code_sets() -> None:
    text = (ROOT / "docs" / "operations.md").read_text()
    for profile, sizing in PROFILES.items():
        budget, c, o = sizing.line_budget, sizing.container, sizing.objects
        ephemeral = (
            f"| `{profile}` | {memory(budget.requests_ephemeral_mi)} / {memory(budget.limits_ephemeral_mi)} | "
            f"{memory(c.request_ephemeral_mi)} / {memory(c.limit_ephemeral_mi)} / {memory(c.max_ephemeral_mi)} |"
        )
        counts = (
            f"| `{profile}` | {o.configmaps} | {o.secrets} | {o.services} | {o.deployments} | {o.replicasets} | "
            f"{o.jobs} | {o.cronjobs} |"
        )
        assert ephemeral in text and counts in text, profile


# --- segmentation, evaluated ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: dict[str, str] = field(default_factory=dict)


def _expression(expression: dict[str, Any], labels: dict[str, str]) -> bool:
    key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    assert operator == "DoesNotExist", operator
    return key not in labels


def _selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """A label selector as the API server evaluates it: every matchLabels pair and every expression."""
    selector = selector or {}
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items()) and all(
        _expression(e, labels) for e in selector.get("matchExpressions") or []
    )


def _peer_matches(peer: dict[str, Any], own_namespace: str, other: Pod) -> bool:
    if "ipBlock" in peer:
        return False  # no pod address is in a plant CIDR here; the line builders never write one
    namespace_selector = peer.get("namespaceSelector")
    if namespace_selector is None:
        in_scope = other.namespace == own_namespace  # a pod-only peer: the policy's own namespace
    else:
        in_scope = _selects(namespace_selector, {"kubernetes.io/metadata.name": other.namespace})
    return in_scope and _selects(peer.get("podSelector"), other.labels)


def _port_matches(ports: list[dict[str, Any]] | None, protocol: str, port: int) -> bool:
    return not ports or any(p.get("protocol", "TCP") == protocol and p.get("port") in (None, port) for p in ports)


def _allowed(policies: list[dict[str, Any]], pod: Pod, other: Pod, protocol: str, port: int, *, direction: str) -> bool:
    """Whether `pod`'s policies let traffic in (`Ingress`, from `other`) or out (`Egress`, to `other`)."""
    selecting = [
        p
        for p in policies
        if direction in p["spec"].get("policyTypes", []) and _selects(p["spec"]["podSelector"], pod.labels)
    ]
    if not selecting:
        return True  # not isolated in this direction
    peers_key = "from" if direction == "Ingress" else "to"
    return any(
        (rule.get(peers_key) is None or any(_peer_matches(peer, pod.namespace, other) for peer in rule[peers_key]))
        and _port_matches(rule.get("ports"), protocol, port)
        for policy in selecting
        for rule in policy["spec"].get(direction.lower()) or []
    )


class Cluster:
    """The recorded NetworkPolicies of the line namespaces; other namespaces (kube-system, monitoring) have none."""

    def __init__(self, recording: Recording) -> None:
        self.policies = {ns: inputs_in_namespace(recording, NETPOL, ns) for ns in LINES}

    def connects(self, source: Pod, target: Pod, port: int, protocol: str = "TCP") -> bool:
        out = _allowed(self.policies.get(source.namespace, []), source, target, protocol, port, direction="Egress")
        into = _allowed(self.policies.get(target.namespace, []), target, source, protocol, port, direction="Ingress")
        return out and into


PRESS_APP, PRESS_DB = Pod("line-press", {"app": "plc-gateway"}), Pod("line-press", {"app": "historian"})
WELD_APP = Pod("line-weld", {"app": "opc-server"})
# the labels the Prometheus Operator sets on the pods of a Prometheus, a PrometheusAgent and an Alertmanager
OPERATOR = {"app.kubernetes.io/managed-by": "prometheus-operator"}
PROMETHEUS = Pod(MONITORING_NAMESPACE, {**OPERATOR, "app.kubernetes.io/name": "prometheus"})
PROMETHEUS_AGENT = Pod(MONITORING_NAMESPACE, {**OPERATOR, "app.kubernetes.io/name": "prometheus-agent"})
ALERTMANAGER = Pod(MONITORING_NAMESPACE, {**OPERATOR, "app.kubernetes.io/name": "alertmanager"})


@pytest.fixture(scope="module")
def cluster(recording: Recording) -> Cluster:
    return Cluster(recording)


@pytest.mark.parametrize(
    ("port", "protocol"), [(5432, "TCP"), (8080, "TCP"), (4840, "TCP"), (161, "UDP"), (9464, "TCP")]
)
def test_pods_of_one_line_reach_each_other_on_any_port(cluster: Cluster, port: int, protocol: str) -> None:
    assert cluster.connects(PRESS_APP, PRESS_DB, port, protocol)
    assert cluster.connects(PRESS_DB, PRESS_APP, port, protocol)


def test_the_intra_line_policy_opens_nothing_beyond_the_namespace(recording: Recording) -> None:
    for namespace in LINES:
        policies = {p["metadata"]["name"]: p for p in inputs_in_namespace(recording, NETPOL, namespace)}
        same_line = policies["allow-same-line"]
        assert same_line["spec"] == {
            "podSelector": {},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": [{"podSelector": {}}]}],
            "egress": [{"to": [{"podSelector": {}}]}],
        }
        # with only this policy besides default-deny, nothing outside the namespace gets in or out
        alone = [policies["default-deny"], same_line]
        inside = Pod(namespace, {"app": "a"})
        for outside in (
            Pod("line-other", {"app": "a"}),
            Pod("kube-system", {"k8s-app": "kube-dns"}),
            PROMETHEUS,
            Pod("default"),
        ):
            for direction in ("Ingress", "Egress"):
                assert not _allowed(alone, inside, outside, "TCP", 443, direction=direction), (
                    namespace,
                    outside,
                    direction,
                )
        assert _allowed(alone, inside, Pod(namespace, {"app": "b"}), "UDP", 5000, direction="Ingress")


def test_other_lines_stay_out_except_through_a_declared_conduit(cluster: Cluster) -> None:
    assert cluster.connects(PRESS_APP, WELD_APP, 4840)  # press -> weld TCP 4840 is declared
    assert not cluster.connects(PRESS_APP, WELD_APP, 4841)
    assert not cluster.connects(WELD_APP, PRESS_APP, 4840)  # a conduit has a direction
    assert not cluster.connects(PRESS_APP, WELD_APP, 4840, "UDP")
    assert not cluster.connects(Pod("line-mes"), PRESS_APP, 8080)


def test_the_scrape_path_admits_prometheus_pods_of_monitoring_only(cluster: Cluster, recording: Recording) -> None:
    for namespace in LINES:
        target = Pod(namespace, {"app": "x"})
        # server mode and agent mode (kube-prometheus-stack's edge profiles)
        assert cluster.connects(PROMETHEUS, target, 9464)
        assert cluster.connects(PROMETHEUS_AGENT, target, 9464)
        assert not cluster.connects(PROMETHEUS, target, 9090)  # only the metrics port
        # other pods of the namespace, even the operator's own Alertmanager, or a pod that only names itself
        # prometheus without the operator's label
        assert not cluster.connects(ALERTMANAGER, target, 9464)
        assert not cluster.connects(Pod(MONITORING_NAMESPACE, {"app.kubernetes.io/name": "grafana"}), target, 9464)
        assert not cluster.connects(Pod(MONITORING_NAMESPACE, {"app.kubernetes.io/name": "prometheus"}), target, 9464)
        assert not cluster.connects(Pod(MONITORING_NAMESPACE), target, 9464)
        # the labels alone are no pass: a "Prometheus" a team runs in another line or namespace stays out
        assert not cluster.connects(Pod("line-other", PROMETHEUS.labels), target, 9464)
        assert not cluster.connects(Pod("default", PROMETHEUS.labels), target, 9464)
        scrape = {p["metadata"]["name"]: p for p in inputs_in_namespace(recording, NETPOL, namespace)}
        assert scrape["allow-metrics-scrape"]["spec"]["ingress"][0]["from"] == [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
                "podSelector": {
                    "matchLabels": {"app.kubernetes.io/managed-by": "prometheus-operator"},
                    "matchExpressions": [
                        {
                            "key": "app.kubernetes.io/name",
                            "operator": "In",
                            "values": ["prometheus", "prometheus-agent"],
                        }
                    ],
                },
            }
        ]


def test_line_pods_reach_dns_and_nothing_else_of_the_platform(cluster: Cluster) -> None:
    dns = Pod("kube-system", {"k8s-app": "kube-dns"})
    assert cluster.connects(PRESS_APP, dns, 53, "UDP") and cluster.connects(PRESS_APP, dns, 53, "TCP")
    assert not cluster.connects(PRESS_APP, Pod("kube-system", {"component": "kube-apiserver"}), 6443)
    assert not cluster.connects(PRESS_APP, PROMETHEUS, 9090)


# --- the default ServiceAccount ---------------------------------------------------------------------------


def test_every_line_patches_its_default_account_to_mount_no_token(recording: Recording) -> None:
    patches = recording.of_type(SA_PATCH)
    assert sorted(render.redact(p.inputs)["metadata"]["namespace"] for p in patches) == sorted(LINES)
    namespaces = {r.inputs["metadata"]["name"]: r for r in recording.of_type("kubernetes:core/v1:Namespace")}
    lines = {r.urn: r for r in recording.of_type("factory:index:ProductionLine")}
    for patch in patches:
        inputs = render.redact(patch.inputs)
        namespace = inputs["metadata"]["namespace"]
        assert inputs == {
            "apiVersion": "v1",
            "kind": "ServiceAccount",  # the provider applies it as a patch only with the patched kind here
            "metadata": {"name": "default", "namespace": namespace},
            "automountServiceAccountToken": False,
        }
        assert patch.parent in lines
        assert namespaces[namespace].urn in patch.dependencies  # the namespace exists first
        assert (patch.protect, patch.retain_on_delete) == (True, True)  # production: stateful like the line


def test_the_patch_is_registered_as_the_typed_class_registers_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same token, inputs, plugin version and download URL as k8s.core.v1.ServiceAccountPatch."""
    seen: dict[str, Any] = {}

    class Spy(harness.RecordingMonitor):
        def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
            inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
            seen[request.name] = (request.type, request.version, request.pluginDownloadURL, inputs)
            return super().RegisterResource(request)

    press = build.line_args(load_factory_config(valid_raw()), Protection(False))[0]
    manifest = build.default_service_account_patch(press)

    def program() -> None:
        provider = k8s.Provider("p", kubeconfig="offline")
        kube_resource("ours", manifest, pulumi.ResourceOptions(provider=provider), patch=True)
        k8s.core.v1.ServiceAccountPatch(
            "typed",
            metadata={"name": "default", "namespace": "line-press"},
            automount_service_account_token=False,
            opts=pulumi.ResourceOptions(provider=provider),
        )

    monkeypatch.setattr(harness, "RecordingMonitor", Spy)
    harness.run(program, project="factory-floor", stack="test")
    assert seen["ours"] == seen["typed"]
    assert seen["ours"][0] == SA_PATCH and seen["ours"][3]["kind"] == "ServiceAccount"


def test_the_patch_is_rendered_and_judged_as_the_account_it_patches(recording: Recording) -> None:
    rendered = {m.path: m.document for m in render.manifests(recording)}
    document = rendered["edge/line-press/serviceaccount-default.yaml"]
    assert document == {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "default", "namespace": "line-press"},
        "automountServiceAccountToken": False,
    }
    assert not [path for path in rendered if "serviceaccountpatch" in path]


def test_a_custom_kind_ending_in_patch_is_no_patch(recording: Recording) -> None:
    [patch] = [r for r in recording.of_type(SA_PATCH) if r.inputs["metadata"]["namespace"] == "line-press"]
    assert render.is_patch(patch)
    garden = dataclasses.replace(
        patch,
        type="kubernetes:example.com/v1:GardenPatch",
        inputs={"apiVersion": "example.com/v1", "kind": "GardenPatch"},
    )
    assert not render.is_patch(garden)
    assert render.manifest(garden)["kind"] == "GardenPatch"


# --- metricsPort is no conduit port -----------------------------------------------------------------------

PILSEN = (ROOT / "stacks" / "Pulumi.pilsen.yaml").read_text()
INSPECTION = "    - name: inspection\n      cluster: shopfloor\n      team: quality\n"


def test_a_stack_edit_putting_the_scrape_port_on_a_conduit_port_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The attack: inspection receives TCP 8443 from weld and paint; its scrape port set to 8443 would let
    Prometheus reach the vision service and weld and paint read inspection's metrics endpoint."""
    assert PILSEN.count(INSPECTION) == 1
    edited = PILSEN.replace(INSPECTION, INSPECTION + "      metricsPort: 8443\n")
    project = project_copy(tmp_path, {"pilsen": edited})
    out = tmp_path / "out"
    code = plan_cli.main(["--stack", "pilsen", "--project-dir", str(project), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == plan_cli.EXIT_CONFIG, err
    reported = [line.removeprefix("  - ") for line in err.splitlines() if line.startswith("  - ")]
    at_key = [p for p in reported if p.startswith("factory-floor:lines[3].metricsPort: 8443 ")]
    assert len(at_key) == 2, reported  # one per conduit into inspection
    assert any("TCP conduit from line 'weld'" in p for p in at_key)
    assert any("TCP conduit from line 'paint'" in p for p in at_key)
    assert "Traceback" not in err and not out.exists()
