"""The restore drill's share of the add-on catalogue: the marker namespace, and per backup location the drill that
restores it (manifests.py builds both). In the catalogue like every other workload, so the site mirror rewrites the
drill's image, admission admits exactly that image in `velero`, the marker namespace is a platform namespace, and
the plan counts the drill's footprint.

Both run where Velero runs and `backup.drill.enabled` (the default) holds; the drill of a location exists only
when Velero has that location, so every CronJob tests a location that is there.
"""

from __future__ import annotations

from components.backup import velero
from components.backup.drill import admission
from components.backup.drill.manifests import (
    COMPONENT,
    DRILL,
    IMAGE,
    MARKER,
    MARKER_NAMESPACE,
    location_manifests,
    marker_config_map,
)

__all__ = ["ADDONS", "DRILL_ENTRY", "MARKER_ENTRY", "MARKER_NAMESPACE", "enabled"]
from components.catalogue.model import AddOn, ClusterContext, Manifests
from components.catalogue.network import ApiServer, NetworkNeeds, Path
from components.core import vocabulary as vocab
from components.core.kube import Manifest

VERSION = IMAGE.tag.split("-")[0]  # the drill is our script on this Python (3.13.14): its version is Python's


def enabled(ctx: ClusterContext) -> bool:
    return ctx.factory.backup.drill.enabled and velero.ADDON.enabled(ctx)


def _marker(ctx: ClusterContext) -> list[Manifest]:
    """The marker ConfigMap: the namespace, its labels and its default deny come from the catalogue."""
    return [marker_config_map(ctx.factory.factory.name, ctx.cluster.name)]


def _drills(ctx: ClusterContext) -> list[Manifest]:
    factory, drill, timezone = ctx.factory.factory.name, ctx.factory.backup.drill, ctx.factory.factory.timezone
    locations = [
        manifest
        for cloud in velero.clouds(ctx)
        for manifest in location_manifests(factory, ctx.cluster.name, cloud, timezone=timezone, drill=drill)
    ]
    # the scope of the drill accounts' requests, in force before any CronJob (applied last) can run
    return [*admission.manifests(factory, ctx.cluster), *locations]


def _network(_ctx: ClusterContext) -> NetworkNeeds:
    why = "creates Backups and Restores, writes and reads the marker, deletes its scratch namespace"
    return NetworkNeeds((Path("api-server", "egress", ApiServer(), why, pods={vocab.COMPONENT: COMPONENT}),))


MARKER_ENTRY = AddOn(
    name=MARKER,
    namespace=MARKER_NAMESPACE,
    version=VERSION,
    source=Manifests(render=_marker),
    exempt_because=(
        "The restore drill's marker: a ConfigMap the drill backs up and restores into a scratch namespace to prove a "
        "location's backups come back; no pods, closed to all traffic."
    ),
    network=lambda _ctx: NetworkNeeds(),
    enabled=enabled,
)
DRILL_ENTRY = AddOn(
    name=DRILL,
    namespace=velero.NAMESPACE,
    version=VERSION,
    source=Manifests(render=_drills, images=(IMAGE,), applied_last=frozenset({"CronJob"})),
    network=_network,
    enabled=enabled,
)
ADDONS: tuple[AddOn, ...] = (MARKER_ENTRY, DRILL_ENTRY)
