"""Observability as the real program registers it on each reference stack: kube-prometheus-stack sized by profile,
node-exporter in its own privileged namespace, every capability's rule file as a PrometheusRule (the very document
promtool judges), Alertmanager's routes (the very document amtool judges), the dashboards, a scrape per line — and
the attacks: a line adding alerts, Grafana reading Secrets, a pod reaching Prometheus or a line's other ports."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.catalogue.footprint import quantity
from components.catalogue.model import ClusterContext
from components.catalogue.release import resolve
from components.config.loader import load_factory_config
from components.core import vocabulary as vocab
from components.core.contracts import PROMETHEUS_POD_SELECTOR
from components.inventory import bundle, platform_namespaces, rule_files, scrape_targets
from components.lines.manifests import EDIT_RULES
from components.observability import loki, node_exporter
from components.observability import network as net
from components.observability import prometheus as kps
from components.observability.config import WITHOUT_ALERTMANAGER
from components.observability.routing import alertmanager_config, receiver_secrets
from components.observability.sizing import SIZES
from offline import bundle as offline_bundle
from offline.harness import Recording
from offline.render import manifest
from tests.support.debian_tools import run_promtool
from tests.support.factories import mutate, valid_raw
from tests.support.netpol import Endpoint, allowed
from tests.support.runs import Runs, chart_values, network_policies

CHART = "kubernetes:helm.sh/v4:Chart"
RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
POD_MONITOR = "kubernetes:monitoring.coreos.com/v1:PodMonitor"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
EXTERNAL_SECRET = "kubernetes:external-secrets.io/v1:ExternalSecret"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
STACKS = ("dev", "pilsen", "rheinfeld")


def _values(recording: Recording, cluster: str, release: str) -> dict[str, Any]:
    [chart] = [
        r
        for r in recording.of_type(CHART)
        if r.inputs.get("name") == release and f"-{cluster}-observability-" in r.name
    ]
    return chart.inputs["values"]


def _objects(recording: Recording, type_: str, cluster: str) -> list[dict[str, Any]]:
    return [manifest(r) for r in recording.of_type(type_) if f"-{cluster}-observability-" in r.name]


@pytest.mark.parametrize("stack", STACKS)
def test_each_cluster_runs_the_stack_its_profile_calls_for(runs: Runs, stack: str) -> None:
    result = runs.stack(stack)
    for cluster in result.config.clusters:
        values, size = _values(result.recording, cluster.name, kps.NAME), SIZES[cluster.profile]
        spec = values["prometheus"]["prometheusSpec"]
        assert spec["replicas"] == size.prometheus_replicas
        assert spec["retention"] == f"{size.retention_days}d" and spec["retentionSize"] == f"{size.retention_gib}GiB"
        # the longest alert window (the 3-day ticket pair) is always local: alerts work while the uplink is down
        assert size.retention_days > 3
        assert values["alertmanager"]["enabled"] is (size.alertmanager_replicas > 0)
        assert values["grafana"]["enabled"] is size.grafana
        if size.alertmanager_replicas:
            assert values["alertmanager"]["alertmanagerSpec"]["replicas"] == size.alertmanager_replicas
        assert spec["externalLabels"] == {"factory": result.config.factory.name, "cluster": cluster.name}
        # the hook-dependent parts are off: helm.v4.Chart never runs the Job that would make their certificate
        assert values["prometheusOperator"]["admissionWebhooks"] == {"enabled": False}
        assert values["prometheusOperator"]["tls"] == {"enabled": False}
        exporter = _values(result.recording, cluster.name, node_exporter.NAME)
        assert exporter["resources"] == size.node_exporter
        # the job name kube-prometheus-stack's node rules select: any other and every node alert stays silent
        assert exporter["prometheus"]["monitor"]["jobLabel"] == "jobLabel"
        assert exporter["service"]["labels"]["jobLabel"] == exporter["podLabels"]["jobLabel"] == "node-exporter"
        assert values["nodeExporter"]["enabled"] is False and values["nodeExporter"]["forceDeployDashboards"] is True


def test_profiles_without_alertmanager_are_the_configs_list() -> None:
    """The config check (which production clusters need the hub's Alertmanager) and the sizes agree."""
    assert {profile for profile, size in SIZES.items() if not size.alertmanager_replicas} == WITHOUT_ALERTMANAGER


@pytest.mark.parametrize("stack", STACKS)
def test_images_are_pinned_by_digest_apart_from_the_tag(runs: Runs, stack: str) -> None:
    """A digest inside the tag would reach a Prometheus' spec.version, which the operator parses as semver."""
    result = runs.stack(stack)
    for cluster in result.config.clusters:
        ctx = ClusterContext(result.config, cluster, platform_namespaces())
        release = resolve(kps.ADDON, ctx)
        for slot in kps.IMAGE_SLOTS:
            assert slot.image is not None and slot.tag_key is not None
            tag = release.values
            for part in slot.tag_key.split("."):
                tag = tag.get(part, {}) if isinstance(tag, dict) else {}
            if tag:
                assert "@" not in str(tag), slot.tag_key
        for image in release.images():
            assert "@sha256:" in image and "@sha256:sha256:" not in image, image
        [exporter] = resolve(node_exporter.ADDON, ctx).images()
        assert exporter.endswith(f":v1.12.1-distroless@{node_exporter.IMAGE.digest}")


def test_the_site_mirror_serves_every_image(runs: Runs) -> None:
    result = runs.stack("rheinfeld")
    mirror = result.config.site.registry_mirror
    assert mirror
    for cluster in result.config.clusters:
        ctx = ClusterContext(result.config, cluster, platform_namespaces())
        for addon in (kps.ADDON, node_exporter.ADDON):
            for image in resolve(addon, ctx).images():
                assert image.startswith(f"{mirror}/"), image
        pulled = {image.pull for image in bundle(result.config, cluster).images}
        assert any("prometheus/prometheus:v3.14.0-distroless@sha256:" in image for image in pulled)


@pytest.mark.parametrize("stack", STACKS)
def test_every_rule_file_is_installed_as_promtool_judged_it(runs: Runs, stack: str, tmp_path: Path) -> None:
    result = runs.stack(stack)
    for cluster in result.config.clusters:
        files = rule_files(result.config, cluster)
        installed = {r["metadata"]["name"]: r for r in _objects(result.recording, RULE, cluster.name)}
        assert set(installed) == {f"factory-{kind}" for kind in files}
        for kind, document in files.items():
            rule = installed[f"factory-{kind}"]
            assert rule["metadata"]["namespace"] == kps.NAMESPACE
            assert rule["spec"] == {"groups": document["groups"]}
            path = tmp_path / f"{cluster.name}-{kind}.yaml"
            path.write_text(yaml.safe_dump(rule["spec"]))
            checked = run_promtool(tmp_path, "check", "rules", path.name)
            assert checked.returncode == 0, checked.stdout + checked.stderr
        # every line of the cluster has its SLO rules in the installed file
        slo = yaml.safe_dump(installed["factory-slo"]["spec"])
        for line in result.config.lines_on(cluster.name):
            assert f'namespace="{line.namespace}"' in slo, line.name


@pytest.mark.parametrize("stack", STACKS)
def test_rules_wait_for_the_chart_that_brings_their_kind(runs: Runs, stack: str) -> None:
    recording = runs.stack(stack).recording
    charts = {r.urn for r in recording.of_type(CHART) if r.inputs.get("name") == kps.NAME}
    for rule in [*recording.of_type(RULE), *recording.of_type(POD_MONITOR)]:
        assert charts & set(rule.depends_on), rule.name


@pytest.mark.parametrize("stack", STACKS)
def test_node_exporter_comes_after_the_crds_and_runs_on_every_node(runs: Runs, stack: str) -> None:
    """Its ServiceMonitor's kind comes with kube-prometheus-stack's chart: installed together, a fresh cluster
    would refuse it. On every node, whatever its taints: a server tainted CriticalAddonsOnly:NoExecute too."""
    result = runs.stack(stack)
    for cluster in result.config.clusters:
        charts = {
            r.inputs["name"]: r for r in result.recording.of_type(CHART) if f"-{cluster.name}-observability-" in r.name
        }
        assert charts[kps.NAME].urn in charts[node_exporter.NAME].depends_on
        assert _values(result.recording, cluster.name, node_exporter.NAME)["tolerations"] == [{"operator": "Exists"}]
        spec = _values(result.recording, cluster.name, kps.NAME)["prometheus"]["prometheusSpec"]
        assert spec["version"] == "v3.14.0", "the operator parses it as a version"


def test_a_line_cannot_add_alerts_or_silence_them() -> None:
    """The attack: a line team applies a PrometheusRule in its namespace (an alert that pages the platform team
    every minute, or a recording rule that overwrites an SLI). Prometheus reads rules from `monitoring` only."""
    spec = resolve(kps.ADDON, _ctx(valid_raw(), "cloud")).values["prometheus"]["prometheusSpec"]
    assert spec["ruleNamespaceSelector"] == {"matchLabels": {vocab.NAMESPACE_NAME: kps.NAMESPACE}}
    assert spec["ruleSelectorNilUsesHelmValues"] is False  # ours carry no `release` label and must still load


def test_a_line_team_cannot_add_scrapes_routes_or_rules() -> None:
    """The same attack by other kinds: a line team's role names no monitoring.coreos.com kind (no PodMonitor to
    scrape another namespace through Prometheus, no AlertmanagerConfig to re-route pages), and the chart's
    aggregated edit/view roles, which would add them to every namespace's `edit`, are off."""
    assert all("monitoring.coreos.com" not in rule["apiGroups"] and "*" not in rule["apiGroups"] for rule in EDIT_RULES)
    values = resolve(kps.ADDON, _ctx(valid_raw(), "cloud")).values
    assert values["global"]["rbac"]["createAggregateClusterRoles"] is False


def _ctx(raw: dict[str, Any], cluster: str) -> ClusterContext:
    config = load_factory_config(raw)
    return ClusterContext(config, config.cluster(cluster), platform_namespaces())


@pytest.mark.parametrize("stack", ["pilsen", "rheinfeld"])
def test_alertmanager_runs_the_amtool_judged_routes(runs: Runs, stack: str) -> None:
    result = runs.stack(stack)
    expected = alertmanager_config(result.config)
    for cluster in result.config.clusters:
        am = _values(result.recording, cluster.name, kps.NAME)["alertmanager"]
        assert yaml.safe_load(am["stringConfig"]) == expected
        assert am["tplConfig"] is True and "{{" not in am["stringConfig"]
        # every receiver's key is a file the operator mounts from its own Secret, which External Secrets fills
        mounted = am["alertmanagerSpec"]["secrets"]
        assert mounted == sorted(receiver_secrets(result.config))
        delivered = {s["metadata"]["name"]: s for s in _objects(result.recording, EXTERNAL_SECRET, cluster.name)}
        for name in mounted:
            remote = delivered[name]["spec"]["data"][0]["remoteRef"]["key"]
            assert remote.startswith(f"{cluster.name}/addon.{kps.NAME}/"), remote


def test_grafana_reads_configmaps_of_its_namespace_only(runs: Runs) -> None:
    """The attack: Grafana (a web application people log in to) compromised, reading the receivers' keys or any
    Secret. Its only role is ours: ConfigMaps in `monitoring`, read-only; the chart renders no ClusterRole."""
    result = runs.stack("rheinfeld")
    values = _values(result.recording, "plant", kps.NAME)["grafana"]
    assert values["rbac"] == {"namespaced": True, "useExistingRole": kps.GRAFANA_ROLE}
    for sidecar in ("dashboards", "datasources"):
        assert values["sidecar"][sidecar]["resource"] == "configmap"
    [role] = _objects(result.recording, ROLE, "plant")
    assert role["metadata"] == {**role["metadata"], "name": kps.GRAFANA_ROLE, "namespace": kps.NAMESPACE}
    assert role["rules"] == [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}]
    assert values["admin"]["existingSecret"] == kps.GRAFANA_ADMIN_SECRET  # the login comes from Vault


