"""The NetworkPolicy shapes every zone shares: a production line, and the segmentation canary that proves on
the cluster that such a zone is enforced. Default deny in both directions, DNS to the cluster's DNS pods only,
and peers named by the namespace label Kubernetes itself sets (the only one a NetworkPolicy can trust).

tests/verification/test_canary.py keeps these equal to what `lines/manifests.py` renders for a line, so the
canary always tests the zone a line gets."""

from __future__ import annotations

from collections.abc import Mapping

from components.core import vocabulary as vocab
from components.core.contracts import DNS_NAMESPACE, DNS_POD_LABELS
from components.core.kube import Manifest

DEFAULT_DENY = "default-deny"
ALLOW_DNS = "allow-dns"


def network_policy(metadata: Manifest, body: Manifest) -> Manifest:
    """A NetworkPolicy over every pod of its namespace."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata,
        "spec": {"podSelector": {}, **body},
    }


def namespace_peer(namespace: str, pod_labels: Mapping[str, str] | None = None) -> Manifest:
    peer: Manifest = {"namespaceSelector": {"matchLabels": {vocab.NAMESPACE_NAME: namespace}}}
    if pod_labels:
        peer["podSelector"] = {"matchLabels": dict(pod_labels)}
    return peer


def default_deny() -> Manifest:
    """Nothing in, nothing out: every other policy of the zone opens one path."""
    return {"policyTypes": ["Ingress", "Egress"]}


def allow_dns() -> Manifest:
    """Name resolution, from the cluster's DNS pods only (not the node's resolver, not the internet)."""
    return {
        "policyTypes": ["Egress"],
        "egress": [
            {
                "to": [namespace_peer(DNS_NAMESPACE, DNS_POD_LABELS)],
                "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
            }
        ],
    }
