"""Config fixtures: a small valid factory as the raw dict a stack file would hold, and ways to bend it."""

from __future__ import annotations

import copy
import json
from typing import Any

from components.config.types import PROJECT

ALERTING = {
    "page": {"kind": "pagerduty", "remoteKey": "pagerduty-oncall"},
    "ticket": {"kind": "slack", "remoteKey": "slack-queue", "channel": "#queue"},
}


def valid_raw() -> dict[str, Any]:
    return {
        "environment": "production",
        "factory": {"name": "testwerk", "site": "Test Plant", "region": "eu-central-1", "timezone": "Europe/Berlin"},
        "clusters": [
            {
                "name": "edge",
                "distribution": "k3s",
                "kubernetesVersion": "1.32",
                "profile": "edge-small",
                "kubeconfig": {"secretKey": "edgeKubeconfig"},
            },
            {
                "name": "cloud",
                "distribution": "eks",
                "kubernetesVersion": "1.33",
                "profile": "cloud",
                "networkPolicy": "aws-network-policy-agent",
                "kubeconfig": {"secretKey": "cloudKubeconfig"},
            },
        ],
        "teams": [
            {"name": "press-team", "idpGroups": ["press-engineers"], "alerting": ALERTING},
            {"name": "digital", "idpGroups": ["digital-a", "digital-b"], "alerting": ALERTING},
        ],
        # production: the edge-small cell runs no Alertmanager, so its alerts go to the hub's
        "observability": {
            "alerting": {"platformTeam": "digital"},
            "hub": {
                "remoteWrite": "https://metrics.hub.example.com/api/v1/write",
                "alertmanagers": ["https://alertmanager.hub.example.com"],
            },
        },
        "lines": [
            {
                "name": "press",
                "cluster": "edge",
                "team": "press-team",
                "criticality": "critical",
                "flows": [{"to": "weld", "ports": [4840], "protocol": "TCP"}],
            },
            {"name": "weld", "cluster": "edge", "team": "press-team"},
            {"name": "mes", "cluster": "cloud", "team": "digital", "sloTarget": 99.9, "chaosOptIn": True},
        ],
        # Vault: the k3s cluster's Velero writes to the stores with credentials External Secrets copies from it
        "security": {
            "gatekeeper": {"allowedImages": ["registry.plant.local/lines/*"]},
            "vault": {"server": "https://vault.plant.local:8200"},
        },
        # production with a k3s cluster: its CoreDNS forwards only to the site's filtering resolver
        "site": {"dns": {"resolvers": ["10.10.0.53"], "zones": [{"name": "plant.local", "servers": ["10.10.0.10"]}]}},
        # production: immutable copies on two clouds, every line backed up within its RPO
        "backup": {
            "aws": {"accountId": "123456789012", "region": "eu-central-1"},
            "azure": {
                "subscriptionId": "00000000-0000-4000-8000-000000000001",
                "tenantId": "00000000-0000-4000-8000-0000000000aa",
                "resourceGroup": "testwerk-backup",
                "location": "westeurope",
            },
            # the k3s cluster's etcd, encrypted on its servers to a public key and uploaded to the AWS store
            "etcd": {"recipients": ["age1j2zjzd2st6gjstjtxn22x6guxduy9ev3340sn7y4nvp93lpay5nqxrjp53"], "store": "aws"},
            "policies": [
                {"name": "critical", "criticality": ["critical"], "schedule": "0 * * * *"},
                {"name": "lines", "criticality": ["standard", "high"], "schedule": "15 */4 * * *"},
            ],
        },
        "edgeKubeconfig": "[secret]",
        "cloudKubeconfig": "[secret]",
    }


def mutate(raw: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Return a copy with `path` ('lines.0.cluster') set to value; value DELETE removes the key."""
    result = copy.deepcopy(raw)
    *parents, last = path.split(".")
    node: Any = result
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key: Any = int(last) if isinstance(node, list) else last
    if value is DELETE:
        del node[key]
    else:
        node[key] = value
    return result


DELETE = object()


def pulumi_config(raw: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """The raw dict as the engine hands it to a program: full keys, JSON text, secret key list."""
    config: dict[str, str] = {}
    secrets: list[str] = []
    for key, value in raw.items():
        full = f"{PROJECT}:{key}"
        if value == "[secret]":
            config[full] = f"kubeconfig-for-{key}"
            secrets.append(full)
        else:
            config[full] = value if isinstance(value, str) else json.dumps(value)
    return config, secrets


MIRROR = "harbor.plant.local/mirror"
AWS = {
    "accountId": "123456789012",
    "region": "eu-central-1",
    "oidcIssuer": "https://oidc.eks.example.com/id/ABC",
    "stsEndpointCidrs": ["10.20.0.15/32", "10.20.1.15/32"],
    "vpcEndpoints": ["vpce-0a1b2c3d4e5f60718"],
}
GCP = {"project": "plant-analytics"}
AZURE = {
    "subscriptionId": "00000000-0000-4000-8000-000000000001",
    "tenantId": "00000000-0000-4000-8000-000000000002",
    "resourceGroup": "rg-plant",
    "location": "westeurope",
    "oidcIssuer": "https://westeurope.oic.prod-aks.azure.com/tenant/issuer/",
    "entraEndpointCidrs": ["10.30.0.4/32"],
}


def secure_raw(cloud: str = "aws", identity: dict[str, Any] | None = None, mirror: bool = True) -> dict[str, Any]:
    """valid_raw with the cloud cluster federating identities, Vault, a line secret and (by default) mirrors."""
    raw = valid_raw()
    distribution = {"aws": "eks", "gcp": "gke", "azure": "aks"}[cloud]
    raw = mutate(raw, "clusters.1.distribution", distribution)
    network_policy = {"aws": "aws-network-policy-agent", "gcp": "dataplane-v2", "azure": "azure-npm"}[cloud]
    raw = mutate(raw, "clusters.1.networkPolicy", network_policy)
    raw = mutate(
        raw, "clusters.1.workloadIdentity", {cloud: identity or {"aws": AWS, "gcp": GCP, "azure": AZURE}[cloud]}
    )
    raw["security"] = {
        "gatekeeper": {"allowedImages": ["registry.plant.local/lines/*"], "enforcementAction": "deny"},
        "vault": {"server": "https://vault.plant.local:8200", "path": "plant"},
    }
    raw = mutate(raw, "lines.2.secrets", [{"name": "db", "remoteKey": "mes/db", "properties": ["user", "password"]}])
    if mirror:
        raw["site"] = {**raw["site"], "registryMirror": MIRROR, "chartMirror": "oci://harbor.plant.local/charts"}
    return raw
