"""FactoryPlatform: everything one factory (one stack) runs — one ClusterPlatform per cluster, each holding
that cluster's providers, lines and capabilities."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.backup import velero
from components.backup.component import BackupArgs, BackupStores
from components.backup.config import Cloud
from components.backup.recovery import DisasterRecovery, RecoveryArgs
from components.backup.stores.location import StoreLocation
from components.backup.writers import etcd_writes_to_aws
from components.config.document import FactoryConfig
from components.config.factory import ClusterConfig
from components.config.stack_inputs import StackInputs
from components.core.component import TOKEN_PREFIX, ComponentArgs, FactoryComponent, Protection, moved_children
from components.core.contracts import LINE_WORKLOAD_SERVICE_ACCOUNT, cluster_identifier
from components.identity.component import cloud_provider
from components.inventory import (
    bundle,
    factory_platform_slos,
    line_images,
    platform_images,
    platform_namespaces,
    rule_files,
    scrape_targets,
)
from components.lines.component import ProductionLine
from components.lines.manifests import LineArgs, line_args
from components.observability.component import Observability, ObservabilityArgs
from components.observability.dashboards import dashboards
from components.security.admission import AdmissionArgs, AdmissionControl
from components.security.component import SecurityArgs, SecurityBaseline
from components.verification.component import SegmentationCanary, VerificationArgs


@dataclass(frozen=True, kw_only=True)
class ClusterArgs(ComponentArgs):
    config: FactoryConfig
    cluster: ClusterConfig
    kubeconfig: pulumi.Input[str]  # a secret Output: never in state in plain text
    lines: tuple[LineArgs, ...]
    locations: Mapping[Cloud, StoreLocation]  # the factory's backup stores, which its Velero writes to


class ClusterPlatform(FactoryComponent[ClusterArgs]):
    """Creates for one cluster: its explicit Kubernetes provider (credentials from a secret, a stable
    `clusterIdentifier`, never dropping an unreachable plant cluster from state), its cloud provider when
    it federates workload identities, its AdmissionControl first — and after its gate (Gatekeeper's webhook
    answering) everything else: one ProductionLine per line on it, its SecurityBaseline, its Observability (metrics,
    rules, routes, dashboards), the SegmentationCanary
    that proves the cluster enforces the lines' NetworkPolicies (a rollout gate), and with backup stores its
    DisasterRecovery (Velero writing to the stores it reaches)."""

    provider: k8s.Provider
    cloud_provider: pulumi.ProviderResource | None
    admission: AdmissionControl
    lines: dict[str, ProductionLine]
    security: SecurityBaseline
    observability: Observability
    verification: SegmentationCanary
    recovery: DisasterRecovery | None

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, args, opts)
        factory, cluster = args.config.factory.name, args.cluster
        self.provider = self.own(
            "provider",
            k8s.Provider(
                name,
                kubeconfig=args.kubeconfig,
                context=cluster.kubeconfig.context,
                # a stable identity: rotating the kubeconfig's credentials updates the provider instead of
                # replacing it (which would replace every object on the cluster)
                cluster_identifier=cluster_identifier(factory, cluster.name),
                # set explicitly so PULUMI_K8S_* variables on an operator's laptop cannot change behaviour;
                # a plant cluster that is briefly offline must never be dropped from state
                enable_server_side_apply=True,
                delete_unreachable=False,
                skip_update_unreachable=False,
                opts=self.child_opts(),
            ),
        )
        self.cloud_provider = cloud_provider(name, cluster, self.child_opts())
        providers = [self.provider, *([self.cloud_provider] if self.cloud_provider else [])]
        # Gatekeeper and what it judges with were the SecurityBaseline's until #10 made them the install gate
        baseline, admission = f"{name}-baseline", f"{name}-admission"
        was_baseline = pulumi.resource.create_urn(baseline, f"{TOKEN_PREFIX}{SecurityBaseline.__name__}", parent=self)
        # what every capability on this cluster is given (ClusterCapabilityArgs)
        on_cluster: dict[str, Any] = {
            "protection": args.protection,
            "config": args.config,
            "cluster": cluster,
            "platform_namespaces": platform_namespaces(),
        }
        self.admission = self.own(
            "admission",
            AdmissionControl(
                admission,
                AdmissionArgs(
                    **on_cluster,
                    platform_images=platform_images(args.config, cluster),
                    line_images=line_images(args.config, cluster),
                ),
                pulumi.ResourceOptions.merge(
                    self.child_opts(providers=providers), moved_children(was_baseline, baseline, admission)
                ),
            ),
        )
        gate = self.admission.gate
        after_gate = {**on_cluster, "after": gate}
        self.lines = {
            line.line.name: self.own(
                f"line-{line.line.name}",
                ProductionLine(
                    f"{factory}-{line.line.name}", replace(line, after=gate), self.child_opts(providers=providers)
                ),
            )
            for line in args.lines
        }
        self.security = self.own(
            "security",
            SecurityBaseline(
                baseline,
                SecurityArgs(**after_gate, lines=tuple(line.handle for line in self.lines.values())),
                self.child_opts(providers=providers),
            ),
        )
        self.observability = self.own(
            "observability",
            Observability(
                f"{name}-observability",
                ObservabilityArgs(
                    **after_gate,
                    lines=tuple(line.handle for line in self.lines.values()),
                    rule_files=rule_files(args.config, cluster),
                    dashboards=dashboards(args.config, factory_platform_slos(args.config)),
                    secrets=self.security.secret_delivery,
                    scrapes=scrape_targets(args.config, cluster),
                ),
                self.child_opts(providers=providers),
            ),
        )
        self.verification = self.own(
            "verification",
            SegmentationCanary(
                f"{name}-verification",
                VerificationArgs(**after_gate),
                self.child_opts(providers=providers),
            ),
        )
        self.recovery = None
        recovery = RecoveryArgs(
            **after_gate,
            locations=args.locations,
            secrets=self.security.secret_delivery,
            bundle=bundle(args.config, cluster),
        )
        # only where Velero has a store to write to: no empty component on the others
        if velero.clouds(recovery.context) or etcd_writes_to_aws(args.config, cluster):
            self.recovery = self.own(
                "recovery",
                DisasterRecovery(f"{name}-recovery", recovery, self.child_opts(providers=providers)),
            )
        self.finish({"lines": sorted(self.lines)})


@dataclass(frozen=True, kw_only=True)
class FactoryArgs(ComponentArgs):
    config: FactoryConfig
    kubeconfigs: Mapping[str, pulumi.Input[str]]

    @classmethod
    def of(cls, inputs: StackInputs) -> FactoryArgs:
        config = inputs.config
        protection = Protection.of(config.environment, config.protection.stateful)
        return cls(protection=protection, config=config, kubeconfigs=inputs.kubeconfigs)


class FactoryPlatform(FactoryComponent[FactoryArgs]):
    """Creates the factory's BackupStores (one immutable store per cloud in `backup`, when it names any) and one
    ClusterPlatform per cluster of the factory, each with the lines that run on it."""

    backup: BackupStores | None
    clusters: dict[str, ClusterPlatform]

    def __init__(self, name: str, args: FactoryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, args, opts)
        config = args.config
        self.backup = None
        if config.backup.enabled:
            backup = BackupArgs(
                protection=args.protection,
                factory=config.factory.name,
                environment=config.environment,
                backup=config.backup,
            )
            self.backup = self.own("backup", BackupStores(f"{name}-backup", backup, self.child_opts()))
        lines = line_args(config, args.protection)
        self.clusters = {
            cluster.name: self.own(
                f"cluster-{cluster.name}",
                ClusterPlatform(
                    f"{name}-{cluster.name}",
                    ClusterArgs(
                        protection=args.protection,
                        config=config,
                        cluster=cluster,
                        kubeconfig=args.kubeconfigs[cluster.name],
                        lines=tuple(line for line in lines if line.cluster.name == cluster.name),
                        locations=self.backup.locations if self.backup else {},
                    ),
                    self.child_opts(),
                ),
            )
            for cluster in config.clusters
        }
        self.finish({"lines": self.line_summary()})

    def line_summary(self) -> dict[str, dict[str, str]]:
        """Per line (in config order): its namespace and the service account its workloads run as."""
        return {
            line.name: {"namespace": line.namespace, "serviceAccount": LINE_WORKLOAD_SERVICE_ACCOUNT}
            for line in self.args.config.lines
        }
