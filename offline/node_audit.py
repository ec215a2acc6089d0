"""The API server's audit trail and Kubernetes-audit detection (components/security/k8saudit.py) for each k3s/RKE2
cluster: its audit policy and, with `security.falco.kubernetesAudit`, its audit webhook config, written to
build/<stack>/node-config/<cluster>/audit/ with where each goes; the server flags that use them are merged into
the cluster's server config (offline/node_config.py)."""

from __future__ import annotations

from pathlib import Path

from components.config.document import FactoryConfig
from components.config.factory import ClusterConfig
from components.core.contracts import AUDIT_LOG
from components.security import k8saudit
from components.security.dns import dump_yaml

AUDIT_DIR = "audit"


def _file(where: str, document: object, source: str) -> str:
    return (
        f"# Written by `make plan` (offline/node_audit.py) from {source}: do not edit here.\n"
        f"# Where: {where} on EVERY server node, before the server config that names it takes effect.\n"
        + dump_yaml(document)
    )


def write_audit(directory: Path, config: FactoryConfig, cluster: ClusterConfig) -> str | None:
    """The audit policy of one k3s/RKE2 cluster, and its webhook config where falco-k8saudit receives the events;
    the line `make plan` prints, or None on a managed cluster."""
    if cluster.distribution not in k8saudit.AUDIT_FILES:
        return None
    policy, webhook = k8saudit.AUDIT_FILES[cluster.distribution]
    directory.mkdir(parents=True, exist_ok=True)
    source = "the stack's lines and observability.audit"
    (directory / "audit-policy.yaml").write_text(_file(policy, k8saudit.audit_policy(config, cluster), source))
    stale = directory / "audit-webhook.yaml"
    if config.security.falco.kubernetes_audit is None:
        stale.unlink(missing_ok=True)
        log = AUDIT_LOG[cluster.distribution]
        return f"{cluster.name} ({cluster.distribution}): wrote {directory}/ (audit policy; the trail goes to {log})"
    config_file = _file(webhook, k8saudit.audit_webhook_config(config), "security.falco.kubernetesAudit")
    stale.write_text(config_file)
    return (
        f"{cluster.name} ({cluster.distribution}): wrote {directory}/ (audit policy, and the webhook to "
        "falco-k8saudit beside the trail on disk)"
    )
