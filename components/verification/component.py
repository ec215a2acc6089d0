"""SegmentationCanary: proof on one cluster that its lines' segmentation is enforced, as a rollout gate."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.catalogue.install import Installed, install, install_namespaces
from components.catalogue.model import ClusterContext
from components.catalogue.release import Release, resolve
from components.config.document import FactoryConfig
from components.config.factory import ClusterConfig
from components.core.component import ComponentArgs, FactoryComponent
from components.verification.addons import ADDONS
from components.verification.canary import CANARY, COMPONENT, LISTENER_ADDON


@dataclass(frozen=True, kw_only=True)
class VerificationArgs(ComponentArgs):
    config: FactoryConfig
    cluster: ClusterConfig
    platform_namespaces: tuple[str, ...]  # never judged as a line: system and every catalogue namespace

    @property
    def context(self) -> ClusterContext:
        return ClusterContext(self.config, self.cluster, self.platform_namespaces)

    def releases(self) -> dict[str, Release]:
        ctx = self.context
        return {addon.name: resolve(addon, ctx) for addon in ADDONS if addon.enabled(ctx)}


class SegmentationCanary(FactoryComponent[VerificationArgs]):
    """Creates on one cluster, from the catalogue: the canary's two namespaces (Pod Security restricted); the
    listener's zone — default deny, DNS, the ingress side of one conduit, a busybox listener (Deployment and
    ClusterIP Service); the probing zone — default deny, DNS, the egress side of the conduit, and where the
    cluster's CNI has cluster-wide policies (Calico, canal, Cilium) a cluster-wide deny of the instance metadata
    service for every line namespace; and last, after all of those, the canary Job. Pulumi waits for the Job,
    so the update fails unless the cluster enforces what every line's segmentation rests on."""

    addons: dict[str, Installed]

    def __init__(self, name: str, args: VerificationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, args, opts)
        releases = args.releases()
        namespaces = install_namespaces(
            self, list(releases.values()), args.config.factory.name, args.cluster, COMPONENT
        )

        def installed(addon: str, gated_on: list[pulumi.Resource] | None = None) -> Installed:
            release = releases[addon]
            return install(self, release, namespaces[release.addon.namespace], gated_on=gated_on or ())

        listener = installed(LISTENER_ADDON)
        # the Job tests the listener's zone too: it waits for its Deployment (ready), Service and policies
        self.addons = {LISTENER_ADDON: listener, CANARY: installed(CANARY, gated_on=listener.objects)}
        self.finish({"addons": sorted(self.addons)})
