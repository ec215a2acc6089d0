"""External Secrets objects: one Vault ClusterSecretStore per cluster, ExternalSecrets in line namespaces.

No secret value passes through the program: the manifests name where a value lives in Vault and which
Kubernetes Secret to materialise; External Secrets Operator does the copying inside the cluster.
"""

from __future__ import annotations

from typing import Any

from components.config.factory import ClusterConfig
from components.config.lines import LineConfig
from components.core import vocabulary as vocab
from components.security.secrets.config import LineSecret, VaultConfig

API_VERSION = "external-secrets.io/v1"
NAMESPACE = "external-secrets"
STORE_NAME = "vault"
SERVICE_ACCOUNT = "external-secrets"  # the chart's controller service account, which Vault's role trusts


def cluster_secret_store(vault: VaultConfig, cluster: ClusterConfig, factory: str) -> dict[str, Any]:
    provider: dict[str, Any] = {
        "server": vault.server,
        "path": vault.path,
        "version": "v2",
        "auth": {
            "kubernetes": {
                "mountPath": cluster.vault_auth_mount_path or vault.auth_mount_path,
                "role": vault.role,
                "serviceAccountRef": {"name": SERVICE_ACCOUNT, "namespace": NAMESPACE},
            }
        },
    }
    if vault.ca is not None:
        provider["caProvider"] = {
            "type": vault.ca.kind,
            "name": vault.ca.name,
            "key": vault.ca.key,
            "namespace": NAMESPACE,
        }
    return {
        "apiVersion": API_VERSION,
        "kind": "ClusterSecretStore",
        "metadata": {"name": STORE_NAME, "labels": vocab.standard_labels(factory, component=vocab.SECURITY_COMPONENT)},
        "spec": {
            "provider": {"vault": provider},
            # only line namespaces may read through this store; platform namespaces use their own stores
            "conditions": [{"namespaceSelector": {"matchLabels": {vocab.COMPONENT: vocab.LINE_COMPONENT}}}],
        },
    }


def external_secret(secret: LineSecret, line: LineConfig, team: str, factory: str) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "ExternalSecret",
        "metadata": {
            "name": secret.name,
            "namespace": line.namespace,
            "labels": vocab.standard_labels(factory, component=vocab.LINE_COMPONENT, line=line.name, team=team),
        },
        "spec": {
            "refreshInterval": secret.refresh_interval,
            "secretStoreRef": {"kind": "ClusterSecretStore", "name": STORE_NAME},
            "target": {"name": secret.name, "creationPolicy": "Owner", "deletionPolicy": "Retain"},
            "data": [
                {"secretKey": prop, "remoteRef": {"key": secret.remote_key, "property": prop}}
                for prop in secret.properties
            ],
        },
    }
