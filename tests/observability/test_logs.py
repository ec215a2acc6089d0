"""The log pipeline as the real program registers it: Loki where the profile has a log store, keeping pods' logs and
the audit trail as long as the stack says; Fluent Bit on every node shipping into it — or into the hub's for a cell
without one, with the hub's token from Vault only — and on k3s/RKE2 the API servers' audit trail too. The attacks:
a line pod writing into or reading from the log store, Fluent Bit reaching anything but its store."""

from __future__ import annotations

from typing import Any

import pytest

from components.catalogue.model import ClusterContext
from components.catalogue.release import resolve
from components.config.loader import load_factory_config
from components.core.contracts import AUDIT_LOG
from components.inventory import platform_namespaces
from components.observability import fluent_bit, loki
from components.observability import network as net
from components.observability import prometheus as kps
from components.observability.sizing import SIZES
from offline import bundle as offline_bundle
from offline.render import manifest
from tests.support.factories import mutate, valid_raw
from tests.support.netpol import Endpoint, allowed
from tests.support.runs import Runs, chart_values, network_policies

CHART = "kubernetes:helm.sh/v4:Chart"
EXTERNAL_SECRET = "kubernetes:external-secrets.io/v1:ExternalSecret"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
STACKS = ("dev", "pilsen", "rheinfeld")
HUB_LOKI = "https://logs.hub.example.com"


def _hub_raw(**hub: str) -> dict[str, Any]:
    raw = mutate(valid_raw(), "observability.hub.loki", HUB_LOKI)
    for key, value in hub.items():
        raw = mutate(raw, f"observability.hub.{key}", value)
    return raw


@pytest.mark.parametrize("stack", STACKS)
def test_each_cluster_ships_its_logs_where_its_profile_keeps_them(runs: Runs, stack: str) -> None:
    result = runs.stack(stack)
    for cluster in result.config.clusters:
        charts, size = chart_values(result.recording, cluster.name, "observability"), SIZES[cluster.profile]
        assert (loki.NAME in charts) is size.log_store
        # no store and no hub (dev's cell): nothing to ship to, so no Fluent Bit; logs stay on the node
        assert (fluent_bit.NAME in charts) is size.log_store
        if not size.log_store:
            continue
        store = charts[loki.NAME]
        assert store["singleBinary"]["replicas"] == 1
        assert store["singleBinary"]["persistence"]["size"] == f"{size.log_store_gib}Gi"
        assert all(store[part]["replicas"] == 0 for part in ("write", "read", "backend"))
        outputs = charts[fluent_bit.NAME]["config"]["outputs"]
        assert f"Host {net.LOKI_HOST}" in outputs and f"Port {net.LOKI_PORT}" in outputs
        datasources = charts[kps.NAME]["grafana"]["additionalDataSources"]
        assert [d["url"] for d in datasources if d["type"] == "loki"] == [f"http://{net.LOKI_HOST}:{net.LOKI_PORT}"]


def test_retention_follows_the_stack_and_the_audit_trail_is_kept_longer(runs: Runs) -> None:
    raw = mutate(valid_raw(), "observability.logs", {"retentionDays": 7, "auditRetentionDays": 400})
    config = load_factory_config(raw)
    ctx = ClusterContext(config, config.cluster("cloud"), platform_namespaces())
    limits = resolve(loki.ADDON, ctx).values["loki"]["limits_config"]
    assert limits["retention_period"] == "168h"
    assert limits["retention_stream"] == [{"selector": '{job="kube-audit"}', "priority": 1, "period": "9600h"}]
    assert resolve(loki.ADDON, ctx).values["loki"]["compactor"]["retention_enabled"] is True


