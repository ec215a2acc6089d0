"""Every namespace declares its Pod Security level, restricted unless it is an exempt system namespace."""

from __future__ import annotations

import re

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity

from factory_policies import vocabulary as vocab
from factory_policies.controls import (
    CIS_KUBERNETES,
    IEC_62443,
    K8S_NAMESPACE,
    PSS,
    annotations_of,
    labels,
    object_name,
)
from factory_policies.kit import resource_policy
from factory_policies.settings import setting

MODES = ("enforce", "audit", "warn")
_VERSION = re.compile(r"^v1\.\d+$")


def _check(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    name = object_name(args.props, args.name)
    exempt = setting(args, "exemptNamespaces")
    found = labels(args.props)
    levels = [found.get(f"{vocab.POD_SECURITY}/{mode}") for mode in MODES]
    weaker = sorted({str(level) for level in levels if level not in (None, "restricted")})
    if weaker and name in exempt and not annotations_of(args.props).get(vocab.POD_SECURITY_EXEMPTION):
        report_violation(
            f"namespace '{name}' is {'/'.join(weaker)} without a {vocab.POD_SECURITY_EXEMPTION} annotation stating why",
            None,
        )
    for mode in MODES:
        level = found.get(f"{vocab.POD_SECURITY}/{mode}")
        version = found.get(f"{vocab.POD_SECURITY}/{mode}-version")
        if level is None:
            report_violation(f"namespace '{name}' has no pod-security.kubernetes.io/{mode} label", None)
        elif level != "restricted" and name not in exempt:
            report_violation(
                f"namespace '{name}' sets pod-security.kubernetes.io/{mode}={level}; only exempt system "
                f"namespaces ({', '.join(exempt)}) may be less than restricted",
                None,
            )
        # a pinned minor keeps a cluster upgrade from silently changing what 'restricted' means
        if version is None or not _VERSION.match(str(version)):
            report_violation(
                f"namespace '{name}' must pin pod-security.kubernetes.io/{mode}-version to a minor "
                f"(v1.NN), got {version!r}",
                None,
            )


namespace_pod_security = resource_policy(
    name="namespace-pod-security-restricted",
    title="Namespaces enforce Pod Security 'restricted'",
    description=(
        "Every namespace carries Pod Security Admission labels for enforce, audit and warn, pinned to a "
        "Kubernetes minor, at level 'restricted' unless the namespace is an allow-listed system namespace, "
        "which then states its reason in the factory-floor.io/pod-security-exemption annotation."
    ),
    controls=(PSS("restricted"), CIS_KUBERNETES("5.2.1"), IEC_62443("SR 7.6"), IEC_62443("SR 2.1")),
    resource_types=(K8S_NAMESPACE,),
    check=_check,
    severity=Severity.HIGH,
    remediation=(
        "Label the namespace with pod-security.kubernetes.io/{enforce,audit,warn}=restricted and "
        "...-version=v1.NN for the cluster's minor; or, for a system namespace that must run privileged "
        "agents, add it to the pack config `exemptNamespaces` and annotate it with "
        "factory-floor.io/pod-security-exemption: <reason>."
    ),
    config=("exemptNamespaces",),
)
