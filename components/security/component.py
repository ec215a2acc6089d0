"""SecurityBaseline: the zero-trust floor of one cluster."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.catalogue.install import Installed, install, install_namespaces
from components.catalogue.model import ClusterContext
from components.catalogue.release import Release, resolve
from components.config.document import FactoryConfig
from components.config.factory import ClusterConfig
from components.core import vocabulary as vocab
from components.core.component import ComponentArgs, FactoryComponent
from components.core.contracts import LineHandle
from components.core.kube import kube_resource
from components.identity.component import addon_binding
from components.security.addons import ADDONS
from components.security.secrets import addon as external_secrets
from components.security.secrets.manifests import external_secret


@dataclass(frozen=True, kw_only=True)
class SecurityArgs(ComponentArgs):
    config: FactoryConfig
    cluster: ClusterConfig
    platform_namespaces: tuple[str, ...]  # never judged as a line: system and every catalogue namespace
    lines: tuple[LineHandle, ...]  # the cluster's lines, for their per-line secrets

    @property
    def context(self) -> ClusterContext:
        return ClusterContext(self.config, self.cluster, self.platform_namespaces)

    def releases(self) -> list[Release]:
        ctx = self.context
        return [resolve(addon, ctx) for addon in ADDONS if addon.enabled(ctx)]


class SecurityBaseline(FactoryComponent[SecurityArgs]):
    """Creates on one cluster, from the catalogue: the namespaces of its add-ons (each with its Pod Security
    level and, below restricted, the reason); Gatekeeper with our ConstraintTemplates and constraints
    (rolled out dryrun → deny per stack); External Secrets with the cluster's Vault ClusterSecretStore
    (only with `security.vault`); Falco on the modern eBPF probe with Falcosidekick; trivy-operator with
    edge-safe limits; the kube-bench CronJob. Per line: one ExternalSecret for each secret it declares, in
    its namespace, after the store."""

    addons: dict[str, Installed]

    def __init__(self, name: str, args: SecurityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, args, opts)
        factory = args.config.factory.name
        releases = args.releases()
        namespaces = install_namespaces(self, releases, factory, args.cluster, vocab.SECURITY_COMPONENT)
        self.addons = {
            r.addon.name: install(self, r, namespaces[r.addon.namespace], addon_binding(self, r, factory, args.cluster))
            for r in releases
        }
        self._line_secrets(factory)
        self.finish({"addons": sorted(self.addons)})

    def _line_secrets(self, factory: str) -> None:
        eso = self.addons.get(external_secrets.ADDON.name)
        if eso is None:
            return  # no Vault: the config check refuses line secrets without one
        store = eso.brought[external_secrets.STORE_KEY]
        lines = {line.name: line for line in self.args.config.lines_on(self.args.cluster.name)}
        for handle in self.args.lines:
            for secret in lines[handle.name].secrets:
                key = f"{handle.name}-secret-{secret.name}"
                manifest = external_secret(secret, lines[handle.name], handle.team, factory)
                self.own(
                    key,
                    kube_resource(
                        self.child_name(key), manifest, self.child_opts(depends_on=[handle.namespace_resource, store])
                    ),
                )
