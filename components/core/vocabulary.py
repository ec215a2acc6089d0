"""Every label, annotation and tag key the program writes and the policy pack or the Rego reads, defined
once. The pack keeps its own copies (it must import alone, without this project); a test keeps them equal.

This module imports nothing, so every layer may use it — config defaults name labels too."""

from __future__ import annotations

DOMAIN = "factory-floor.io"

# --- Kubernetes labels -----------------------------------------------------------------------------------
FACTORY = f"{DOMAIN}/factory"
LINE = f"{DOMAIN}/line"
TEAM = f"{DOMAIN}/team"
CRITICALITY = f"{DOMAIN}/criticality"
ADDON = f"{DOMAIN}/addon"  # objects a manifest add-on renders (a chart's objects belong to its release)
# a line that accepts chaos experiments (ProductionLine writes it, the chaos policy reads it)
CHAOS = f"{DOMAIN}/chaos"
CHAOS_OPT_IN = "opt-in"
PART_OF = "app.kubernetes.io/part-of"
MANAGED_BY = "app.kubernetes.io/managed-by"
COMPONENT = "app.kubernetes.io/component"
NAME = "app.kubernetes.io/name"
INSTANCE = "app.kubernetes.io/instance"  # a chart release's name on its objects (Helm convention)
PROJECT_NAME = "factory-floor"  # value of PART_OF
MANAGER = "pulumi"  # value of MANAGED_BY
# a production line's namespace is `line-<line>`: the pack derives the line (and its secret folder) from it
LINE_NAMESPACE_PREFIX = "line-"
# values of COMPONENT: which capability made an object; a line namespace is recognised by the first
LINE_COMPONENT = "production-line"
SECURITY_COMPONENT = "security-baseline"
# set by Kubernetes on every namespace (1.22+): the only namespace label a NetworkPolicy can trust
NAMESPACE_NAME = "kubernetes.io/metadata.name"
POD_SECURITY = "pod-security.kubernetes.io"  # prefix of the Pod Security Admission labels
# Gatekeeper's own opt-out label, which its post-install hook would set on its namespace
# Velero's own label: an object carrying it is left out of every backup (a Secret External Secrets manages comes
# back from Vault after a restore, and needs no copy in a backup store)
EXCLUDE_FROM_BACKUP = "velero.io/exclude-from-backup"
GATEKEEPER_IGNORE = "admission.gatekeeper.sh/ignore"
GATEKEEPER_IGNORE_VALUE = "no-self-managing"
# the taints Kubernetes puts on control-plane nodes (the second is its name before 1.24, still set by some
# distributions): a line's workloads never tolerate them
CONTROL_PLANE_TAINT = "node-role.kubernetes.io/control-plane"
LEGACY_MASTER_TAINT = "node-role.kubernetes.io/master"
ETCD_TAINT = "node-role.kubernetes.io/etcd"  # RKE2 etcd-only nodes
# k3s/RKE2 servers that run no workloads, AKS system pools: only critical add-ons belong there
CRITICAL_ADDONS_TAINT = "CriticalAddonsOnly"

# --- Kubernetes annotations ------------------------------------------------------------------------------
SLO_TARGET = f"{DOMAIN}/slo-target"
# the recorded reason of a namespace that runs less than Pod Security 'restricted'
POD_SECURITY_EXEMPTION = f"{DOMAIN}/pod-security-exemption"
# on the pod template of a Job that proves something: a digest or version of what it proves, so a change to that
# changes the template and the provider replaces (re-runs) the Job
VERIFIES = f"{DOMAIN}/verifies"
# Chaos Mesh's own opt-in annotation, honoured as an alternative to CHAOS
CHAOS_MESH_INJECT = "chaos-mesh.org/inject"
CHAOS_MESH_INJECT_VALUE = "enabled"

# --- cloud tags (AWS and Azure tags, GCS labels: keys valid in all three) --------------------------------
TAG_FACTORY = "factory"
TAG_LINE = "line"
TAG_ADDON = "addon"
TAG_MANAGED_BY = "managed-by"
# a store is a backup store unless this tag says otherwise: a program cannot forget to mark one
PURPOSE = "factory-floor-purpose"
BACKUP_PURPOSE = "backup"


def standard_labels(
    factory: str,
    *,
    component: str,
    line: str | None = None,
    team: str | None = None,
) -> dict[str, str]:
    """The labels every object we create carries: what made it, for which factory, line and team."""
    labels = {PART_OF: PROJECT_NAME, MANAGED_BY: MANAGER, COMPONENT: component, FACTORY: factory}
    if line is not None:
        labels[LINE] = line
    if team is not None:
        labels[TEAM] = team
    return labels


def pod_security_labels(level: str, kubernetes_version: str) -> dict[str, str]:
    """PSA labels for all three modes, pinned to the cluster's minor so an upgrade never loosens them."""
    labels: dict[str, str] = {}
    for mode in ("enforce", "audit", "warn"):
        labels[f"{POD_SECURITY}/{mode}"] = level
        labels[f"{POD_SECURITY}/{mode}-version"] = f"v{kubernetes_version}"
    return labels


def cloud_tags(factory: str, *, line: str | None = None, addon: str | None = None) -> dict[str, str]:
    tags = {TAG_FACTORY: factory, TAG_MANAGED_BY: MANAGER}
    if line is not None:
        tags[TAG_LINE] = line
    if addon is not None:
        tags[TAG_ADDON] = addon
    return tags
