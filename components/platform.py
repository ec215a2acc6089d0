"""FactoryPlatform: everything one factory (one stack) runs, built from its typed config."""

from __future__ import annotations

from collections import defaultdict

import pulumi
import pulumi_kubernetes as k8s

from components.config import FactoryConfig
from components.line_manifests import InboundFlow, LineSpec
from components.production_line import ProductionLine
from components.stack_inputs import StackInputs

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
        self.lines = {
            spec.line.name: ProductionLine(
                f"{name}-{spec.line.name}",
                spec,
                opts=pulumi.ResourceOptions(parent=self, providers={"kubernetes": self.providers[spec.cluster.name]}),
            )
            for spec in line_specs(config)
        }
        self.register_outputs({"lines": self.line_summary()})

    def line_summary(self) -> dict[str, dict[str, pulumi.Input[str]]]:
        return {
            line_name: {
                "namespace": line.namespace.metadata.name,
                "serviceAccount": line.service_account.metadata.name,
            }
            for line_name, line in self.lines.items()
        }
