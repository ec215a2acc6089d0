"""SecurityBaseline as the real program registers it: add-ons from the catalogue in their namespaces, in
order (chart, templates, constraints), Vault store and per-line ExternalSecrets without values, kube-bench
with the cluster's benchmark."""

from __future__ import annotations

from typing import Any

import pytest

from components.config.loader import load_factory_config
from components.config.problems import FactoryConfigError
from components.inventory import platform_namespaces
from components.security.gatekeeper.templates import TEMPLATES
from offline.harness import Recording
from tests.support.factories import MIRROR, mutate, secure_raw
from tests.support.runs import Runs, named

CHART = "kubernetes:helm.sh/v4:Chart"


@pytest.fixture(scope="module")
def recording(runs: Runs) -> Recording:
    return runs.main(secure_raw())


def test_constraints_depend_on_templates_and_templates_on_the_chart(recording: Recording) -> None:
    chart = next(r for r in recording.of_type(CHART) if r.name == "testwerk-edge-baseline-gatekeeper")
    templates = {
        r.inputs["spec"]["crd"]["spec"]["names"]["kind"]: r
        for r in recording.of_type("kubernetes:templates.gatekeeper.sh/v1:ConstraintTemplate")
        if r.name.startswith("testwerk-edge-")
    }
    assert len(templates) == len(TEMPLATES) and all(chart.urn in t.dependencies for t in templates.values())
    constraints = [
        r
        for r in recording.resources
        if r.type.startswith("kubernetes:constraints.gatekeeper.sh/") and r.name.startswith("testwerk-edge-")
    ]
    # one constraint per template, and more images constraints: one per line (press, weld) and the platform's
    assert len(constraints) == len(TEMPLATES) + 3
    for constraint in constraints:
        kind = constraint.type.rsplit(":", 1)[1]
        assert templates[kind].urn in constraint.dependencies
        assert constraint.inputs["spec"]["enforcementAction"] == "deny"


def test_every_chart_waits_for_its_namespace(recording: Recording) -> None:
    namespaces = {
        r.inputs["metadata"]["name"]: r.urn
        for r in recording.of_type("kubernetes:core/v1:Namespace")
        if r.name.startswith("testwerk-edge-")
    }
    for chart in (r for r in recording.of_type(CHART) if r.name.startswith("testwerk-edge-")):
        assert namespaces[chart.inputs["namespace"]] in chart.dependencies, chart.name


