"""FactoryPlatform: everything one factory (one stack) runs, built from its typed config."""

from __future__ import annotations

from collections import defaultdict

import pulumi
import pulumi_kubernetes as k8s

from components.config import FactoryConfig
from components.line_manifests import InboundFlow, LineSpec
from components.production_line import ProductionLine
from components.security_baseline import BaselineSpec, SecurityBaseline
from components.stack_inputs import StackInputs
from components.workload_identity import IdentitySpec, WorkloadIdentity, cloud_provider

TOKEN = "factory:index:FactoryPlatform"


def line_specs(config: FactoryConfig) -> list[LineSpec]:
    """One spec per line, with the ingress side of every conduit other lines declared towards it."""
    inbound: dict[str, list[InboundFlow]] = defaultdict(list)
    for source in config.lines:
        for flow in source.flows:
            inbound[flow.to].append(InboundFlow(source=source, flow=flow))
    teams = {team.name: team for team in config.teams}
    return [
        LineSpec(
            factory=config.factory.name,
            line=line,
            team=teams[line.team],
            cluster=config.cluster(line.cluster),
            inbound=tuple(inbound[line.name]),
        )
        for line in config.lines
    ]


class FactoryPlatform(pulumi.ComponentResource):
    providers: dict[str, k8s.Provider]
    cloud_providers: dict[str, pulumi.ProviderResource]
    baselines: dict[str, SecurityBaseline]
    identities: dict[str, WorkloadIdentity]
    lines: dict[str, ProductionLine]

    def __init__(self, name: str, inputs: StackInputs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TOKEN, name, None, opts)
        config = inputs.config
        self.providers = {
            cluster.name: k8s.Provider(
                f"{name}-{cluster.name}",
                kubeconfig=inputs.kubeconfigs[cluster.name],
                context=cluster.kubeconfig.context,
                # a stable identity: rotating the kubeconfig's credentials updates the provider instead of
                # replacing it (which would replace every object on the cluster)
                cluster_identifier=f"{config.factory.name}/{cluster.name}",
                # set explicitly so PULUMI_K8S_* variables on an operator's laptop cannot change behaviour;
                # a plant cluster that is briefly offline must never be dropped from state
                enable_server_side_apply=True,
                delete_unreachable=False,
                skip_update_unreachable=False,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for cluster in config.clusters
        }
        self.cloud_providers = {
            cluster.name: provider
            for cluster in config.clusters
            if (provider := cloud_provider(f"{name}-{cluster.name}", cluster, pulumi.ResourceOptions(parent=self)))
        }
        self.baselines = {
            cluster.name: SecurityBaseline(
                f"{name}-{cluster.name}-baseline",
                BaselineSpec(config, cluster),
                opts=pulumi.ResourceOptions(parent=self, providers={"kubernetes": self.providers[cluster.name]}),
            )
            for cluster in config.clusters
        }
        self.identities = {}
        self.lines = {}
        for spec in line_specs(config):
            self.lines[spec.line.name] = self._line(name, spec)

        self.register_outputs({"lines": self.line_summary()})

    def _line(self, name: str, spec: LineSpec) -> ProductionLine:
        cluster = spec.cluster.name
        annotations = None
        if cluster in self.cloud_providers:
            identity = WorkloadIdentity(
                f"{name}-{spec.line.name}-identity",
                IdentitySpec(spec.factory, spec.cluster, spec.line),
                self.cloud_providers[cluster],
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.identities[spec.line.name] = identity
            annotations = identity.annotations
        return ProductionLine(
            f"{name}-{spec.line.name}",
            spec,
            opts=pulumi.ResourceOptions(parent=self, providers={"kubernetes": self.providers[cluster]}),
            identity_annotations=annotations,
            secret_store_ready=self.baselines[cluster].secret_store,
        )

    def line_summary(self) -> dict[str, dict[str, pulumi.Input[str]]]:
        return {
            line_name: {
                "namespace": line.namespace.metadata.name,
                "serviceAccount": line.service_account.metadata.name,
            }
            for line_name, line in self.lines.items()
        }
