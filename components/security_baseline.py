"""SecurityBaseline: the zero-trust floor of one cluster.

Gatekeeper (our ConstraintTemplates, constraints rolled out dryrun → deny), External Secrets with a Vault
ClusterSecretStore, Falco with the modern eBPF probe, trivy-operator and a kube-bench CronJob — every
add-on from the one catalogue, every namespace with an explicit Pod Security level.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import gatekeeper_policies as policies
from components import kube_bench, secret_store
from components import labels as lbl
from components.addons import CATALOGUE
from components.addons import gatekeeper as gatekeeper_addon
from components.catalogue import ClusterContext, Release, resolve
from components.config import ClusterConfig, FactoryConfig
from components.production_line import custom_resource_args, manifest_args

TOKEN = "factory:index:SecurityBaseline"
# Never judged by our admission policies: Kubernetes' own namespaces and the platform's agents.
SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")
GATEKEEPER_IGNORE = "admission.gatekeeper.sh/ignore"


@dataclass(frozen=True)
class BaselineSpec:
    factory: FactoryConfig
    cluster: ClusterConfig

    @property
    def context(self) -> ClusterContext:
        return ClusterContext(self.factory, self.cluster, tuple(self.exempt_namespaces()))

    def releases(self) -> list[Release]:
        ctx = self.context
        return [resolve(addon, ctx) for addon in CATALOGUE.values() if addon.enabled(ctx)]

    def exempt_namespaces(self) -> list[str]:
        """Never judged by our admission policies or scanned as a line: Kubernetes' namespaces and every
        namespace the catalogue can place an add-on in (whether or not this cluster enables it)."""
        return sorted({*SYSTEM_NAMESPACES, *(a.namespace for a in CATALOGUE.values()), kube_bench.NAMESPACE})

    def allowed_images(self) -> list[str]:
        mirror = self.factory.site.registry_mirror
        return [*([f"{mirror}/*"] if mirror else []), *self.factory.security.gatekeeper.allowed_images]

    def namespaces(self) -> list[dict[str, Any]]:
        found = [
            platform_namespace(self, r.addon.namespace, r.addon.pod_security, r.addon.exemption_reason)
            for r in self.releases()
        ]
        found.append(platform_namespace(self, kube_bench.NAMESPACE, "privileged", kube_bench.EXEMPTION_REASON))
        return found


def platform_namespace(spec: BaselineSpec, name: str, level: str, reason: str | None) -> dict[str, Any]:
    labels = {
        **lbl.standard_labels(spec.factory.factory.name, component="security-baseline"),
        **lbl.pod_security_labels(level, spec.cluster.kubernetes_version),
    }
    if name == gatekeeper_addon.NAMESPACE:
        # what Gatekeeper's post-install hook would set (helm.v4.Chart runs no hooks): its own webhook
        # must never judge the namespace it runs in
        labels[GATEKEEPER_IGNORE] = "no-self-managing"
    metadata: dict[str, Any] = {"name": name, "labels": labels}
    if reason:
        metadata["annotations"] = {"factory-floor.io/pod-security-exemption": reason}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata}


class SecurityBaseline(pulumi.ComponentResource):
    namespaces: dict[str, k8s.core.v1.Namespace]
    charts: dict[str, k8s.helm.v4.Chart]
    templates: dict[str, k8s.apiextensions.CustomResource]
    constraints: list[k8s.apiextensions.CustomResource]
    secret_store: k8s.apiextensions.CustomResource | None
    kube_bench: k8s.batch.v1.CronJob

    def __init__(self, name: str, spec: BaselineSpec, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TOKEN, name, None, opts)
        factory = spec.factory.factory.name
        self.namespaces = {
            ns["metadata"]["name"]: k8s.core.v1.Namespace(
                f"{name}-ns-{ns['metadata']['name']}", **manifest_args(ns), opts=pulumi.ResourceOptions(parent=self)
            )
            for ns in spec.namespaces()
        }
        self.charts = {release.addon.name: self._chart(name, release) for release in spec.releases()}
        self._gatekeeper_policies(name, spec, factory)
        self.secret_store = None
        vault = spec.factory.security.vault
        if vault is not None and "external-secrets" in self.charts:
            self.secret_store = k8s.apiextensions.CustomResource(
                f"{name}-vault-store",
                **custom_resource_args(secret_store.cluster_secret_store(vault, spec.cluster, factory)),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.charts["external-secrets"]]),
            )
        self.kube_bench = k8s.batch.v1.CronJob(
            f"{name}-kube-bench",
            **manifest_args(kube_bench.cron_job(spec.factory, spec.cluster)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.namespaces[kube_bench.NAMESPACE]]),
        )
        self.register_outputs({"charts": {n: c.urn for n, c in self.charts.items()}})

    def _chart(self, name: str, release: Release) -> k8s.helm.v4.Chart:
        addon = release.addon
        return k8s.helm.v4.Chart(
            f"{name}-{addon.name}",
            chart=release.chart,
            version=addon.version,
            namespace=addon.namespace,
            repository_opts=k8s.helm.v4.RepositoryOptsArgs(repo=release.repository) if release.repository else None,
            values=release.values,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.namespaces[addon.namespace]]),
        )

    def _gatekeeper_policies(self, name: str, spec: BaselineSpec, factory: str) -> None:
        chart = self.charts[gatekeeper_addon.ADDON.name]
        # templates need the chart's CRDs; each constraint's CRD exists only once its template is reconciled
        self.templates = {
            template.kind: k8s.apiextensions.CustomResource(
                f"{name}-template-{template.name}",
                **custom_resource_args(policies.constraint_template(template, factory)),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[chart]),
            )
            for template in policies.TEMPLATES.values()
        }
        action = spec.factory.security.gatekeeper.enforcement_action
        specs = policies.constraint_specs(spec.allowed_images(), spec.factory.security.gatekeeper.required_labels)
        self.constraints = [
            k8s.apiextensions.CustomResource(
                f"{name}-constraint-{c.name}",
                **custom_resource_args(policies.constraint(c, factory, action, spec.exempt_namespaces())),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.templates[c.kind]]),
            )
            for c in specs
        ]