def test_platform_namespaces_state_their_pod_security_level(recording: Recording) -> None:
    levels = {
        r.inputs["metadata"]["name"]: r.inputs["metadata"]
        for r in recording.of_type("kubernetes:core/v1:Namespace")
        if r.name.startswith("testwerk-edge-baseline")
    }
    assert set(levels) == {"gatekeeper-system", "external-secrets", "falco", "trivy-system", "kube-bench"}
    for name, metadata in levels.items():
        level = metadata["labels"]["pod-security.kubernetes.io/enforce"]
        assert metadata["labels"]["pod-security.kubernetes.io/enforce-version"] == "v1.32"
        if level != "restricted":
            assert metadata["annotations"]["factory-floor.io/pod-security-exemption"], name
    assert levels["gatekeeper-system"]["labels"]["admission.gatekeeper.sh/ignore"] == "no-self-managing"
    assert levels["external-secrets"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def _webhook_policies(recording: Recording) -> dict[str, str]:
    return {
        r.name: r.inputs["values"]["validatingWebhookFailurePolicy"]
        for r in recording.of_type(CHART)
        if r.inputs["namespace"] == "gatekeeper-system"
    }


def test_webhook_fails_closed_on_every_profile(recording: Recording) -> None:
    # the edge cluster is edge-small (one node): its profile no longer opens the webhook
    assert _webhook_policies(recording) == {
        "testwerk-edge-baseline-gatekeeper": "Fail",
        "testwerk-cloud-baseline-gatekeeper": "Fail",
    }


def test_webhook_fails_open_only_when_a_disposable_stack_says_so(runs: Runs) -> None:
    raw = mutate(mutate(secure_raw(), "environment", "staging"), "security.gatekeeper.webhookFailurePolicy", "Ignore")
    assert set(_webhook_policies(runs.main(raw)).values()) == {"Ignore"}


SYSTEM = ["kube-node-lease", "kube-public", "kube-system"]
VAP = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy"
VAP_BINDING = f"{VAP}Binding"
CRITICAL = [
    "factory-floor-no-external-ips",
    "factory-floor-no-host-namespaces",
    "factory-floor-no-privileged-containers",
]


def _judges(constraint: dict[str, Any], namespace: str) -> bool:
    match = constraint["spec"]["match"]
    if "namespaces" in match:
        return namespace in match["namespaces"]
    return namespace not in match["excludedNamespaces"]


@pytest.mark.parametrize("cluster", ["edge", "cloud"])
def test_the_webhook_exempts_exactly_the_namespaces_no_constraint_refuses_anything_in(
    recording: Recording, cluster: str
) -> None:
    """#9 finding 7: on a fail-closed webhook, a Gatekeeper outage must not hold up Kubernetes' own namespaces
    (CoreDNS, the CNI, node heartbeat Leases), and no namespace a constraint judges may escape the webhook."""
    values = named(recording, f"testwerk-{cluster}-baseline-gatekeeper").inputs["values"]
    assert values["validatingWebhookFailurePolicy"] == "Fail"
    exempt = values["controllerManager"]["exemptNamespaces"]
    assert exempt == ["gatekeeper-system", *SYSTEM]
    assert values["controllerManager"]["exemptNamespacePrefixes"] == []  # 'kube-' would exempt 'kube-evil'
    assert values["validatingWebhookCheckIgnoreFailurePolicy"] == "Fail"
    # only namespaces that exist: Kubernetes' own, and the ones this cluster's baseline creates
    created = {
        r.inputs["metadata"]["name"]
        for r in recording.of_type("kubernetes:core/v1:Namespace")
        if r.name.startswith(f"testwerk-{cluster}-")
    }
    assert set(exempt) <= created | set(SYSTEM)
    constraints = [
        r.inputs
        for r in recording.resources
        if r.type.startswith("kubernetes:constraints.gatekeeper.sh/") and r.name.startswith(f"testwerk-{cluster}-")
    ]
    lines = [f"line-{line.name}" for line in load_factory_config(secure_raw()).lines_on(cluster)]
    everywhere = [*SYSTEM, *created, *lines, "default"]
    unjudged = sorted(ns for ns in everywhere if not any(_judges(c, ns) for c in constraints))
    assert unjudged == SYSTEM
    # Gatekeeper's own namespace: exempt at the webhook by the chart, so its constraint there only audits
    assert [c["metadata"]["name"] for c in constraints if _judges(c, "gatekeeper-system")] == [
        "allowed-images-platform"
    ]


@pytest.mark.parametrize("cluster", ["edge", "cloud"])
def test_kubernetes_own_namespaces_get_the_ignore_label_by_patch_after_the_chart(
    recording: Recording, cluster: str
) -> None:
    chart = named(recording, f"testwerk-{cluster}-baseline-gatekeeper")
    patches = {
        r.inputs["metadata"]["name"]: r
        for r in recording.of_type("kubernetes:core/v1:NamespacePatch")
        if r.name.startswith(f"testwerk-{cluster}-")
    }
    assert sorted(patches) == SYSTEM
    for name, patch in patches.items():
        # the patched kind in the body (what the provider needs to treat it as a patch), only the label: the
        # namespaces are not ours, so nothing claims they are
        assert patch.inputs == {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": {"admission.gatekeeper.sh/ignore": "kubernetes-system"}},
        }
        # Gatekeeper's check-ignore-label webhook admits the label only once the chart lists the namespace
        assert chart.urn in patch.dependencies
    assert not [r for r in recording.of_type("kubernetes:core/v1:Namespace") if r.inputs["metadata"]["name"] in SYSTEM]


def test_single_node_cells_hold_the_critical_rules_in_tree(recording: Recording) -> None:
    """#9 finding 7: ValidatingAdmissionPolicies on the edge-small cluster only (the cloud cluster runs
    Gatekeeper with replicas), bound like the constraints, denying in production, and independent of Gatekeeper."""
    policies = {r.inputs["metadata"]["name"]: r for r in recording.of_type(VAP)}
    bindings = {r.inputs["metadata"]["name"]: r for r in recording.of_type(VAP_BINDING)}
    assert sorted(policies) == CRITICAL and sorted(bindings) == CRITICAL
    assert all(r.name.startswith("testwerk-edge-baseline-vap-") for r in [*policies.values(), *bindings.values()])
    chart = named(recording, "testwerk-edge-baseline-gatekeeper")
    exempt = sorted(platform_namespaces())
    for name, binding in bindings.items():
        spec = binding.inputs["spec"]
        assert spec["policyName"] == name and spec["validationActions"] == ["Deny"]
        assert spec["matchResources"] == {
            "namespaceSelector": {
                "matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": exempt}]
            }
        }
        assert policies[name].urn in binding.dependencies
        assert policies[name].inputs["spec"]["failurePolicy"] == "Fail"
        # they must hold before Gatekeeper is installed and while it is down
        assert chart.urn not in policies[name].dependencies and chart.urn not in binding.dependencies


@pytest.mark.parametrize(("action", "expected"), [("dryrun", ["Audit"]), ("warn", ["Warn"])])
def test_a_disposable_stack_rolls_the_policies_out_like_its_constraints(
    runs: Runs, action: str, expected: list[str]
) -> None:
    raw = mutate(mutate(secure_raw(), "environment", "staging"), "security.gatekeeper.enforcementAction", action)
    bindings = runs.main(raw).of_type(VAP_BINDING)
    assert len(bindings) == 3 and all(b.inputs["spec"]["validationActions"] == expected for b in bindings)


def test_a_cell_at_kubernetes_1_29_gets_no_policies(runs: Runs) -> None:
    """admissionregistration.k8s.io/v1 is served from 1.30; 1.29's v1beta1 needs a feature gate."""
    recording = runs.main(mutate(secure_raw(), "clusters.0.kubernetesVersion", "1.29"))
    assert not recording.of_type(VAP) and not recording.of_type(VAP_BINDING)
    assert recording.of_type("kubernetes:core/v1:NamespacePatch")  # the webhook exemptions do not depend on it


