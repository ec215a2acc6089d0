"""Pod Security Standards on every workload kind, before admission ever sees it.

PSA labels on the namespace (namespaces.py) make the API server refuse a bad pod at runtime; these policies
refuse the program that would create it at preview time, with the exact field to change. Two policies,
as the standard has two levels: `baseline` (no host access, no privilege) and the `restricted` additions
(non-root, no escalation, seccomp, dropped capabilities, safe volume types). Both apply to containers,
initContainers and ephemeralContainers. Workloads in exempt namespaces (settings.EXEMPT_NAMESPACES) are
not judged: their namespaces carry a documented, weaker PSA level instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity

from factory_policies.controls import CIS_KUBERNETES, IEC_62443, PSS, dig, items, mapping, number
from factory_policies.kit import resource_policy
from factory_policies.workloads import WORKLOAD_TYPES, PodSpec, containers, exempt_namespace, pod_spec

# Capabilities the baseline level tolerates being added (PSS "Capabilities" control).
BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
RESTRICTED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
# Namespaced sysctls the baseline level allows (as of Kubernetes 1.32).
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.ping_group_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
        "net.ipv4.tcp_rmem",
        "net.ipv4.tcp_wmem",
    }
)
SELINUX_TYPES = frozenset({"container_t", "container_init_t", "container_kvm_t", "container_engine_t"})
RESTRICTED_VOLUME_TYPES = frozenset(
    {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"}
)
CONFINED_SECCOMP = frozenset({"RuntimeDefault", "Localhost"})


# --- baseline ------------------------------------------------------------------------------------------


def _host_namespaces(pod: PodSpec) -> Iterator[str]:
    for field, shared in (("hostNetwork", "network"), ("hostPID", "process"), ("hostIPC", "IPC")):
        if dig(pod.spec, field) is True:
            yield f"{pod.path}.{field} is true: the pod shares the node's {shared} namespace"
    for volume in items(pod.spec, "volumes"):
        if dig(volume, "hostPath") is not None:
            yield f"{pod.path}.volumes({dig(volume, 'name')}) mounts hostPath {dig(volume, 'hostPath', 'path')!r}"
    for container in containers(pod):
        for port in items(container.body, "ports"):
            host_port = number(dig(port, "hostPort"))
            if host_port:
                yield f"{container.where('ports')} binds hostPort {int(host_port)}"


def _security_context_levels(pod: PodSpec) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(where, securityContext) for the pod and each container."""
    yield f"{pod.path}.securityContext", mapping(pod.spec, "securityContext")
    for container in containers(pod):
        yield container.where("securityContext"), mapping(container.body, "securityContext")


def _baseline_contexts(pod: PodSpec) -> Iterator[str]:
    for where, context in _security_context_levels(pod):
        if dig(context, "windowsOptions", "hostProcess") is True:
            yield f"{where}.windowsOptions.hostProcess is true"
        if dig(context, "seccompProfile", "type") == "Unconfined":
            yield f"{where}.seccompProfile.type is Unconfined"
        if dig(context, "appArmorProfile", "type") == "Unconfined":
            yield f"{where}.appArmorProfile.type is Unconfined"
        selinux = mapping(context, "seLinuxOptions")
        if dig(selinux, "type") not in (None, "", *SELINUX_TYPES):
            yield f"{where}.seLinuxOptions.type {dig(selinux, 'type')!r} is not a container type"
        if dig(selinux, "user") or dig(selinux, "role"):
            yield f"{where}.seLinuxOptions sets a custom SELinux user or role"
    for sysctl in items(pod.spec, "securityContext", "sysctls"):
        if dig(sysctl, "name") not in SAFE_SYSCTLS:
            yield f"{pod.path}.securityContext.sysctls sets unsafe sysctl {dig(sysctl, 'name')!r}"


def _baseline_containers(pod: PodSpec) -> Iterator[str]:
    for container in containers(pod):
        if container.get("securityContext", "privileged") is True:
            yield f"{container.where('securityContext.privileged')} is true"
        added = {str(c) for c in items(container.body, "securityContext", "capabilities", "add")}
        if added - BASELINE_CAPABILITIES:
            yield f"{container.where('securityContext.capabilities.add')} adds {sorted(added - BASELINE_CAPABILITIES)}"
        proc_mount = container.get("securityContext", "procMount")
        if proc_mount not in (None, "Default"):
            yield f"{container.where('securityContext.procMount')} is {proc_mount!r}, not Default"


