"""Every platform namespace is a default-deny zone with exactly the paths its add-on declares, rendered by one
builder from the catalogue entry. The attacks: a compromised platform pod reaching into a line, another
platform namespace, the node network or the internet; a line pod calling an admission webhook."""

from __future__ import annotations

from typing import Any

import pytest

from components.catalogue.model import ClusterContext
from components.catalogue.network import ApiServer, NetworkNeeds, Path, describe
from components.config.api_server import api_server_ports
from components.config.loader import load_factory_config
from components.config.problems import FactoryConfigError
from components.inventory import CATALOGUE, platform_namespaces
from components.security import falco, kube_bench, trivy
from components.security.gatekeeper import addon as gatekeeper
from components.security.secrets import addon as external_secrets
from offline.harness import Recording
from tests.support.factories import mutate, secure_raw
from tests.support.netpol import Endpoint, allowed
from tests.support.runs import Runs

NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
API_SERVER_ADDRESSES = ["10.43.0.1/32", "192.168.10.0/28"]

LINE_POD = Endpoint("10.42.3.7", "line-press", {"app": "plc-bridge"})
API_SERVER = Endpoint("192.168.10.2")  # a server node's address: where the API server's endpoint lives
VAULT = Endpoint("192.168.20.5")
INTERNET = Endpoint("203.0.113.9")
FALCO_POD = Endpoint("10.42.0.11", "falco", falco.FALCO_PODS)
SIDEKICK_POD = Endpoint("10.42.0.12", "falco", falco.SIDEKICK_PODS)
ESO_CONTROLLER = Endpoint("10.42.0.21", "external-secrets", external_secrets.CONTROLLER_PODS)
ESO_WEBHOOK = Endpoint("10.42.0.22", "external-secrets", external_secrets.WEBHOOK_PODS)
GATEKEEPER_CONTROLLER = Endpoint("10.42.0.31", "gatekeeper-system", gatekeeper.CONTROLLER_PODS)
GATEKEEPER_AUDIT = Endpoint("10.42.0.32", "gatekeeper-system", {"control-plane": "audit-controller"})
TRIVY_OPERATOR = Endpoint("10.42.0.41", "trivy-system", trivy.OPERATOR_PODS)
TRIVY_SCAN_JOB = Endpoint("10.42.0.42", "trivy-system", {"app.kubernetes.io/managed-by": "trivy-operator"})
KUBE_BENCH = Endpoint("10.42.0.51", "kube-bench", {"app.kubernetes.io/name": "kube-bench"})
PLATFORM_PODS = (
    FALCO_POD,
    SIDEKICK_POD,
    ESO_CONTROLLER,
    ESO_WEBHOOK,
    GATEKEEPER_CONTROLLER,
    GATEKEEPER_AUDIT,
    TRIVY_OPERATOR,
    TRIVY_SCAN_JOB,
    KUBE_BENCH,
)


def _policies(recording: Recording, cluster: str) -> list[dict[str, Any]]:
    return [r.inputs for r in recording.of_type(NETWORK_POLICY) if r.name.startswith(f"testwerk-{cluster}-")]


@pytest.fixture(scope="module")
def open_api(runs: Runs) -> list[dict[str, Any]]:
    """The edge cluster as the test stack has it: no `apiServer`, so any address on the API server's ports."""
    return _policies(runs.main(secure_raw()), "edge")


@pytest.fixture(scope="module")
def narrow_api(runs: Runs) -> list[dict[str, Any]]:
    raw = mutate(secure_raw(), "clusters.0.apiServer", {"addresses": API_SERVER_ADDRESSES})
    raw = mutate(raw, "security.falco", {"alertWebhook": {"remoteKey": "soc-webhook"}})
    return _policies(runs.main(raw), "edge")


