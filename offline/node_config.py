"""The server config of each k3s/RKE2 cluster (build/<stack>/node-config/<cluster>/<k3s|rke2>-config.yaml): what
its API servers must be started with that no Kubernetes object can carry (components/security/server_config.py).
The program cannot apply it — servers read it when they start — so the plan writes it for the platform team to
merge on every server node. Sorted keys: two runs give byte-identical files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from components.config.document import FactoryConfig
from components.config.factory import ClusterConfig
from components.security import k8saudit
from components.security.server_config import (
    API_SERVER_ARGS,
    DENY_SERVICE_EXTERNAL_IPS,
    KUBELET_ARGS,
    POD_PIDS_LIMIT,
    SERVER_DISTRIBUTIONS,
    kubelet_config,
    server_config,
)
from offline.node_audit import AUDIT_DIR, write_audit
from offline.node_dns import DNS_DIR, write_dns
from offline.node_etcd import ETCD_DIR, write_etcd

NODE_CONFIG_DIR = "node-config"
SERVICES = {"k3s": "k3s", "rke2": "rke2-server"}  # the systemd unit of a server node
AGENT_SERVICES = {"k3s": "k3s-agent", "rke2": "rke2-agent"}  # ... and of an agent node


def header(factory: str, cluster: ClusterConfig) -> list[str]:
    distribution = SERVER_DISTRIBUTIONS[cluster.distribution]
    config_file, drop_in = distribution.config_file, distribution.drop_in_dir
    return [
        f"# Server config of cluster '{cluster.name}' ({cluster.distribution}) of factory '{factory}', written by",
        "# `make plan` (offline/node_config.py): do not edit here, change the program and plan again.",
        "#",
        f"# Where: every SERVER node of the cluster, merged with {config_file} (agents get",
        f"# {cluster.distribution}-agent-config.yaml next to this one):",
        f"#   - if that file has a `{API_SERVER_ARGS}` list, add the entry below to it; or",
        f"#   - copy this file to {drop_in}/50-factory-floor.yaml and rename the key to",
        f"#     `{API_SERVER_ARGS}+`, so it is appended to the list (without '+' it would replace it).",
        "# The API server keeps one value per flag, the last one: if the existing config already sets",
        "# enable-admission-plugins (EventRateLimit from a CIS hardening guide, for example), add those plugins",
        "# to the entry below instead of keeping two entries.",
        f"# Then restart the servers one at a time (`systemctl restart {SERVICES[cluster.distribution]}`) and check",
        "# that kube-apiserver runs with the flag. Servers read this file only when they start.",
        "#",
        f"# {DENY_SERVICE_EXTERNAL_IPS} refuses every Service that sets spec.externalIPs (CVE-2020-8554), for all",
        f"# users and namespaces; the other plugins are the ones {cluster.distribution} enables itself, which this",
        "# value replaces.",
        "#",
        f"# {KUBELET_ARGS} pod-max-pids={POD_PIDS_LIMIT}: the kubelet's podPidsLimit, so one pod cannot exhaust the",
        "# node's PIDs; merge it into an existing kubelet-arg list the same way (docs/operations.md).",
        "#",
        "# audit-*: the API server's audit trail (the policy under audit/ next to this one, the log on the",
        "# server's disk, rotated and kept observability.audit.retentionDays); with security.falco.kubernetesAudit",
        "# also the webhook to the falco-k8saudit receiver (and on RKE2 its kube-apiserver-extra-mount); in a",
        "# drop-in file, every list key gets the '+' (kube-apiserver-extra-mount+ too).",
    ]


def agent_header(factory: str, cluster: ClusterConfig) -> list[str]:
    distribution = SERVER_DISTRIBUTIONS[cluster.distribution]
    return [
        f"# Agent config of cluster '{cluster.name}' ({cluster.distribution}) of factory '{factory}', written by",
        "# `make plan` (offline/node_config.py): do not edit here, change the program and plan again.",
        "#",
        f"# Where: every AGENT node of the cluster, merged with {distribution.config_file}: add the entry to an",
        f"# existing `{KUBELET_ARGS}` list, or copy this file to {distribution.drop_in_dir}/50-factory-floor.yaml",
        f"# and rename the key to `{KUBELET_ARGS}+`. Then restart the agents one at a time",
        f"# (`systemctl restart {AGENT_SERVICES[cluster.distribution]}`). Servers get theirs in",
        f"# {cluster.distribution}-config.yaml.",
        "#",
        f"# pod-max-pids={POD_PIDS_LIMIT}: the kubelet's podPidsLimit, so one pod cannot exhaust the node's PIDs.",
    ]


def with_audit(fragment: dict[str, Any] | None, audit: dict[str, Any]) -> dict[str, Any] | None:
    """The server config with the audit flags (components/security/k8saudit.py) added: list entries appended."""
    if fragment is None or not audit:
        return fragment
    merged = dict(fragment)
    for key, value in audit.items():
        merged[key] = [*merged.get(key, []), *value] if isinstance(value, list) else value
    return merged


def write_node_config(out_dir: Path, config: FactoryConfig) -> list[str]:
    """One file per k3s/RKE2 cluster under out_dir/node-config/. Returns the lines `make plan` prints."""
    root = out_dir / NODE_CONFIG_DIR
    if root.exists():  # a cluster renamed or moved to a managed distribution leaves no stale file behind
        for old in sorted(root.rglob("*"), reverse=True):
            old.unlink() if old.is_file() else old.rmdir()
    lines = []
    for cluster in config.clusters:
        dns_line = write_dns(root / cluster.name / DNS_DIR, cluster, config.site.dns)
        lines += [dns_line] if dns_line else []
        audit_line = write_audit(root / cluster.name / AUDIT_DIR, config, cluster)
        lines += [audit_line] if audit_line else []
        etcd_line = write_etcd(root / cluster.name / ETCD_DIR, config, cluster)
        lines += [etcd_line] if etcd_line else []
        fragment = with_audit(server_config(cluster), k8saudit.server_flags(config, cluster))
        if fragment is None:
            lines.append(
                f"{cluster.name} ({cluster.distribution}): no server config; its API server flags are not ours to "
                "set, the Gatekeeper constraint no-external-ips is the control"
            )
            continue
        path = root / cluster.name / f"{cluster.distribution}-config.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        body = yaml.safe_dump(fragment, sort_keys=True, default_flow_style=False)
        path.write_text("\n".join([*header(config.factory.name, cluster), body]))
        target = SERVER_DISTRIBUTIONS[cluster.distribution].config_file
        lines.append(f"{cluster.name} ({cluster.distribution}): wrote {path}; merge into {target} on every server")
        agent = root / cluster.name / f"{cluster.distribution}-agent-config.yaml"
        agent_body = yaml.safe_dump(kubelet_config(cluster), sort_keys=True, default_flow_style=False)
        agent.write_text("\n".join([*agent_header(config.factory.name, cluster), agent_body]))
        lines.append(f"{cluster.name} ({cluster.distribution}): wrote {agent}; merge into {target} on every agent")
    return lines
