"""The one add-on table — every third-party add-on of every capability — and what follows from it for a
whole stack: the platform namespaces with the reason each is not judged like a line, and the settings the
policy pack must judge this stack with so that CrossGuard and admission control agree."""

from __future__ import annotations

from typing import Any

from components.backup import velero
from components.backup.drill.addon import ADDONS as DRILL_ADDONS
from components.backup.drill.addon import enabled as drill_enabled
from components.backup.drill.alerts import drill_rules
from components.backup.escrow import addon as escrow_addon
from components.backup.escrow import secrets_job
from components.backup.escrow.addon import ADDON as ESCROW_ADDON
from components.backup.escrow.alerts import EscrowJob, escrow_rules
from components.backup.escrow.config import SECRETS_TIMEOUT_MINUTES, max_age
from components.backup.escrow.manifests import IMAGES, SECRETS
from components.catalogue.mirror import image_reference, mirror_image
from components.catalogue.model import AddOn, Bundle, BundleChart, BundleImage, Chart, ClusterContext, ScrapeTarget
from components.catalogue.release import resolve
from components.config.document import FactoryConfig
from components.config.factory import ClusterConfig
from components.core.contracts import SYSTEM_NAMESPACES, cluster_identifier
from components.observability.addons import ADDONS as OBSERVABILITY_ADDONS
from components.observability.kpi import kpi_rules
from components.observability.slo.catalogue import cluster_slos, platform_slos
from components.observability.slo.model import Slo
from components.observability.slo.rules import slo_rules
from components.security.addons import ADDONS as SECURITY_ADDONS
from components.security.dns_alerts import dns_alert_rules
from components.security.gatekeeper.alerts import webhook_alert_rules
from components.security.gatekeeper.constraints import allowed_images
from components.verification.addons import ADDONS as VERIFICATION_ADDONS


def _table(*addons: AddOn) -> dict[str, AddOn]:
    names = [addon.name for addon in addons]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        # the name is the Helm release and the bundle's key: two add-ons under one name would be merged
        raise ValueError(f"add-on names must be unique in the catalogue: {', '.join(twice)}")
    return {addon.name: addon for addon in addons}


CATALOGUE: dict[str, AddOn] = _table(
    *SECURITY_ADDONS, *VERIFICATION_ADDONS, velero.ADDON, *DRILL_ADDONS, ESCROW_ADDON, *OBSERVABILITY_ADDONS
)


def exempt_namespaces() -> dict[str, str]:
    """Namespace -> why it is not judged like a line: Kubernetes' own, and every namespace the catalogue can
    place an add-on in (whether or not a given cluster enables it)."""
    found = dict(SYSTEM_NAMESPACES)
    for addon in CATALOGUE.values():
        found.setdefault(addon.namespace, addon.exemption)
    return dict(sorted(found.items()))


def platform_namespaces() -> tuple[str, ...]:
    return tuple(exempt_namespaces())


def platform_images(config: FactoryConfig, cluster: ClusterConfig) -> dict[str, tuple[str, ...]]:
    """Namespace -> the images the catalogue installs there on one cluster (every add-on it enables there, of
    every capability, as installed: mirrored and pinned, `Release.images()`). Gatekeeper admits exactly these in
    the platform namespaces (`allowed-images-platform`)."""
    ctx = ClusterContext(config, cluster, platform_namespaces())
    found: dict[str, set[str]] = {}
    for addon in CATALOGUE.values():
        if addon.enabled(ctx):
            found.setdefault(addon.namespace, set()).update(resolve(addon, ctx).images())
    return {namespace: tuple(sorted(images)) for namespace, images in sorted(found.items())}


def line_images(config: FactoryConfig, cluster: ClusterConfig) -> tuple[str, ...]:
    """The images the catalogue's add-ons put into line pods on one cluster (`AddOn.line_image`), exactly as they
    install them (mirrored and pinned): Gatekeeper admits each, by its full reference, in every line namespace."""
    ctx = ClusterContext(config, cluster, platform_namespaces())
    found = []
    for addon in CATALOGUE.values():
        if addon.line_image is None or not addon.enabled(ctx) or not isinstance(addon.source, Chart):
            continue
        release = resolve(addon, ctx)
        [slot] = [slot for slot in addon.source.images if slot.repository_key == addon.line_image]
        found.append(image_reference(release.values, slot))
    return tuple(sorted(found))


def bundle(config: FactoryConfig, cluster: ClusterConfig) -> Bundle:
    """Every image (not the scanners' moving databases) and every chart the catalogue installs on one cluster,
    pinned as the catalogue records them and as the cluster pulls them: what the escrow copies into the stores."""
    ctx = ClusterContext(config, cluster, platform_namespaces())
    mirror, chart_mirror = config.site.registry_mirror, config.site.chart_mirror
    images: dict[str, BundleImage] = {}
    charts: dict[tuple[str, str], BundleChart] = {}
    for addon in CATALOGUE.values():
        if not addon.enabled(ctx):
            continue
        pulled = set(resolve(addon, ctx).images())
        for image in addon.images():
            pull = mirror_image(image.reference, mirror)
            if not image.moving and pull in pulled:
                images[pull] = BundleImage(image.reference, pull)
        source = addon.source
        if isinstance(source, Chart) and source.archive is not None:
            charts[(source.chart, addon.version)] = _bundle_chart(source.chart, addon.version, source, chart_mirror)
    return Bundle(tuple(images[k] for k in sorted(images)), tuple(charts[k] for k in sorted(charts)))


