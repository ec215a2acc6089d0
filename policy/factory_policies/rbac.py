"""RBAC least privilege: explicit rules only, no escalation verbs, no cluster-admin outside the platform."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity

from factory_policies.controls import (
    CIS_KUBERNETES,
    IEC_62443,
    K8S_CLUSTER_ROLE,
    K8S_CLUSTER_ROLE_BINDING,
    K8S_ROLE,
    K8S_ROLE_BINDING,
    dig,
    items,
    namespace_of,
    object_name,
    rendered_by_chart,
)
from factory_policies.kit import resource_policy
from factory_policies.settings import setting

RULE_FIELDS = ("apiGroups", "resources", "verbs", "nonResourceURLs")
# verbs that let a holder grant itself more than it has (CIS 5.1.8)
ESCALATION_VERBS = frozenset({"escalate", "bind", "impersonate"})
SUPERUSER_ROLE = "cluster-admin"
SUPERUSER_GROUP = "system:masters"


def _rules(args: ResourceValidationArgs) -> Iterator[tuple[int, Mapping[str, Any]]]:
    for index, rule in enumerate(items(args.props, "rules")):
        if isinstance(rule, Mapping):
            yield index, rule


def _check_wildcards(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    name = object_name(args.props, args.name)
    for index, rule in _rules(args):
        for field in RULE_FIELDS:
            wild = [str(v) for v in items(rule, field) if "*" in str(v)]
            if wild:
                report_violation(f"{name}: rules[{index}].{field} uses wildcard {wild}; list them explicitly", None)


def _check_escalation(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    name = object_name(args.props, args.name)
    for index, rule in _rules(args):
        verbs = {str(v) for v in items(rule, "verbs")} & ESCALATION_VERBS
        if verbs:
            report_violation(f"{name}: rules[{index}].verbs grants {sorted(verbs)}", None)


def chart_role(args: ResourceValidationArgs) -> str | None:
    """Roles a third-party chart renders are part of the vetted chart version, not the program's design."""
    if rendered_by_chart(args.urn):
        return (
            "rendered by a kubernetes.helm.v4.Chart: third-party RBAC is reviewed when the chart version "
            "enters the add-on catalogue"
        )
    return None


def subject_id(subject: Mapping[str, Any], binding_namespace: str) -> str:
    kind, name = dig(subject, "kind"), dig(subject, "name")
    if kind == "ServiceAccount":
        return f"ServiceAccount:{dig(subject, 'namespace') or binding_namespace}/{name}"
    return f"{kind}:{name}"


def _check_superuser(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    name = object_name(args.props, args.name)
    allowed = set(setting(args, "clusterAdminSubjects"))
    to_superuser = dig(args.props, "roleRef", "kind") == "ClusterRole" and (
        dig(args.props, "roleRef", "name") == SUPERUSER_ROLE
    )
    for subject in items(args.props, "subjects"):
        who = subject_id(subject, namespace_of(args.props))
        if who in allowed:
            continue
        if to_superuser:
            report_violation(f"{name} binds {who} to {SUPERUSER_ROLE}", None)
        if dig(subject, "kind") == "Group" and dig(subject, "name") == SUPERUSER_GROUP:
            report_violation(f"{name} binds the {SUPERUSER_GROUP} group, which bypasses RBAC entirely", None)


ROLE_TYPES = (K8S_ROLE, K8S_CLUSTER_ROLE)
BINDING_TYPES = (K8S_ROLE_BINDING, K8S_CLUSTER_ROLE_BINDING)

rbac_no_wildcards = resource_policy(
    name="rbac-no-wildcards",
    title="Roles list verbs, resources and API groups explicitly",
    description=(
        "No Role or ClusterRole rule uses '*' in apiGroups, resources (including 'pods/*'), verbs or "
        "nonResourceURLs: a wildcard silently grants every future resource and verb. Roles rendered by a "
        "Helm v4 chart of the add-on catalogue (e.g. Gatekeeper's audit role reads every kind) are exempt."
    ),
    controls=(CIS_KUBERNETES("5.1.3"), IEC_62443("SR 2.1")),
    resource_types=ROLE_TYPES,
    check=_check_wildcards,
    severity=Severity.HIGH,
    remediation="Replace each wildcard by the API groups, resources and verbs the subject actually needs.",
    exemption=chart_role,
)

rbac_no_escalation_verbs = resource_policy(
    name="rbac-no-escalation-verbs",
    title="Roles grant no escalate, bind or impersonate",
    description=(
        "No Role or ClusterRole grants the escalate, bind or impersonate verbs, which let the holder obtain "
        "permissions it was not given. Roles rendered by a Helm v4 chart of the add-on catalogue are exempt."
    ),
    controls=(CIS_KUBERNETES("5.1.8"), IEC_62443("SR 2.1")),
    resource_types=ROLE_TYPES,
    check=_check_escalation,
    severity=Severity.HIGH,
    remediation=(
        "Remove escalate/bind/impersonate from the rule; grant the concrete role instead, through a binding "
        "created by the platform."
    ),
    exemption=chart_role,
)

rbac_no_superuser_bindings = resource_policy(
    name="rbac-no-cluster-admin-bindings",
    title="Nobody outside the platform is bound to cluster-admin or system:masters",
    description=(
        "No RoleBinding or ClusterRoleBinding binds a subject to the cluster-admin ClusterRole, and none "
        "names the system:masters group, unless the subject is listed in `clusterAdminSubjects`."
    ),
    controls=(CIS_KUBERNETES("5.1.1"), CIS_KUBERNETES("5.1.7"), IEC_62443("SR 2.1"), IEC_62443("SR 1.1")),
    resource_types=BINDING_TYPES,
    check=_check_superuser,
    severity=Severity.CRITICAL,
    remediation=(
        "Bind a narrower role (the line's editor role, or a purpose-built ClusterRole); if a platform "
        "break-glass identity truly needs cluster-admin, list it in the pack config `clusterAdminSubjects`."
    ),
    config=("clusterAdminSubjects",),
)
