"""Observability: the metrics stack of one cluster, sized by its profile (sizing.py), and everything generated from
the stack file that it runs — every capability's rules as PrometheusRules, Alertmanager's routes, the dashboards,
and a scrape of each line's metrics port."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pulumi

from components.catalogue.capability import ClusterCapabilityArgs
from components.catalogue.install import Installed, install, install_namespaces
from components.catalogue.model import ClusterContext, ScrapeTarget
from components.catalogue.secrets import SecretDelivery, install_secrets
from components.core.component import FactoryComponent
from components.core.contracts import LineHandle
from components.core.kube import Manifest, kube_resource
from components.identity.component import addon_binding
from components.observability import blackbox, objects
from components.observability import prometheus as kps
from components.observability.addons import ADDONS
from components.observability.sizing import stack_size


@dataclass(frozen=True, kw_only=True)
class ObservabilityArgs(ClusterCapabilityArgs):
    lines: tuple[LineHandle, ...]  # the cluster's lines: one scrape each, after its namespace
    rule_files: Mapping[str, dict[str, Any]]  # kind -> rule file (inventory.rule_files)
    dashboards: Mapping[str, dict[str, Any]] = field(default_factory=dict)  # file name -> Grafana JSON
    secrets: SecretDelivery | None = None  # the cluster's Vault delivery (SecurityBaseline)
    scrapes: tuple[ScrapeTarget, ...] = ()  # every add-on's metrics endpoint on the cluster (inventory)

    @property
    def context(self) -> ClusterContext:
        """The catalogue's context, with what Prometheus scrapes (its egress follows from it)."""
        return replace(super().context, scrapes=self.scrapes)


class Observability(FactoryComponent[ObservabilityArgs]):
    """Creates on one cluster, from the catalogue: the `monitoring` namespace (restricted) with kube-prometheus-stack
    and `node-exporter` (privileged, its own release), each closed by default-deny NetworkPolicies plus the paths
    observability/network.py declares; then, after the chart's CRDs, one PrometheusRule per rule file; where
    Alertmanager runs, the receivers' Secrets from Vault (its routes are chart values, prometheus.py); where Grafana
    runs, its Role and one ConfigMap per dashboard; and per line a PodMonitor of its metrics port."""

    addons: dict[str, Installed]

    def __init__(self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, args, opts)
        factory, cluster = args.config.factory.name, args.cluster
        releases = args.releases(ADDONS)
        namespaces = install_namespaces(self, releases, factory, cluster, objects.COMPONENT)
        monitoring = namespaces[kps.NAMESPACE]
        size = stack_size(cluster.profile)
        before_chart = self._before_chart(factory, size.grafana, monitoring)
        # kube-prometheus-stack first: it brings the CRDs node-exporter's ServiceMonitor is one of (Pulumi retries a
        # missing kind for half a minute only, and a chart's objects do not wait for another chart's)
        self.addons = {}
        crds: list[pulumi.Resource] = []
        for r in releases:
            binding = addon_binding(self, r, factory, cluster)
            after = before_chart if r.addon.name == kps.NAME else crds
            self.addons[r.addon.name] = install(self, r, namespaces[r.addon.namespace], binding, after=after)
            if r.addon.name == kps.NAME:
                crds = self.addons[kps.NAME].objects
        for kind, document in sorted(args.rule_files.items()):
            self._object(f"rules-{kind}", objects.prometheus_rule(kind, document, factory), crds)
        for line in args.lines:
            config = next(c for c in args.config.lines if c.name == line.name)
            after_line = [*crds, line.namespace_resource]
            self._object(f"scrape-{line.name}", objects.line_pod_monitor(config, factory), after_line)
            if config.slo.probe is not None:
                self._object(f"probe-{line.name}", blackbox.probe(config, factory), after_line)
        for target in args.scrapes:
            key = f"scrape-{target.addon}-{target.endpoint.name}"
            self._object(key, objects.addon_pod_monitor(target, factory), crds)
        if size.grafana:
            for board, document in sorted(args.dashboards.items()):
                key = f"dashboard-{board.removesuffix('.json')}"
                self._object(key, objects.dashboard_config_map(board, document, factory), [monitoring])
        self._secrets(factory, namespaces)
        self.finish({"addons": sorted(self.addons)})

    def _before_chart(self, factory: str, grafana: bool, monitoring: pulumi.Resource) -> list[pulumi.Resource]:
        """What the chart's pods need at start: the Role Grafana's binding names."""
        if not grafana:
            return []
        return [self._object("grafana-role", objects.grafana_role(factory), [monitoring])]

    def _secrets(self, factory: str, namespaces: dict[str, pulumi.Resource]) -> None:
        """Receivers' keys, Grafana's login and the hub's token, each from the add-on's Vault folder."""
        secrets = [secret for installed in self.addons.values() for secret in installed.release.secrets]
        if self.args.secrets is None or not secrets:
            return
        install_secrets(
            self,
            secrets,
            self.args.secrets,
            factory=factory,
            cluster=self.args.cluster,
            namespaces=namespaces,
            component=objects.COMPONENT,
        )

    def _object(self, key: str, manifest: Manifest, after: Sequence[pulumi.Resource]) -> pulumi.Resource:
        return self.own(key, kube_resource(self.child_name(key), manifest, self.child_opts(depends_on=after)))