def test_images_are_judged_per_namespace_and_the_mirror_is_on_no_list(recording: Recording) -> None:
    """#9 finding 6: a line runs its own path under the mirror and the stack's list; every other namespace but
    the platform's only the stack's list (attack fixtures: tests/security/gatekeeper/test_images_per_namespace.py)."""

    def spec(name: str) -> dict[str, Any]:
        return dict(named(recording, f"testwerk-edge-baseline-gatekeeper-constraint-{name}").inputs["spec"])

    press = spec("allowed-images-line-press")
    assert press["match"]["namespaces"] == ["line-press"]
    assert press["parameters"] == {
        "allowedImages": [f"{MIRROR}/testwerk-lines/press/*", "registry.plant.local/lines/*"]
    }
    rest = spec("allowed-images")
    assert rest["parameters"] == {"allowedImages": ["registry.plant.local/lines/*"]}
    assert {"line-press", "line-weld", "kube-system", "falco"} <= set(rest["match"]["excludedNamespaces"])
    platform = spec("allowed-images-platform")
    # every namespace the catalogue installs into here (exactly: tests/security/gatekeeper/), none of Kubernetes'
    security = {"external-secrets", "falco", "gatekeeper-system", "kube-bench", "trivy-system"}
    assert security <= set(platform["match"]["namespaces"]) and not set(SYSTEM) & set(platform["match"]["namespaces"])
    for constraint in recording.of_type("kubernetes:constraints.gatekeeper.sh/v1beta1:K8sAllowedReposv2"):
        assert f"{MIRROR}/*" not in constraint.inputs["spec"]["parameters"]["allowedImages"], constraint.name


def test_falco_uses_modern_ebpf_and_sidekick(recording: Recording) -> None:
    values = next(r for r in recording.of_type(CHART) if r.name == "testwerk-edge-baseline-falco").inputs["values"]
    assert values["driver"]["kind"] == "modern_ebpf"
    assert values["falcoctl"]["artifact"]["install"]["enabled"] is False
    assert values["falcosidekick"]["enabled"] is True


def test_trivy_is_edge_safe(recording: Recording) -> None:
    edge = next(r for r in recording.of_type(CHART) if r.name == "testwerk-edge-baseline-trivy-operator").inputs[
        "values"
    ]
    assert edge["operator"]["scanJobsConcurrentLimit"] == 1
    assert edge["trivy"]["resources"]["limits"]["memory"]
    assert edge["trivy"]["dbRegistry"] == f"{MIRROR}/mirror.gcr.io"


def test_each_line_reads_vault_through_its_own_store_role_and_folder_and_never_a_value(recording: Recording) -> None:
    store = named(recording, "testwerk-cloud-baseline-mes-secret-store")
    assert store.inputs["metadata"]["name"] == "vault-mes"
    spec = store.inputs["spec"]
    # only line-mes may use the store: by namespace name, not by a label anyone who labels a namespace controls
    assert spec["conditions"] == [{"namespaces": ["line-mes"]}]
    vault = spec["provider"]["vault"]
    assert vault["server"] == "https://vault.plant.local:8200" and vault["path"] == "plant" and vault["version"] == "v2"
    assert vault["auth"]["kubernetes"] == {
        "mountPath": "kubernetes",
        "role": "external-secrets-cloud.mes",
        "serviceAccountRef": {"name": "line-secrets", "namespace": "line-mes"},
    }
    account = named(recording, "testwerk-cloud-baseline-mes-secrets-account")
    assert account.inputs["metadata"]["namespace"] == "line-mes"
    assert account.inputs["automountServiceAccountToken"] is False
    secret = named(recording, "testwerk-cloud-baseline-mes-secret-db")
    assert store.urn in secret.dependencies
    assert secret.inputs["spec"]["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "vault-mes"}
    assert secret.inputs["spec"]["data"] == [
        {"secretKey": "user", "remoteRef": {"key": "cloud/mes/mes/db", "property": "user"}},
        {"secretKey": "password", "remoteRef": {"key": "cloud/mes/mes/db", "property": "password"}},
    ]
    assert not recording.of_type("kubernetes:core/v1:Secret")
    assert not [r.name for r in recording.resources if r.name.startswith("testwerk-edge-baseline-press-")], (
        "a line without secrets gets no account and no store"
    )


def test_a_stack_edit_cannot_point_a_line_at_another_lines_secrets() -> None:
    """The attack: a careless or hostile one-line edit of remoteKey that climbs out of the line's folder."""
    for escape in ("../press/plc", "db/../../press/plc", "./db"):
        raw = mutate(secure_raw(), "lines.2.secrets", [{"name": "db", "remoteKey": escape, "properties": ["p"]}])
        with pytest.raises(FactoryConfigError) as caught:
            load_factory_config(raw)
        [problem] = caught.value.problems
        assert problem.path == "factory-floor:lines[2].secrets[0]" and "stays in the line's folder" in problem.message
