"""The escrow's share of the add-on catalogue: namespace `escrow`, its account, scripts and, per backup location,
its CronJobs (manifests.py). In the catalogue like every other workload, so the site mirror rewrites its images,
admission admits exactly those in `escrow`, the namespace is default-deny with the paths below, and the plan counts
its footprint. It runs where Velero runs, for the same locations (velero.clouds), each job where its section of
`backup.escrow` asks for it."""

from __future__ import annotations

from urllib.parse import urlsplit

from components.backup import velero
from components.backup.escrow import manifests as m
from components.backup.escrow import secrets_job
from components.catalogue.model import AddOn, ClusterContext, Manifests, ServiceAccountIdentity
from components.catalogue.network import ClusterDns, External, NetworkNeeds, Path
from components.catalogue.secrets import AddonSecret
from components.core.kube import Manifest
from components.identity.egress import HTTPS

VERSION = m.RCLONE.tag  # our scripts around the tools; the store is written by this rclone


def images_enabled(ctx: ClusterContext) -> bool:
    return ctx.factory.backup.escrow.images and velero.ADDON.enabled(ctx)


def enabled(ctx: ClusterContext) -> bool:
    return images_enabled(ctx) or secrets_job.enabled(ctx)


def _render(ctx: ClusterContext) -> list[Manifest]:
    factory, escrow, timezone = ctx.factory.factory.name, ctx.factory.backup.escrow, ctx.factory.factory.timezone
    native = velero.native_cloud(ctx)
    extra = secrets_job.config_files(ctx) if secrets_job.enabled(ctx) else {}
    objects = [m.service_account(factory), m.scripts_config_map(factory, ctx.bundle, extra)]
    for cloud in velero.clouds(ctx):
        if images_enabled(ctx):
            objects.append(m.images_cron_job(factory, cloud, cloud == native, timezone, escrow))
        if secrets_job.enabled(ctx):
            objects.append(secrets_job.cron_job(ctx, cloud, cloud == native))
    return objects


def secrets(ctx: ClusterContext) -> tuple[AddonSecret, ...]:
    """The escrow writer's credential per store it reaches without a cloud identity: the same file as Velero's,
    for its own principal, from the escrow's Vault folder `<cluster>/addon.escrow/<cloud>`."""
    return velero.store_credentials(ctx, addon=m.NAME, namespace=m.NAMESPACE)


def _registry_ports(ctx: ClusterContext) -> tuple[int, ...]:
    """HTTPS, and the port of a site mirror that names one (harbor.example:5000/mirror)."""
    ports = {HTTPS}
    for mirror in (ctx.factory.site.registry_mirror, ctx.factory.site.chart_mirror):
        if mirror:
            port = urlsplit("//" + mirror.removeprefix("oci://").removeprefix("https://")).port
            ports.add(port or HTTPS)
    return tuple(sorted(ports))


def network(ctx: ClusterContext) -> NetworkNeeds:
    """Registries, chart repositories and stores are reached over HTTPS at any address: a NetworkPolicy cannot
    name them, and the stack names no addresses for them. Only the secret export reaches Vault."""
    sources = External(
        "the registries and chart repositories of the bundle (or the site mirror), the backup stores, the clouds' "
        "token services",
        _registry_ports(ctx),
    )
    paths = [
        Path("dns", "egress", ClusterDns(), "resolves registries, chart repositories and stores"),
        Path("sources-and-stores", "egress", sources, "copies the bundle's images and charts into the stores"),
    ]
    paths += velero.identity_paths(ctx)
    if secrets_job.enabled(ctx):
        paths.append(secrets_job.vault_path(ctx))
    return NetworkNeeds(tuple(paths))


ADDON = AddOn(
    name=m.NAME,
    namespace=m.NAMESPACE,
    version=VERSION,
    source=Manifests(
        render=_render, images=(m.SKOPEO, m.RCLONE, *secrets_job.IMAGES), applied_last=frozenset({"CronJob"})
    ),
    exempt_because=(
        "The escrow: restricted CronJobs that copy the bundle's images and charts and an encrypted export of the "
        "cluster's Vault secrets into the backup stores; a catalogue add-on (pinned skopeo, rclone, sops, python), "
        "not judged against the lines' allow-list."
    ),
    identity=ServiceAccountIdentity(m.SERVICE_ACCOUNT),
    secrets=secrets,
    network=network,
    enabled=enabled,
)
