"""AdmissionControl as the real program registers it: Gatekeeper first on every cluster, its webhook registered
only once it can answer, a probe Job that proves it does — the gate everything else on the cluster waits for —
then our templates (done when Gatekeeper made their CRDs), constraints, exemption labels, and on single-node
cells the in-tree policies, which come before Gatekeeper."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from components.catalogue.model import ClusterContext
from components.config.loader import load_factory_config
from components.inventory import line_images, platform_namespaces
from components.security.gatekeeper import webhook_probe
from components.security.gatekeeper.templates import TEMPLATES
from offline.harness import Recording, Registration
from tests.support.debian_tools import run_busybox_script
from tests.support.factories import MIRROR, mutate, secure_raw
from tests.support.runs import Runs, named

CHART = "kubernetes:helm.sh/v4:Chart"
PROBE = "admission-gatekeeper-webhook-probe-job"


@pytest.fixture(scope="module")
def recording(runs: Runs) -> Recording:
    return runs.main(secure_raw())


def _everything_before(recording: Recording, registration: Registration) -> set[str]:
    """Every URN a registration waits for, transitively (a v4 Chart counts as done when all it renders is)."""
    by_urn = recording.by_urn()
    seen: set[str] = set()
    todo = list(registration.dependencies)
    while todo:
        urn = todo.pop()
        if urn not in seen:
            seen.add(urn)
            todo += by_urn[urn].dependencies
    return seen


@pytest.mark.parametrize("cluster", ["edge", "cloud"])
def test_nothing_on_a_cluster_is_created_before_the_gatekeeper_webhook_answers(
    recording: Recording, cluster: str
) -> None:
    """#10 item 6: a fail-closed webhook refuses whatever reaches the API server before Gatekeeper answers, so
    every Kubernetes object on the cluster but Gatekeeper's own install waits for the probe Job."""
    probe = named(recording, f"testwerk-{cluster}-{PROBE}")
    chart = named(recording, f"testwerk-{cluster}-admission-gatekeeper")
    assert chart.urn in probe.dependencies
    # Gatekeeper's own install: its namespace (which its webhooks never judge), the namespace's NetworkPolicies,
    # the in-tree policies (before the chart) and the chart itself
    own = {r.urn for r in recording.resources if r.urn in _everything_before(recording, probe)}
    ours = f"testwerk-{cluster}-admission-"
    assert all(recording.by_urn()[urn].name.startswith(ours) for urn in own)
    provider = next(p.urn for p in recording.of_type("pulumi:providers:kubernetes") if p.name == f"testwerk-{cluster}")
    on_cluster = [r for r in recording.resources if r.custom and r.provider_urn == provider]
    before_the_gate = sorted(
        r.name for r in on_cluster if r.urn != probe.urn and probe.urn not in _everything_before(recording, r)
    )
    allowed = {f"{ours}ns-gatekeeper-system", *(r.name for r in on_cluster if "-vap-" in r.name)}
    allowed |= {r.name for r in on_cluster if r.name.startswith(f"{ours}ns-gatekeeper-system-networkpolicy-")}
    assert set(before_the_gate) == allowed, before_the_gate
    # and lines, the baseline's add-ons and the canary are all among those that wait
    waiting = {r.name for r in on_cluster} - allowed - {probe.name}
    lines = {line.name for line in load_factory_config(secure_raw()).lines_on(cluster)}
    assert all(any(n.startswith(f"testwerk-{line}-") for n in waiting) for line in lines)
    assert any(n.startswith(f"testwerk-{cluster}-baseline-") for n in waiting)
    assert any(n.startswith(f"testwerk-{cluster}-verification-") for n in waiting)


def test_the_webhook_registers_only_once_the_controller_is_available_and_has_its_ca(recording: Recording) -> None:
    values = named(recording, "testwerk-edge-admission-gatekeeper").inputs["values"]
    for key in ("validatingWebhookAnnotations", "mutatingWebhookAnnotations"):
        assert values[key] == {
            # the provider orders objects of one chart by this annotation, and waits for the Deployment's await
            "config.kubernetes.io/depends-on": (
                "apps/namespaces/gatekeeper-system/Deployment/gatekeeper-controller-manager"
            ),
            "pulumi.com/waitFor": "jsonpath={.webhooks[*].clientConfig.caBundle}",
        }


