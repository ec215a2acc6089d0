"""kube-prometheus-stack: the Prometheus Operator, Prometheus, Alertmanager, Grafana and kube-state-metrics, sized
by profile (sizing.py). Read at chart 88.5.3 (research notes in the docs' sources, docs/observability.md).

What differs from the chart's defaults, and why:
- Its admission webhooks and the operator's TLS are off: both depend on Helm hook Jobs (the certificate Secret is
  made by a pre-install hook) that `helm.v4.Chart` never runs, so the operator pod would wait for a Secret that
  never comes. Rules are judged by promtool before they ship instead (tests/observability/).
- Images are pinned by digest through the chart's `sha` keys, never inside the tag: the chart copies the tag into
  a Prometheus' `spec.version`, which the operator parses as a semantic version.
- The operator, controller-manager, scheduler and kube-proxy targets are off: k3s/RKE2 and managed clusters do not
  expose them to pods (their rule groups go with them).
- node-exporter is its own release (node_exporter.py): it needs the host's network, PID namespace and /proc and
  /sys, which Pod Security refuses in this namespace; it gets a privileged one of its own.
- kube-state-metrics does not collect Secrets, so its account cannot list them; Grafana reads ConfigMaps in its own
  namespace only, through a Role of ours (objects.py) instead of the chart's, which always adds Secrets.
- Alertmanager's configuration is routing.py's (amtool-judged), given to the chart whole instead of merged into
  its default; it names every credential by file, so no chart value holds one.
"""

from __future__ import annotations

from typing import Any

import yaml

from components.catalogue.images import PINNED_PULL_POLICY, Image
from components.catalogue.model import (
    AddOn,
    Chart,
    ChartArchive,
    ClusterContext,
    ImageSlot,
    Values,
    WorkloadSlot,
)
from components.catalogue.rbac import ClusterRoleGrant, RbacReview
from components.catalogue.secrets import AddonSecret
from components.core import vocabulary as vocab
from components.core.contracts import MONITORING_NAMESPACE
from components.observability import hub as hub_token
from components.observability import network as net
from components.observability import routing
from components.observability.network import network
from components.observability.routing import alertmanager_config
from components.observability.sizing import stack_size

NAME = "kube-prometheus-stack"  # the release; with cleanPrometheusOperatorObjectNames also the CRs' names
NAMESPACE = MONITORING_NAMESPACE
VERSION = "88.5.3"
OPERATOR_VERSION = "v0.93.1"
GRAFANA_ADMIN_SECRET = "grafana-admin"
GRAFANA_ROLE = "grafana-dashboards"  # ours: ConfigMaps of this namespace, read-only
DASHBOARD_LABEL = "grafana_dashboard"
DASHBOARD_FOLDER_ANNOTATION = "grafana_folder"
HUB_SECRET = "prometheus-hub"  # the hub's bearer token, key `token`
LOKI_URL = f"http://{net.LOKI_HOST}:{net.LOKI_PORT}"
JAEGER_URL = f"http://{net.JAEGER_HOST}:{net.JAEGER_QUERY_PORT}"
HUB_TOKEN_FILE = f"/etc/prometheus/secrets/{HUB_SECRET}/token"

