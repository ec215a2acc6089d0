"""The cluster-wide deny of the instance metadata service: rendered only where the cluster's NetworkPolicy
implementation has cluster-wide policies we may use (Calico and canal: GlobalNetworkPolicy; Cilium:
CiliumClusterwideNetworkPolicy; never on the managed data planes of GKE and AKS), naming every line namespace
of the cluster and the canary's probing zone. This is also their judge on every reference stack: kubernetes-
validate has no schema for these CRDs (tests/offline/test_judges.py lists their groups)."""

from __future__ import annotations

import ipaddress
import re
from collections import defaultdict
from typing import Any

import pytest

from components.catalogue.model import ClusterContext, Manifest
from components.config.loader import load_factory_config
from components.inventory import platform_namespaces
from components.verification import canary
from components.verification.canary import CANARY, PROBE_NAMESPACE, labels
from components.verification.cluster_wide import CALICO_API, CILIUM_API, METADATA_V4, METADATA_V6, NAME
from components.verification.config import ENFORCERS
from offline import render
from offline.stackfile import available_stacks
from tests.support.factories import mutate, valid_raw
from tests.support.judges import REPO_ROOT
from tests.support.runs import Runs

STACKS = available_stacks(REPO_ROOT)
CLUSTER_WIDE = {"GlobalNetworkPolicy": CALICO_API, "CiliumClusterwideNetworkPolicy": CILIUM_API}
EXPECTED = {"calico": "GlobalNetworkPolicy", "canal": "GlobalNetworkPolicy", "cilium": "CiliumClusterwideNetworkPolicy"}
MANAGED = {"gke", "aks"}


def _context(distribution: str, network_policy: str) -> ClusterContext:
    raw = mutate(
        mutate(valid_raw(), "clusters.1.distribution", distribution), "clusters.1.networkPolicy", network_policy
    )
    config = load_factory_config(raw)
    return ClusterContext(config, config.cluster("cloud"), platform_namespaces())


def _cluster_wide(documents: list[Manifest]) -> list[Manifest]:
    return [d for d in documents if d["kind"] in CLUSTER_WIDE]


@pytest.mark.parametrize(
    ("distribution", "network_policy"), [(d, n) for d, names in ENFORCERS.items() for n in names], ids=str
)
def test_rendered_only_where_the_implementation_has_cluster_wide_policies(
    distribution: str, network_policy: str
) -> None:
    rendered = _cluster_wide(canary.tested_manifests(_context(distribution, network_policy)))
    expected = EXPECTED.get(network_policy) if distribution not in MANAGED else None
    assert [d["kind"] for d in rendered] == ([expected] if expected else [])


def _judge_calico(policy: Manifest, namespaces: list[str]) -> None:
    """The fields Calico's GlobalNetworkPolicy needs without its API server to default them."""
    assert policy["apiVersion"] == CALICO_API
    assert policy["metadata"]["name"] == f"default.{NAME}"  # the default tier's backend name
    assert set(policy["metadata"]) == {"name", "labels"}, "cluster-scoped: no namespace"
    spec = policy["spec"]
    assert set(spec) == {"order", "selector", "types", "egress"}
    assert isinstance(spec["order"], int) and spec["order"] < 1000  # before the Kubernetes NetworkPolicies
    assert spec["types"] == ["Egress"]
    match = re.fullmatch(r"projectcalico\.org/namespace in \{((?:'[a-z0-9-]+'(?:, )?)+)\}", spec["selector"])
    assert match, spec["selector"]
    assert re.findall(r"'([a-z0-9-]+)'", match.group(1)) == namespaces
    denied = []
    for rule in spec["egress"]:
        assert set(rule) == {"action", "ipVersion", "destination"} and rule["action"] == "Deny"
        for net in rule["destination"]["nets"]:
            network = ipaddress.ip_network(net)
            assert network.version == rule["ipVersion"] and network.num_addresses == 1
            denied.append(str(network.network_address))
    assert denied == [METADATA_V4, METADATA_V6]


def _judge_cilium(policy: Manifest, namespaces: list[str]) -> None:
    assert policy["apiVersion"] == CILIUM_API
    assert policy["metadata"]["name"] == NAME and "namespace" not in policy["metadata"]
    spec = policy["spec"]
    [expression] = spec["endpointSelector"]["matchExpressions"]
    assert expression == {"key": "k8s:io.kubernetes.pod.namespace", "operator": "In", "values": namespaces}
    [rule] = spec["egressDeny"]
    denied = [ipaddress.ip_network(cidr) for cidr in rule["toCIDR"]]
    assert [str(n.network_address) for n in denied] == [METADATA_V4, METADATA_V6]
    assert all(n.num_addresses == 1 for n in denied)
    assert "ingress" not in spec and "egress" not in spec  # it only adds denial


def _expected_namespaces(ctx: ClusterContext) -> list[str]:
    return sorted([*(line.namespace for line in ctx.factory.lines_on(ctx.cluster.name)), PROBE_NAMESPACE])


@pytest.mark.parametrize(("distribution", "network_policy"), [("rke2", "canal"), ("eks", "calico"), ("k3s", "cilium")])
def test_each_cluster_wide_policy_names_the_clusters_line_namespaces_and_the_probing_zone(
    distribution: str, network_policy: str
) -> None:
    ctx = _context(distribution, network_policy)
    [policy] = _cluster_wide(canary.tested_manifests(ctx))
    namespaces = _expected_namespaces(ctx)
    assert namespaces == ["line-mes", PROBE_NAMESPACE]  # the cloud cluster's one line, not the edge's lines
    (_judge_calico if policy["kind"] == "GlobalNetworkPolicy" else _judge_cilium)(policy, namespaces)
    assert policy["metadata"]["labels"] == labels(ctx)


@pytest.fixture(scope="module", params=STACKS)
def stack_documents(request: pytest.FixtureRequest, runs: Runs) -> tuple[str, dict[str, list[dict[str, Any]]]]:
    by_cluster: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in render.manifests(runs.stack(request.param).recording):
        by_cluster[item.cluster].append(item.document)
    return request.param, by_cluster


def test_every_reference_stacks_cluster_wide_policies_pass_their_judge(
    stack_documents: tuple[str, dict[str, list[dict[str, Any]]]], runs: Runs
) -> None:
    stack, by_cluster = stack_documents
    config = runs.stack(stack).config
    for cluster, documents in by_cluster.items():
        ctx = ClusterContext(config, config.cluster(cluster), platform_namespaces())
        found = _cluster_wide(documents)
        expected = [d["kind"] for d in _cluster_wide(canary.tested_manifests(ctx))]
        assert [d["kind"] for d in found] == expected, (stack, cluster)
        for policy in found:
            assert policy["metadata"]["labels"]["factory-floor.io/addon"] == CANARY
            (_judge_calico if policy["kind"] == "GlobalNetworkPolicy" else _judge_cilium)(
                policy, _expected_namespaces(ctx)
            )


def test_the_reference_stacks_render_a_global_network_policy_on_rheinfelds_rke2_cluster_only(runs: Runs) -> None:
    found = {
        (stack, item.cluster)
        for stack in STACKS
        for item in render.manifests(runs.stack(stack).recording)
        if item.document["kind"] in CLUSTER_WIDE
    }
    assert found == {("rheinfeld", "plant")}  # canal; k3s's kube-router and EKS's VPC CNI agent have none