def test_every_platform_namespace_is_closed_by_default(runs: Runs) -> None:
    recording = runs.main(secure_raw())
    # the edge cell and the cloud cluster together run every catalogue add-on (Velero only where it has a store)
    closed = {
        p["metadata"]["namespace"]
        for p in _policies(recording, "edge") + _policies(recording, "cloud")
        if p["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    }
    config = load_factory_config(secure_raw())
    contexts = [ClusterContext(config, c, platform_namespaces()) for c in config.clusters]
    running = [a for a in CATALOGUE.values() if any(a.enabled(ctx) for ctx in contexts)]
    catalogue_namespaces = {a.namespace for a in running if a.network is not None}
    assert {"falco", "gatekeeper-system", "external-secrets", "trivy-system", "kube-bench"} <= closed
    assert catalogue_namespaces <= closed


@pytest.mark.parametrize("pod", PLATFORM_PODS, ids=lambda p: f"{p.namespace}:{next(iter(p.labels.values()))}")
def test_a_compromised_platform_pod_cannot_reach_a_line_or_another_platform_namespace(
    pod: Endpoint, narrow_api: list[dict[str, Any]]
) -> None:
    """The attack: code running in any platform pod tries the PLC bridge of a line, another platform component
    and a port on the node; all refused by its own namespace's policies."""
    for port in (4840, 8080, 8443, 22):
        assert not allowed(narrow_api, pod, LINE_POD, port), (pod, port)
        assert not allowed(narrow_api, pod, API_SERVER, port if port != 8443 else 10250), (pod, port)
    others = [other for other in PLATFORM_PODS if other.namespace != pod.namespace]
    for other in others:
        for port in (2801, 8443, 10250, 8080):
            assert not allowed(narrow_api, pod, other, port), (pod, other, port)


def test_kube_bench_reaches_nothing_at_all(open_api: list[dict[str, Any]]) -> None:
    for target, port in ((API_SERVER, 443), (API_SERVER, 6443), (INTERNET, 443), (VAULT, 8200), (LINE_POD, 53)):
        assert not allowed(open_api, KUBE_BENCH, target, port)
    assert kube_bench.ADDON.network is not None
    assert kube_bench.ADDON.network(_ctx()) == NetworkNeeds()


def test_each_component_keeps_the_paths_it_needs(narrow_api: list[dict[str, Any]]) -> None:
    """Next to the attacks: what must still work does."""
    assert allowed(narrow_api, FALCO_POD, SIDEKICK_POD, falco.SIDEKICK_PORT)
    assert not allowed(narrow_api, LINE_POD, SIDEKICK_POD, falco.SIDEKICK_PORT), "only Falco posts events"
    assert allowed(narrow_api, SIDEKICK_POD, INTERNET, 443), "the alert webhook (its address is a secret)"
    assert not allowed(narrow_api, FALCO_POD, INTERNET, 443), "Falco itself posts nowhere"
    assert allowed(narrow_api, ESO_CONTROLLER, VAULT, 8200) and not allowed(narrow_api, ESO_WEBHOOK, VAULT, 8200)
    for pod in (ESO_CONTROLLER, GATEKEEPER_CONTROLLER, GATEKEEPER_AUDIT, TRIVY_OPERATOR):
        assert allowed(narrow_api, pod, API_SERVER, 6443) and allowed(narrow_api, pod, Endpoint("10.43.0.1"), 443)
        assert not allowed(narrow_api, pod, INTERNET, 6443), "only the API server's addresses"
    assert not allowed(narrow_api, TRIVY_SCAN_JOB, API_SERVER, 6443), "scan jobs need no API"
    assert allowed(narrow_api, TRIVY_SCAN_JOB, INTERNET, 443), "registries and the vulnerability databases"


def test_falcosidekick_posts_nowhere_without_a_webhook(open_api: list[dict[str, Any]]) -> None:
    assert not allowed(open_api, SIDEKICK_POD, INTERNET, 443)
    assert allowed(open_api, FALCO_POD, SIDEKICK_POD, falco.SIDEKICK_PORT)


def test_admission_webhooks_answer_the_api_server_only(
    open_api: list[dict[str, Any]], narrow_api: list[dict[str, Any]]
) -> None:
    """The attack: a line pod floods or probes Gatekeeper's webhook. With the API server's addresses known, only
    they get through; without them, any address may (what the plan's bundle says)."""
    assert allowed(narrow_api, API_SERVER, GATEKEEPER_CONTROLLER, gatekeeper.WEBHOOK_PORT)
    assert allowed(narrow_api, API_SERVER, ESO_WEBHOOK, external_secrets.WEBHOOK_PORT)
    assert not allowed(narrow_api, LINE_POD, GATEKEEPER_CONTROLLER, gatekeeper.WEBHOOK_PORT)
    assert not allowed(narrow_api, LINE_POD, ESO_WEBHOOK, external_secrets.WEBHOOK_PORT)
    assert not allowed(narrow_api, API_SERVER, GATEKEEPER_AUDIT, gatekeeper.WEBHOOK_PORT), "audit serves no webhook"
    assert allowed(open_api, INTERNET, GATEKEEPER_CONTROLLER, gatekeeper.WEBHOOK_PORT)


def _ctx(raw: dict[str, Any] | None = None) -> ClusterContext:
    config = load_factory_config(raw or secure_raw())
    return ClusterContext(config, config.clusters[0], platform_namespaces())


@pytest.mark.parametrize(("distribution", "ports"), [("k3s", (443, 6443)), ("rke2", (443, 6443)), ("eks", (443,))])
def test_the_api_server_is_reached_on_its_distributions_ports(distribution: str, ports: tuple[int, ...]) -> None:
    assert api_server_ports(distribution, None) == ports  # type: ignore[arg-type]


def test_the_plan_says_how_narrow_each_path_is() -> None:
    open_ctx = _ctx()
    narrow_ctx = _ctx(mutate(secure_raw(), "clusters.0.apiServer", {"addresses": ["10.43.0.1/32"], "port": 6444}))
    path = Path("api-server", "egress", ApiServer(), "reads objects")
    assert describe(path, open_ctx.cluster) == "egress to the API server (any address) on 443,6443: reads objects"
    assert describe(path, narrow_ctx.cluster) == "egress to the API server (10.43.0.1/32) on 443,6444: reads objects"


def test_a_bad_api_server_address_is_refused_at_its_key() -> None:
    raw = mutate(secure_raw(), "clusters.0.apiServer", {"addresses": ["10.43.0.1", "10.43.0.0/8", "10.43.0.1/32"]})
    with pytest.raises(FactoryConfigError) as caught:
        load_factory_config(raw)
    paths = [problem.path for problem in caught.value.problems]
    assert paths == [
        "factory-floor:clusters[0].apiServer.addresses[0]",
        "factory-floor:clusters[0].apiServer.addresses[1]",
    ]
