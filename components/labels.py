"""The one label vocabulary applied to every object factory-floor creates."""

from __future__ import annotations

LABEL_DOMAIN = "factory-floor.io"
FACTORY = f"{LABEL_DOMAIN}/factory"
LINE = f"{LABEL_DOMAIN}/line"
TEAM = f"{LABEL_DOMAIN}/team"
CRITICALITY = f"{LABEL_DOMAIN}/criticality"
PART_OF = "app.kubernetes.io/part-of"
MANAGED_BY = "app.kubernetes.io/managed-by"
COMPONENT = "app.kubernetes.io/component"
NAMESPACE_NAME = "kubernetes.io/metadata.name"  # set by Kubernetes on every namespace (1.22+)


def standard_labels(
    factory: str,
    *,
    component: str,
    line: str | None = None,
    team: str | None = None,
) -> dict[str, str]:
    labels = {
        PART_OF: "factory-floor",
        MANAGED_BY: "pulumi",
        COMPONENT: component,
        FACTORY: factory,
    }
    if line is not None:
        labels[LINE] = line
    if team is not None:
        labels[TEAM] = team
    return labels


def pod_security_labels(level: str, kubernetes_version: str) -> dict[str, str]:
    """PSA labels for all three modes, pinned to the cluster's minor so an upgrade never loosens them."""
    labels: dict[str, str] = {}
    for mode in ("enforce", "audit", "warn"):
        labels[f"pod-security.kubernetes.io/{mode}"] = level
        labels[f"pod-security.kubernetes.io/{mode}-version"] = f"v{kubernetes_version}"
    return labels