@pytest.mark.parametrize("stack", STACKS)
def test_dashboards_reach_grafana_where_it_runs(runs: Runs, stack: str) -> None:
    result = runs.stack(stack)
    for cluster in result.config.clusters:
        maps = [
            m for m in _objects(result.recording, CONFIG_MAP, cluster.name) if "dashboard-" in m["metadata"]["name"]
        ]
        if not SIZES[cluster.profile].grafana:
            assert maps == []
            continue
        names = {m["metadata"]["name"] for m in maps}
        assert {"dashboard-factory-overview", "dashboard-oee", "dashboard-security"} <= names
        assert {f"dashboard-slo-{line.name}" for line in result.config.lines} <= names
        for board in maps:
            assert board["metadata"]["labels"][kps.DASHBOARD_LABEL] == "1"
            assert kps.DASHBOARD_FOLDER_ANNOTATION in board["metadata"]["annotations"]


@pytest.mark.parametrize("stack", STACKS)
def test_every_line_is_scraped_on_its_metrics_port(runs: Runs, stack: str) -> None:
    result = runs.stack(stack)
    for cluster in result.config.clusters:
        found = _objects(result.recording, POD_MONITOR, cluster.name)
        monitors = {m["metadata"]["name"]: m for m in found if m["metadata"]["name"].startswith("line-")}
        lines = result.config.lines_on(cluster.name)
        assert set(monitors) == {f"line-{line.name}" for line in lines}
        for line in lines:
            spec = monitors[f"line-{line.name}"]["spec"]
            assert spec["namespaceSelector"] == {"matchNames": [line.namespace]}
            assert [e["portNumber"] for e in spec["podMetricsEndpoints"]] == [line.metrics_port]