@pytest.mark.parametrize(
    ("stack", "cluster"), [("pilsen", "shopfloor"), ("rheinfeld", "plant"), ("rheinfeld", "cloud")]
)
def test_the_audit_trail_is_shipped_where_the_api_server_writes_it(runs: Runs, stack: str, cluster: str) -> None:
    result = runs.stack(stack)
    values = chart_values(result.recording, cluster, "observability")[fluent_bit.NAME]
    distribution = result.config.cluster(cluster).distribution
    path = AUDIT_LOG.get(distribution)
    inputs, outputs = values["config"]["inputs"], values["config"]["outputs"]
    if path is None:  # a managed API server: its audit log is the provider's (docs/observability.md)
        assert "audit" not in inputs and loki.AUDIT_JOB not in outputs
        return
    assert f"Path {path}" in inputs and "Tag audit.*" in inputs
    assert "Match audit.*" in outputs and f"job={loki.AUDIT_JOB}" in outputs
    # one event longer than the buffer would otherwise stop the audit tail for good, silently
    audit_input = inputs[inputs.index(f"Path {path}") :]
    assert "Skip_Long_Lines On" in audit_input and "Buffer_Max_Size 1M" in audit_input
    directory = path.rsplit("/", 1)[0]
    mounts = {m["mountPath"]: m for m in values["daemonSetVolumeMounts"]}
    assert mounts[directory]["readOnly"] is True and mounts["/var/log"]["readOnly"] is True


def test_a_cell_without_a_store_ships_to_the_hub_with_its_token_from_vault(runs: Runs) -> None:
    recording = runs.main(_hub_raw(remoteKey="hub"))
    charts = chart_values(recording, "edge", "observability")
    assert loki.NAME not in charts
    values = charts[fluent_bit.NAME]
    outputs = values["config"]["outputs"]
    assert "Host logs.hub.example.com" in outputs and "Port 443" in outputs and "tls On" in outputs
    assert "Bearer_Token ${HUB_TOKEN}" in outputs  # the value is an environment variable, never in the config
    assert "tls.verify_hostname On" in outputs, "the token goes to the hub's host only, not any trusted certificate"
    # an uplink down for a shift: chunks wait on the node's disk, retried without limit, up to a bound
    assert "Retry_Limit no_limits" in outputs and f"storage.total_limit_size {fluent_bit.BUFFER_LIMIT}" in outputs
    assert f"storage.path {fluent_bit.STATE}/buffer" in values["config"]["service"]
    [token] = [e for e in values["env"] if e["name"] == "HUB_TOKEN"]
    assert token["valueFrom"]["secretKeyRef"] == {"name": fluent_bit.HUB_SECRET, "key": "token"}
    secrets = [manifest(r) for r in recording.of_type(EXTERNAL_SECRET) if "-edge-observability-" in r.name]
    [hub] = [s for s in secrets if s["metadata"]["name"] == fluent_bit.HUB_SECRET]
    assert hub["metadata"]["namespace"] == fluent_bit.NAMESPACE
    assert hub["spec"]["data"][0]["remoteRef"] == {"key": "edge/addon.fluent-bit/hub", "property": "token"}


def test_edge_small_with_log_shipping_stays_within_its_budget(runs: Runs) -> None:
    (edge,) = [b for name, b in offline_bundle.bundles(runs.main(_hub_raw())).items() if name == "edge"]
    assert fluent_bit.NAME in edge.footprint.per_addon
    assert edge.footprint.steady.cpu_requests <= 1.5
    assert edge.footprint.steady.memory_requests <= 3 * 2**30


def test_a_pod_cannot_refile_or_hide_its_own_logs(runs: Runs) -> None:
    """The attack: a pod logging `{"kubernetes": {"namespace_name": "line-weld"}}` to file its lines under another
    line, or annotating itself to be left out. Its JSON goes under its own key; the exclusion annotation is off."""
    values = chart_values(runs.stack("pilsen").recording, "shopfloor", "observability")[fluent_bit.NAME]
    filters = values["config"]["filters"]
    assert "Merge_Log_Key log_processed" in filters and "K8S-Logging.Exclude Off" in filters


