"""The one network path a line's workload identity needs: from the line's pods labelled for the identity
(`WORKLOAD_IDENTITY_POD_LABELS`) to the cloud's identity endpoint, and nowhere else. Without it the line's
default-deny keeps every pod from STS, Entra ID or the GKE metadata server, and the identity is useless in the
cluster; with a wider rule every pod of the line could reach the endpoint.

- AWS: AWS STS (`AssumeRoleWithWebIdentity`) through the cluster VPC's STS interface endpoint, TCP 443, at the
  addresses `workloadIdentity.aws.stsEndpointCidrs` lists.
- Azure: Entra ID's token endpoint (`login.microsoftonline.com`), TCP 443. A NetworkPolicy cannot name a host, so
  the path goes to the egress firewall or proxy `workloadIdentity.azure.entraEndpointCidrs` lists.
- GKE: the GKE metadata server, which answers Workload Identity on 169.254.169.254:80; an iptables data plane
  (Dataplane V1, Calico) rewrites that to the node's 169.254.169.252:988 before NetworkPolicy is evaluated, so
  both are opened. On GKE the metadata address is the identity path (core/contracts.py
  METADATA_IDENTITY_DISTRIBUTIONS): no cluster-wide deny of it is rendered there.

A pure builder; ProductionLine registers the policy in the line's namespace.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from components.config.factory import ClusterConfig
from components.core.contracts import METADATA_IDENTITY_DISTRIBUTIONS, WORKLOAD_IDENTITY_POD_LABELS
from components.core.kube import Manifest

POLICY_NAME = "allow-identity-endpoint"
HTTPS = 443
# the GKE metadata server: the address pods use, and where an iptables data plane has sent it before policy
GKE_METADATA_SERVER = (("169.254.169.254/32", 80), ("169.254.169.252/32", 988))


def identity_endpoints(cluster: ClusterConfig) -> list[tuple[str, int]]:
    """(CIDR, TCP port) of the cluster's identity endpoint; empty when the cluster federates with no cloud."""
    identity = cluster.workload_identity
    if identity is None:
        return []
    if identity.gcp is not None and cluster.distribution in METADATA_IDENTITY_DISTRIBUTIONS:
        return list(GKE_METADATA_SERVER)
    if identity.aws is not None:
        return [(cidr, HTTPS) for cidr in identity.aws.sts_endpoint_cidrs]
    if identity.azure is not None:
        return [(cidr, HTTPS) for cidr in identity.azure.entra_endpoint_cidrs]
    return []  # refused by config validation (GKE Workload Identity off GKE)


def identity_egress_policy(cluster: ClusterConfig, namespace: str, labels: Mapping[str, str]) -> Manifest | None:
    """The NetworkPolicy that opens the identity endpoint to the namespace's identity pods only; None when
    there is no endpoint to open."""
    by_port: dict[int, list[str]] = defaultdict(list)
    for cidr, port in identity_endpoints(cluster):
        by_port[port].append(cidr)
    if not by_port:
        return None
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": POLICY_NAME, "namespace": namespace, "labels": dict(labels)},
        "spec": {
            "podSelector": {"matchLabels": dict(WORKLOAD_IDENTITY_POD_LABELS)},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [{"ipBlock": {"cidr": cidr}} for cidr in sorted(cidrs)],
                    "ports": [{"protocol": "TCP", "port": port}],
                }
                for port, cidrs in sorted(by_port.items())
            ],
        },
    }