PROMETHEUS = Endpoint(
    "10.42.1.10", kps.NAMESPACE, {**net.PROMETHEUS_PODS, "app.kubernetes.io/managed-by": "prometheus-operator"}
)
GRAFANA = Endpoint("10.42.1.11", kps.NAMESPACE, net.GRAFANA_PODS)
ALERTMANAGER = Endpoint("10.42.1.12", kps.NAMESPACE, net.ALERTMANAGER_PODS)
ALERTMANAGER_PEER = Endpoint("10.42.1.13", kps.NAMESPACE, net.ALERTMANAGER_PODS)
KSM = Endpoint("10.42.1.14", kps.NAMESPACE, net.KUBE_STATE_METRICS_PODS)
NODE = Endpoint("192.168.10.21")
INTERNET = Endpoint("203.0.113.9")


def test_prometheus_scrapes_what_it_must_and_nothing_else(runs: Runs) -> None:
    """Next to the attacks: Prometheus reaches each line's metrics port (and the line admits it), the nodes, its
    neighbours; a line pod reaches no part of the stack; Grafana and kube-state-metrics reach no line."""
    result = runs.stack("pilsen")
    policies = network_policies(result.recording)
    for line in result.config.lines:
        pod = Endpoint("10.42.3.7", line.namespace, {"app": "plc-bridge"})
        assert PROMETHEUS_POD_SELECTOR["matchExpressions"]  # the line admits Prometheus by the operator's labels
        assert allowed(policies, PROMETHEUS, pod, line.metrics_port), line.name
        for port in {4840, 8080, 8443} - {line.metrics_port}:
            assert not allowed(policies, PROMETHEUS, pod, port), (line.name, port)
        for target, port in ((PROMETHEUS, net.PROMETHEUS_PORT), (ALERTMANAGER, net.ALERTMANAGER_PORT), (GRAFANA, 3000)):
            assert not allowed(policies, pod, target, port), (line.name, target, port)
        assert not allowed(policies, GRAFANA, pod, line.metrics_port)
        assert not allowed(policies, KSM, pod, line.metrics_port)
    assert allowed(policies, PROMETHEUS, NODE, net.NODE_EXPORTER_PORT) and allowed(policies, PROMETHEUS, NODE, 10250)
    assert allowed(policies, PROMETHEUS, KSM, net.KUBE_STATE_METRICS_PORT)
    assert allowed(policies, PROMETHEUS, ALERTMANAGER, net.ALERTMANAGER_PORT)
    assert allowed(policies, GRAFANA, PROMETHEUS, net.PROMETHEUS_PORT)
    # pilsen names no `apiServer` addresses, so the API server's ports are open to any address for the watchers
    # (catalogue/network.py); nothing else is
    for port in (25, 80, 8080, 9093):
        assert not allowed(policies, GRAFANA, INTERNET, port), ("Grafana posts nowhere", port)
        assert not allowed(policies, PROMETHEUS, INTERNET, port), ("pilsen names no hub", port)
    assert allowed(policies, ALERTMANAGER, INTERNET, 443), "the receivers' APIs"
    for protocol in ("TCP", "UDP"):
        assert allowed(policies, ALERTMANAGER, ALERTMANAGER_PEER, net.ALERTMANAGER_GOSSIP, protocol)
        assert not allowed(policies, GRAFANA, ALERTMANAGER, net.ALERTMANAGER_GOSSIP, protocol)


