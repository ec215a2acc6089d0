"""Kubernetes fixtures: the restricted workload builders every Kubernetes test starts from, the objects other
tests reuse (a line namespace, a ClusterRole), and the cases of the workload policies — Pod Security on every
workload kind, requests and limits, image pinning and registries. Namespace, network, RBAC, Secret and Helm
cases are in kubernetes_cluster.py."""

from __future__ import annotations

import copy
from typing import Any

import factory_policies as fp
from factory_policies.workloads import POD_SPEC_PATHS
from tests.support.policy_kit import DELETE, Case, Mutation, Res

NS = "kubernetes:core/v1:Namespace"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
CRONJOB = "kubernetes:batch/v1:CronJob"
POD = "spec.template.spec"  # where a Deployment keeps its pod spec
APP, INIT, DEBUG = f"{POD}.containers.0", f"{POD}.initContainers.0", f"{POD}.ephemeralContainers.0"
IMAGE = "registry.plant.example.com/mes/order-api:2.4.1"


def container(name: str, image: str = IMAGE, *, sized: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "image": image,
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        "ports": [{"containerPort": 8443, "protocol": "TCP"}],
    }
    if sized:  # ephemeral containers may not declare resources
        body["resources"] = {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "500m", "memory": "256Mi"},
        }
    return body


def restricted_pod() -> dict[str, Any]:
    return {
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container("app")],
        "initContainers": [container("migrate", "registry.plant.example.com/mes/migrate@sha256:" + "a" * 64)],
        "ephemeralContainers": [container("debug", "registry.plant.example.com/tools/debug:1.0.3", sized=False)],
        "volumes": [
            {"name": "cache", "emptyDir": {}},
            {"name": "config", "configMap": {"name": "order-api"}},
            {"name": "data", "persistentVolumeClaim": {"claimName": "order-api"}},
        ],
    }


LINE = "factory-floor.io/line"


def workload(kind_type: str, namespace: str = "line-mes") -> dict[str, Any]:
    """A workload of any kind with the restricted pod spec at the kind's own path; in a line's namespace it and
    every template it hands on carry that line's label, as the line-label rules require."""
    line = namespace.removeprefix("line-") if namespace.startswith("line-") else None
    labels = {"labels": {LINE: line}} if line else {}
    props: dict[str, Any] = {"metadata": {"name": "order-api", "namespace": namespace, **copy.deepcopy(labels)}}
    node = props
    *parents, last = POD_SPEC_PATHS[kind_type]
    for part in parents:
        node = node.setdefault(part, {})
        if part in ("template", "jobTemplate") and labels:
            node.setdefault("metadata", copy.deepcopy(labels))
    node[last] = restricted_pod()
    return props


def deployment(namespace: str = "line-mes") -> tuple[Res, ...]:
    return (Res(DEPLOYMENT, workload(DEPLOYMENT, namespace), name="order-api"),)


# --- objects other tests reuse ------------------------------------------------------------------------

PSA_LABELS = {
    f"pod-security.kubernetes.io/{mode}{suffix}": value
    for mode in ("enforce", "audit", "warn")
    for suffix, value in (("", "restricted"), ("-version", "v1.32"))
}
LINE_LABELS = {"app.kubernetes.io/component": "production-line", **PSA_LABELS}
LINE_NS = Res(NS, {"metadata": {"name": "line-press", "labels": LINE_LABELS}}, name="line-press")


def label(key: str) -> tuple[str, ...]:
    return ("metadata", "labels", key)


ROLE = Res(
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
    {
        "metadata": {"name": "kube-bench-reader"},
        "rules": [
            {"apiGroups": [""], "resources": ["nodes", "pods"], "verbs": ["get", "list"]},
            {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["get"]},
            {"nonResourceURLs": ["/healthz"], "verbs": ["get"]},
        ],
    },
)

# --- Pod Security --------------------------------------------------------------------------------------

BASELINE = Case(
    fp.pod_security_baseline,
    deployment(),
    (
        Mutation("privileged", f"{APP}.securityContext.privileged", True, "privileged is true"),
        Mutation("host-network", f"{POD}.hostNetwork", True, "hostNetwork is true"),
        Mutation("host-pid", f"{POD}.hostPID", True, "hostPID is true"),
        Mutation("host-ipc", f"{POD}.hostIPC", True, "hostIPC is true"),
        Mutation("host-path", f"{POD}.volumes.0", {"name": "cache", "hostPath": {"path": "/var"}}, "hostPath"),
        Mutation("host-port", f"{APP}.ports.0.hostPort", 8443, "binds hostPort 8443"),
        Mutation("init-host-port", f"{INIT}.ports.0.hostPort", 443, "initContainers[0](migrate).ports"),
        Mutation("add-sys-admin", f"{APP}.securityContext.capabilities.add", ["SYS_ADMIN"], "adds ['SYS_ADMIN']"),
        Mutation("proc-mount", f"{DEBUG}.securityContext.procMount", "Unmasked", "procMount"),
        Mutation(
            "unsafe-sysctl",
            f"{POD}.securityContext.sysctls",
            [{"name": "kernel.msgmax", "value": "1"}],
            "not a safe sysctl",
        ),
        Mutation("seccomp-unconfined", f"{INIT}.securityContext.seccompProfile", {"type": "Unconfined"}, "Unconfined"),
        Mutation("host-process", f"{POD}.securityContext.windowsOptions", {"hostProcess": True}, "hostProcess"),
        Mutation("selinux-type", f"{APP}.securityContext.seLinuxOptions", {"type": "spc_t"}, "spc_t"),
        Mutation("apparmor-unconfined", f"{APP}.securityContext.appArmorProfile", {"type": "Unconfined"}, "appArmor"),
    ),
)

