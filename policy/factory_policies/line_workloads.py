"""What a line's workloads may ask of the cluster besides Pod Security: the CrossGuard twins of the Gatekeeper
constraints line-label, line-scheduling, pdb-allows-disruption, inline-csi-drivers and runtime-classes
(components/security/gatekeeper/line_constraints.py), so a program that registers a workload itself — today or
through a chart whose objects CrossGuard sees — is held to what admission would refuse later.

Like the constraints they judge every namespace but the exempt ones; the line label only in a line's namespace.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity

from factory_policies.controls import IEC_62443, dig, items, mapping, namespace_of, number, object_name
from factory_policies.kit import resource_policy
from factory_policies.settings import setting
from factory_policies.vocabulary import (
    CONTROL_PLANE_TAINT,
    CRITICAL_ADDONS_TAINT,
    ETCD_TAINT,
    LEGACY_MASTER_TAINT,
    LINE,
    LINE_NAMESPACE_PREFIX,
)
from factory_policies.workloads import WORKLOAD_TYPES, exempt_namespace, pod_spec

K8S_PDB = "kubernetes:policy/v1:PodDisruptionBudget"
CONTROL_PLANE_TAINTS = (CONTROL_PLANE_TAINT, LEGACY_MASTER_TAINT, ETCD_TAINT, CRITICAL_ADDONS_TAINT)
_ZERO_PERCENT = re.compile(r"^0+%$")
_PERCENT = re.compile(r"^([0-9]+)%$")


# --- the line label tells the truth ---------------------------------------------------------------------


def _labelled(resource_type: str, props: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(where, labels) of the object and of every template it hands on (pods, and a CronJob's Jobs)."""
    yield "metadata.labels", mapping(props, "metadata", "labels")
    spec = pod_spec(resource_type, props)
    if spec is None or spec.path == "spec":
        return
    if resource_type.endswith(":CronJob"):
        yield "spec.jobTemplate.metadata.labels", mapping(props, "spec", "jobTemplate", "metadata", "labels")
    template = spec.path.rsplit(".", 1)[0]
    yield f"{template}.metadata.labels", mapping(props, *template.split("."), "metadata", "labels")


