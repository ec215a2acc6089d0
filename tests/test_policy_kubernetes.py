"""Kubernetes policies: for each, a compliant fixture that passes and one-field mutations that must be caught."""

from __future__ import annotations

from typing import Any

import pytest

import factory_policies as fp
from factory_policies.workloads import POD_SPEC_PATHS
from tests.test_policy_kit import (
    DELETE,
    DROP,
    Case,
    Mutation,
    Res,
    assert_caught,
    assert_compliant,
    case_params,
    judge,
    mutation_params,
    secret,
)

NS = "kubernetes:core/v1:Namespace"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
CRONJOB = "kubernetes:batch/v1:CronJob"
POD = "spec.template.spec"  # where a Deployment keeps its pod spec
APP, INIT, DEBUG = f"{POD}.containers.0", f"{POD}.initContainers.0", f"{POD}.ephemeralContainers.0"
IMAGE = "registry.plant.example.com/mes/order-api:2.4.1"


def container(name: str, image: str = IMAGE, *, sized: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "image": image,
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        "ports": [{"containerPort": 8443, "protocol": "TCP"}],
    }
    if sized:  # ephemeral containers may not declare resources
        body["resources"] = {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "500m", "memory": "256Mi"},
        }
    return body


def restricted_pod() -> dict[str, Any]:
    return {
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container("app")],
        "initContainers": [container("migrate", "registry.plant.example.com/mes/migrate@sha256:" + "a" * 64)],
        "ephemeralContainers": [container("debug", "registry.plant.example.com/tools/debug:1.0", sized=False)],
        "volumes": [
            {"name": "cache", "emptyDir": {}},
            {"name": "config", "configMap": {"name": "order-api"}},
            {"name": "data", "persistentVolumeClaim": {"claimName": "order-api"}},
        ],
    }


def workload(kind_type: str, namespace: str = "line-mes") -> dict[str, Any]:
    """A workload of any kind with the restricted pod spec at the kind's own path."""
    props: dict[str, Any] = {"metadata": {"name": "order-api", "namespace": namespace}}
    node = props
    *parents, last = POD_SPEC_PATHS[kind_type]
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = restricted_pod()
    return props


def deployment(namespace: str = "line-mes") -> tuple[Res, ...]:
    return (Res(DEPLOYMENT, workload(DEPLOYMENT, namespace), name="order-api"),)


# --- Pod Security --------------------------------------------------------------------------------------

BASELINE = Case(
    fp.pod_security_baseline,
    deployment(),
    (
        Mutation("privileged", f"{APP}.securityContext.privileged", True, "privileged is true"),
        Mutation("host-network", f"{POD}.hostNetwork", True, "hostNetwork is true"),
        Mutation("host-pid", f"{POD}.hostPID", True, "hostPID is true"),
        Mutation("host-ipc", f"{POD}.hostIPC", True, "hostIPC is true"),
        Mutation("host-path", f"{POD}.volumes.0", {"name": "cache", "hostPath": {"path": "/var"}}, "hostPath"),
        Mutation("host-port", f"{APP}.ports.0.hostPort", 8443, "binds hostPort 8443"),
        Mutation("init-host-port", f"{INIT}.ports.0.hostPort", 443, "initContainers[0](migrate).ports"),
        Mutation("add-sys-admin", f"{APP}.securityContext.capabilities.add", ["SYS_ADMIN"], "adds ['SYS_ADMIN']"),
        Mutation("proc-mount", f"{DEBUG}.securityContext.procMount", "Unmasked", "procMount"),
        Mutation(
            "unsafe-sysctl",
            f"{POD}.securityContext.sysctls",
            [{"name": "kernel.msgmax", "value": "1"}],
            "unsafe sysctl",
        ),
        Mutation("seccomp-unconfined", f"{INIT}.securityContext.seccompProfile", {"type": "Unconfined"}, "Unconfined"),
        Mutation("host-process", f"{POD}.securityContext.windowsOptions", {"hostProcess": True}, "hostProcess"),
        Mutation("selinux-type", f"{APP}.securityContext.seLinuxOptions", {"type": "spc_t"}, "spc_t"),
        Mutation("apparmor-unconfined", f"{APP}.securityContext.appArmorProfile", {"type": "Unconfined"}, "appArmor"),
    ),
)

