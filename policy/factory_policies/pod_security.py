"""Pod Security Standards on every workload kind, before admission ever sees it, at the cluster's minor.

PSA labels on the namespace (namespaces.py) make the API server refuse a bad pod at runtime; these policies
refuse the program that would create it at preview time, with the exact field to change. Two policies, as
the standard has two levels: `baseline` (no host access, no privilege) and the `restricted` additions (non-
root, no escalation, seccomp, dropped capabilities, safe volume types). Every control means what Pod
Security Admission means at the minor of the cluster the workload goes to (pss.py holds the per-minor
tables); containers, initContainers and ephemeralContainers are all judged. Workloads in exempt namespaces
(settings.EXEMPT_NAMESPACES) are not judged: their namespaces carry a documented, weaker PSA level instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity

from factory_policies import pss
from factory_policies.controls import CIS_KUBERNETES, IEC_62443, PSS, dig, items, mapping, number
from factory_policies.kit import resource_policy
from factory_policies.pss import Minor
from factory_policies.workloads import WORKLOAD_TYPES, PodSpec, containers, exempt_namespace, pod_metadata, pod_spec


def _contexts(pod: PodSpec) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(where, securityContext) for the pod and each container."""
    yield f"{pod.path}.securityContext", mapping(pod.spec, "securityContext")
    for container in containers(pod):
        yield container.where("securityContext"), mapping(container.body, "securityContext")


def _windows(pod: PodSpec) -> bool:
    return dig(pod.spec, "os", "name") == "windows"


def _user_namespace(pod: PodSpec) -> bool:
    return dig(pod.spec, "hostUsers") is False


# --- baseline ------------------------------------------------------------------------------------------


def _host_access(pod: PodSpec) -> Iterator[str]:
    """hostNamespaces, hostPathVolumes, hostPorts."""
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


def _confinement(pod: PodSpec, minor: Minor) -> Iterator[str]:
    """windowsHostProcess, seccompProfile_baseline, appArmorProfile (field), seLinuxOptions."""
    for where, context in _contexts(pod):
        if dig(context, "windowsOptions", "hostProcess") is True:
            yield f"{where}.windowsOptions.hostProcess is true"
        seccomp = dig(context, "seccompProfile", "type")
        if seccomp is not None and seccomp not in pss.CONFINED_SECCOMP:
            yield f"{where}.seccompProfile.type is {seccomp!r}: RuntimeDefault or Localhost only"
        apparmor = dig(context, "appArmorProfile", "type")
        if apparmor is not None and apparmor not in pss.APPARMOR_TYPES:
            yield f"{where}.appArmorProfile.type is {apparmor!r}: RuntimeDefault or Localhost only"
        selinux = mapping(context, "seLinuxOptions")
        selinux_type = str(dig(selinux, "type") or "")
        if not minor.allows(pss.SELINUX_TYPES, selinux_type):
            yield f"{where}.seLinuxOptions.type {selinux_type!r} is not a container type at {minor}"
        if dig(selinux, "user") or dig(selinux, "role"):
            yield f"{where}.seLinuxOptions sets a custom SELinux user or role"


def _apparmor_annotations(path: str, metadata: Mapping[str, Any]) -> Iterator[str]:
    """appArmorProfile, legacy form: annotations on the pod (any container name), judged at every minor."""
    annotations = mapping(metadata, "annotations")
    for key in [str(k) for k in annotations if str(k).startswith(pss.APPARMOR_ANNOTATION)]:
        value = str(dig(annotations, key) or "")
        if value not in ("", "runtime/default") and not value.startswith("localhost/"):
            yield f"{path}.annotations[{key}] is {value!r}: runtime/default or localhost/<profile> only"


def _kernel(pod: PodSpec, minor: Minor) -> Iterator[str]:
    """sysctls, procMount (relaxed by hostUsers: false from 1.35), privileged, capabilities_baseline."""
    for sysctl in items(pod.spec, "securityContext", "sysctls"):
        name = str(dig(sysctl, "name"))
        if not minor.allows(pss.SAFE_SYSCTLS, name):
            yield f"{pod.path}.securityContext.sysctls sets {name!r}, not a safe sysctl at {minor}"
    relaxed = _user_namespace(pod) and minor.relaxes(pss.USER_NAMESPACES_SINCE)
    for container in containers(pod):
        if container.get("securityContext", "privileged") is True:
            yield f"{container.where('securityContext.privileged')} is true"
        added = {str(c) for c in items(container.body, "securityContext", "capabilities", "add")}
        if added - pss.BASELINE_CAPABILITIES:
            forbidden = sorted(added - pss.BASELINE_CAPABILITIES)
            yield f"{container.where('securityContext.capabilities.add')} adds {forbidden}"
        proc_mount = container.get("securityContext", "procMount")
        if proc_mount not in (None, "Default") and not relaxed:
            yield f"{container.where('securityContext.procMount')} is {proc_mount!r}, not Default"


def _probe_hosts(pod: PodSpec, minor: Minor) -> Iterator[str]:
    """hostProbesAndHostLifecycle (1.34): a probe or lifecycle handler may not reach out to another host."""
    if not minor.restricts(pss.PROBE_HOST_SINCE):
        return
    handlers = [(probe, (probe,)) for probe in pss.PROBES] + [
        (f"lifecycle.{hook}", ("lifecycle", hook)) for hook in pss.HANDLERS
    ]
    for container in containers(pod):
        for label, path in handlers:
            for action in ("httpGet", "tcpSocket"):
                host = container.get(*path, action, "host")
                if host:
                    yield f"{container.where(label, action, 'host')} is {host!r}: probes stay on the pod"