@pytest.mark.parametrize("stack", ["pilsen", "rheinfeld"])
def test_fluent_bit_is_scraped_through_our_service_monitor(runs: Runs, stack: str) -> None:
    """The chart's own renders only if the CRD already exists at render time (never on a first `up`): ours comes
    after the chart, which comes after kube-prometheus-stack's CRDs. The fields the operator needs are judged here."""
    result = runs.stack(stack)
    monitors = {r.name: r for r in result.recording.of_type("kubernetes:monitoring.coreos.com/v1:ServiceMonitor")}
    for cluster in result.config.clusters:
        prefix = f"{result.config.factory.name}-{cluster.name}-observability-"
        monitor = monitors[f"{prefix}{fluent_bit.NAME}-servicemonitor"]
        spec = manifest(monitor)["spec"]
        labels = {"app.kubernetes.io/name": fluent_bit.NAME, "app.kubernetes.io/instance": fluent_bit.NAME}
        assert spec["selector"]["matchLabels"] == labels
        assert spec["endpoints"] == [{"port": "http", "path": "/api/v2/metrics/prometheus", "interval": "30s"}]
        charts = {r.inputs["name"]: r for r in result.recording.of_type(CHART) if r.name.startswith(prefix)}
        assert charts[fluent_bit.NAME].urn in monitor.depends_on
        assert charts[kps.NAME].urn in charts[fluent_bit.NAME].depends_on
        assert charts[fluent_bit.NAME].inputs["values"]["serviceMonitor"] == {"enabled": False}


def test_loki_holds_no_cluster_role_and_no_token(runs: Runs) -> None:
    values = chart_values(runs.stack("pilsen").recording, "shopfloor", "observability")[loki.NAME]
    assert values["rbac"] == {"namespaced": True}
    assert values["serviceAccount"]["automountServiceAccountToken"] is False
    assert values["defaults"]["automountServiceAccountToken"] is False


LOKI = Endpoint("10.42.2.10", net.LOKI_NAMESPACE, net.LOKI_PODS)
FLUENT_BIT = Endpoint("10.42.2.11", net.FLUENT_BIT_NAMESPACE, net.FLUENT_BIT_PODS)
GRAFANA = Endpoint("10.42.1.11", kps.NAMESPACE, net.GRAFANA_PODS)
PROMETHEUS = Endpoint(
    "10.42.1.10", kps.NAMESPACE, {**net.PROMETHEUS_PODS, "app.kubernetes.io/managed-by": "prometheus-operator"}
)
INTERNET = Endpoint("203.0.113.9")


def test_only_fluent_bit_writes_and_only_grafana_reads_the_log_store(runs: Runs) -> None:
    """The attacks: a line pod (or a compromised one) pushing forged lines into the audit stream, or reading every
    namespace's logs; Fluent Bit, which holds every node's logs, reaching anything but its store."""
    result = runs.stack("pilsen")
    policies = network_policies(result.recording)
    for line in result.config.lines:
        pod = Endpoint("10.42.3.7", line.namespace, {"app": "plc-bridge"})
        assert not allowed(policies, pod, LOKI, net.LOKI_PORT), line.name
        assert not allowed(policies, FLUENT_BIT, pod, line.metrics_port), line.name
    assert allowed(policies, FLUENT_BIT, LOKI, net.LOKI_PORT)
    assert allowed(policies, GRAFANA, LOKI, net.LOKI_PORT)
    assert allowed(policies, PROMETHEUS, FLUENT_BIT, net.FLUENT_BIT_PORT)
    assert not allowed(policies, PROMETHEUS, LOKI, net.LOKI_PORT), "Prometheus does not query logs"
    for port in (80, 8080, 9090, net.LOKI_PORT):
        assert not allowed(policies, FLUENT_BIT, INTERNET, port), port
        assert not allowed(policies, LOKI, INTERNET, port), port
    assert not allowed(policies, FLUENT_BIT, PROMETHEUS, 9090)