RESTRICTED = Case(
    fp.pod_security_restricted,
    deployment(),
    (
        Mutation(
            "escalation-allowed", f"{APP}.securityContext.allowPrivilegeEscalation", True, "allowPrivilegeEscalation"
        ),
        Mutation(
            "init-escalation-unset", f"{INIT}.securityContext.allowPrivilegeEscalation", DELETE, "initContainers[0]"
        ),
        Mutation(
            "ephemeral-escalation-unset", f"{DEBUG}.securityContext.allowPrivilegeEscalation", DELETE, "ephemeral"
        ),
        Mutation("pod-runs-as-root-user", f"{POD}.securityContext.runAsUser", 0, "runAsUser is 0"),
        Mutation("container-runs-as-root", f"{APP}.securityContext.runAsUser", 0, "runAsUser is 0"),
        Mutation("non-root-unset", f"{POD}.securityContext.runAsNonRoot", DELETE, "runAsNonRoot must be true"),
        Mutation(
            "container-non-root-false", f"{INIT}.securityContext.runAsNonRoot", False, "runAsNonRoot must be true"
        ),
        Mutation("seccomp-unset", f"{POD}.securityContext.seccompProfile", DELETE, "RuntimeDefault or Localhost"),
        Mutation("drop-all-missing", f"{APP}.securityContext.capabilities.drop", ["NET_RAW"], "must contain ALL"),
        Mutation(
            "add-net-admin", f"{APP}.securityContext.capabilities.add", ["NET_ADMIN"], "only add NET_BIND_SERVICE"
        ),
        Mutation("nfs-volume", f"{POD}.volumes.2", {"name": "data", "nfs": {"server": "nas", "path": "/"}}, "['nfs']"),
        Mutation("git-repo-volume", f"{POD}.volumes.1", {"name": "config", "gitRepo": {"repository": "x"}}, "gitRepo"),
    ),
)

# Every workload kind is judged at its own pod spec path (a CronJob's is two templates deep).
KIND_CASES = [
    Case(
        fp.pod_security_baseline,
        (Res(kind, workload(kind), name="order-api"),),
        (
            Mutation(
                "privileged",
                ".".join((*POD_SPEC_PATHS[kind], "initContainers", "0", "securityContext", "privileged")),
                True,
                "privileged is true",
            ),
        ),
        id=f"kind-{kind.rsplit(':', 1)[1]}",
    )
    for kind in POD_SPEC_PATHS
]


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


# --- requests and limits, images ---------------------------------------------------------------------

RESOURCES = Case(
    fp.container_resources,
    deployment(),
    (
        Mutation("no-cpu-limit", f"{APP}.resources.limits.cpu", DELETE, "lacks limits.cpu"),
        Mutation("no-memory-request", f"{APP}.resources.requests.memory", DELETE, "lacks requests.memory"),
        Mutation("init-unsized", f"{INIT}.resources", DELETE, "initContainers[0](migrate).resources lacks"),
    ),
)

PINNED = Case(
    fp.image_pinned,
    deployment(),
    (
        Mutation("latest", f"{APP}.image", "registry.plant.example.com/mes/order-api:latest", "mutable tag 'latest'"),
        Mutation("no-tag", f"{APP}.image", "registry.plant.example.com/mes/order-api", "has no tag"),
        Mutation("port-is-not-a-tag", f"{INIT}.image", "registry.plant.example.com:5000/mes/migrate", "has no tag"),
        Mutation("ephemeral-latest", f"{DEBUG}.image", "busybox:latest", "ephemeralContainers[0](debug).image"),
    ),
)

REGISTRIES = Case(
    fp.image_allowed_registries,
    deployment(),
    (
        Mutation("docker-hub", f"{APP}.image", "nginx:1.27.0", "not from an allowed registry"),
        Mutation(
            "look-alike-host", f"{APP}.image", "registry.plant.example.com.evil.io/mes/x:1", "not from an allowed"
        ),
        Mutation("init-elsewhere", f"{INIT}.image", "ghcr.io/someone/migrate:1.0", "initContainers[0]"),
    ),
    config={"allowedRegistries": ["registry.plant.example.com/*"]},
)


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


# --- namespaces and zones ----------------------------------------------------------------------------

PSA_LABELS = {
    f"pod-security.kubernetes.io/{mode}{suffix}": value
    for mode in ("enforce", "audit", "warn")
    for suffix, value in (("", "restricted"), ("-version", "v1.32"))
}
LINE_LABELS = {"app.kubernetes.io/component": "production-line", **PSA_LABELS}
LINE_NS = Res(NS, {"metadata": {"name": "line-press", "labels": LINE_LABELS}}, name="line-press")


def label(key: str) -> tuple[str, ...]:
    return ("metadata", "labels", key)


