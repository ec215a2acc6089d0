"""Kubernetes cluster objects: namespaces and zones, default-deny NetworkPolicies, Service exposure, RBAC,
Secrets and Helm — for each policy a compliant fixture and one-field mutations that must be caught."""

from __future__ import annotations

import factory_policies as fp
from tests.support.policy_cases.kubernetes import LINE_NS, NETPOL, NS, PSA_LABELS, ROLE, label
from tests.support.policy_kit import DELETE, DROP, Case, Mutation, Res, secret

# --- namespaces and zones ----------------------------------------------------------------------------

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


# --- access --------------------------------------------------------------------------------------------

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