_FOUND = (
    "public files found by exact search (the index does not name their repositories): a supply-chain lock script, a "
    "homelab note listing the index digest and its amd64 child, and a cluster's recorded imageIDs; all three agree. "
    "Verify with `make pin-digests`."
)
OPERATOR_IMAGE = Image(
    "quay.io",
    "prometheus-operator/prometheus-operator",
    OPERATOR_VERSION,
    "sha256:e52bb28fd41c98dd407c7a8cba8bdcfe7eabd7447e250afaf1fe7bb816dedbff",
    source=_FOUND,
)
RELOADER_IMAGE = Image(
    "quay.io",
    "prometheus-operator/prometheus-config-reloader",
    OPERATOR_VERSION,
    "sha256:428f088fe6fe07ab138bda92113664b04848a1dc408e4d3680a60ecdb55d1a65",
    source=_FOUND,
)
PROMETHEUS_IMAGE = Image(
    "quay.io",
    "prometheus/prometheus",
    "v3.14.0-distroless",
    "sha256:50c707e96da5ade383cb1707790576480485e93de06aa60ad8802cb5f744bd0a",
    source=_FOUND,
)
ALERTMANAGER_IMAGE = Image(
    "quay.io",
    "prometheus/alertmanager",
    "v0.34.0",
    "sha256:690c7b525f4367aa91f73e2f91c632206d32e97c6384bdbf2fb7a861b420340d",
    source="more than ten public files pin this index digest, docker.io/prom/alertmanager:v0.34.0 included. Verify "
    "with `make pin-digests`.",
)
KUBE_STATE_METRICS_IMAGE = Image(
    "registry.k8s.io",
    "kube-state-metrics/kube-state-metrics",
    "v2.20.0",
    "sha256:42cfe3723a5f058171c627537fb57a3ea0f26e4380fa18555a95cb1a1b4cfc5b",
    source="ten public files pin this digest for v2.20.0 (lock scripts, Renovate-managed values). Verify with "
    "`make pin-digests`.",
)
GRAFANA_IMAGE = Image(
    "docker.io",
    "grafana/grafana",
    "13.2.0",
    "sha256:3fd54ae1214669f8355f065ec9f6445d5279a3d77095ab048ca045685272429b",
    source="ten public files pin this digest for grafana 13.2.0. Verify with `make pin-digests`.",
)
SIDECAR_IMAGE = Image(
    "quay.io",
    "kiwigrid/k8s-sidecar",
    "2.10.1",
    "sha256:7eac5c4fed714a18d038fc9fea57d8744d113367935dac0ea4eb6a87cef704a3",
    source="three public files pin this digest for 2.10.1 (one a mirror's copy); fewer sources than the others: "
    "verify with `make pin-digests` first.",
)


def _image(image: Image, *, bare_sha: bool = True) -> dict[str, Any]:
    """The chart's image block: registry, repository, tag and the digest apart from the tag (`sha`)."""
    assert image.digest is not None
    digest = image.digest.removeprefix("sha256:") if bare_sha else image.digest
    block = {
        "registry": image.registry,
        "repository": image.repository,
        "tag": image.tag,
        "sha": digest,
        "pullPolicy": PINNED_PULL_POLICY,
    }
    return block


def grafana_enabled(ctx: ClusterContext) -> bool:
    return stack_size(ctx.cluster.profile).grafana


def alertmanager_replicas(ctx: ClusterContext) -> int:
    return stack_size(ctx.cluster.profile).alertmanager_replicas


def secrets(ctx: ClusterContext) -> tuple[AddonSecret, ...]:
    """What External Secrets copies from the add-on's Vault folder: each receiver's key where Alertmanager runs,
    Grafana's admin login where Grafana runs, the hub's token. Without Vault: none (the config check refuses
    receiver keys then; Grafana's chart makes its own admin password)."""
    if ctx.factory.security.vault is None:
        return ()
    found = []
    if alertmanager_replicas(ctx):
        for name, (key, field) in sorted(routing.receiver_secrets(ctx.factory).items()):
            found.append(AddonSecret(NAME, NAMESPACE, name, routing.SECRET_KEY, key, field))
    if grafana_enabled(ctx):
        found.append(
            AddonSecret(
                NAME,
                NAMESPACE,
                GRAFANA_ADMIN_SECRET,
                "admin-password",
                "grafana",
                "admin-password",
                more=(("admin-user", "admin-user"),),
            )
        )
    token = _hub_token(ctx)
    if token is not None:
        found.append(token)
    return tuple(found)


def _hub_token(ctx: ClusterContext) -> AddonSecret | None:
    """For remote write, and for the hub's Alertmanagers where the cluster has none of its own."""
    settings = ctx.factory.observability.hub
    sends = bool(settings.remote_write) or (bool(settings.alertmanagers) and not alertmanager_replicas(ctx))
    return hub_token.token_secret(ctx, NAME, NAMESPACE, HUB_SECRET, sends=sends)