RESTRICTED = Case(
    fp.pod_security_restricted,
    deployment(),
    (
        Mutation(
            "escalation-allowed", f"{APP}.securityContext.allowPrivilegeEscalation", True, "allowPrivilegeEscalation"
        ),
        Mutation(
            "init-escalation-unset", f"{INIT}.securityContext.allowPrivilegeEscalation", DELETE, "initContainers[0]"
        ),
        Mutation(
            "ephemeral-escalation-unset", f"{DEBUG}.securityContext.allowPrivilegeEscalation", DELETE, "ephemeral"
        ),
        Mutation("pod-runs-as-root-user", f"{POD}.securityContext.runAsUser", 0, "runAsUser is 0"),
        Mutation("container-runs-as-root", f"{APP}.securityContext.runAsUser", 0, "runAsUser is 0"),
        Mutation("non-root-unset", f"{POD}.securityContext.runAsNonRoot", DELETE, "runAsNonRoot must be true"),
        Mutation(
            "container-non-root-false", f"{INIT}.securityContext.runAsNonRoot", False, "runAsNonRoot must be true"
        ),
        Mutation("seccomp-unset", f"{POD}.securityContext.seccompProfile", DELETE, "RuntimeDefault or Localhost"),
        Mutation("drop-all-missing", f"{APP}.securityContext.capabilities.drop", ["NET_RAW"], "must contain ALL"),
        Mutation(
            "add-net-admin", f"{APP}.securityContext.capabilities.add", ["NET_ADMIN"], "only add NET_BIND_SERVICE"
        ),
        Mutation("nfs-volume", f"{POD}.volumes.2", {"name": "data", "nfs": {"server": "nas", "path": "/"}}, "['nfs']"),
        Mutation("git-repo-volume", f"{POD}.volumes.1", {"name": "config", "gitRepo": {"repository": "x"}}, "gitRepo"),
    ),
)

# Every workload kind is judged at its own pod spec path (a CronJob's is two templates deep).
KIND_CASES = [
    Case(
        fp.pod_security_baseline,
        (Res(kind, workload(kind), name="order-api"),),
        (
            Mutation(
                "privileged",
                ".".join((*POD_SPEC_PATHS[kind], "initContainers", "0", "securityContext", "privileged")),
                True,
                "privileged is true",
            ),
        ),
        id=f"kind-{kind.rsplit(':', 1)[1]}",
    )
    for kind in POD_SPEC_PATHS
]


# --- requests and limits, images ---------------------------------------------------------------------

RESOURCES = Case(
    fp.container_resources,
    deployment(),
    (
        Mutation("no-cpu-limit", f"{APP}.resources.limits.cpu", DELETE, "lacks limits.cpu"),
        Mutation("no-memory-request", f"{APP}.resources.requests.memory", DELETE, "lacks requests.memory"),
        Mutation("init-unsized", f"{INIT}.resources", DELETE, "initContainers[0](migrate).resources lacks"),
    ),
)

PINNED = Case(
    fp.image_pinned,
    deployment(),
    (
        Mutation("latest", f"{APP}.image", "registry.plant.example.com/mes/order-api:latest", "the tag 'latest'"),
        Mutation("no-tag", f"{APP}.image", "registry.plant.example.com/mes/order-api", "has no tag"),
        Mutation("port-is-not-a-tag", f"{INIT}.image", "registry.plant.example.com:5000/mes/migrate", "has no tag"),
        Mutation("ephemeral-latest", f"{DEBUG}.image", "busybox:latest", "ephemeralContainers[0](debug).image"),
        Mutation("branch", f"{APP}.image", "registry.plant.example.com/mes/order-api:main", "the tag 'main'"),
        Mutation("moving-minor", f"{APP}.image", "registry.plant.example.com/mes/order-api:2.4", "the tag '2.4'"),
        Mutation("not-a-digest", f"{INIT}.image", "registry.plant.example.com/mes/migrate@sha256:abc", "has no tag"),
    ),
)
# digests only: the stack empties immutableTags
DIGESTS_ONLY = Case(
    fp.image_pinned,
    (
        Res(
            DEPLOYMENT,
            {
                "metadata": {"name": "order-api", "namespace": "line-mes"},
                "spec": {"template": {"spec": {"containers": [container("app", f"{IMAGE}@sha256:{'b' * 64}")]}}},
            },
            name="order-api",
        ),
    ),
    (Mutation("release-tag", f"{APP}.image", IMAGE, "the tag '2.4.1', which can move"),),
    config={"immutableTags": []},
    id="image-pinned:digests-only",
)

REGISTRIES = Case(
    fp.image_allowed_registries,
    deployment(),
    (
        Mutation("docker-hub", f"{APP}.image", "nginx:1.27.0", "not from an allowed registry"),
        Mutation(
            "look-alike-host", f"{APP}.image", "registry.plant.example.com.evil.io/mes/x:1", "not from an allowed"
        ),
        Mutation("init-elsewhere", f"{INIT}.image", "ghcr.io/someone/migrate:1.0", "initContainers[0]"),
    ),
    config={"allowedRegistries": ["registry.plant.example.com/*"]},
)


CASES = [BASELINE, RESTRICTED, *KIND_CASES, RESOURCES, PINNED, DIGESTS_ONLY, REGISTRIES]