def _check_line_label(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    namespace = namespace_of(args.props)
    line = namespace.removeprefix(LINE_NAMESPACE_PREFIX)
    if not namespace.startswith(LINE_NAMESPACE_PREFIX) or not line:
        return
    name = object_name(args.props, args.name)
    for where, labels in _labelled(args.resource_type, args.props):
        value = labels.get(LINE)
        if value != line:
            found = "has none" if value is None else f"is '{value}'"
            report_violation(f"{name}: {where}['{LINE}'] {found}; in {namespace} it must be '{line}'", None)


workload_line_label = resource_policy(
    name="workload-line-label",
    title="A line's workloads carry its line label, truthfully",
    description=(
        f"Every workload in a line's namespace ({LINE_NAMESPACE_PREFIX}<line>) carries the label {LINE} equal to "
        "that line — on the object, on its pod template and on a CronJob's job template, since pods and Jobs "
        "carry the template's labels — so its metrics, alerts, costs and audit records are attributed to its own "
        "line and never to another's. Twin of the Gatekeeper constraint line-label."
    ),
    controls=(IEC_62443("SR 6.1"), IEC_62443("SR 2.1")),
    resource_types=WORKLOAD_TYPES,
    check=_check_line_label,
    severity=Severity.MEDIUM,
    remediation=f"Label the workload and its templates `{LINE}: <line>` with the line its namespace belongs to.",
)


# --- placement is the scheduler's -----------------------------------------------------------------------


def _check_scheduling(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    spec = pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    node = dig(spec.spec, "nodeName")
    if node:
        report_violation(f"{spec.path}.nodeName is '{node}': it bypasses the scheduler and every taint", None)
    for index, toleration in enumerate(items(spec.spec, "tolerations")):
        key, operator = dig(toleration, "key") or "", dig(toleration, "operator") or "Equal"
        where = f"{spec.path}.tolerations[{index}]"
        if key in CONTROL_PLANE_TAINTS:
            report_violation(f"{where} tolerates the control-plane taint '{key}'", None)
        elif not key and operator == "Exists":
            report_violation(f"{where} tolerates every taint (operator Exists without a key)", None)


workload_scheduling = resource_policy(
    name="workload-scheduling",
    title="Workloads are placed by the scheduler, never on the control plane",
    description=(
        "No workload outside the exempt namespaces sets nodeName (it bypasses the scheduler and every taint), "
        f"tolerates the control-plane taints ({', '.join(CONTROL_PLANE_TAINTS)}), or tolerates every taint "
        "(operator Exists without a key). Twin of the Gatekeeper constraint line-scheduling."
    ),
    controls=(IEC_62443("SR 5.1"), IEC_62443("SR 7.1")),
    resource_types=WORKLOAD_TYPES,
    check=_check_scheduling,
    severity=Severity.HIGH,
    remediation="Select nodes with labels (nodeSelector, affinity) and tolerate only the taints of workload nodes.",
    config=("exemptNamespaces",),
    exemption=exempt_namespace,
)


# --- node drains can evict --------------------------------------------------------------------------------


def _zero(value: Any) -> bool:
    return number(value) == 0 if not isinstance(value, str) else bool(_ZERO_PERCENT.match(value))


def _whole(value: Any) -> bool:
    match = _PERCENT.match(value) if isinstance(value, str) else None
    return match is not None and int(match[1]) >= 100


def _check_disruption(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    name = object_name(args.props, args.name)
    max_unavailable, min_available = dig(args.props, "spec", "maxUnavailable"), dig(args.props, "spec", "minAvailable")
    if max_unavailable is not None and _zero(max_unavailable):
        report_violation(
            f"PodDisruptionBudget {name}: spec.maxUnavailable is {max_unavailable}: no pod may be evicted", None
        )
    if min_available is not None and _whole(min_available):
        report_violation(
            f"PodDisruptionBudget {name}: spec.minAvailable is {min_available}: no pod may be evicted", None
        )


pdb_allows_disruption = resource_policy(
    name="pdb-allows-disruption",
    title="PodDisruptionBudgets let node drains evict",
    description=(
        'No PodDisruptionBudget outside the exempt namespaces sets maxUnavailable 0 (or "0%") or minAvailable '
        '"100%": they allow no eviction at all, so every drain — each upgrade and repair of the cell — waits on '
        "them for ever. A minAvailable count equal to the selected replicas cannot be told from the PDB alone. "
        "Twin of the Gatekeeper constraint pdb-allows-disruption."
    ),
    controls=(IEC_62443("SR 7.1"), IEC_62443("SR 7.6")),
    resource_types=(K8S_PDB,),
    check=_check_disruption,
    severity=Severity.MEDIUM,
    remediation=(
        "Allow at least one pod to be evicted: maxUnavailable 1 (or a percentage above 0), or a lower minAvailable."
    ),
    config=("exemptNamespaces",),
    exemption=exempt_namespace,
)


# --- inline CSI volumes and runtime classes ----------------------------------------------------------------


def _check_inline_csi(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    spec = pod_spec(args.resource_type, args.props)
    allowed = [str(driver) for driver in setting(args, "inlineCsiDrivers")]
    for index, volume in enumerate(items(spec.spec, "volumes") if spec else []):
        driver = dig(volume, "csi", "driver")
        if driver is not None and driver not in allowed:
            assert spec is not None
            report_violation(
                f"{spec.path}.volumes[{index}] is an inline CSI volume of driver '{driver}', not in {allowed}", None
            )


workload_inline_csi_drivers = resource_policy(
    name="workload-inline-csi-drivers",
    title="Inline CSI volumes only of allowed drivers",
    description=(
        "Outside the exempt namespaces a pod mounts an inline CSI volume only of a driver listed in "
        "`inlineCsiDrivers` (none by default). Pod Security restricted allows any, and an inline volume reaches "
        "what its driver serves (a secrets-store driver: every secret its provider can read) past claims and "
        "quotas. Twin of the Gatekeeper constraint inline-csi-drivers."
    ),
    controls=(IEC_62443("SR 7.7"), IEC_62443("SR 4.1")),
    resource_types=WORKLOAD_TYPES,
    check=_check_inline_csi,
    severity=Severity.HIGH,
    remediation="Use a PersistentVolumeClaim, or allow the driver in `security.gatekeeper.inlineCsiDrivers`.",
    config=("inlineCsiDrivers", "exemptNamespaces"),
    exemption=exempt_namespace,
)


def _check_runtime_class(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    spec = pod_spec(args.resource_type, args.props)
    runtime_class = dig(spec.spec, "runtimeClassName") if spec else None
    allowed = [str(name) for name in setting(args, "runtimeClasses")]
    if spec is not None and runtime_class and runtime_class not in allowed:
        report_violation(f"{spec.path}.runtimeClassName is '{runtime_class}', not in {allowed}", None)


workload_runtime_class = resource_policy(
    name="workload-runtime-class",
    title="Pods run in the default runtime or an allowed RuntimeClass",
    description=(
        "Outside the exempt namespaces a pod leaves runtimeClassName unset or names a class listed in "
        "`runtimeClasses` (none by default): a RuntimeClass picks the node's runtime handler, which may isolate "
        "less than every other rule assumes. Twin of the Gatekeeper constraint runtime-classes."
    ),
    controls=(IEC_62443("SR 7.7"), IEC_62443("SR 5.1")),
    resource_types=WORKLOAD_TYPES,
    check=_check_runtime_class,
    severity=Severity.HIGH,
    remediation="Leave runtimeClassName unset, or allow the class in `security.gatekeeper.runtimeClasses`.",
    config=("runtimeClasses", "exemptNamespaces"),
    exemption=exempt_namespace,
)
