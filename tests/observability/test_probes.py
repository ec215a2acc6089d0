"""Probe SLOs as the real program registers them: the blackbox exporter wherever a line's availability is probed
(`lines[].slo.probe`), one Probe per such line in the line's own namespace — so `probe_success` carries the
namespace its SLO rules select — and the attacks: a line pod using the prober to reach what it cannot, the prober
reaching into a line."""

from __future__ import annotations

import pytest
import yaml

from components.inventory import rule_files
from components.observability import blackbox
from components.observability import network as net
from components.observability import prometheus as kps
from offline.render import manifest
from tests.support.netpol import Endpoint, allowed
from tests.support.runs import Runs, network_policies

CHART = "kubernetes:helm.sh/v4:Chart"
PROBE = "kubernetes:monitoring.coreos.com/v1:Probe"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


@pytest.mark.parametrize("stack", ["dev", "pilsen", "rheinfeld"])
def test_each_probed_line_gets_its_probe_and_only_then_a_prober(runs: Runs, stack: str) -> None:
    result = runs.stack(stack)
    for cluster in result.config.clusters:
        probed = [line for line in result.config.lines_on(cluster.name) if line.slo.probe is not None]
        charts = {
            r.inputs["name"] for r in result.recording.of_type(CHART) if f"-{cluster.name}-observability-" in r.name
        }
        assert (blackbox.NAME in charts) is bool(probed)
        probes = [manifest(r) for r in result.recording.of_type(PROBE) if f"-{cluster.name}-observability-" in r.name]
        assert sorted(p["metadata"]["namespace"] for p in probes) == sorted(line.namespace for line in probed)
        rules = yaml.safe_dump(rule_files(result.config, cluster)["slo"])
        for line in probed:
            [found] = [p for p in probes if p["metadata"]["namespace"] == line.namespace]
            assert found["spec"]["targets"]["staticConfig"]["static"] == [line.slo.probe]
            assert found["spec"]["prober"]["url"] == f"{blackbox.NAME}.{blackbox.NAMESPACE}.svc:{net.BLACKBOX_PORT}"
            assert found["spec"]["module"] == blackbox.MODULE
            # the SLO reads the series this Probe makes, by the namespace Prometheus gives it
            assert f'probe_success{{namespace="{line.namespace}"}}' in rules
    if stack == "pilsen":
        assert any(line.slo.probe for line in result.config.lines), "the reference stack plans a probe"


PROBER = Endpoint("10.42.5.10", net.BLACKBOX_NAMESPACE, net.BLACKBOX_PODS)
PROMETHEUS = Endpoint(
    "10.42.1.10", kps.NAMESPACE, {**net.PROMETHEUS_PODS, "app.kubernetes.io/managed-by": "prometheus-operator"}
)
INTERNET = Endpoint("203.0.113.9")


def test_the_prober_is_asked_by_prometheus_only_and_reaches_no_line(runs: Runs) -> None:
    """The attacks: a line pod asking the prober to fetch an address its own policy denies it (a server-side request
    through the platform), and the prober reaching into a line. What must work does: Prometheus asks, the prober
    reaches the probed URL's port."""
    result = runs.stack("pilsen")
    policies = network_policies(result.recording)
    assert allowed(policies, PROMETHEUS, PROBER, net.BLACKBOX_PORT)
    assert allowed(policies, PROBER, INTERNET, 443)
    assert not allowed(policies, PROBER, INTERNET, 22)
    assert not allowed(policies, PROBER, PROMETHEUS, 9090)
    for line in result.config.lines:
        pod = Endpoint("10.42.3.7", line.namespace, {"app": "plc-bridge"})
        assert not allowed(policies, pod, PROBER, net.BLACKBOX_PORT), line.name
        assert not allowed(policies, PROBER, pod, line.metrics_port), line.name
