"""Finding 9 (#9): a line's workload identity was useless in the cluster (default-deny left no path to STS,
Entra ID or the GKE metadata server). Each line with an identity now has exactly one path there, for the pods
labelled for the identity; every other pod of the line, and every line without an identity, still reaches
nothing — replayed against all of the line's NetworkPolicies as the program registers them."""

from __future__ import annotations

from typing import Any

import pytest

from components.config.loader import load_factory_config
from components.core.contracts import METADATA_IDENTITY_DISTRIBUTIONS, WORKLOAD_IDENTITY_POD_LABELS
from components.identity.egress import POLICY_NAME, identity_endpoints
from components.verification import cluster_wide
from offline import render
from offline.harness import Recording
from tests.support.factories import secure_raw
from tests.support.netpol import Endpoint, allowed
from tests.support.runs import Runs

NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
APP = {"app.kubernetes.io/name": "mes-api"}


def policies(recording: Recording) -> list[dict[str, Any]]:
    return [render.manifest(r) for r in recording.of_type(NETPOL)]


def pod(namespace: str, *, identity: bool) -> Endpoint:
    labels = {**APP, **(WORKLOAD_IDENTITY_POD_LABELS if identity else {})}
    return Endpoint("10.42.0.17", namespace, labels)


@pytest.fixture(scope="module")
def aws(runs: Runs) -> list[dict[str, Any]]:
    return policies(runs.main(secure_raw()))


def test_only_identity_pods_reach_sts_through_its_endpoint(aws: list[dict[str, Any]]) -> None:
    sts = Endpoint("10.20.0.15")
    assert allowed(aws, pod("line-mes", identity=True), sts, 443)
    # the attack's first step from inside: any other pod of the line (a Job the team runs) gets nothing
    assert not allowed(aws, pod("line-mes", identity=False), sts, 443)
    # and the labelled pod reaches nothing else: not STS on another port, not another address, not IMDS
    assert not allowed(aws, pod("line-mes", identity=True), sts, 80)
    assert not allowed(aws, pod("line-mes", identity=True), Endpoint("10.20.0.16"), 443)
    assert not allowed(aws, pod("line-mes", identity=True), Endpoint("169.254.169.254"), 80)


def test_lines_without_an_identity_get_no_path(aws: list[dict[str, Any]]) -> None:
    assert not allowed(aws, pod("line-press", identity=True), Endpoint("10.20.0.15"), 443)
    names = {(p["metadata"]["namespace"], p["metadata"]["name"]) for p in aws if p["metadata"]["name"] == POLICY_NAME}
    assert names == {("line-mes", POLICY_NAME)}


def test_gke_identity_pods_reach_the_metadata_server_and_no_other_pod_does(runs: Runs) -> None:
    found = policies(runs.main(secure_raw("gcp")))
    for address, port in (("169.254.169.254", 80), ("169.254.169.252", 988)):
        assert allowed(found, pod("line-mes", identity=True), Endpoint(address), port)
        assert not allowed(found, pod("line-mes", identity=False), Endpoint(address), port)


def test_azure_identity_pods_reach_entra_through_the_egress_proxy_only(runs: Runs) -> None:
    found = policies(runs.main(secure_raw("azure")))
    assert allowed(found, pod("line-mes", identity=True), Endpoint("10.30.0.4"), 443)
    assert not allowed(found, pod("line-mes", identity=False), Endpoint("10.30.0.4"), 443)
    # login.microsoftonline.com's public addresses stay closed: the proxy is the one way out
    assert not allowed(found, pod("line-mes", identity=True), Endpoint("20.190.160.1"), 443)


def test_the_path_selects_the_identity_label_and_only_opens_egress(aws: list[dict[str, Any]]) -> None:
    policy = next(p for p in aws if p["metadata"]["name"] == POLICY_NAME)
    assert policy["spec"]["podSelector"] == {"matchLabels": WORKLOAD_IDENTITY_POD_LABELS}
    assert policy["spec"]["policyTypes"] == ["Egress"] and "ingress" not in policy["spec"]


def test_the_cluster_wide_metadata_deny_never_cuts_an_identity_path() -> None:
    # GKE serves Workload Identity at the metadata address: segmentation's cluster-wide deny of that address is
    # never rendered there, whatever enforces NetworkPolicy (core/contracts.py METADATA_IDENTITY_DISTRIBUTIONS)
    for distribution in METADATA_IDENTITY_DISTRIBUTIONS:
        assert not [e for e in cluster_wide.RENDERERS if cluster_wide.supported(distribution, e)], distribution
    # elsewhere it is, and the identity path never uses the metadata address
    assert cluster_wide.supported("eks", "calico")
    for cloud in ("aws", "azure"):
        config = load_factory_config(secure_raw(cloud))
        assert all(not cidr.startswith("169.254.") for cidr, _ in identity_endpoints(config.cluster("cloud")))
