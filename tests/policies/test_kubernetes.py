"""Kubernetes policies beyond their cases (tests/support/policy_cases/kubernetes*.py): every workload kind,
exempt namespaces, configurable allow-lists, and what catalogue charts may render."""

from __future__ import annotations

from typing import Any

import pytest

import factory_policies as fp
from components.core.contracts import SYSTEM_NAMESPACES
from factory_policies.segmentation import KUBERNETES_NAMESPACES
from factory_policies.workloads import POD_SPEC_PATHS
from tests.support.policy_cases.kubernetes import CRONJOB, DEPLOYMENT, NETPOL, NS, REGISTRIES, ROLE, workload
from tests.support.policy_cases.kubernetes_cluster import FALCO_NS
from tests.support.policy_kit import Res, judge, secret


def test_restricted_compliant_on_every_kind_and_restricted_mutation_on_cronjob() -> None:
    for kind in POD_SPEC_PATHS:
        assert judge(fp.pod_security_restricted, [Res(kind, workload(kind))]) == [], kind
    cron = Res(CRONJOB, workload(CRONJOB))
    cron.props["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["securityContext"] = {}
    assert any(
        "spec.jobTemplate.spec.template.spec.containers[0](app)" in v for v in judge(fp.pod_security_restricted, [cron])
    )


@pytest.mark.parametrize("policy", [fp.pod_security_baseline, fp.pod_security_restricted], ids=lambda p: p.name)
def test_exempt_namespaces_are_skipped_and_configurable(policy: Any) -> None:
    bench = Res(CRONJOB, workload(CRONJOB, namespace="kube-bench"))
    bench.props["spec"]["jobTemplate"]["spec"]["template"]["spec"].update(
        hostPID=True, volumes=[{"name": "etc", "hostPath": {"path": "/etc"}}], securityContext={}
    )
    assert judge(policy, [bench]) == [], "kube-bench is exempt by default"
    assert judge(policy, [bench], {"exemptNamespaces": ["kube-system"]}), "a stack's own list replaces the default"


def test_non_workloads_are_not_judged() -> None:
    assert judge(fp.pod_security_baseline, [Res("kubernetes:core/v1:ConfigMap", {"spec": {"hostPID": True}})]) == []


def test_registries_like_gatekeeper_skip_exempt_namespaces_but_pinning_does_not() -> None:
    props = workload(CRONJOB, namespace="kube-bench")
    props["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["image"] = "docker.io/aquasec/kube-bench"
    bench = [Res(CRONJOB, props)]
    assert judge(fp.image_allowed_registries, bench, REGISTRIES.config) == []
    assert judge(fp.image_pinned, bench)


def test_without_an_allow_list_only_pinning_applies() -> None:
    fixture = [Res(DEPLOYMENT, workload(DEPLOYMENT))]
    fixture[0].props["spec"]["template"]["spec"]["containers"][0]["image"] = "docker.io/library/nginx:1.27.0"
    assert judge(fp.image_allowed_registries, fixture) == []
    assert (
        judge(
            fp.image_allowed_registries,
            fixture,
            {"allowedRegistries": ["docker.io/library/nginx:1.27.0", "registry.plant.example.com/*"]},
        )
        == []
    )


def test_exempt_system_namespace_may_be_privileged_via_config() -> None:
    metadata = {**FALCO_NS.props["metadata"], "name": "metrics-agent"}
    agent = [Res(NS, {"metadata": metadata})]
    assert judge(fp.namespace_pod_security, agent)
    assert judge(fp.namespace_pod_security, agent, {"exemptNamespaces": ["metrics-agent"]}) == []
    assert judge(fp.namespace_pod_security, [FALCO_NS]) == [], "falco is in the default exempt list"


def test_a_namespace_without_the_line_label_still_needs_default_deny() -> None:
    """The attack: a namespace made by hand or by a chart, without the line label, to escape segmentation."""
    tools = Res(NS, {"metadata": {"name": "tools", "labels": {}}})
    assert judge(fp.line_default_deny, [tools]) == [
        "namespace 'tools' has no default-deny NetworkPolicy (empty "
        "podSelector, policyTypes Ingress and Egress, no rules); only Kubernetes' own namespaces may go without, "
        "platform namespaces included"
    ]
    closed = Res(
        NETPOL,
        {
            "metadata": {"name": "default-deny", "namespace": "tools"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
        },
        name="tools-deny",
    )
    assert judge(fp.line_default_deny, [tools, closed]) == []


def test_only_kubernetes_own_namespaces_need_no_default_deny() -> None:
    system = [Res(NS, {"metadata": {"name": name}}, name=name) for name in ("kube-system", "kube-public")]
    assert judge(fp.line_default_deny, system) == []
    assert judge(fp.line_default_deny, system, {"exemptNamespaces": []}) == [], "admission exemptions do not matter"


def test_a_platform_namespace_is_a_default_deny_zone_too() -> None:
    """The attack: a compromised Falco (or trivy, or External Secrets) pod in an open namespace reaches every line.
    Being exempt from the lines' admission rules no longer exempts a platform namespace from segmentation."""
    platform = [Res(NS, {"metadata": {"name": name}}, name=name) for name in ("falco", "kube-bench")]
    assert judge(fp.line_default_deny, platform) == [
        f"namespace '{name}' has no default-deny NetworkPolicy (empty podSelector, policyTypes Ingress and Egress, "
        "no rules); only Kubernetes' own namespaces may go without, platform namespaces included"
        for name in ("falco", "kube-bench")
    ]
    closed = [
        Res(
            NETPOL,
            {
                "metadata": {"name": "default-deny", "namespace": name},
                "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
            },
            name=f"{name}-deny",
        )
        for name in ("falco", "kube-bench")
    ]
    assert judge(fp.line_default_deny, [*platform, *closed]) == []


def test_the_pack_knows_kubernetes_own_namespaces_as_the_program_does() -> None:
    assert set(SYSTEM_NAMESPACES) == KUBERNETES_NAMESPACES


def test_exposed_services_allowed_in_configured_namespaces() -> None:
    gateway = [
        Res(
            "kubernetes:core/v1:Service",
            {"metadata": {"name": "gw", "namespace": "edge-gw"}, "spec": {"type": "LoadBalancer"}},
        )
    ]
    assert judge(fp.service_exposure, gateway)
    assert judge(fp.service_exposure, gateway, {"exposedServiceNamespaces": ["edge-gw"]}) == []


@pytest.mark.parametrize("policy", [fp.rbac_no_wildcards, fp.rbac_no_escalation_verbs], ids=lambda p: p.name)
def test_roles_rendered_by_a_catalogue_chart_are_exempt(policy: Any) -> None:
    audit = {
        "metadata": {"name": "gatekeeper-manager-role"},
        "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*", "bind"]}],
    }
    ours = Res(ROLE.type, audit)
    from_chart = Res(ROLE.type, audit, parents=("factory:index:SecurityBaseline", "kubernetes:helm.sh/v4:Chart"))
    assert judge(policy, [ours])
    assert judge(policy, [from_chart]) == []


