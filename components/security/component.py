"""SecurityBaseline: the zero-trust floor of one cluster."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from components.catalogue.capability import ClusterCapabilityArgs
from components.catalogue.install import Installed, install, install_namespaces
from components.catalogue.secrets import SecretDelivery, install_secrets
from components.core import vocabulary as vocab
from components.core.component import FactoryComponent
from components.core.contracts import LineHandle
from components.core.kube import Manifest, kube_resource
from components.identity.component import addon_binding
from components.security.addons import BASELINE_ADDONS
from components.security.secrets import addon as external_secrets
from components.security.secrets.manifests import external_secret, line_secret_store, line_secrets_account


@dataclass(frozen=True, kw_only=True)
class SecurityArgs(ClusterCapabilityArgs):
    lines: tuple[LineHandle, ...]  # the cluster's lines, for their per-line secrets


class SecurityBaseline(FactoryComponent[SecurityArgs]):
    """Creates on one cluster, from the catalogue, after the cluster's admission gate (AdmissionControl): the
    namespaces of its add-ons (each with its Pod Security level and, below restricted, the reason); External
    Secrets (only with `security.vault`); Falco on the modern eBPF probe with Falcosidekick; trivy-operator with
    edge-safe limits; the kube-bench DaemonSet. Per line that declares secrets: its `line-secrets`
    ServiceAccount, a ClusterSecretStore only its namespace may use (the line's own Vault role and folder), and
    one ExternalSecret per secret, after the store. Per add-on credential (Falcosidekick's webhook URL): its own
    account, store and ExternalSecret."""

    addons: dict[str, Installed]

    def __init__(self, name: str, args: SecurityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, args, opts)
        factory = args.config.factory.name
        releases = args.releases(BASELINE_ADDONS)
        namespaces = install_namespaces(self, releases, factory, args.cluster, vocab.SECURITY_COMPONENT)
        self.addons = {
            r.addon.name: install(self, r, namespaces[r.addon.namespace], addon_binding(self, r, factory, args.cluster))
            for r in releases
        }
        self._line_secrets(factory)
        self._addon_secrets(factory, namespaces)
        self.finish({"addons": sorted(self.addons)})

    def _line_secrets(self, factory: str) -> None:
        """Per line with secrets: its account, its own store, its ExternalSecrets — each after what it needs."""
        eso, vault = self.addons.get(external_secrets.ADDON.name), self.args.config.security.vault
        if eso is None or vault is None:
            return  # no Vault: the config check refuses line secrets without one
        cluster = self.args.cluster
        lines = {line.name: line for line in self.args.config.lines_on(cluster.name)}
        for handle in self.args.lines:
            line = lines[handle.name]
            if not line.secrets:
                continue
            namespace = handle.namespace_resource
            self._object(f"{line.name}-secrets-account", line_secrets_account(line, handle.team, factory), [namespace])
            # the chart brings the store's CRD; the account is looked up when the store syncs (and retried until
            # it exists), so waiting for it would only make every first `up` one step deeper
            store = self._object(
                f"{line.name}-secret-store", line_secret_store(vault, cluster, line, handle.team, factory), eso.objects
            )
            for secret in line.secrets:
                manifest = external_secret(secret, line, cluster.name, handle.team, factory)
                self._object(f"{line.name}-secret-{secret.name}", manifest, [namespace, store])

    @property
    def secret_delivery(self) -> SecretDelivery | None:
        """What the cluster's other capabilities' add-ons get their Vault secrets through (None without Vault)."""
        eso, vault = self.addons.get(external_secrets.ADDON.name), self.args.config.security.vault
        return SecretDelivery(vault, tuple(eso.objects)) if eso is not None and vault is not None else None

    def _addon_secrets(self, factory: str, namespaces: dict[str, pulumi.Resource]) -> None:
        """Credentials the baseline's add-ons read from an existing Secret (Falcosidekick's webhook URL), each from
        the add-on's own Vault folder through a store only its namespace may use; never a chart value."""
        secrets = [secret for installed in self.addons.values() for secret in installed.release.secrets]
        delivery = self.secret_delivery
        if delivery is None or not secrets:
            return  # the config check refuses an alert webhook without Vault
        install_secrets(
            self,
            secrets,
            delivery,
            factory=factory,
            cluster=self.args.cluster,
            namespaces=namespaces,
            component=vocab.SECURITY_COMPONENT,
        )

    def _object(self, key: str, manifest: Manifest, after: Sequence[pulumi.Resource]) -> pulumi.Resource:
        return self.own(key, kube_resource(self.child_name(key), manifest, self.child_opts(depends_on=after)))
