"""A platform add-on's own secret scope, for a credential its chart reads from an existing Secret (the
Falcosidekick webhook URL): like a line's, a Vault folder, a Vault role bound to one service account of the
add-on's namespace, a ClusterSecretStore usable from that namespace alone, and ExternalSecrets under that folder.

The scope's name carries a '.', which no line or cluster name (a DNS label) can: an add-on's folder
`<cluster>/addon.<add-on>/`, its role and its store can never be those of a line, whatever the lines are called.
No value passes through the program.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.config.factory import ClusterConfig
from components.core import vocabulary as vocab
from components.security.secrets.config import VaultConfig
from components.security.secrets.manifests import API_VERSION, store_name, vault_folder, vault_provider, vault_role

ADDON_SECRETS_ACCOUNT = "addon-secrets"  # the add-on namespace's account External Secrets logs in to Vault as


def addon_scope(addon: str) -> str:
    return f"addon.{addon}"


@dataclass(frozen=True)
class AddonSecret:
    """One Kubernetes Secret an add-on reads, copied from one field of one Vault secret in its folder."""

    addon: str
    namespace: str
    name: str  # of the Kubernetes Secret
    key: str  # inside the Kubernetes Secret
    remote_key: str  # relative to the add-on's folder
    remote_property: str
    refresh_interval: str = "1h"


def _labels(factory: str) -> dict[str, str]:
    return vocab.standard_labels(factory, component=vocab.SECURITY_COMPONENT)


def addon_secrets_account(addon: str, namespace: str, factory: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": ADDON_SECRETS_ACCOUNT, "namespace": namespace, "labels": _labels(factory)},
        # External Secrets asks the API for a token of this account; no pod needs one on disk
        "automountServiceAccountToken": False,
    }


def addon_secret_store(
    vault: VaultConfig, cluster: ClusterConfig, addon: str, namespace: str, factory: str
) -> dict[str, Any]:
    scope = addon_scope(addon)
    provider = vault_provider(vault, cluster, vault_role(vault, cluster.name, scope), ADDON_SECRETS_ACCOUNT, namespace)
    return {
        "apiVersion": API_VERSION,
        "kind": "ClusterSecretStore",
        "metadata": {"name": store_name(scope), "labels": _labels(factory)},
        # only the add-on's namespace, by name
        "spec": {"provider": {"vault": provider}, "conditions": [{"namespaces": [namespace]}]},
    }


def addon_external_secret(secret: AddonSecret, cluster: str, factory: str) -> dict[str, Any]:
    scope = addon_scope(secret.addon)
    return {
        "apiVersion": API_VERSION,
        "kind": "ExternalSecret",
        "metadata": {"name": secret.name, "namespace": secret.namespace, "labels": _labels(factory)},
        "spec": {
            "refreshInterval": secret.refresh_interval,
            "secretStoreRef": {"kind": "ClusterSecretStore", "name": store_name(scope)},
            "target": {"name": secret.name, "creationPolicy": "Owner", "deletionPolicy": "Retain"},
            "data": [
                {
                    "secretKey": secret.key,
                    "remoteRef": {
                        "key": f"{vault_folder(cluster, scope)}/{secret.remote_key}",
                        "property": secret.remote_property,
                    },
                }
            ],
        },
    }