def test_platform_subjects_may_hold_cluster_admin_via_config() -> None:
    binding = Res(
        "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
        {
            "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "Group", "name": "platform-admins"}],
        },
    )
    assert judge(fp.rbac_no_superuser_bindings, [binding])
    assert judge(fp.rbac_no_superuser_bindings, [binding], {"clusterAdminSubjects": ["Group:platform-admins"]}) == []


def test_secret_wrapped_literal_data_is_caught_without_reading_it() -> None:
    wrapped = Res("kubernetes:core/v1:Secret", {"metadata": {"name": "x"}, "stringData": secret({"password": "p"})})
    assert judge(fp.secret_no_literal_data, [wrapped]) == [
        "Secret default/x sets stringData from the program; its value ends up in state"
    ]


def test_chart_rendered_secret_is_exempt_only_in_a_platform_namespace() -> None:
    """Falcosidekick's chart renders its config as a Secret in `falco`; the same Secret in a line, or not from
    a chart, is still a violation."""
    chart_parents = ("factory:index:SecurityBaseline", "kubernetes:helm.sh/v4:Chart")
    vendor = Res(
        "kubernetes:core/v1:Secret",
        {"metadata": {"name": "falco-falcosidekick", "namespace": "falco"}, "data": {"WEBHOOK_ADDRESS": "aHR0cHM="}},
        parents=chart_parents,
    )
    assert judge(fp.secret_no_literal_data, [vendor]) == []
    in_line = Res(
        "kubernetes:core/v1:Secret",
        {"metadata": {"name": "leak", "namespace": "line-mes"}, "data": {"token": "c2VjcmV0"}},
        parents=chart_parents,
    )
    assert judge(fp.secret_no_literal_data, [in_line]) == [
        "Secret line-mes/leak sets data from the program; its value ends up in state"
    ]
    from_program = Res("kubernetes:core/v1:Secret", dict(vendor.props))
    assert judge(fp.secret_no_literal_data, [from_program]), "outside a chart the platform namespace is no excuse"