def _check_baseline(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    pod = pod_spec(args.resource_type, args.props)
    if pod is None:
        return
    for message in (*_host_namespaces(pod), *_baseline_contexts(pod), *_baseline_containers(pod)):
        report_violation(message, None)


# --- restricted ----------------------------------------------------------------------------------------


def _volumes(pod: PodSpec) -> Iterator[str]:
    for volume in items(pod.spec, "volumes"):
        forbidden = sorted({key for key in volume if key != "name"} - RESTRICTED_VOLUME_TYPES)
        if forbidden:
            yield f"{pod.path}.volumes({dig(volume, 'name')}) uses volume type {forbidden}"


def _users(pod: PodSpec) -> Iterator[str]:
    pod_non_root = dig(pod.spec, "securityContext", "runAsNonRoot")
    if pod_non_root is False:
        yield f"{pod.path}.securityContext.runAsNonRoot is false"
    if number(dig(pod.spec, "securityContext", "runAsUser")) == 0:
        yield f"{pod.path}.securityContext.runAsUser is 0 (root)"
    for container in containers(pod):
        non_root = container.get("securityContext", "runAsNonRoot")
        if non_root is False or (non_root is None and pod_non_root is not True):
            yield f"{container.where('securityContext.runAsNonRoot')} must be true (here or at pod level)"
        if number(container.get("securityContext", "runAsUser")) == 0:
            yield f"{container.where('securityContext.runAsUser')} is 0 (root)"


def _seccomp(pod: PodSpec) -> Iterator[str]:
    pod_profile = dig(pod.spec, "securityContext", "seccompProfile", "type")
    for container in containers(pod):
        profile = container.get("securityContext", "seccompProfile", "type")
        effective = profile if profile is not None else pod_profile
        if effective not in CONFINED_SECCOMP:
            yield (
                f"{container.where('securityContext.seccompProfile.type')} must be RuntimeDefault or Localhost "
                f"(here or at pod level), got {effective!r}"
            )


def _restricted_containers(pod: PodSpec) -> Iterator[str]:
    for container in containers(pod):
        if container.get("securityContext", "allowPrivilegeEscalation") is not False:
            yield f"{container.where('securityContext.allowPrivilegeEscalation')} must be false"
        capabilities = container.get("securityContext", "capabilities")
        dropped = {str(c) for c in items(capabilities, "drop")}
        if "ALL" not in dropped:
            yield f"{container.where('securityContext.capabilities.drop')} must contain ALL"
        added = {str(c) for c in items(capabilities, "add")}
        if added - RESTRICTED_CAPABILITIES:
            where = container.where("securityContext.capabilities.add")
            yield f"{where} may only add NET_BIND_SERVICE, adds {sorted(added)}"


def _check_restricted(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    pod = pod_spec(args.resource_type, args.props)
    if pod is None:
        return
    for message in (*_volumes(pod), *_users(pod), *_seccomp(pod), *_restricted_containers(pod)):
        report_violation(message, None)


_EXEMPTION = (
    " Workloads in an exempt namespace (config `exemptNamespaces`, each with a documented reason) are not "
    "judged; move the workload there only if it is a platform agent that truly needs host access."
)

pod_security_baseline = resource_policy(
    name="pod-security-baseline",
    title="Workloads meet Pod Security 'baseline': no host access, no privilege",
    description=(
        "Every pod template (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, "
        "CronJob, PodTemplate) and each of its containers, initContainers and ephemeralContainers: no "
        "hostNetwork/hostPID/hostIPC, no hostPath volumes, no hostPort, not privileged, no HostProcess, only "
        "baseline capabilities added, procMount Default, seccomp and AppArmor not Unconfined, container "
        "SELinux types only, safe sysctls only."
    ),
    controls=(
        PSS("baseline"),
        CIS_KUBERNETES("5.2.2"),
        CIS_KUBERNETES("5.2.3"),
        CIS_KUBERNETES("5.2.4"),
        CIS_KUBERNETES("5.2.5"),
        CIS_KUBERNETES("5.2.11"),
        CIS_KUBERNETES("5.2.12"),
        CIS_KUBERNETES("5.2.13"),
        IEC_62443("SR 5.1"),
        IEC_62443("SR 7.7"),
    ),
    resource_types=WORKLOAD_TYPES,
    check=_check_baseline,
    severity=Severity.CRITICAL,
    remediation=(
        "Remove hostNetwork/hostPID/hostIPC, hostPath volumes, hostPort, privileged and added capabilities "
        "from the pod template; use a Service or a CSI/persistent volume instead of host access." + _EXEMPTION
    ),
    config=("exemptNamespaces",),
    exemption=exempt_namespace,
)

pod_security_restricted = resource_policy(
    name="pod-security-restricted",
    title="Workloads meet Pod Security 'restricted'",
    description=(
        "Every container, initContainer and ephemeralContainer of every workload kind runs as non-root "
        "(runAsNonRoot true, runAsUser not 0), sets allowPrivilegeEscalation false, uses seccomp "
        "RuntimeDefault or Localhost (pod or container level), drops ALL capabilities and adds at most "
        "NET_BIND_SERVICE; pods use only configMap, csi, downwardAPI, emptyDir, ephemeral, "
        "persistentVolumeClaim, projected and secret volumes."
    ),
    controls=(
        PSS("restricted"),
        CIS_KUBERNETES("5.2.6"),
        CIS_KUBERNETES("5.2.7"),
        CIS_KUBERNETES("5.2.8"),
        CIS_KUBERNETES("5.2.9"),
        CIS_KUBERNETES("5.2.10"),
        CIS_KUBERNETES("5.7.2"),
        CIS_KUBERNETES("5.7.3"),
        IEC_62443("SR 2.1"),
        IEC_62443("SR 7.7"),
    ),
    resource_types=WORKLOAD_TYPES,
    check=_check_restricted,
    severity=Severity.HIGH,
    remediation=(
        "Set securityContext on the pod (runAsNonRoot: true, a non-zero runAsUser, seccompProfile.type: "
        "RuntimeDefault) and on every container (allowPrivilegeEscalation: false, capabilities.drop: [ALL]); "
        "replace other volume types by a persistentVolumeClaim, configMap, secret or emptyDir." + _EXEMPTION
    ),
    config=("exemptNamespaces",),
    exemption=exempt_namespace,
)