def test_the_probe_reaches_the_webhook_and_nothing_else(recording: Recording) -> None:
    policies = {
        r.inputs["metadata"]["name"]: r.inputs["spec"]
        for r in recording.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
        if r.name.startswith("testwerk-edge-admission-ns-gatekeeper-system-")
    }
    out = policies["gatekeeper-webhook-probe-egress-webhook"]
    assert out["podSelector"] == {"matchLabels": webhook_probe.PROBE_PODS}
    assert out["egress"] == [
        {
            "to": [{"podSelector": {"matchLabels": {"control-plane": "controller-manager"}}}],
            "ports": [{"protocol": "TCP", "port": 8443}],
        }
    ]
    into = policies["gatekeeper-ingress-webhook-probe"]
    assert into["podSelector"] == {"matchLabels": {"control-plane": "controller-manager"}}
    assert into["ingress"] == [
        {
            "from": [{"podSelector": {"matchLabels": webhook_probe.PROBE_PODS}}],
            "ports": [{"protocol": "TCP", "port": 8443}],
        }
    ]
    job = named(recording, f"testwerk-edge-{PROBE}").inputs
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["image"].startswith(f"{MIRROR}/docker.io/library/busybox:1.37.0@sha256:")
    assert job["spec"]["backoffLimit"] == 0 and job["spec"]["template"]["spec"]["automountServiceAccountToken"] is False
    # after a failed probe the next `pulumi up` replaces the Job instead of waiting on the failed one
    assert job["metadata"]["annotations"] == {"pulumi.com/replaceUnready": "true"}


def test_a_gatekeeper_upgrade_reruns_the_probe() -> None:
    before = webhook_probe.probe_job(_context(), "gatekeeper-system", "3.22.0")["spec"]["template"]
    after = webhook_probe.probe_job(_context(), "gatekeeper-system", "3.23.0")["spec"]["template"]
    assert before != after, "a new release must change the pod template, which the provider replaces"


def _context() -> ClusterContext:
    config = load_factory_config(secure_raw())
    return ClusterContext(config, config.clusters[0], platform_namespaces())


# busybox's netcat-1.10 `nc -z -w SEC HOST PORT`, answering from a list: 1 connected, 0 refused (a pod that is
# Ready but not yet listening)
FAKE_NC = f"""#!{sys.executable}
import pathlib, sys
answers = pathlib.Path(sys.argv[0]).with_name("answers")
first, *rest = answers.read_text().split() or ["0"]
answers.write_text(" ".join(rest))
sys.exit(0 if first == "1" else 1)
"""


def _script(tmp_path: Path, answers: str) -> subprocess.CompletedProcess[str]:
    """The probe's script in a real busybox shell, with `nc` answering from `answers`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "answers").write_text(" ".join(answers))
    script = webhook_probe.SCRIPT.replace("sleep 1", "sleep 0")
    env = {"WEBHOOK_SERVICE": "gatekeeper-webhook-service.gatekeeper-system.svc"}
    return run_busybox_script(script, bin_dir, {"nc": FAKE_NC}, env)


def test_the_probe_passes_only_after_ten_answers_in_a_row(tmp_path: Path) -> None:
    # a pod that answers, one still starting (refused), then ten in a row
    done = _script(tmp_path, "1" + "0" + "1" * 10)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "answered 10 times in a row after 12 tries" in done.stdout


def test_the_probe_fails_the_update_when_the_webhook_never_answers_steadily(tmp_path: Path) -> None:
    flapping = _script(tmp_path, ("1" * 9 + "0") * 12)
    assert flapping.returncode == 1
    assert "did not answer 10 times in a row in 120 tries" in flapping.stdout, flapping.stdout


def test_constraints_wait_for_their_templates_and_templates_for_the_webhook_probe(recording: Recording) -> None:
    chart = named(recording, "testwerk-edge-admission-gatekeeper-webhook-probe-job")
    templates = {
        r.inputs["spec"]["crd"]["spec"]["names"]["kind"]: r
        for r in recording.of_type("kubernetes:templates.gatekeeper.sh/v1:ConstraintTemplate")
        if r.name.startswith("testwerk-edge-")
    }
    assert len(templates) == len(TEMPLATES) and all(t.dependencies == [chart.urn] for t in templates.values())
    # done only once Gatekeeper made the constraint CRD: the provider compares the printed value, `true`
    assert all(
        t.inputs["metadata"]["annotations"]["pulumi.com/waitFor"] == "jsonpath={.status.created}=true"
        for t in templates.values()
    )
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


def _webhook_policies(recording: Recording) -> dict[str, str]:
    return {
        r.name: r.inputs["values"]["validatingWebhookFailurePolicy"]
        for r in recording.of_type(CHART)
        if r.inputs["namespace"] == "gatekeeper-system"
    }


def test_webhook_fails_closed_on_every_profile(recording: Recording) -> None:
    # the edge cluster is edge-small (one node): its profile no longer opens the webhook
    assert _webhook_policies(recording) == {
        "testwerk-edge-admission-gatekeeper": "Fail",
        "testwerk-cloud-admission-gatekeeper": "Fail",
    }


def test_webhook_fails_open_only_when_a_disposable_stack_says_so(runs: Runs) -> None:
    raw = mutate(mutate(secure_raw(), "environment", "staging"), "security.gatekeeper.webhookFailurePolicy", "Ignore")
    assert set(_webhook_policies(runs.main(raw)).values()) == {"Ignore"}


SYSTEM = ["kube-node-lease", "kube-public", "kube-system"]
VAP = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy"
VAP_BINDING = f"{VAP}Binding"


def in_tree(recording: Recording, kind: str) -> list[Any]:
    """Admission control's policies or bindings (the restore drill's scope policy is tests/backup/'s)."""
    return [r for r in recording.of_type(kind) if "-admission-vap-" in r.name]


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
    values = named(recording, f"testwerk-{cluster}-admission-gatekeeper").inputs["values"]
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
def test_kubernetes_own_namespaces_get_the_ignore_label_by_patch_after_the_webhook_answers(
    recording: Recording, cluster: str
) -> None:
    probe = named(recording, f"testwerk-{cluster}-admission-gatekeeper-webhook-probe-job")
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
        # Gatekeeper's check-ignore-label webhook judges the update, and admits the label for what it lists
        assert patch.dependencies == [probe.urn]
    assert not [r for r in recording.of_type("kubernetes:core/v1:Namespace") if r.inputs["metadata"]["name"] in SYSTEM]


