"""How pods reach a cluster's API server, for the NetworkPolicies of the platform's own namespaces.

A NetworkPolicy cannot select the API server by label: it is not a pod (k3s and RKE2 run it in the server
process, managed clusters outside the cluster's network). Pods reach it through the `kubernetes` Service
(ClusterIP, port 443), whose endpoints are the API server's own addresses and port; whether a NetworkPolicy
implementation judges a connection before or after that Service address is translated differs between
implementations, so an egress rule must allow both the Service address and the endpoints."""

from __future__ import annotations

from pydantic import Field

from components.config.types import Cidr, Distribution, Port, StrictModel

SERVICE_PORT = 443  # the `kubernetes` Service's port on every distribution
# the port the API server's endpoints listen on (the `kubernetes` Service's targetPort)
ENDPOINT_PORTS: dict[str, int] = {"k3s": 6443, "rke2": 6443, "eks": 443, "gke": 443, "aks": 443, "generic": 6443}
# where nothing narrower is known: any address, on the API server's ports only
ANY_ADDRESS = ("0.0.0.0/0", "::/0")


class ApiServerConfig(StrictModel):
    addresses: list[Cidr] = Field(
        min_length=1,
        description=(
            "The addresses pods reach the API server at, as CIDR blocks: the `kubernetes` Service's ClusterIP "
            "(10.43.0.1/32 on k3s and RKE2 by default) and the API server's endpoints (`kubectl get endpointslices "
            "-n default -l kubernetes.io/service-name=kubernetes`: the server nodes on k3s and RKE2, the control "
            "plane's addresses in the VPC on EKS, GKE and AKS). List both: NetworkPolicy implementations differ in "
            "which of the two they judge. Platform namespaces may reach only these addresses on the API server's "
            "ports, and admission webhooks accept calls only from them."
        ),
    )
    port: Port | None = Field(
        default=None,
        description=(
            "The port of the API server's endpoints; unset: 6443 on k3s, RKE2 and generic, 443 on EKS, GKE, AKS."
        ),
    )


def api_server_ports(distribution: Distribution, config: ApiServerConfig | None) -> tuple[int, ...]:
    endpoint = config.port if config and config.port else ENDPOINT_PORTS[distribution]
    return tuple(sorted({SERVICE_PORT, endpoint}))


def api_server_addresses(config: ApiServerConfig | None) -> tuple[str, ...]:
    return tuple(config.addresses) if config else ANY_ADDRESS