def _hub(ctx: ClusterContext) -> dict[str, Any]:
    """Remote write to the hub, and its Alertmanagers for a cluster without one, with its token when it wants one."""
    hub = ctx.factory.observability.hub
    spec: dict[str, Any] = {}
    token = _hub_token(ctx) is not None
    if hub.remote_write:
        write: dict[str, Any] = {"url": hub.remote_write}
        if token:
            write["authorization"] = {"type": "Bearer", "credentials": {"name": HUB_SECRET, "key": hub_token.TOKEN_KEY}}
        spec["remoteWrite"] = [write]
    if hub.alertmanagers and not alertmanager_replicas(ctx):
        targets = [url.removeprefix("https://").rstrip("/") for url in hub.alertmanagers]
        config: dict[str, Any] = {"scheme": "https", "static_configs": [{"targets": targets}]}
        if token:
            config["authorization"] = {"type": "Bearer", "credentials_file": HUB_TOKEN_FILE}
        spec["additionalAlertManagerConfigs"] = [config]
    if token:
        spec["secrets"] = [HUB_SECRET]
    return spec


def _claim(ctx: ClusterContext, size: str) -> dict[str, Any]:
    """A volume claim's spec: of `clusters[].storageClass`, else of the cluster's default class."""
    claim: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if ctx.cluster.storage_class is not None:
        claim["storageClassName"] = ctx.cluster.storage_class
    return claim


def _prometheus(ctx: ClusterContext) -> dict[str, Any]:
    size = stack_size(ctx.cluster.profile)
    volume = _claim(ctx, f"{size.volume_gib}Gi")
    return {
        "prometheusSpec": {
            "image": _image(PROMETHEUS_IMAGE),
            # the version the operator reads (as semver) to know the flags: plain, without the image's -distroless
            "version": PROMETHEUS_IMAGE.tag.removesuffix("-distroless"),
            "replicas": size.prometheus_replicas,
            "retention": f"{size.retention_days}d",
            "retentionSize": f"{size.retention_gib}GiB",
            "resources": size.prometheus,
            "storageSpec": {"volumeClaimTemplate": {"spec": volume}},
            # every PrometheusRule, ServiceMonitor, PodMonitor and Probe, not only those labelled with the
            # release: ours carry no `release` label. Rules only from this namespace (a line cannot add alerts)
            "ruleSelectorNilUsesHelmValues": False,
            "ruleNamespaceSelector": {"matchLabels": {vocab.NAMESPACE_NAME: NAMESPACE}},
            "serviceMonitorSelectorNilUsesHelmValues": False,
            "podMonitorSelectorNilUsesHelmValues": False,
            "probeSelectorNilUsesHelmValues": False,
            "scrapeConfigSelectorNilUsesHelmValues": False,
            "externalLabels": {"factory": ctx.factory.factory.name, "cluster": ctx.cluster.name},
            **_hub(ctx),
        }
    }


def _alertmanager(ctx: ClusterContext) -> dict[str, Any]:
    size = stack_size(ctx.cluster.profile)
    if not size.alertmanager_replicas:
        return {"enabled": False}
    mounted = sorted(s.name for s in secrets(ctx) if s.name.startswith("alertmanager-"))
    text = yaml.safe_dump(alertmanager_config(ctx.factory), sort_keys=True)
    if "{{" in text:
        raise ValueError("Alertmanager's configuration would be read as a Helm template (`tplConfig`): it has `{{`")
    return {
        "enabled": True,
        # routing.py's configuration, verbatim (amtool-judged): the chart renders it as its Secret. It names the
        # receivers' keys by file only, so these values hold no credential. `tplConfig` only so that the chart
        # takes `stringConfig` as it is instead of merging a map into its own default (the text has no `{{`)
        "tplConfig": True,
        "stringConfig": text,
        "alertmanagerSpec": {
            "image": _image(ALERTMANAGER_IMAGE),
            "replicas": size.alertmanager_replicas,
            "resources": size.alertmanager,
            "secrets": mounted,  # at /etc/alertmanager/secrets/<name>/, where routing.py's *_file settings point
            "storage": {"volumeClaimTemplate": {"spec": _claim(ctx, "1Gi")}},
        },
    }