def _bundle_chart(chart: str, version: str, source: Chart, chart_mirror: str | None) -> BundleChart:
    assert source.archive is not None
    if chart_mirror is None:
        return BundleChart(chart, version, source.archive, url=source.archive.url)
    if chart_mirror.startswith("oci://"):
        # an OCI tag cannot hold '+': Helm pushes a version's build metadata with '_' instead
        tag = version.replace("+", "_")
        return BundleChart(chart, version, source.archive, oci=f"{chart_mirror[6:].rstrip('/')}/{chart}:{tag}")
    return BundleChart(chart, version, source.archive, url=f"{chart_mirror.rstrip('/')}/{chart}-{version}.tgz")


def scrape_targets(config: FactoryConfig, cluster: ClusterConfig) -> tuple[ScrapeTarget, ...]:
    """Every metrics endpoint of the add-ons the cluster runs: what its Prometheus scrapes (a PodMonitor each)."""
    ctx = ClusterContext(config, cluster, platform_namespaces())
    return tuple(
        ScrapeTarget(addon.name, addon.namespace, endpoint)
        for addon in CATALOGUE.values()
        if addon.enabled(ctx)
        for endpoint in addon.metrics
    )


def drills_run(config: FactoryConfig, cluster: ClusterConfig) -> bool:
    return drill_enabled(ClusterContext(config, cluster, platform_namespaces()))


def escrow_jobs(config: FactoryConfig, cluster: ClusterConfig) -> list[EscrowJob]:
    """The escrow's jobs on one cluster, each with the staleness its schedule implies (escrow/config.max_age)."""
    ctx = ClusterContext(config, cluster, platform_namespaces())
    escrow, timezone = config.backup.escrow, config.factory.timezone
    jobs = []
    if escrow_addon.images_enabled(ctx):
        age = max_age(escrow.images_schedule, timezone, escrow.images_timeout_minutes)
        jobs.append(EscrowJob("images", IMAGES, "Image", "image and chart", int(age.total_seconds())))
    if secrets_job.enabled(ctx):
        age = max_age(escrow.secrets_schedule, timezone, SECRETS_TIMEOUT_MINUTES)
        jobs.append(EscrowJob("secrets", SECRETS, "Secret", "Vault secret", int(age.total_seconds())))
    return jobs


def rule_files(config: FactoryConfig, cluster: ClusterConfig) -> dict[str, dict[str, Any]]:
    """Kind -> the Prometheus rule file of every capability that runs on one cluster: its SLOs (lines' and the
    platform's), the lines' OEE, DNS volume and Gatekeeper's webhook, and where drills run the restore drill's and
    the escrow's. What `make plan` writes (build/<stack>/rules/<cluster>-<kind>.yaml, judged by promtool) and what
    the cluster's Observability installs as PrometheusRules — the same documents."""
    drills = drills_run(config, cluster)
    files: dict[str, dict[str, Any]] = {"slo": slo_rules(cluster_slos(config, cluster, drills=drills))}
    if config.lines_on(cluster.name):
        files["kpi"] = kpi_rules()
    files["dns"] = dns_alert_rules()
    files["gatekeeper-webhook"] = webhook_alert_rules()
    if drills:
        clouds = velero.clouds(ClusterContext(config, cluster, platform_namespaces()))
        files["restore-drill"] = drill_rules(config.backup.drill.max_age_hours, clouds)
        jobs = escrow_jobs(config, cluster)
        if jobs:
            files["escrow"] = escrow_rules(jobs, clouds)
    return files


def factory_platform_slos(config: FactoryConfig) -> list[Slo]:
    """The platform SLOs of every cluster (the factory overview dashboard shows them all)."""
    return [slo for c in config.clusters for slo in platform_slos(config, c, drills=drills_run(config, c))]


def pack_settings(config: FactoryConfig) -> dict[str, Any]:
    """The pack settings of this stack (`--policy-pack-config`, via factory_policies.settings.pack_config)."""
    factory = config.factory.name
    gatekeeper = config.security.gatekeeper
    return {
        "environment": config.environment,
        "exemptNamespaces": list(platform_namespaces()),
        "allowedRegistries": sorted(set(allowed_images(config))),
        "registryMirror": config.site.registry_mirror or "",
        "kubernetesVersions": {cluster_identifier(factory, c.name): c.kubernetes_version for c in config.clusters},
        # what the Gatekeeper line rules allow, so the pack's twins judge registered workloads alike
        "immutableTags": list(gatekeeper.immutable_tags),
        "inlineCsiDrivers": list(gatekeeper.inline_csi_drivers),
        "runtimeClasses": list(gatekeeper.runtime_classes),
        # Velero restores every namespace, RBAC included, so its chart binds its server to cluster-admin (its RBAC
        # review says why no narrower role works): the pack admits exactly that subject where Velero runs
        "clusterAdminSubjects": [velero.CLUSTER_ADMIN_SUBJECT] if _runs_velero(config) else [],
    }


def _runs_velero(config: FactoryConfig) -> bool:
    return any(velero.ADDON.enabled(ClusterContext(config, c, platform_namespaces())) for c in config.clusters)