def _check_baseline(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    pod = pod_spec(args.resource_type, args.props)
    if pod is None:
        return
    minor = pss.cluster_minor(args)
    for message in (
        *_host_access(pod),
        *_confinement(pod, minor),
        *_apparmor_annotations(*pod_metadata(args.resource_type, args.props)),
        *_kernel(pod, minor),
        *_probe_hosts(pod, minor),
    ):
        report_violation(message, None)


# --- restricted ----------------------------------------------------------------------------------------


def _volumes(pod: PodSpec) -> Iterator[str]:
    for volume in items(pod.spec, "volumes"):
        forbidden = sorted({key for key in volume if key != "name"} - pss.RESTRICTED_VOLUMES)
        if forbidden:
            yield f"{pod.path}.volumes({dig(volume, 'name')}) uses volume type {forbidden}"


def _users(pod: PodSpec, minor: Minor) -> Iterator[str]:
    """runAsNonRoot and runAsUser; from 1.35 a pod in its own user namespace (hostUsers: false) may run as
    root inside it, since that root maps to an unprivileged user on the node."""
    if _user_namespace(pod) and minor.relaxes(pss.USER_NAMESPACES_SINCE):
        return
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


def _linux_hardening(pod: PodSpec) -> Iterator[str]:
    """seccompProfile_restricted, allowPrivilegeEscalation, capabilities_restricted: not for Windows pods."""
    if _windows(pod):
        return
    pod_profile = dig(pod.spec, "securityContext", "seccompProfile", "type")
    for container in containers(pod):
        profile = container.get("securityContext", "seccompProfile", "type")
        effective = profile if profile is not None else pod_profile
        if effective not in pss.CONFINED_SECCOMP:
            where = container.where("securityContext.seccompProfile.type")
            yield f"{where} must be RuntimeDefault or Localhost (here or at pod level), got {effective!r}"
        if container.get("securityContext", "allowPrivilegeEscalation") is not False:
            yield f"{container.where('securityContext.allowPrivilegeEscalation')} must be false"
        capabilities = container.get("securityContext", "capabilities")
        if "ALL" not in {str(c) for c in items(capabilities, "drop")}:
            yield f"{container.where('securityContext.capabilities.drop')} must contain ALL"
        added = {str(c) for c in items(capabilities, "add")}
        if added - pss.RESTRICTED_CAPABILITIES:
            where = container.where("securityContext.capabilities.add")
            yield f"{where} may only add NET_BIND_SERVICE, adds {sorted(added)}"


def _proc_mount_restricted(pod: PodSpec, minor: Minor) -> Iterator[str]:
    """procMount_restricted (1.35): Default even in a user namespace, where baseline allows more. Before 1.35
    restricted uses baseline's rule, which the baseline policy reports."""
    if not (minor.relaxes(pss.USER_NAMESPACES_SINCE) and _user_namespace(pod)):
        return
    for container in containers(pod):
        proc_mount = container.get("securityContext", "procMount")
        if proc_mount not in (None, "Default"):
            yield f"{container.where('securityContext.procMount')} is {proc_mount!r}, not Default"


def _check_restricted(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    pod = pod_spec(args.resource_type, args.props)
    if pod is None:
        return
    minor = pss.cluster_minor(args)
    for message in (
        *_volumes(pod),
        *_users(pod, minor),
        *_linux_hardening(pod),
        *_proc_mount_restricted(pod, minor),
    ):
        report_violation(message, None)


_EXEMPTION = (
    " Workloads in an exempt namespace (config `exemptNamespaces`, each with a documented reason) are not "
    "judged; move the workload there only if it is a platform agent that truly needs host access."
)
_VERSIONS = ("kubernetesVersions", "kubernetesVersion")

pod_security_baseline = resource_policy(
    name="pod-security-baseline",
    title="Workloads meet Pod Security 'baseline': no host access, no privilege",
    description=(
        "Every pod template (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, "
        "CronJob, PodTemplate) and each of its containers, initContainers and ephemeralContainers, at the "
        "minor of the cluster it goes to: no hostNetwork/hostPID/hostIPC, no hostPath volumes, no hostPort, "
        "not privileged, no HostProcess, only baseline capabilities added, procMount Default (any value in a "
        "user namespace from 1.35), seccomp and AppArmor (field or legacy annotation) RuntimeDefault or "
        "Localhost when set, container SELinux types only (container_engine_t from 1.31), safe sysctls only "
        "(the list grows in 1.32 and 1.37), no host in probes or lifecycle handlers (from 1.34)."
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
    config=("exemptNamespaces", *_VERSIONS),
    exemption=exempt_namespace,
)

pod_security_restricted = resource_policy(
    name="pod-security-restricted",
    title="Workloads meet Pod Security 'restricted'",
    description=(
        "Every container, initContainer and ephemeralContainer of every workload kind, at the minor of the "
        "cluster it goes to, runs as non-root (runAsNonRoot true, runAsUser not 0; not required in a user "
        "namespace, hostUsers false, from 1.35), keeps procMount Default (also in a user namespace), and — "
        "unless the pod is a Windows pod — sets allowPrivilegeEscalation false, uses seccomp RuntimeDefault or "
        "Localhost (pod or container level), drops ALL capabilities and adds at most NET_BIND_SERVICE; pods use "
        "only configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected and "
        "secret volumes."
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
    config=("exemptNamespaces", *_VERSIONS),
    exemption=exempt_namespace,
)