def _grafana(ctx: ClusterContext) -> dict[str, Any]:
    size = stack_size(ctx.cluster.profile)
    if not size.grafana:
        return {"enabled": False}
    values: dict[str, Any] = {
        "enabled": True,
        "replicas": 1,  # dashboards are code and its database is an emptyDir: a restart loses nothing
        "image": _image(GRAFANA_IMAGE),
        "resources": size.grafana_server,
        "testFramework": {"enabled": False},
        # its egress is closed: asking grafana.com for updates and sending usage reports would only fail and log
        "grafana.ini": {
            "analytics": {"check_for_updates": False, "check_for_plugin_updates": False, "reporting_enabled": False}
        },
        "rbac": {"namespaced": True, "useExistingRole": GRAFANA_ROLE},
        "sidecar": {
            "image": _image(SIDECAR_IMAGE),
            "resources": size.grafana_sidecar,
            "dashboards": {
                "enabled": True,
                "label": DASHBOARD_LABEL,
                "labelValue": "1",
                "searchNamespace": NAMESPACE,
                "resource": "configmap",
                "folderAnnotation": DASHBOARD_FOLDER_ANNOTATION,
                "provider": {"foldersFromFilesStructure": True, "allowUiUpdates": False},
            },
            "datasources": {"resource": "configmap"},
        },
    }
    sources = []
    if size.log_store:
        sources.append({"name": "Loki", "type": "loki", "uid": "loki", "access": "proxy", "url": LOKI_URL})
    if net.traces_here(ctx):
        sources.append({"name": "Jaeger", "type": "jaeger", "uid": "jaeger", "access": "proxy", "url": JAEGER_URL})
    if sources:
        values["additionalDataSources"] = [{**source, "isDefault": False} for source in sources]
    if ctx.factory.security.vault is not None:
        values["admin"] = {
            "existingSecret": GRAFANA_ADMIN_SECRET,
            "userKey": "admin-user",
            "passwordKey": "admin-password",
        }
    return values


def values(ctx: ClusterContext) -> Values:
    size = stack_size(ctx.cluster.profile)
    off = {"enabled": False}
    return {
        "cleanPrometheusOperatorObjectNames": True,
        "crds": {"enabled": True},
        "global": {"rbac": {"createAggregateClusterRoles": False}},
        "defaultRules": {"create": True, "rules": {"windows": False}},
        "kubeEtcd": off,
        "kubeControllerManager": off,
        "kubeScheduler": off,
        "kubeProxy": off,
        # its own release (node_exporter.py); the node rules never depended on this switch, its dashboards do
        "nodeExporter": {
            "enabled": False,
            "forceDeployDashboards": True,
            "operatingSystems": {"aix": {"enabled": False}, "darwin": {"enabled": False}},
        },
        "windowsMonitoring": off,
        "prometheusOperator": {
            "admissionWebhooks": off,
            "tls": off,
            "image": _image(OPERATOR_IMAGE),
            "resources": size.operator,
            "prometheusConfigReloader": {"image": _image(RELOADER_IMAGE), "resources": size.reloader},
        },
        "prometheus": _prometheus(ctx),
        "alertmanager": _alertmanager(ctx),
        "grafana": _grafana(ctx),
        "kube-state-metrics": {
            # this chart prints `@<sha>` as given: the prefix is part of the value
            "image": _image(KUBE_STATE_METRICS_IMAGE, bare_sha=False),
            "collectorsExclude": ["secrets"],
            "resources": size.kube_state_metrics,
        },
    }


def _slot(prefix: str, image: Image, *, bare: bool = True, **more: str) -> ImageSlot:
    """Its charts take the digest as `sha`: bare hex, except kube-state-metrics' (bare=False)."""
    return ImageSlot.block(prefix, image, digest="sha", bare=bare, **more)


