"""Credentials an add-on reads from an existing Kubernetes Secret (Falcosidekick's webhook URL, Velero's
credentials for a store outside its own cloud), delivered from Vault by External Secrets — part of the one
add-on surface (`AddOn.secrets`), so any capability's add-on gets them the same way and no capability imports
another's.

Each add-on has its own scope, like a line's: a Vault folder `<cluster>/addon.<add-on>/`, a Vault role bound to
one service account of the add-on's namespace (`addon-secrets`), a ClusterSecretStore only that namespace may
use, and ExternalSecrets under that folder. The scope's name carries a '.', which no line or cluster name (a DNS
label) can: an add-on's folder, role and store can never be those of a line. No value passes through the program.

The Vault store primitives (provider, role, folder, store name) live here too: a line's scope
(security/secrets/manifests.py) is built from the same ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pulumi

from components.config.factory import ClusterConfig
from components.core import vocabulary as vocab
from components.core.component import FactoryComponent
from components.core.kube import Manifest, kube_resource
from components.security.secrets.config import VaultConfig

API_VERSION = "external-secrets.io/v1"
NAMESPACE = "external-secrets"  # External Secrets' own namespace: where a store's private-CA object lives
ADDON_SECRETS_ACCOUNT = "addon-secrets"  # the add-on namespace's account External Secrets logs in to Vault as


def vault_port(vault: VaultConfig | None) -> int:
    """The TCP port pods reach Vault on (what their egress policy opens)."""
    return (urlsplit(vault.server).port if vault else None) or 443


def store_name(scope: str) -> str:
    return f"vault-{scope}"


def vault_folder(cluster: str, scope: str) -> str:
    """Where a scope's secrets live under the KV mount: nothing outside it is readable with the scope's role."""
    return f"{cluster}/{scope}"


def vault_role(vault: VaultConfig, cluster: str, scope: str) -> str:
    """The scope's role, also its policy's name. A '.' between cluster and scope (a DNS label has none): with '-',
    cluster 'a-b' with line 'c' and cluster 'a' with line 'b-c' would share one role on a shared auth mount."""
    return f"{vault.role}-{cluster}.{scope}"


def auth_mount(vault: VaultConfig, cluster: ClusterConfig) -> str:
    return cluster.vault_auth_mount_path or vault.auth_mount_path


def vault_provider(
    vault: VaultConfig, cluster: ClusterConfig, role: str, account: str, namespace: str
) -> dict[str, Any]:
    """A store's `provider.vault`: log in with the token of one service account, as one Vault role."""
    provider: dict[str, Any] = {
        "server": vault.server,
        "path": vault.path,
        "version": "v2",
        "auth": {
            "kubernetes": {
                "mountPath": auth_mount(vault, cluster),
                "role": role,
                "serviceAccountRef": {"name": account, "namespace": namespace},
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
    return provider


def secret_target(name: str, labels: dict[str, str]) -> dict[str, Any]:
    """An ExternalSecret's `target`: the Secret it owns, labelled so Velero leaves it out of backups — it comes
    back from Vault after a restore, and a backup store is no place for a copy of it. A template with metadata
    only keeps every fetched key (External Secrets v2.0.0, ApplyTemplate: 'when ... there is no data template,
    we include the keys'), but replaces the ExternalSecret's labels on the Secret, so it repeats them."""
    return {
        "name": name,
        "creationPolicy": "Owner",
        "deletionPolicy": "Retain",
        "template": {
            "engineVersion": "v2",
            "metadata": {"labels": {**labels, vocab.EXCLUDE_FROM_BACKUP: "true"}},
        },
    }


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
    # more (key, field) pairs of the same Vault secret into the same Kubernetes Secret (Grafana's user and password)
    more: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SecretDelivery:
    """What a cluster offers add-ons for their secrets: its Vault, and the resources (External Secrets' chart,
    which brings the store and ExternalSecret CRDs) an add-on's store must wait for."""

    vault: VaultConfig
    ready: tuple[pulumi.Resource, ...]


def _labels(factory: str, component: str) -> dict[str, str]:
    return vocab.standard_labels(factory, component=component)


def addon_secrets_account(addon: str, namespace: str, factory: str, component: str) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": ADDON_SECRETS_ACCOUNT, "namespace": namespace, "labels": _labels(factory, component)},
        # External Secrets asks the API for a token of this account; no pod needs one on disk
        "automountServiceAccountToken": False,
    }


def addon_secret_store(
    vault: VaultConfig, cluster: ClusterConfig, *, addon: str, namespace: str, factory: str, component: str
) -> Manifest:
    scope = addon_scope(addon)
    provider = vault_provider(vault, cluster, vault_role(vault, cluster.name, scope), ADDON_SECRETS_ACCOUNT, namespace)
    return {
        "apiVersion": API_VERSION,
        "kind": "ClusterSecretStore",
        "metadata": {"name": store_name(scope), "labels": _labels(factory, component)},
        # only the add-on's namespace, by name
        "spec": {"provider": {"vault": provider}, "conditions": [{"namespaces": [namespace]}]},
    }


def addon_external_secret(secret: AddonSecret, cluster: str, factory: str, component: str) -> Manifest:
    scope = addon_scope(secret.addon)
    labels = _labels(factory, component)
    return {
        "apiVersion": API_VERSION,
        "kind": "ExternalSecret",
        "metadata": {"name": secret.name, "namespace": secret.namespace, "labels": labels},
        "spec": {
            "refreshInterval": secret.refresh_interval,
            "secretStoreRef": {"kind": "ClusterSecretStore", "name": store_name(scope)},
            "target": secret_target(secret.name, labels),
            "data": [
                {
                    "secretKey": key,
                    "remoteRef": {"key": f"{vault_folder(cluster, scope)}/{secret.remote_key}", "property": field},
                }
                for key, field in ((secret.key, secret.remote_property), *secret.more)
            ],
        },
    }


def install_secrets(
    owner: FactoryComponent[Any],
    secrets: Sequence[AddonSecret],
    delivery: SecretDelivery,
    *,
    factory: str,
    cluster: ClusterConfig,
    namespaces: dict[str, pulumi.Resource],
    component: str,
) -> list[pulumi.Resource]:
    """Per add-on with secrets: its account (after its namespace), its store (after External Secrets' CRDs), and
    one ExternalSecret per secret (after both) — children of `owner`; the ExternalSecrets are returned, for what
    reads their Secrets to wait for."""
    made: list[pulumi.Resource] = []

    def add(key: str, manifest: Manifest, after: Sequence[pulumi.Resource]) -> pulumi.Resource:
        return owner.own(key, kube_resource(owner.child_name(key), manifest, owner.child_opts(depends_on=after)))

    for addon in sorted({secret.addon for secret in secrets}):
        namespace = next(s.namespace for s in secrets if s.addon == addon)
        account = addon_secrets_account(addon, namespace, factory, component)
        add(f"{addon}-secrets-account", account, [namespaces[namespace]])
        store = addon_secret_store(
            delivery.vault, cluster, addon=addon, namespace=namespace, factory=factory, component=component
        )
        add(f"{addon}-secret-store", store, list(delivery.ready))
    for secret in secrets:
        after = [namespaces[secret.namespace], owner.resources[f"{secret.addon}-secret-store"]]
        manifest = addon_external_secret(secret, cluster.name, factory, component)
        made.append(add(f"{secret.addon}-secret-{secret.name}", manifest, after))
    return made