def test_single_node_cells_hold_the_critical_rules_in_tree(recording: Recording) -> None:
    """#9 finding 7: ValidatingAdmissionPolicies on the edge-small cluster only (the cloud cluster runs
    Gatekeeper with replicas), bound like the constraints, denying in production, and independent of Gatekeeper."""
    policies = {r.inputs["metadata"]["name"]: r for r in in_tree(recording, VAP)}
    bindings = {r.inputs["metadata"]["name"]: r for r in in_tree(recording, VAP_BINDING)}
    assert sorted(policies) == CRITICAL and sorted(bindings) == CRITICAL
    assert all(r.name.startswith("testwerk-edge-admission-vap-") for r in [*policies.values(), *bindings.values()])
    chart = named(recording, "testwerk-edge-admission-gatekeeper")
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
        # they must hold before Gatekeeper is installed and while it is down: the chart waits for them
        assert policies[name].dependencies == [] and policies[name].urn in chart.dependencies
        assert binding.urn in chart.dependencies


@pytest.mark.parametrize(("action", "expected"), [("dryrun", ["Audit"]), ("warn", ["Warn"])])
def test_a_disposable_stack_rolls_the_policies_out_like_its_constraints(
    runs: Runs, action: str, expected: list[str]
) -> None:
    raw = mutate(mutate(secure_raw(), "environment", "staging"), "security.gatekeeper.enforcementAction", action)
    bindings = in_tree(runs.main(raw), VAP_BINDING)
    assert len(bindings) == 3 and all(b.inputs["spec"]["validationActions"] == expected for b in bindings)


def test_a_cell_at_kubernetes_1_29_gets_no_policies(runs: Runs) -> None:
    """admissionregistration.k8s.io/v1 is served from 1.30; 1.29's v1beta1 needs a feature gate."""
    recording = runs.main(mutate(secure_raw(), "clusters.0.kubernetesVersion", "1.29"))
    assert not in_tree(recording, VAP) and not in_tree(recording, VAP_BINDING)
    assert not [r for r in recording.of_type(VAP) if r.name.startswith("testwerk-edge-")], "nor the drill's scope"
    assert recording.of_type("kubernetes:core/v1:NamespacePatch")  # the webhook exemptions do not depend on it


def test_images_are_judged_per_namespace_and_the_mirror_is_on_no_list(recording: Recording) -> None:
    """#9 finding 6: a line runs its own path under the mirror and the stack's list; every other namespace but
    the platform's only the stack's list (attack fixtures: tests/security/gatekeeper/test_images_per_namespace.py)."""

    def spec(name: str) -> dict[str, Any]:
        return dict(named(recording, f"testwerk-edge-admission-gatekeeper-constraint-{name}").inputs["spec"])

    press = spec("allowed-images-line-press")
    assert press["match"]["namespaces"] == ["line-press"]
    config = load_factory_config(secure_raw())
    [restore_helper] = line_images(config, config.cluster("edge"))  # Velero's, pinned and mirrored
    assert press["parameters"] == {
        "allowedImages": [f"{MIRROR}/testwerk-lines/press/*", "registry.plant.local/lines/*", restore_helper]
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
