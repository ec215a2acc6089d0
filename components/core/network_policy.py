"""The NetworkPolicy shapes every zone shares — a production line, a platform add-on's namespace, and the
segmentation canary that proves on the cluster that such a zone is enforced: default deny in both directions,
DNS to the cluster's DNS pods only, and peers named by the namespace label Kubernetes itself sets (the only one
a NetworkPolicy can trust). All three build from here, so the canary tests the zone a line gets."""

from __future__ import annotations

import copy
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


def namespace_peer(namespace: str, pod_selector: Manifest | None = None) -> Manifest:
    """Pods of one namespace (all, or those `pod_selector` selects): namespace and pod selector in one peer,
    so both must match."""
    peer: Manifest = {"namespaceSelector": {"matchLabels": {vocab.NAMESPACE_NAME: namespace}}}
    if pod_selector:
        peer["podSelector"] = copy.deepcopy(dict(pod_selector))
    return peer


def labels_selector(labels: Mapping[str, str]) -> Manifest:
    return {"matchLabels": dict(labels)}


def dns_rule() -> Manifest:
    """The egress rule to the cluster's DNS pods, UDP and TCP 53."""
    return {
        "to": [namespace_peer(DNS_NAMESPACE, labels_selector(DNS_POD_LABELS))],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    }


def default_deny() -> Manifest:
    """Nothing in, nothing out: every other policy of the zone opens one path."""
    return {"policyTypes": ["Ingress", "Egress"]}


def allow_dns() -> Manifest:
    """Name resolution, from the cluster's DNS pods only (not the node's resolver, not the internet)."""
    return {"policyTypes": ["Egress"], "egress": [dns_rule()]}
