"""AdmissionControl: what judges every object on one cluster, installed first — the admission gate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import pulumi

from components.catalogue.capability import ClusterCapabilityArgs
from components.catalogue.install import Installed, bring_resources, install, install_namespaces
from components.catalogue.model import ClusterContext
from components.core import vocabulary as vocab
from components.core.component import FactoryComponent
from components.core.kube import Manifest, kube_resource
from components.security import admission_policies
from components.security.addons import ADMISSION_ADDONS
from components.security.gatekeeper import addon as gatekeeper
from components.security.gatekeeper import constraints, templates


@dataclass(frozen=True, kw_only=True)
class AdmissionArgs(ClusterCapabilityArgs):
    # namespace -> the images the whole catalogue (every capability's add-ons) installs there on this cluster
    platform_images: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # the images the platform adds to line pods on this cluster (inventory.line_images)
    line_images: tuple[str, ...] = ()

    @property
    def context(self) -> ClusterContext:
        return replace(super().context, line_images=self.line_images)


class AdmissionControl(FactoryComponent[AdmissionArgs]):
    """Creates on one cluster, before anything else there: Gatekeeper's namespace (with its NetworkPolicies) and
    chart, whose webhook configurations register only once the controller is Available and has injected its CA;
    the webhook probe Job, which completes only once the webhook answers; then, after the probe, our
    ConstraintTemplates (each done when Gatekeeper reports its constraint CRD created) and their constraints,
    the constraint holding the platform namespaces to the catalogue's images, and Gatekeeper's ignore label on
    Kubernetes' own namespaces. On single-node cells, first of all, the in-tree ValidatingAdmissionPolicies with
    their bindings, which hold without Gatekeeper (the chart waits for them). `gate` is what every other object
    on the cluster waits for: a fail-closed webhook refuses whatever reaches the API server before it answers."""

    addons: dict[str, Installed]
    gate: tuple[pulumi.Resource, ...]

    def __init__(self, name: str, args: AdmissionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, args, opts)
        factory = args.config.factory.name
        releases = {r.addon.name: r for r in args.releases(ADMISSION_ADDONS)}
        namespaces = install_namespaces(self, list(releases.values()), factory, args.cluster, vocab.SECURITY_COMPONENT)
        self.addons = {}
        self.gate = ()
        # in force before Gatekeeper exists, and while it is down; Gatekeeper after them, so its webhook never
        # judges their creation
        in_tree = self._admission_policies(factory)
        controller = releases.get(gatekeeper.ADDON.name)
        if controller is not None:
            installed = install(self, controller, namespaces[gatekeeper.NAMESPACE], bring=False, after=in_tree)
            # the probe's Job is applied last, after the chart is done (its webhook configurations included)
            probe = install(
                self, releases[gatekeeper.PROBE.name], namespaces[gatekeeper.NAMESPACE], gated_on=installed.objects
            )
            self.addons = {gatekeeper.ADDON.name: installed, gatekeeper.PROBE.name: probe}
            self.gate = tuple(probe.objects)
            bring_resources(self, installed, self.gate)
            self._webhook_exemptions()
            self._platform_images(factory, installed)
        self.finish({"addons": sorted(self.addons)})

    def _webhook_exemptions(self) -> None:
        """Kubernetes' own namespaces carry Gatekeeper's ignore label, which only the namespaces the chart lists
        as exempt may carry (its check-ignore-label webhook judges every Namespace update) — so after the gate."""
        for manifest in gatekeeper.system_namespace_patches():
            key = f"gatekeeper-exempt-{manifest['metadata']['name']}"
            opts = self.child_opts(depends_on=self.gate)
            self.own(key, kube_resource(self.child_name(key), manifest, opts, patch=True))

    def _platform_images(self, factory: str, installed: Installed) -> None:
        """The platform namespaces run exactly the images the catalogue installs there (#9 finding 6): one
        Gatekeeper constraint, after its template, named like the constraints the add-on brings."""
        spec = constraints.platform_image_spec(self.args.platform_images)
        if spec is None:
            return
        action = self.args.config.security.gatekeeper.enforcement_action
        manifest = constraints.constraint(spec, factory, action, list(self.args.platform_namespaces))
        template = installed.brought[f"template-{templates.TEMPLATES[spec.kind].name}"]
        self._object(f"{gatekeeper.ADDON.name}-constraint-{spec.name}", manifest, [template])

    def _admission_policies(self, factory: str) -> list[pulumi.Resource]:
        """In-tree policies (no webhook, nothing to fail open), each binding after its policy: the policies and
        bindings made."""
        action = self.args.config.security.gatekeeper.enforcement_action
        found = admission_policies.manifests(self.args.cluster, factory, action, self.args.platform_namespaces)
        made = []
        for policy, binding in found:
            name = policy["metadata"]["name"].removeprefix(admission_policies.PREFIX)
            created = self._object(f"vap-{name}", policy, [])
            made += [created, self._object(f"vap-binding-{name}", binding, [created])]
        return made

    def _object(self, key: str, manifest: Manifest, after: Sequence[pulumi.Resource]) -> pulumi.Resource:
        return self.own(key, kube_resource(self.child_name(key), manifest, self.child_opts(depends_on=after)))
