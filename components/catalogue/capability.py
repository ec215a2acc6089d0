"""What every per-cluster capability component is given: the factory document, its cluster and the platform's
namespaces — from which it resolves its catalogue add-ons the same way everywhere."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from components.catalogue.model import AddOn, Bundle, ClusterContext
from components.catalogue.release import Release, resolve
from components.config.document import FactoryConfig
from components.config.factory import ClusterConfig
from components.core.component import ComponentArgs


@dataclass(frozen=True, kw_only=True)
class ClusterCapabilityArgs(ComponentArgs):
    config: FactoryConfig
    cluster: ClusterConfig
    platform_namespaces: tuple[str, ...]  # never judged as a line: system and every catalogue namespace
    # what the catalogue installs on the cluster (inventory.bundle): what the escrow copies
    bundle: Bundle = field(default_factory=Bundle)

    @property
    def context(self) -> ClusterContext:
        return ClusterContext(self.config, self.cluster, self.platform_namespaces, bundle=self.bundle)

    def releases(self, addons: Iterable[AddOn]) -> list[Release]:
        """The add-ons of `addons` this cluster enables, resolved for it (mirror, values, manifests), in order."""
        ctx = self.context
        return [resolve(addon, ctx) for addon in addons if addon.enabled(ctx)]
