"""Every namespace is a zone with a default-deny NetworkPolicy in both directions, except Kubernetes' own.

CIS 5.3.2 asks it of every namespace. Whether a namespace is a production line is said by a label its author
controls, so the rule must not depend on it: a namespace made by a person, a template or a chart without the
line label is judged like any other. Platform namespaces are judged too: their components are tier 0 (Falco
sees every syscall, External Secrets holds every line's secrets), so a compromised one must stay in its zone.
The admission exemptions (`exemptNamespaces`) do not apply here: being exempt from the lines' image and pod
rules says nothing about the network."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import ReportViolation, Severity, StackValidationArgs

from factory_policies import vocabulary as vocab
from factory_policies.controls import (
    CIS_KUBERNETES,
    IEC_62443,
    K8S_NAMESPACE,
    K8S_NETWORK_POLICY,
    dig,
    items,
    labels,
    mapping,
    metadata,
)
from factory_policies.kit import each, stack_policy

# Kubernetes' own namespaces (a copy of components/core/contracts.SYSTEM_NAMESPACES, tested equal): the CNI,
# CoreDNS and kube-proxy live there and are the distribution's, not this program's, to close
KUBERNETES_NAMESPACES = frozenset({"kube-node-lease", "kube-public", "kube-system"})


def is_default_deny(props: Mapping[str, Any]) -> bool:
    selector = mapping(props, "spec", "podSelector")
    selects_all = not dig(selector, "matchLabels") and not dig(selector, "matchExpressions")
    types = {str(t) for t in items(props, "spec", "policyTypes")}
    no_rules = not items(props, "spec", "ingress") and not items(props, "spec", "egress")
    return selects_all and types == {"Ingress", "Egress"} and no_rules


def _check(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    denied = {
        metadata(r.props).get("namespace")
        for r in args.resources
        if r.resource_type == K8S_NETWORK_POLICY and is_default_deny(r.props)
    }
    zones = [
        r
        for r in args.resources
        if r.resource_type == K8S_NAMESPACE and str(metadata(r.props).get("name")) not in KUBERNETES_NAMESPACES
    ]

    def judge(namespace: Any) -> list[str]:
        name = metadata(namespace.props).get("name")
        if name in denied:
            return []
        kind = (
            "production-line namespace"
            if labels(namespace.props).get(vocab.COMPONENT) == vocab.LINE_COMPONENT
            else "namespace"
        )
        return [
            f"{kind} '{name}' has no default-deny NetworkPolicy (empty podSelector, policyTypes Ingress and "
            "Egress, no rules); only Kubernetes' own namespaces may go without, platform namespaces included"
        ]

    each(zones, judge, report_violation)


line_default_deny = stack_policy(
    name="line-namespace-default-deny",
    title="Every namespace is a default-deny zone",
    description=(
        "Each namespace that is not Kubernetes' own (kube-system, kube-public, kube-node-lease) has a "
        "NetworkPolicy that selects every pod and denies all ingress and egress; only explicitly declared "
        "conduits are opened on top of it. Platform namespaces are no exception: a compromised platform "
        "component must not reach the lines. Whether a namespace is a production line does not matter: that "
        "label is under its author's control."
    ),
    controls=(IEC_62443("SR 5.1"), IEC_62443("SR 5.2"), CIS_KUBERNETES("5.3.2")),
    resource_types=(K8S_NAMESPACE, K8S_NETWORK_POLICY),
    check=_check,
    severity=Severity.HIGH,
    remediation=(
        "Create a NetworkPolicy named default-deny in the namespace with podSelector {} and policyTypes "
        "[Ingress, Egress]; declare every needed conduit as a flow in the stack config, and every path a "
        "platform add-on needs as its catalogue entry's `network` (components/catalogue/network.py)."
    ),
)