IMAGE_SLOTS = (
    _slot("prometheusOperator.image", OPERATOR_IMAGE),
    # the chart has no pull policy for the reloader: the operator gives it its Prometheus' `imagePullPolicy`
    _slot(
        "prometheusOperator.prometheusConfigReloader.image",
        RELOADER_IMAGE,
        pull_policy_key="prometheus.prometheusSpec.image.pullPolicy",
    ),
    _slot("prometheus.prometheusSpec.image", PROMETHEUS_IMAGE),
    _slot("alertmanager.alertmanagerSpec.image", ALERTMANAGER_IMAGE),
    _slot("grafana.image", GRAFANA_IMAGE),
    _slot("grafana.sidecar.image", SIDECAR_IMAGE),
    _slot("kube-state-metrics.image", KUBE_STATE_METRICS_IMAGE, bare=False),
)

RBAC_REVIEW = RbacReview(
    VERSION,
    (
        ClusterRoleGrant(
            "kube-prometheus-stack-operator",
            ("*",),
            "The operator writes each Prometheus' and Alertmanager's configuration Secret and reads the Secrets "
            "its custom resources name, in any namespace; the template has no narrower form (its `namespaces` value "
            "only filters what it watches). Treated as cluster-admin: its namespace runs nothing of the lines'.",
        ),
        ClusterRoleGrant(
            "kube-prometheus-stack-prometheus",
            (),
            "Service discovery (nodes, nodes/metrics, services, endpoints, pods, ingresses: read) and the "
            "kubelet's /metrics and /metrics/cadvisor.",
        ),
        ClusterRoleGrant(
            "kube-prometheus-stack-kube-state-metrics",
            (),
            "list/watch on the 28 kinds it reports on; Secrets are excluded (`collectorsExclude`), which also "
            "drops them from its role.",
        ),
    ),
    narrowed=(
        "Aggregate view/edit ClusterRoles off; kube-state-metrics without Secrets; Grafana namespaced through our "
        "own configmaps-only Role (the chart's Role and ClusterRole always add Secrets); node-exporter has no role "
        "without kube-rbac-proxy (its own release); the webhook patch Jobs' roles are hooks and never installed."
    ),
)

ADDON = AddOn(
    name=NAME,
    namespace=NAMESPACE,
    version=VERSION,
    source=Chart(
        chart="kube-prometheus-stack",
        repository="https://prometheus-community.github.io/helm-charts",
        archive=ChartArchive(
            "https://github.com/prometheus-community/helm-charts/releases/download/kube-prometheus-stack-88.5.3/"
            "kube-prometheus-stack-88.5.3.tgz",
            "3bff576f57c88f9fcac3286cc6e0d22ddaf7d7e1829c14a09257359f02ca64c9",
            source=(
                "prometheus-community/helm-charts index.yaml on gh-pages (stored copy at commit 0163faed668a), entry "
                "kube-prometheus-stack 88.5.3; its neighbour 88.5.2 matches an unrelated public lock script"
            ),
        ),
        values=values,
        images=IMAGE_SLOTS,
        workloads=(
            WorkloadSlot("prometheus-operator", "prometheusOperator.resources"),  # the chart fixes one replica
            WorkloadSlot("prometheus", "prometheus.prometheusSpec.resources", "prometheus.prometheusSpec.replicas"),
            # the config-reloader sidecar of each Prometheus and Alertmanager pod (its init copy runs and exits)
            WorkloadSlot(
                "config-reloader (prometheus)",
                "prometheusOperator.prometheusConfigReloader.resources",
                "prometheus.prometheusSpec.replicas",
            ),
            WorkloadSlot(
                "alertmanager", "alertmanager.alertmanagerSpec.resources", "alertmanager.alertmanagerSpec.replicas"
            ),
            WorkloadSlot(
                "config-reloader (alertmanager)",
                "prometheusOperator.prometheusConfigReloader.resources",
                "alertmanager.alertmanagerSpec.replicas",
            ),
            WorkloadSlot("grafana", "grafana.resources", "grafana.replicas"),
            WorkloadSlot("grafana sidecars", "grafana.sidecar.resources", "grafana.replicas", containers=2),
            WorkloadSlot("kube-state-metrics", "kube-state-metrics.resources"),
        ),
    ),
    secrets=secrets,
    network=network,
    rbac=RBAC_REVIEW,
)
