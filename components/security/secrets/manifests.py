"""External Secrets objects, one scope per line: a ClusterSecretStore per line that only the line's namespace
may use, logging in to Vault as the line's own service account with the line's own role, and ExternalSecrets
whose keys live under the line's own Vault folder `<cluster>/<line>/`.

No secret value passes through the program: the manifests name where a value lives in Vault and which
Kubernetes Secret to materialise; External Secrets Operator does the copying inside the cluster. One line's
store, role and folder reach nothing of another line's, nor of another cluster's (a cloud cluster cannot read
a plant's OT secrets): Vault enforces it with the per-line role's policy (secrets/vault.py).
"""

from __future__ import annotations

from typing import Any

from components.catalogue.secrets import (
    API_VERSION,
    secret_target,
    store_name,
    vault_folder,
    vault_provider,
    vault_role,
)
from components.config.factory import ClusterConfig
from components.config.lines import LineConfig
from components.core import vocabulary as vocab
from components.security.secrets.config import LineSecret, VaultConfig

LINE_SECRETS_ACCOUNT = "line-secrets"  # the line's service account External Secrets logs in to Vault as


def _line_labels(factory: str, line: LineConfig, team: str) -> dict[str, str]:
    return vocab.standard_labels(factory, component=vocab.LINE_COMPONENT, line=line.name, team=team)


def line_secrets_account(line: LineConfig, team: str, factory: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {
            "name": LINE_SECRETS_ACCOUNT,
            "namespace": line.namespace,
            "labels": _line_labels(factory, line, team),
        },
        # External Secrets asks the API for a token of this account; no pod needs one on disk
        "automountServiceAccountToken": False,
    }


def line_secret_store(
    vault: VaultConfig, cluster: ClusterConfig, line: LineConfig, team: str, factory: str
) -> dict[str, Any]:
    role = vault_role(vault, cluster.name, line.name)
    provider = vault_provider(vault, cluster, role, LINE_SECRETS_ACCOUNT, line.namespace)
    return {
        "apiVersion": API_VERSION,
        "kind": "ClusterSecretStore",
        "metadata": {"name": store_name(line.name), "labels": _line_labels(factory, line, team)},
        "spec": {
            "provider": {"vault": provider},
            # by name, not by a label anyone who may label a namespace controls: only this line's namespace
            "conditions": [{"namespaces": [line.namespace]}],
        },
    }


def external_secret(secret: LineSecret, line: LineConfig, cluster: str, team: str, factory: str) -> dict[str, Any]:
    key = f"{vault_folder(cluster, line.name)}/{secret.remote_key}"
    return {
        "apiVersion": API_VERSION,
        "kind": "ExternalSecret",
        "metadata": {"name": secret.name, "namespace": line.namespace, "labels": _line_labels(factory, line, team)},
        "spec": {
            "refreshInterval": secret.refresh_interval,
            "secretStoreRef": {"kind": "ClusterSecretStore", "name": store_name(line.name)},
            "target": secret_target(secret.name, _line_labels(factory, line, team)),
            "data": [{"secretKey": prop, "remoteRef": {"key": key, "property": prop}} for prop in secret.properties],
        },
    }