NAMESPACE = Case(
    fp.namespace_pod_security,
    (LINE_NS,),
    (
        Mutation("enforce-baseline", label("pod-security.kubernetes.io/enforce"), "baseline", "only exempt system"),
        Mutation("warn-privileged", label("pod-security.kubernetes.io/warn"), "privileged", "only exempt system"),
        Mutation("audit-version-latest", label("pod-security.kubernetes.io/audit-version"), "latest", "must pin"),
        Mutation("enforce-missing", label("pod-security.kubernetes.io/enforce"), DELETE, "has no pod-security"),
        Mutation("warn-version-missing", label("pod-security.kubernetes.io/warn-version"), DELETE, "must pin"),
    ),
)


FALCO_NS = Res(
    NS,
    {
        "metadata": {
            "name": "falco",
            "labels": {**PSA_LABELS, "pod-security.kubernetes.io/enforce": "privileged"},
            "annotations": {"factory-floor.io/pod-security-exemption": "the eBPF probe needs host access"},
        }
    },
    name="falco",
)
NAMESPACE_EXEMPTION = Case(
    fp.namespace_pod_security,
    (FALCO_NS,),
    (
        Mutation(
            "exemption-without-reason",
            ("metadata", "annotations", "factory-floor.io/pod-security-exemption"),
            DELETE,
            "without a factory-floor.io/pod-security-exemption annotation",
        ),
        Mutation("not-in-exempt-list", "metadata.name", "line-paint", "only exempt system namespaces"),
    ),
    id="namespace-pod-security-exemption",
)


def test_exempt_system_namespace_may_be_privileged_via_config() -> None:
    metadata = {**FALCO_NS.props["metadata"], "name": "metrics-agent"}
    agent = [Res(NS, {"metadata": metadata})]
    assert judge(fp.namespace_pod_security, agent)
    assert judge(fp.namespace_pod_security, agent, {"exemptNamespaces": ["metrics-agent"]}) == []
    assert judge(fp.namespace_pod_security, [FALCO_NS]) == [], "falco is in the default exempt list"


DENY = Res(
    NETPOL,
    {
        "metadata": {"name": "default-deny", "namespace": "line-press"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    },
    name="default-deny",
)
DEFAULT_DENY = Case(
    fp.line_default_deny,
    (LINE_NS, DENY),
    (
        Mutation("ingress-only", "spec.policyTypes", ["Ingress"], "no default-deny", target="default-deny"),
        Mutation(
            "selects-some-pods",
            "spec.podSelector",
            {"matchLabels": {"app": "plc"}},
            "no default-deny",
            target="default-deny",
        ),
        Mutation("allow-all-rule", "spec.ingress", [{}], "no default-deny", target="default-deny"),
        Mutation("other-namespace", "metadata.namespace", "line-weld", "no default-deny", target="default-deny"),
        Mutation("missing", "", DROP, "no default-deny", target="default-deny"),
    ),
)


def test_non_line_namespace_needs_no_default_deny() -> None:
    assert judge(fp.line_default_deny, [Res(NS, {"metadata": {"name": "tools", "labels": {}}})]) == []


SERVICE = Case(
    fp.service_exposure,
    (
        Res(
            "kubernetes:core/v1:Service",
            {
                "metadata": {"name": "order-api", "namespace": "line-mes"},
                "spec": {"type": "ClusterIP", "ports": [{"port": 443, "targetPort": 8443}]},
            },
        ),
    ),
    (
        Mutation("load-balancer", "spec.type", "LoadBalancer", "of type LoadBalancer"),
        Mutation("node-port", "spec.type", "NodePort", "of type NodePort"),
        Mutation("external-ips", "spec.externalIPs", ["10.0.0.5"], "externalIPs"),
    ),
)


def test_exposed_services_allowed_in_configured_namespaces() -> None:
    gateway = [
        Res(
            "kubernetes:core/v1:Service",
            {"metadata": {"name": "gw", "namespace": "edge-gw"}, "spec": {"type": "LoadBalancer"}},
        )
    ]
    assert judge(fp.service_exposure, gateway)
    assert judge(fp.service_exposure, gateway, {"exposedServiceNamespaces": ["edge-gw"]}) == []


# --- access --------------------------------------------------------------------------------------------

ROLE = Res(
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
    {
        "metadata": {"name": "kube-bench-reader"},
        "rules": [
            {"apiGroups": [""], "resources": ["nodes", "pods"], "verbs": ["get", "list"]},
            {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["get"]},
            {"nonResourceURLs": ["/healthz"], "verbs": ["get"]},
        ],
    },
)
WILDCARDS = Case(
    fp.rbac_no_wildcards,
    (ROLE,),
    (
        Mutation("verbs", "rules.0.verbs", ["*"], "rules[0].verbs uses wildcard"),
        Mutation("resources", "rules.0.resources", ["*"], "rules[0].resources uses wildcard"),
        Mutation("subresources", "rules.0.resources", ["pods/*"], "uses wildcard ['pods/*']"),
        Mutation("api-groups", "rules.1.apiGroups", ["*"], "rules[1].apiGroups"),
        Mutation("non-resource-urls", "rules.2.nonResourceURLs", ["/*"], "nonResourceURLs"),
    ),
)


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


ESCALATION = Case(
    fp.rbac_no_escalation_verbs,
    (ROLE,),
    (
        Mutation("escalate", "rules.1.verbs", ["get", "escalate"], "['escalate']"),
        Mutation("bind", "rules.0.verbs", ["bind"], "['bind']"),
        Mutation("impersonate", "rules.0.verbs", ["impersonate"], "['impersonate']"),
    ),
)
RBAC = "kubernetes:rbac.authorization.k8s.io/v1"
SUPERUSER = Case(
    fp.rbac_no_superuser_bindings,
    (
        Res(
            f"{RBAC}:RoleBinding",
            {
                "metadata": {"name": "line-editors", "namespace": "line-mes"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "line-editor"},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "mes-engineers"}],
            },
            name="line-editors",
        ),
        Res(
            f"{RBAC}:ClusterRoleBinding",
            {
                "metadata": {"name": "ci-view", "namespace": "line-mes"},
                "roleRef": {"kind": "ClusterRole", "name": "view"},
                "subjects": [{"kind": "ServiceAccount", "name": "ci"}],
            },
            name="ci-view",
        ),
    ),
    (
        Mutation(
            "group-to-cluster-admin",
            "roleRef",
            {"kind": "ClusterRole", "name": "cluster-admin"},
            "Group:mes-engineers to cluster-admin",
        ),
        Mutation("system-masters", "subjects.0.name", "system:masters", "system:masters group"),
        Mutation(
            "sa-to-cluster-admin", "roleRef.name", "cluster-admin", "ServiceAccount:line-mes/ci to", target="ci-view"
        ),
    ),
)


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