def test_a_cell_without_alertmanager_reports_to_the_hub(runs: Runs) -> None:
    recording = runs.main(valid_raw())
    spec = _values(recording, "edge", kps.NAME)["prometheus"]["prometheusSpec"]
    assert spec["remoteWrite"] == [{"url": "https://metrics.hub.example.com/api/v1/write"}]
    [config] = spec["additionalAlertManagerConfigs"]
    assert config["static_configs"] == [{"targets": ["alertmanager.hub.example.com"]}]
    cloud = _values(recording, "cloud", kps.NAME)["prometheus"]["prometheusSpec"]
    assert "additionalAlertManagerConfigs" not in cloud, "a cluster with its own Alertmanager alerts there"
    policies = network_policies(recording)
    assert allowed(policies, PROMETHEUS, INTERNET, 443), "the hub (its address is not in the stack)"


def test_the_hub_token_comes_from_vault_and_only_as_a_file(runs: Runs) -> None:
    raw = mutate(valid_raw(), "observability.hub.remoteKey", "hub")
    recording = runs.main(raw)
    spec = _values(recording, "edge", kps.NAME)["prometheus"]["prometheusSpec"]
    assert spec["remoteWrite"][0]["authorization"]["credentials"] == {"name": kps.HUB_SECRET, "key": "token"}
    assert spec["additionalAlertManagerConfigs"][0]["authorization"]["credentials_file"] == kps.HUB_TOKEN_FILE
    assert spec["secrets"] == [kps.HUB_SECRET]
    [secret] = [s for s in _objects(recording, EXTERNAL_SECRET, "edge") if s["metadata"]["name"] == kps.HUB_SECRET]
    assert secret["spec"]["data"][0]["remoteRef"] == {"key": f"edge/addon.{kps.NAME}/hub", "property": "token"}


