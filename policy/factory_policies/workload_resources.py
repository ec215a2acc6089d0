"""Every container declares CPU and memory requests and limits, so one cell cannot starve a line."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity

from factory_policies.controls import IEC_62443, dig
from factory_policies.kit import ADVISORY, resource_policy
from factory_policies.workloads import WORKLOAD_TYPES, containers, pod_spec

# Ephemeral (debug) containers may not declare resources at all, so only these are judged.
SIZED_FIELDS = ("containers", "initContainers")
REQUIRED = tuple((kind, resource) for kind in ("requests", "limits") for resource in ("cpu", "memory"))


def _check(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    pod = pod_spec(args.resource_type, args.props)
    if pod is None:
        return
    for container in containers(pod, SIZED_FIELDS):
        missing = [f"{kind}.{res}" for kind, res in REQUIRED if dig(container.body, "resources", kind, res) is None]
        if missing:
            report_violation(f"{container.where('resources')} lacks {', '.join(missing)}", None)


container_resources = resource_policy(
    name="container-requests-and-limits",
    title="Containers declare CPU and memory requests and limits",
    description=(
        "Every container and initContainer of every workload kind sets resources.requests and "
        "resources.limits for both cpu and memory; the line's LimitRange defaults are a safety net, not "
        "a sizing decision."
    ),
    controls=(IEC_62443("SR 7.1"), IEC_62443("SR 7.2")),
    resource_types=WORKLOAD_TYPES,
    check=_check,
    severity=Severity.MEDIUM,
    level=ADVISORY,  # hygiene: the namespace's LimitRange and ResourceQuota already bound the line
    remediation="Set resources.requests and resources.limits (cpu and memory) from the cluster profile's sizing.",
)
