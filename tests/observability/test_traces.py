"""Tracing as the real program registers it: the OpenTelemetry Operator and its collector where spans have somewhere
to go — the cluster's Jaeger v2, a backend the stack names, or the hub's — each line allowed to send OTLP to the
collector and to nothing else of the pipeline. The attacks: a line reading other lines' traces from Jaeger or
talking to the operator; the hub's token sent to a backend the plant names itself."""

from __future__ import annotations

from typing import Any

import pytest

from components.catalogue.footprint import quantity
from components.observability import jaeger, otel_operator
from components.observability import network as net
from components.observability import prometheus as kps
from components.observability.sizing import SIZES
from offline import bundle as offline_bundle
from offline.harness import Recording
from offline.render import manifest
from tests.support.factories import mutate, valid_raw
from tests.support.netpol import Endpoint, allowed
from tests.support.runs import Runs, chart_values, network_policies

CHART = "kubernetes:helm.sh/v4:Chart"
COLLECTOR = "kubernetes:opentelemetry.io/v1beta1:OpenTelemetryCollector"
EXTERNAL_SECRET = "kubernetes:external-secrets.io/v1:ExternalSecret"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
STACKS = ("dev", "pilsen", "rheinfeld")
HUB_OTLP = "https://otlp.hub.example.com"


def _collector(recording: Recording, cluster: str) -> dict[str, Any]:
    [found] = [manifest(r) for r in recording.of_type(COLLECTOR) if f"-{cluster}-observability-" in r.name]
    return found


