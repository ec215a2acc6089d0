"""SecurityBaseline: the zero-trust floor of one cluster."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from components.catalogue.install import Installed, install, install_namespaces
from components.catalogue.model import ClusterContext
from components.catalogue.release import Release, resolve
from components.config.document import FactoryConfig
from components.config.factory import ClusterConfig
from components.core import vocabulary as vocab
from components.core.component import ComponentArgs, FactoryComponent
from components.core.contracts import LineHandle
from components.core.kube import Manifest, kube_resource
from components.identity.component import addon_binding
from components.security import admission_policies, falco
from components.security.addons import ADDONS
from components.security.gatekeeper import addon as gatekeeper
from components.security.gatekeeper import constraints, templates
from components.security.secrets import addon as external_secrets
from components.security.secrets.addon_scope import addon_external_secret, addon_secret_store, addon_secrets_account
from components.security.secrets.manifests import external_secret, line_secret_store, line_secrets_account


@dataclass(frozen=True, kw_only=True)
class SecurityArgs(ComponentArgs):
    config: FactoryConfig
    cluster: ClusterConfig
    platform_namespaces: tuple[str, ...]  # never judged as a line: system and every catalogue namespace
    # namespace -> the images the whole catalogue (every capability's add-ons) installs there on this cluster
    platform_images: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
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
    (rolled out dryrun → deny per stack); External Secrets (only with `security.vault`); Falco on the
    modern eBPF probe with Falcosidekick; trivy-operator with edge-safe limits; the kube-bench CronJob. Per
    line that declares secrets: its `line-secrets` ServiceAccount, a ClusterSecretStore only its namespace
    may use (the line's own Vault role and folder), and one ExternalSecret per secret, after the store.
    Gatekeeper's ignore label on Kubernetes' own namespaces (patches, after the chart), so its webhook never
    holds them up; on single-node cells, ValidatingAdmissionPolicies with their bindings for the rules that must
    hold without Gatekeeper (host namespaces, privileged containers, Service external IPs)."""

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
        self._webhook_exemptions()
        self._platform_images(factory)
        self._admission_policies(factory)
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

    def _addon_secrets(self, factory: str, namespaces: dict[str, pulumi.Resource]) -> None:
        """Credentials add-ons read from an existing Secret (Falcosidekick's webhook URL), each from the add-on's
        own Vault folder through a store only its namespace may use; never a chart value."""
        eso, vault = self.addons.get(external_secrets.ADDON.name), self.args.config.security.vault
        wanted = [falco.alert_webhook(self.args.context)] if falco.ADDON.name in self.addons else []
        secrets = [secret for secret in wanted if secret is not None]
        if eso is None or vault is None or not secrets:
            return  # the config check refuses an alert webhook without Vault
        cluster = self.args.cluster
        for addon in sorted({secret.addon for secret in secrets}):
            namespace = next(s.namespace for s in secrets if s.addon == addon)
            self._object(
                f"{addon}-secrets-account", addon_secrets_account(addon, namespace, factory), [namespaces[namespace]]
            )
            self._object(
                f"{addon}-secret-store", addon_secret_store(vault, cluster, addon, namespace, factory), eso.objects
            )
        for secret in secrets:
            after = [namespaces[secret.namespace], self.resources[f"{secret.addon}-secret-store"]]
            self._object(
                f"{secret.addon}-secret-{secret.name}", addon_external_secret(secret, cluster.name, factory), after
            )

    def _webhook_exemptions(self) -> None:
        """Kubernetes' own namespaces carry Gatekeeper's ignore label, which only the namespaces the chart lists
        as exempt may carry — so after the chart, whose webhook checks exactly that."""
        installed = self.addons.get(gatekeeper.ADDON.name)
        if installed is None:
            return
        for manifest in gatekeeper.system_namespace_patches():
            key = f"gatekeeper-exempt-{manifest['metadata']['name']}"
            opts = self.child_opts(depends_on=installed.objects)
            self.own(key, kube_resource(self.child_name(key), manifest, opts, patch=True))

    def _platform_images(self, factory: str) -> None:
        """The platform namespaces run exactly the images the catalogue installs there (#9 finding 6): one
        Gatekeeper constraint, after its template, named like the constraints the add-on brings."""
        installed = self.addons.get(gatekeeper.ADDON.name)
        spec = constraints.platform_image_spec(self.args.platform_images)
        if installed is None or spec is None:
            return
        action = self.args.config.security.gatekeeper.enforcement_action
        manifest = constraints.constraint(spec, factory, action, list(self.args.platform_namespaces))
        template = installed.brought[f"template-{templates.TEMPLATES[spec.kind].name}"]
        self._object(f"{gatekeeper.ADDON.name}-constraint-{spec.name}", manifest, [template])

    def _admission_policies(self, factory: str) -> None:
        """In-tree policies (no webhook, nothing to fail open), each binding after its policy."""
        action = self.args.config.security.gatekeeper.enforcement_action
        found = admission_policies.manifests(self.args.cluster, factory, action, self.args.platform_namespaces)
        for policy, binding in found:
            name = policy["metadata"]["name"].removeprefix(admission_policies.PREFIX)
            created = self._object(f"vap-{name}", policy, [])
            self._object(f"vap-binding-{name}", binding, [created])

    def _object(self, key: str, manifest: Manifest, after: Sequence[pulumi.Resource]) -> pulumi.Resource:
        return self.own(key, kube_resource(self.child_name(key), manifest, self.child_opts(depends_on=after)))
