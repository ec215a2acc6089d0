"""Every production-line namespace is a zone with a default-deny NetworkPolicy in both directions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from factory_policies.controls import (
    IEC_62443,
    K8S_NAMESPACE,
    K8S_NETWORK_POLICY,
    LINE_COMPONENT,
    labels,
    metadata,
    references,
)


def is_default_deny(props: Mapping[str, Any]) -> bool:
    spec = props.get("spec") or {}
    selects_all = not (spec.get("podSelector") or {}).get("matchLabels") and not (spec.get("podSelector") or {}).get(
        "matchExpressions"
    )
    types = set(spec.get("policyTypes") or [])
    return selects_all and types == {"Ingress", "Egress"} and not spec.get("ingress") and not spec.get("egress")


def _validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    denied = {
        metadata(r.props).get("namespace")
        for r in args.resources
        if r.resource_type == K8S_NETWORK_POLICY and is_default_deny(r.props)
    }
    for resource in args.resources:
        if resource.resource_type != K8S_NAMESPACE:
            continue
        if labels(resource.props).get("app.kubernetes.io/component") != LINE_COMPONENT:
            continue
        name = metadata(resource.props).get("name")
        if name not in denied:
            report_violation(
                f"production-line namespace '{name}' has no default-deny NetworkPolicy (empty podSelector, "
                "policyTypes Ingress and Egress, no rules)",
                resource.urn,
            )


line_default_deny = StackValidationPolicy(
    name="line-namespace-default-deny",
    display_name="Production lines are default-deny zones",
    description=(
        "Each production-line namespace has a NetworkPolicy that selects every pod and denies all ingress "
        "and egress; only explicitly declared conduits are opened on top of it."
    ),
    validate=_validate,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=IEC_62443,
    tags=references("iec62443:SR 5.1", "iec62443:SR 5.2", "cis-k8s:5.3.2"),
    remediation_steps=(
        "Create a NetworkPolicy named default-deny in the line namespace with podSelector {} and policyTypes "
        "[Ingress, Egress]; declare every needed conduit as a flow in the stack config."
    ),
)