def _pipeline(collector: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    config = collector["spec"]["config"]
    [exporter] = config["service"]["pipelines"]["traces"]["exporters"]
    return exporter, config["exporters"][exporter]


@pytest.mark.parametrize("stack", STACKS)
def test_each_cluster_keeps_or_forwards_its_traces_as_its_profile_says(runs: Runs, stack: str) -> None:
    result = runs.stack(stack)
    for cluster in result.config.clusters:
        charts, size = chart_values(result.recording, cluster.name, "observability"), SIZES[cluster.profile]
        assert (jaeger.NAME in charts) is size.log_store
        # dev's cell names no hub: nowhere to send spans, so no operator and no collector
        assert (otel_operator.NAME in charts) is size.log_store
        if not size.log_store:
            continue
        collector = _collector(result.recording, cluster.name)
        name, settings = _pipeline(collector)
        assert name == "otlp_grpc/jaeger" and settings["endpoint"] == f"{net.JAEGER_HOST}:{net.OTLP_GRPC}"
        receivers = collector["spec"]["config"]["receivers"]["otlp"]["protocols"]
        assert receivers["grpc"]["endpoint"].endswith(f":{net.OTLP_GRPC}")
        assert receivers["http"]["endpoint"].endswith(f":{net.OTLP_HTTP}")
        attributes = collector["spec"]["config"]["processors"]["resource"]["attributes"]
        assert {"key": "factory", "value": result.config.factory.name, "action": "upsert"} in attributes
        sources = charts[kps.NAME]["grafana"]["additionalDataSources"]
        assert any(s["type"] == "jaeger" and s["url"] == kps.JAEGER_URL for s in sources)
        # webhooks off: they need a certificate only cert-manager or a Helm hook would make
        assert charts[otel_operator.NAME]["admissionWebhooks"]["create"] is False
        assert charts[otel_operator.NAME]["manager"]["env"] == {"ENABLE_WEBHOOKS": "false"}


@pytest.mark.parametrize("stack", ["pilsen", "rheinfeld"])
def test_the_collector_is_one_the_operator_and_the_collector_accept(runs: Runs, stack: str) -> None:
    """The judge of our OpenTelemetryCollector (no CRD schema is vendored, and no collector binary is packaged here):
    the fields the v1beta1 schema requires, and a pipeline that names only components the config defines — what the
    collector checks first when it starts, and refuses to start on."""
    result = runs.stack(stack)
    for registration in result.recording.of_type(COLLECTOR):
        spec = manifest(registration)["spec"]
        assert spec["mode"] == "deployment" and spec["replicas"] == 1
        assert set(spec["resources"]) == {"requests", "limits"}
        config = spec["config"]
        for pipeline in config["service"]["pipelines"].values():
            for kind in ("receivers", "processors", "exporters"):
                assert set(pipeline[kind]) <= set(config[kind]), (registration.name, kind)
        assert spec["networkPolicy"] == {"enabled": False}, "ours admits the lines only; the operator's anyone"
        assert spec["imagePullPolicy"] == "IfNotPresent"


def test_a_backend_of_the_plant_replaces_jaeger_and_never_gets_the_hubs_token(runs: Runs) -> None:
    raw = mutate(valid_raw(), "observability.traces", {"endpoint": "https://traces.plant.example.com:4318"})
    raw = mutate(mutate(raw, "observability.hub.otlp", HUB_OTLP), "observability.hub.remoteKey", "hub")
    recording = runs.main(raw)
    for cluster in ("edge", "cloud"):
        assert jaeger.NAME not in chart_values(recording, cluster, "observability")
        name, settings = _pipeline(_collector(recording, cluster))
        assert name == "otlp_http/backend"
        assert settings == {"endpoint": "https://traces.plant.example.com:4318"}, "no hub token to a third party"


def test_a_cell_without_jaeger_forwards_to_the_hub_with_its_token_from_vault(runs: Runs) -> None:
    raw = mutate(mutate(valid_raw(), "observability.hub.otlp", HUB_OTLP), "observability.hub.remoteKey", "hub")
    recording = runs.main(raw)
    collector = _collector(recording, "edge")
    name, settings = _pipeline(collector)
    assert name == "otlp_http/backend" and settings["endpoint"] == HUB_OTLP
    assert settings["headers"] == {"authorization": "Bearer ${env:HUB_TOKEN}"}  # a reference, never the value
    [token] = collector["spec"]["env"]
    assert token["valueFrom"]["secretKeyRef"] == {"name": otel_operator.HUB_SECRET, "key": "token"}
    secrets = [manifest(r) for r in recording.of_type(EXTERNAL_SECRET) if "-edge-observability-" in r.name]
    [hub] = [s for s in secrets if s["metadata"]["name"] == otel_operator.HUB_SECRET]
    assert hub["spec"]["data"][0]["remoteRef"] == {"key": "edge/addon.opentelemetry-operator/hub", "property": "token"}
    (edge,) = [b for name, b in offline_bundle.bundles(recording).items() if name == "edge"]
    # the collector the operator runs counts in the footprint, and the cell stays within its budget
    size = SIZES["edge-small"]
    expected = quantity(size.otel_operator["requests"]["cpu"]) + quantity(size.otel_collector["requests"]["cpu"])
    assert edge.footprint.per_addon[otel_operator.NAME].cpu_requests == expected
    assert edge.footprint.steady.cpu_requests <= 1.5
    assert edge.footprint.steady.memory_requests <= 3 * 2**30


COLLECTOR_POD = Endpoint("10.42.4.10", net.TRACING_NAMESPACE, net.COLLECTOR_PODS)
OPERATOR_POD = Endpoint("10.42.4.11", net.TRACING_NAMESPACE, net.OPERATOR_OTEL_PODS)
JAEGER_POD = Endpoint("10.42.4.12", net.JAEGER_NAMESPACE, net.JAEGER_PODS)
GRAFANA = Endpoint("10.42.1.11", kps.NAMESPACE, net.GRAFANA_PODS)
INTERNET = Endpoint("203.0.113.9")


def test_lines_send_spans_to_the_collector_and_reach_nothing_else_of_the_pipeline(runs: Runs) -> None:
    """The attacks: a line reading every line's traces from Jaeger's query API, sending forged spans straight into
    Jaeger, or talking to the operator (which can create Deployments in any namespace). What must work does."""
    result = runs.stack("pilsen")
    policies = network_policies(result.recording)
    for line in result.config.lines:
        pod = Endpoint("10.42.3.7", line.namespace, {"app": "plc-bridge"})
        for port in (net.OTLP_GRPC, net.OTLP_HTTP):
            assert allowed(policies, pod, COLLECTOR_POD, port), (line.name, port)
            assert not allowed(policies, pod, JAEGER_POD, port), (line.name, port)
        assert not allowed(policies, pod, JAEGER_POD, net.JAEGER_QUERY_PORT), line.name
        for port in (8080, 8443, 9443):
            assert not allowed(policies, pod, OPERATOR_POD, port), (line.name, port)
    assert allowed(policies, COLLECTOR_POD, JAEGER_POD, net.OTLP_GRPC)
    assert allowed(policies, GRAFANA, JAEGER_POD, net.JAEGER_QUERY_PORT)
    assert not allowed(policies, GRAFANA, COLLECTOR_POD, net.OTLP_GRPC), "only lines send spans"
    for port in (443, 4317, 4318):
        assert not allowed(policies, COLLECTOR_POD, INTERNET, port), ("no backend outside: Jaeger is here", port)
        assert not allowed(policies, JAEGER_POD, INTERNET, port), port
