"""SegmentationCanary: proof on one cluster that its lines' segmentation is enforced, as a rollout gate."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.catalogue.capability import ClusterCapabilityArgs
from components.catalogue.install import Installed, install, install_namespaces
from components.core.component import FactoryComponent
from components.verification.addons import ADDONS
from components.verification.canary import CANARY, COMPONENT, LISTENER_ADDON


@dataclass(frozen=True, kw_only=True)
class VerificationArgs(ClusterCapabilityArgs):
    """Nothing beyond what every cluster capability is given."""


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
        releases = {r.addon.name: r for r in args.releases(ADDONS)}
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
