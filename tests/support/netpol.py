"""A small NetworkPolicy judge (networking.k8s.io/v1 semantics for what our builders render: matchLabels and
matchExpressions, namespace selectors by the kubernetes.io/metadata.name label, ipBlocks, TCP/UDP ports), to replay a
connection a compromised pod would try against the policies of both ends.

An ipBlock is taken to match pod addresses too: whether it does is left to the implementation by the API, so
the judge assumes the more permissive reading, as an attacker would hope for."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

NAMESPACE_NAME = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class Endpoint:
    """A pod (namespace set) or an address outside the cluster (namespace None)."""

    ip: str
    namespace: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)


def _expression(expression: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
    if operator == "In":
        return labels.get(key) in values
    if operator == "NotIn":
        return labels.get(key) not in values
    if operator == "Exists":
        return key in labels
    assert operator == "DoesNotExist", f"unknown selector operator {operator}"
    return key not in labels


def _selects(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    wanted = (selector or {}).get("matchLabels") or {}
    expressions = (selector or {}).get("matchExpressions") or []
    return all(labels.get(k) == v for k, v in wanted.items()) and all(_expression(e, labels) for e in expressions)


def _peer_matches(peer: Mapping[str, Any], other: Endpoint, own_namespace: str) -> bool:
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        address = ipaddress.ip_address(other.ip)
        network = ipaddress.ip_network(block["cidr"])
        excepted = any(address in ipaddress.ip_network(e) for e in block.get("except", []))
        return address.version == network.version and address in network and not excepted
    if other.namespace is None:
        return False  # pod and namespace selectors select pods only
    if "namespaceSelector" in peer:
        if not _selects(peer["namespaceSelector"], {NAMESPACE_NAME: other.namespace}):
            return False
    elif other.namespace != own_namespace:
        return False
    return _selects(peer.get("podSelector"), other.labels)


def _port_matches(ports: list[Mapping[str, Any]] | None, port: int, protocol: str) -> bool:
    if not ports:
        return True
    return any(p.get("protocol", "TCP") == protocol and p.get("port") in (None, port) for p in ports)


def _side_allows(
    policies: Iterable[Mapping[str, Any]], pod: Endpoint, other: Endpoint, port: int, protocol: str, *, kind: str
) -> bool:
    assert pod.namespace is not None
    rules_key, peers_key = ("egress", "to") if kind == "Egress" else ("ingress", "from")
    selecting = [
        p
        for p in policies
        if p["metadata"]["namespace"] == pod.namespace
        and _selects(p["spec"].get("podSelector"), pod.labels)
        and kind in p["spec"].get("policyTypes", [])
    ]
    if not selecting:
        return True  # no policy isolates this pod in this direction
    for policy in selecting:
        for rule in policy["spec"].get(rules_key, []):
            peers = rule.get(peers_key)
            peer_ok = not peers or any(_peer_matches(peer, other, pod.namespace) for peer in peers)
            if peer_ok and _port_matches(rule.get("ports"), port, protocol):
                return True
    return False


def allowed(
    policies: Iterable[Mapping[str, Any]], source: Endpoint, target: Endpoint, port: int, protocol: str = "TCP"
) -> bool:
    """Whether a connection from `source` to `target`:port gets through both ends' policies."""
    found = list(policies)
    egress = source.namespace is None or _side_allows(found, source, target, port, protocol, kind="Egress")
    ingress = target.namespace is None or _side_allows(found, target, source, port, protocol, kind="Ingress")
    return egress and ingress
