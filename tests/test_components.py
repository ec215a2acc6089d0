"""Component tests: the real __main__.py under the SDK mock runtime — which resources, inputs, parents, providers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest

from offline import harness
from offline.harness import SECRET_SIG, Recording, Registration
from offline.render import redact
from tests.factories import mutate, pulumi_config, valid_raw

ROOT = Path(__file__).resolve().parent.parent
NS = "kubernetes:core/v1:Namespace"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


def run_main(raw: dict[str, Any]) -> Recording:
    config, secrets = pulumi_config(raw)
    return harness.run(
        harness.main_program(ROOT), project="factory-floor", stack="test", config=config, secret_keys=secrets
    )


@pytest.fixture(scope="module")
def recording() -> Recording:
    return run_main(valid_raw())


def one(recording: Recording, type_: str, name: str) -> Registration:
    found = [r for r in recording.resources if r.type == type_ and r.name == name]
    assert len(found) == 1, f"{type_} {name}: {[r.name for r in recording.of_type(type_)]}"
    return found[0]


def in_namespace(recording: Recording, type_: str, namespace: str) -> list[dict[str, Any]]:
    return [
        redact(r.inputs) for r in recording.of_type(type_) if r.inputs.get("metadata", {}).get("namespace") == namespace
    ]


def test_component_tree_and_types(recording: Recording) -> None:
    platform = one(recording, "factory:index:FactoryPlatform", "testwerk")
    assert not platform.custom and platform.parent.endswith("pulumi:pulumi:Stack::factory-floor-test")
    lines = recording.of_type("factory:index:ProductionLine")
    assert sorted(line.name for line in lines) == ["testwerk-mes", "testwerk-press", "testwerk-weld"]
    assert all(line.parent == platform.urn and not line.custom for line in lines)
    for line in lines:
        children = [r for r in recording.resources if r.parent == line.urn]
        kinds = sorted(r.type.rsplit(":", 1)[1] for r in children)
        assert kinds.count("Namespace") == 1
        assert {"LimitRange", "ResourceQuota", "Role", "RoleBinding", "ServiceAccount"} <= set(kinds)
        assert kinds.count("NetworkPolicy") >= 3


def test_one_explicit_provider_per_cluster_with_secret_kubeconfig(recording: Recording) -> None:
    providers = recording.of_type("pulumi:providers:kubernetes")
    assert sorted(p.name for p in providers) == ["testwerk-cloud", "testwerk-edge"]
    for provider in providers:
        kubeconfig = provider.inputs["kubeconfig"]
        assert isinstance(kubeconfig, dict) and SECRET_SIG in kubeconfig, "kubeconfig must travel as a secret"
        assert provider.inputs["clusterIdentifier"] == f"testwerk/{provider.name.removeprefix('testwerk-')}"
        assert provider.inputs["deleteUnreachable"] == "false"


def test_every_kubernetes_object_uses_its_clusters_provider(recording: Recording) -> None:
    providers = {p.urn: p.name for p in recording.of_type("pulumi:providers:kubernetes")}
    # a line's objects are named after the line, a baseline's after its cluster
    cluster_of = {"press": "edge", "weld": "edge", "mes": "cloud", "edge": "edge", "cloud": "cloud"}
    objects = [r for r in recording.resources if r.type.startswith("kubernetes:")]
    assert len(objects) > 40
    for r in objects:
        owner = r.name.removeprefix("testwerk-").split("-")[0]
        assert providers[r.provider_urn] == f"testwerk-{cluster_of[owner]}", r.name


def test_namespace_is_pod_security_restricted_pinned_to_cluster_version(recording: Recording) -> None:
    labels = one(recording, NS, "testwerk-mes-namespace").inputs["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
        assert labels[f"pod-security.kubernetes.io/{mode}-version"] == "v1.33"  # the cloud cluster's minor
    assert labels["factory-floor.io/factory"] == "testwerk"
    assert labels["factory-floor.io/team"] == "digital"
    assert labels["app.kubernetes.io/managed-by"] == "pulumi"
    assert labels["factory-floor.io/chaos"] == "opt-in"
    press = one(recording, NS, "testwerk-press-namespace").inputs["metadata"]["labels"]
    assert press["pod-security.kubernetes.io/enforce-version"] == "v1.32"
    assert "factory-floor.io/chaos" not in press


def test_namespaced_objects_wait_for_their_namespace(recording: Recording) -> None:
    namespace = one(recording, NS, "testwerk-weld-namespace")
    weld = [r for r in recording.resources if r.custom and r.name.startswith("testwerk-weld-") and r.type != NS]
    assert weld and all(namespace.urn in r.dependencies for r in weld)


def test_default_deny_dns_and_scrape_in_every_line(recording: Recording) -> None:
    for namespace in ("line-press", "line-weld", "line-mes"):
        policies = {p["metadata"]["name"]: p["spec"] for p in in_namespace(recording, NETPOL, namespace)}
        assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        dns = policies["allow-dns"]["egress"][0]
        assert dns["ports"] == [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
        assert dns["to"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "kube-system"}
        scrape = policies["allow-metrics-scrape"]["ingress"][0]
        assert scrape["ports"] == [{"protocol": "TCP", "port": 9464}]


def test_declared_flow_is_opened_on_both_sides_and_nowhere_else(recording: Recording) -> None:
    press = {p["metadata"]["name"]: p["spec"] for p in in_namespace(recording, NETPOL, "line-press")}
    weld = {p["metadata"]["name"]: p["spec"] for p in in_namespace(recording, NETPOL, "line-weld")}
    mes = {p["metadata"]["name"]: p["spec"] for p in in_namespace(recording, NETPOL, "line-mes")}
    egress = press["flow-to-weld-tcp"]
    assert egress["policyTypes"] == ["Egress"]
    assert egress["egress"] == [
        {
            "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "line-weld"}}}],
            "ports": [{"protocol": "TCP", "port": 4840}],
        }
    ]
    ingress = weld["flow-from-press-tcp"]
    assert ingress["ingress"][0]["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "line-press"}}}
    ]
    assert ingress["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 4840}]
    assert not [n for n in weld if n.startswith("flow-to-")]
    assert not [n for n in mes if n.startswith("flow-")]


def test_quota_and_limits_follow_profile_and_criticality(recording: Recording) -> None:
    quota = {q["metadata"]["namespace"]: q["spec"]["hard"] for q in map(redact, _inputs(recording, "ResourceQuota"))}
    # edge-small base: 1 CPU / 2Gi requests; press is critical (x2), weld standard
    assert quota["line-press"]["requests.cpu"] == "2" and quota["line-press"]["requests.memory"] == "4Gi"
    assert quota["line-weld"]["requests.cpu"] == "1" and quota["line-weld"]["limits.memory"] == "4Gi"
    assert quota["line-mes"]["requests.cpu"] == "8"  # cloud profile
    for hard in quota.values():
        assert hard["services.loadbalancers"] == "0" and hard["services.nodeports"] == "0"
    limits = {x["metadata"]["namespace"]: x["spec"]["limits"][0] for x in _inputs(recording, "LimitRange")}
    assert limits["line-weld"]["default"] == {"cpu": "500m", "memory": "512Mi"}
    assert limits["line-weld"]["defaultRequest"] == {"cpu": "50m", "memory": "64Mi"}


def _inputs(recording: Recording, kind: str) -> list[dict[str, Any]]:
    return [redact(r.inputs) for r in recording.resources if r.type.endswith(f":{kind}")]


def test_team_groups_get_edit_rights_only_in_their_line(recording: Recording) -> None:
    bindings = {b["metadata"]["namespace"]: b for b in _inputs(recording, "RoleBinding")}
    assert [s["name"] for s in bindings["line-mes"]["subjects"]] == ["digital-a", "digital-b"]
    assert all(s["kind"] == "Group" for s in bindings["line-mes"]["subjects"])
    assert bindings["line-press"]["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "line-editor",
    }
    for role in _inputs(recording, "Role"):
        for rule in role["rules"]:
            assert "*" not in rule["verbs"] and "*" not in rule["resources"] and "*" not in rule["apiGroups"]
            assert "secrets" not in rule["resources"] and "networkpolicies" not in rule["resources"]


def test_workload_service_account_has_no_token_automount(recording: Recording) -> None:
    accounts = _inputs(recording, "ServiceAccount")
    assert len(accounts) == 3
    assert all(a["automountServiceAccountToken"] is False for a in accounts)


def test_stack_outputs_name_namespaces_and_no_secrets(recording: Recording) -> None:
    assert recording.outputs["factory"] == "testwerk"
    assert recording.outputs["lines"]["mes"] == {"namespace": "line-mes", "serviceAccount": "line-workload"}
    assert "kubeconfig" not in repr(recording.outputs)


def _run_expecting_error(config: dict[str, str], secrets: list[str]) -> tuple[str, Recording]:
    """Run __main__.py, catching the RunError inside the program so we can see what got registered."""
    main = harness.main_program(ROOT)
    caught: list[str] = []

    def program() -> None:
        try:
            main()
        except pulumi.RunError as error:
            caught.append(str(error))

    recording = harness.run(program, project="factory-floor", stack="test", config=config, secret_keys=secrets)
    assert caught, "the program accepted a broken configuration"
    return caught[0], recording


def test_broken_config_stops_before_any_resource() -> None:
    message, recording = _run_expecting_error(*pulumi_config(mutate(valid_raw(), "lines.1.cluster", "edgy")))
    assert "factory-floor:lines[1].cluster" in message
    assert recording.resources == []


def test_missing_kubeconfig_names_the_key() -> None:
    raw = valid_raw()
    del raw["cloudKubeconfig"]
    message, recording = _run_expecting_error(*pulumi_config(raw))
    assert "factory-floor:clusters[1].kubeconfig.secretKey" in message
    assert "pulumi config set --secret cloudKubeconfig" in message
    assert recording.resources == []


def test_plaintext_kubeconfig_is_refused() -> None:
    config, secrets = pulumi_config(valid_raw())
    secrets.remove("factory-floor:edgeKubeconfig")
    message, recording = _run_expecting_error(config, secrets)
    assert "holds a kubeconfig in plain text" in message
    assert recording.resources == []
