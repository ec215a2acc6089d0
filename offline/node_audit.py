"""The API server's side of Kubernetes-audit detection (components/security/k8saudit.py) for each k3s/RKE2 cluster
of a stack with `security.falco.kubernetesAudit`: its audit policy and audit webhook config, written to
build/<stack>/node-config/<cluster>/audit/ with where each goes; the server flags that use them are merged into
the cluster's server config (offline/node_config.py)."""

from __future__ import annotations

from pathlib import Path

from components.config.document import FactoryConfig
from components.config.factory import ClusterConfig
from components.security import k8saudit
from components.security.dns import dump_yaml

AUDIT_DIR = "audit"


def _file(where: str, document: object) -> str:
    return (
        "# Written by `make plan` (offline/node_audit.py) from security.falco.kubernetesAudit: do not edit here.\n"
        f"# Where: {where} on EVERY server node, before the server config that names it takes effect.\n"
        + dump_yaml(document)
    )


def write_audit(directory: Path, config: FactoryConfig, cluster: ClusterConfig) -> str | None:
    """The two files of one cluster; the line `make plan` prints, or None where k8s audit is off."""
    if config.security.falco.kubernetes_audit is None or cluster.distribution not in k8saudit.AUDIT_FILES:
        return None
    policy, webhook = k8saudit.AUDIT_FILES[cluster.distribution]
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "audit-policy.yaml").write_text(_file(policy, k8saudit.audit_policy(config, cluster)))
    (directory / "audit-webhook.yaml").write_text(_file(webhook, k8saudit.audit_webhook_config(config)))
    return f"{cluster.name} ({cluster.distribution}): wrote {directory}/ (audit policy and webhook to falco-k8saudit)"