def test_edge_small_footprint_with_observability(runs: Runs) -> None:
    """The cell's whole platform, observability included, within 1.5 vCPU and 3 GiB of requests — and the stack
    itself leaves room for the log and trace pipeline still to come."""
    (edge,) = offline_bundle.bundles(runs.stack("dev").recording).values()
    observability = edge.footprint.per_addon[kps.NAME] + edge.footprint.per_addon[node_exporter.NAME]
    assert observability.cpu_requests <= Decimal("0.25")
    assert observability.memory_requests <= quantity("768Mi")
    assert edge.footprint.steady.cpu_requests <= quantity("1500m")
    assert edge.footprint.steady.memory_requests <= quantity("3Gi")


@pytest.mark.parametrize("stack", ["pilsen", "rheinfeld"])
def test_the_security_and_backup_add_ons_are_scraped_through_our_pod_monitors(runs: Runs, stack: str) -> None:
    """The security dashboard's and the restore drill's series come from Falco, Falcosidekick, Gatekeeper,
    trivy-operator and Velero: a PodMonitor of ours per endpoint (theirs would need the CRD when the chart renders),
    and each add-on's namespace admits Prometheus on that port and nothing else."""
    result = runs.stack(stack)
    policies = network_policies(result.recording)
    for cluster in result.config.clusters:
        targets = scrape_targets(result.config, cluster)
        assert {t.addon for t in targets} >= {"falco", "gatekeeper", "trivy-operator"}
        monitors = {m["metadata"]["name"]: m for m in _objects(result.recording, POD_MONITOR, cluster.name)}
        for target in targets:
            spec = monitors[f"addon-{target.addon}-{target.endpoint.name}"]["spec"]
            assert spec["namespaceSelector"] == {"matchNames": [target.namespace]}
            assert spec["selector"] == {"matchLabels": dict(target.endpoint.pods)}
            assert [e["portNumber"] for e in spec["podMetricsEndpoints"]] == [target.endpoint.port]
            pod = Endpoint("10.42.6.10", target.namespace, dict(target.endpoint.pods))
            assert allowed(policies, PROMETHEUS, pod, target.endpoint.port), target
            assert not allowed(policies, GRAFANA, pod, target.endpoint.port), target
            for line in result.config.lines_on(cluster.name):
                intruder = Endpoint("10.42.3.7", line.namespace, {"app": "plc-bridge"})
                assert not allowed(policies, intruder, pod, target.endpoint.port), (line.name, target)
    [falco] = [r for r in result.recording.of_type(CHART) if r.inputs.get("name") == "falco"][:1]
    assert falco.inputs["values"]["metrics"] == {"enabled": True}


@pytest.mark.parametrize("stack", STACKS)
def test_every_volume_claims_the_clusters_storage_class(runs: Runs, stack: str) -> None:
    """RKE2 ships no default StorageClass and EKS 1.30+ marks none: a claim without a class stays Pending there and
    `up` times out. Where the stack names one, every volume of the stack asks for it; elsewhere the default's."""
    result = runs.stack(stack)
    for cluster in result.config.clusters:
        charts = chart_values(result.recording, cluster.name, "observability")
        claims = [charts[kps.NAME]["prometheus"]["prometheusSpec"]["storageSpec"]["volumeClaimTemplate"]["spec"]]
        if charts[kps.NAME]["alertmanager"]["enabled"]:
            claims.append(
                charts[kps.NAME]["alertmanager"]["alertmanagerSpec"]["storage"]["volumeClaimTemplate"]["spec"]
            )
        for claim in claims:
            assert claim.get("storageClassName") == cluster.storage_class, cluster.name
        if loki.NAME in charts:
            assert charts[loki.NAME]["singleBinary"]["persistence"].get("storageClass") == cluster.storage_class
    if stack == "rheinfeld":
        assert {c.storage_class for c in result.config.clusters} == {"longhorn", "gp3"}
