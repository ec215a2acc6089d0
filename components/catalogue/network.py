"""What an add-on's pods may reach and be reached by — everything else is denied, both ways.

Every catalogue add-on declares its `NetworkNeeds` on its entry (`AddOn.network`), and one builder turns them
into its namespace's NetworkPolicies: a default deny over every pod, then one policy per declared path. A
platform component is tier 0 (Falco sees every syscall, External Secrets holds every line's secrets,
Gatekeeper judges every object): a compromised one must not become a way into the lines, the plant network or
the internet. A NetworkPolicy can name pods and namespaces, and addresses — never a host name — so a path to
something outside the cluster (Vault, a webhook, a registry) is held to its port, and to its addresses where
the stack names them; the plan's bundle lists every such path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from components.config.api_server import api_server_addresses, api_server_ports
from components.config.factory import ClusterConfig
from components.core.kube import Manifest
from components.core.network_policy import DEFAULT_DENY, default_deny, dns_rule, namespace_peer

ANY_ADDRESS = ("0.0.0.0/0", "::/0")


@dataclass(frozen=True)
class ApiServer:
    """The cluster's API server: its addresses from `clusters[].apiServer` (or any address), its ports by
    distribution. As a source: the API server calling an admission webhook."""


@dataclass(frozen=True)
class ClusterDns:
    """CoreDNS (kube-system, k8s-app=kube-dns), UDP and TCP 53."""


@dataclass(frozen=True)
class OwnPods:
    """Pods of the same add-on (its namespace), selected by their labels."""

    labels: Mapping[str, str]


@dataclass(frozen=True)
class Namespace:
    """Pods of another namespace (a line's, kube-system's), all or those with `pods` labels: Prometheus scraping
    them. The other side must admit the connection too (a line admits Prometheus on its metrics port)."""

    name: str
    pods: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class External:
    """A host outside the cluster: `what` it is, its TCP ports, and its addresses when the stack names them
    (empty: any address — NetworkPolicy cannot name a host)."""

    what: str
    ports: tuple[int, ...]
    cidrs: tuple[str, ...] = ()


Peer = ApiServer | ClusterDns | OwnPods | Namespace | External


@dataclass(frozen=True)
class Path:
    """One permitted connection of some of the add-on's pods (`pods`: their labels; empty: all of them)."""

    name: str  # part of the policy's name: <add-on>-<direction>-<name>
    direction: Literal["egress", "ingress"]
    peer: Peer
    why: str
    ports: tuple[int, ...] = ()  # TCP ports on the add-on's side (ingress) or the peer's (own pods)
    pods: Mapping[str, str] = field(default_factory=dict)
    udp: tuple[int, ...] = ()  # UDP ports besides (own pods and namespaces: Alertmanager's cluster gossip)


@dataclass(frozen=True)
class NetworkNeeds:
    """Everything an add-on's pods need on the network; an empty one (kube-bench) needs nothing at all."""

    paths: tuple[Path, ...] = ()


def _tcp(ports: tuple[int, ...], udp: tuple[int, ...] = ()) -> list[Manifest]:
    return [{"protocol": "TCP", "port": port} for port in ports] + [{"protocol": "UDP", "port": port} for port in udp]


def _blocks(cidrs: tuple[str, ...]) -> list[Manifest]:
    return [{"ipBlock": {"cidr": cidr}} for cidr in cidrs]


def _rule(path: Path, cluster: ClusterConfig) -> Manifest:
    """The egress or ingress rule of one path: its peers and ports."""
    peer = path.peer
    if isinstance(peer, ApiServer):
        ports = (
            path.ports if path.direction == "ingress" else api_server_ports(cluster.distribution, cluster.api_server)
        )
        peers, rule_ports = _blocks(api_server_addresses(cluster.api_server)), _tcp(ports)
    elif isinstance(peer, ClusterDns):
        return dns_rule()
    elif isinstance(peer, OwnPods):
        peers, rule_ports = [{"podSelector": {"matchLabels": dict(peer.labels)}}], _tcp(path.ports, path.udp)
    elif isinstance(peer, Namespace):
        peers = [namespace_peer(peer.name, {"matchLabels": dict(peer.pods)} if peer.pods else None)]
        rule_ports = _tcp(path.ports, path.udp)
    else:
        peers, rule_ports = _blocks(peer.cidrs or ANY_ADDRESS), _tcp(peer.ports)
    return {"to" if path.direction == "egress" else "from": peers, "ports": rule_ports}


def _policy(name: str, namespace: str, labels: Mapping[str, str], pods: Mapping[str, str], body: Manifest) -> Manifest:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {"podSelector": {"matchLabels": dict(pods)} if pods else {}, **body},
    }


def network_policies(
    namespace: str, needs: Mapping[str, NetworkNeeds], cluster: ClusterConfig, labels: Mapping[str, str]
) -> list[Manifest]:
    """A namespace's default deny, then one policy per path of each add-on in it (add-on name -> its needs),
    named after its add-on so add-ons sharing a namespace never collide."""
    policies = [_policy(DEFAULT_DENY, namespace, labels, {}, default_deny())]
    for addon, found in sorted(needs.items()):
        for path in found.paths:
            kind = "Egress" if path.direction == "egress" else "Ingress"
            body = {"policyTypes": [kind], path.direction: [_rule(path, cluster)]}
            name = f"{addon}-{path.direction}-{path.name}"
            policies.append(_policy(name, namespace, labels, path.pods, body))
    return policies


def describe(path: Path, cluster: ClusterConfig) -> str:
    """One line for the plan's bundle: what this path opens, and how narrowly."""
    rule = _rule(path, cluster)
    peers = rule.get("to") or rule.get("from") or []
    ports = ",".join(f"{p['port']}" + ("/udp" if p["protocol"] == "UDP" else "") for p in rule["ports"])
    blocks = [p["ipBlock"]["cidr"] for p in peers if "ipBlock" in p]
    where = "any address" if set(blocks) >= set(ANY_ADDRESS) else ", ".join(blocks) if blocks else _peer_name(path.peer)
    arrow = "to" if path.direction == "egress" else "from"
    return f"{path.direction} {arrow} {_peer_name(path.peer)} ({where}) on {ports}: {path.why}"


def _peer_name(peer: Peer) -> str:
    if isinstance(peer, ApiServer):
        return "the API server"
    if isinstance(peer, ClusterDns):
        return "cluster DNS"
    if isinstance(peer, OwnPods):
        return "own pods " + ",".join(f"{k}={v}" for k, v in sorted(peer.labels.items()))
    if isinstance(peer, Namespace):
        pods = ",".join(f"{k}={v}" for k, v in sorted(peer.pods.items()))
        return f"namespace {peer.name}" + (f" pods {pods}" if pods else "")
    return peer.what
