"""The Pod Security Standards as Pod Security Admission defines them, per Kubernetes minor.

Source: kubernetes/pod-security-admission `policy/` at 8f84a87 (= v0.37.0-alpha.2), compared with the tags
v0.29.0 to v0.36.2. Each entry names the upstream check and the minor it arrived in; a value of 0 means
"since before 1.29" (every minor this pack judges). The pack judges a workload at its cluster's minor
(`cluster_minor`); a workload whose cluster's minor it does not know is judged at the strictest reading of
every supported minor: every restriction that exists at any of them, none of the later relaxations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from factory_policies.controls import dig
from factory_policies.settings import setting

SUPPORTED = range(29, 38)  # 1.29 .. 1.37, what the config accepts plus the next minor

# check `sysctls`: namespaced sysctls baseline allows, and the minor each became safe
SAFE_SYSCTLS: dict[str, int] = {
    "kernel.shm_rmid_forced": 0,
    "net.ipv4.ip_local_port_range": 0,
    "net.ipv4.tcp_syncookies": 0,
    "net.ipv4.ping_group_range": 0,
    "net.ipv4.ip_unprivileged_port_start": 0,
    "net.ipv4.ip_local_reserved_ports": 27,
    "net.ipv4.tcp_keepalive_time": 29,
    "net.ipv4.tcp_fin_timeout": 29,
    "net.ipv4.tcp_keepalive_intvl": 29,
    "net.ipv4.tcp_keepalive_probes": 29,
    "net.ipv4.tcp_rmem": 32,
    "net.ipv4.tcp_wmem": 32,
    "net.ipv4.tcp_slow_start_after_idle": 37,
    "net.ipv4.tcp_notsent_lowat": 37,
}
# check `seLinuxOptions`: the types a container may run as ("" = unset)
SELINUX_TYPES: dict[str, int] = {
    "": 0,
    "container_t": 0,
    "container_init_t": 0,
    "container_kvm_t": 0,
    "container_engine_t": 31,
}
# check `capabilities_baseline`: what may be added at baseline (drop is not judged there)
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
# check `capabilities_restricted`: must drop ALL, may add only this
RESTRICTED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
# check `restrictedVolumes`: the volume types restricted allows (image volumes: registered at 1.0 upstream)
RESTRICTED_VOLUMES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "image",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)
# checks `seccompProfile_baseline` (only when set) and `seccompProfile_restricted` (required)
CONFINED_SECCOMP = frozenset({"RuntimeDefault", "Localhost"})
# check `appArmorProfile`: the field's allowed types; the legacy annotation is judged at every minor too
APPARMOR_TYPES = frozenset({"RuntimeDefault", "Localhost"})
APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"
# check `hostProbesAndHostLifecycle`: probes and lifecycle handlers may not name a host
PROBE_HOST_SINCE = 34
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
HANDLERS = ("postStart", "preStop")
# `hostUsers: false` (user namespaces) relaxes baseline `procMount` and restricted `runAsNonRoot`/`runAsUser`;
# the same minor adds `procMount_restricted`, which keeps procMount Default at restricted without relaxation
USER_NAMESPACES_SINCE = 35
# restricted's `allowPrivilegeEscalation`, `capabilities_restricted`, `seccompProfile_restricted` skip
# Windows pods (spec.os.name: windows) since 1.25, i.e. at every minor judged here
WINDOWS_SKIP_SINCE = 25

_MINOR = re.compile(r"^v?1\.(\d+)$")


@dataclass(frozen=True)
class Minor:
    """The Kubernetes minor a workload is judged at; `value` None is the strictest reading of every minor."""

    value: int | None

    @classmethod
    def parse(cls, text: Any) -> Minor:
        match = _MINOR.match(str(text or ""))
        return cls(int(match.group(1))) if match else cls(None)

    def restricts(self, since: int) -> bool:
        """A restriction that arrived at minor `since` applies."""
        return self.value is None or self.value >= since

    def relaxes(self, since: int) -> bool:
        """A relaxation that arrived at minor `since` applies (never in the strictest reading)."""
        return self.value is not None and self.value >= since

    def allows(self, table: dict[str, int], key: str) -> bool:
        """`key` is on a list that grew by minor (safe sysctls, SELinux types) at this minor."""
        since = table.get(key)
        if since is None:
            return False
        return since <= (self.value if self.value is not None else SUPPORTED[0])

    def __str__(self) -> str:
        if self.value is not None:
            return f"Kubernetes 1.{self.value}"
        return "every Kubernetes minor 1.29-1.37 (the cluster's is not known)"


def cluster_minor(args: Any) -> Minor:
    """The minor of the cluster the resource goes to: its provider's `clusterIdentifier` looked up in the pack
    config `kubernetesVersions` (the offline plan writes it for every cluster), else `kubernetesVersion`."""
    provider = getattr(args, "provider", None)
    identifier = dig(provider.props, "clusterIdentifier") if provider is not None else None
    versions = setting(args, "kubernetesVersions")
    known = versions.get(str(identifier)) if identifier is not None and hasattr(versions, "get") else None
    return Minor.parse(known or setting(args, "kubernetesVersion"))


def _since(table: dict[str, int], later_than: int) -> str:
    grouped: dict[int, list[str]] = {}
    for key, since in table.items():
        if since > later_than:
            grouped.setdefault(since, []).append(key or "(unset)")
    return "; ".join(f"{', '.join(keys)} allowed from 1.{since}" for since, keys in sorted(grouped.items()))


def controls_by_minor() -> list[tuple[str, str, str, str]]:
    """(check, level, minors it applies to, what changes between them), as docs/policies.md prints them."""
    first, last = f"1.{SUPPORTED[0]}", f"1.{SUPPORTED[-1]}"
    every = f"{first}-{last}"
    userns = f"1.{USER_NAMESPACES_SINCE}"
    return [
        ("hostNamespaces, privileged, hostPathVolumes, hostPorts, windowsHostProcess", "baseline", every, "-"),
        ("capabilities_baseline", "baseline", every, "-"),
        ("appArmorProfile (field and legacy annotation)", "baseline", every, "-"),
        ("seccompProfile_baseline (when set)", "baseline", every, "-"),
        ("seLinuxOptions", "baseline", every, _since(SELINUX_TYPES, SUPPORTED[0])),
        ("sysctls", "baseline", every, _since(SAFE_SYSCTLS, SUPPORTED[0])),
        ("procMount", "baseline", every, f"any value with hostUsers: false from {userns}"),
        ("hostProbesAndHostLifecycle", "baseline", f"1.{PROBE_HOST_SINCE}-{last}", "-"),
        ("restrictedVolumes (incl. image)", "restricted", every, "-"),
        (
            "allowPrivilegeEscalation, capabilities_restricted, seccompProfile_restricted",
            "restricted",
            every,
            "skipped for Windows pods (spec.os.name: windows) at every minor",
        ),
        ("runAsNonRoot, runAsUser", "restricted", every, f"not required with hostUsers: false from {userns}"),
        ("procMount_restricted", "restricted", f"{userns}-{last}", "Default even with hostUsers: false"),
    ]
