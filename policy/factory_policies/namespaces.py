"""Every namespace declares its Pod Security level, restricted unless it is a known system namespace."""

from __future__ import annotations

import re

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from factory_policies.controls import K8S_NAMESPACE, PSS, labels, metadata, references

DEFAULT_EXEMPT = ["kube-system", "gatekeeper-system", "kube-bench"]
_VERSION = re.compile(r"^v1\.\d+$")


def _validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != K8S_NAMESPACE:
        return
    name = metadata(args.props).get("name", args.name)
    exempt = args.get_config().get("exemptNamespaces", DEFAULT_EXEMPT)
    found = labels(args.props)
    for mode in ("enforce", "audit", "warn"):
        level = found.get(f"pod-security.kubernetes.io/{mode}")
        version = found.get(f"pod-security.kubernetes.io/{mode}-version")
        if level is None:
            report_violation(f"namespace '{name}' has no pod-security.kubernetes.io/{mode} label", None)
        elif level != "restricted" and name not in exempt:
            report_violation(
                f"namespace '{name}' sets pod-security.kubernetes.io/{mode}={level}; only exempt system "
                f"namespaces ({', '.join(exempt)}) may be less than restricted",
                None,
            )
        if version is None or not _VERSION.match(str(version)):
            report_violation(
                f"namespace '{name}' must pin pod-security.kubernetes.io/{mode}-version to a minor "
                f"(v1.NN), got {version!r}",
                None,
            )


namespace_pod_security = ResourceValidationPolicy(
    name="namespace-pod-security-restricted",
    display_name="Namespaces enforce Pod Security 'restricted'",
    description=(
        "Every namespace carries Pod Security Admission labels for enforce, audit and warn, pinned to a "
        "Kubernetes minor, at level 'restricted' unless the namespace is an allow-listed system namespace."
    ),
    validate=_validate,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PSS,
    tags=references("pss:restricted", "cis-k8s:5.2.1", "iec62443:SR 7.6", "iec62443:SR 2.1"),
    remediation_steps=(
        "Label the namespace with pod-security.kubernetes.io/{enforce,audit,warn}=restricted and "
        "...-version=v1.NN for the cluster's minor; or, for a system namespace that must run privileged "
        "agents, add it to the pack config `exemptNamespaces` with a documented reason."
    ),
    config_schema=PolicyConfigSchema(
        properties={"exemptNamespaces": {"type": "array", "items": {"type": "string"}}},
    ),
)