SECRETS = Case(
    fp.secret_no_literal_data,
    (
        Res(
            "kubernetes:core/v1:Secret",
            {"metadata": {"name": "registry-pull", "namespace": "line-mes"}, "type": "kubernetes.io/dockerconfigjson"},
        ),
    ),
    (
        Mutation("data", "data", {"token": "c2VjcmV0"}, "sets data from the program"),
        Mutation("string-data-as-secret", "stringData", secret({"password": "hunter2"}), "sets stringData"),
    ),
)


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


HELM_RELEASE = Case(
    fp.helm_v3_release_forbidden,
    (Res("kubernetes:helm.sh/v4:Chart", {"chart": "falco", "version": "9.1.0"}, name="falco"),),
    (Mutation("release", "@type", "kubernetes:helm.sh/v3:Release", "helm.v3.Release 'falco'"),),
)
HELM_VERSION = Case(
    fp.helm_chart_version_pinned,
    (
        Res(
            "kubernetes:helm.sh/v4:Chart",
            {"chart": "falco", "version": "9.1.0", "values": {"driver": {"kind": "modern_ebpf"}}},
        ),
    ),
    (
        Mutation("no-version", "version", DELETE, "version None is not an exact version"),
        Mutation("range", "version", "^9.1", "'^9.1' is not an exact version"),
    ),
)

CASES = [
    BASELINE,
    RESTRICTED,
    *KIND_CASES,
    RESOURCES,
    PINNED,
    REGISTRIES,
    NAMESPACE,
    NAMESPACE_EXEMPTION,
    DEFAULT_DENY,
    SERVICE,
    WILDCARDS,
    ESCALATION,
    SUPERUSER,
    SECRETS,
    HELM_RELEASE,
    HELM_VERSION,
]


@pytest.mark.parametrize("case", case_params(CASES))
def test_compliant_fixture_passes(case: Case) -> None:
    assert_compliant(case)


@pytest.mark.parametrize(("case", "mutation"), mutation_params(CASES))
def test_mutation_is_caught(case: Case, mutation: Mutation) -> None:
    assert_caught(case, mutation)
