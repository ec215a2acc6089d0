"""A cluster-wide deny of the instance metadata service for every line namespace, where the cluster's
NetworkPolicy implementation has cluster-wide policies: Calico's GlobalNetworkPolicy (calico, canal) and
Cilium's CiliumClusterwideNetworkPolicy (cilium).

A line's own default-deny already keeps its pods from 169.254.169.254 and fd00:ec2::254; this second layer
holds even if a line namespace ever gets a policy that allows wider egress, because an explicit deny wins over
every allow (Calico evaluates this policy, order 10, before the Kubernetes policies, order 1000; Cilium applies
deny rules before allow rules). It only adds denial, so selecting namespaces by name is safe, and the names
come from the stack (every line on the cluster, plus the canary's probing zone so the canary exercises it too).

Their CRDs come with the CNI, not with an add-on of ours: they are plain manifests of the canary add-on, not
brought resources (nothing of ours creates their CRD). Not rendered on GKE and AKS, whose managed data planes
(Dataplane V2, Azure's Calico and Cilium) offer the Kubernetes NetworkPolicy API, not these CRDs, as their
supported interface; there the line's default-deny is the control, and the canary proves it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from components.catalogue.model import ClusterContext, Manifest
from components.core.contracts import METADATA_IDENTITY_DISTRIBUTIONS

METADATA_V4 = "169.254.169.254"  # EC2, Azure IMDS, GCE metadata server, OpenStack
METADATA_V6 = "fd00:ec2::254"  # EC2's IPv6 instance metadata endpoint (Nitro)
NAME = "factory-floor-deny-instance-metadata"
# distributions whose CNI the platform team installs and owns (a managed data plane is left to its provider)
SELF_MANAGED = frozenset({"k3s", "rke2", "eks", "generic"})
# Calico's backend names a policy of the default tier `default.<name>` (what its API server would store); a
# plain `kubectl apply` without the Calico API server can only use the crd.projectcalico.org/v1 CRD
CALICO_API = "crd.projectcalico.org/v1"
CALICO_ORDER = 10  # before the Kubernetes NetworkPolicies, which Calico orders at 1000
CILIUM_API = "cilium.io/v2"


def calico_policy(namespaces: Sequence[str], labels: Mapping[str, str]) -> Manifest:
    names = ", ".join(f"'{namespace}'" for namespace in namespaces)
    return {
        "apiVersion": CALICO_API,
        "kind": "GlobalNetworkPolicy",
        "metadata": {"name": f"default.{NAME}", "labels": dict(labels)},
        "spec": {
            "order": CALICO_ORDER,
            # every workload endpoint carries its namespace as this label
            "selector": f"projectcalico.org/namespace in {{{names}}}",
            "types": ["Egress"],
            "egress": [
                {"action": "Deny", "ipVersion": 4, "destination": {"nets": [f"{METADATA_V4}/32"]}},
                {"action": "Deny", "ipVersion": 6, "destination": {"nets": [f"{METADATA_V6}/128"]}},
            ],
        },
    }


def cilium_policy(namespaces: Sequence[str], labels: Mapping[str, str]) -> Manifest:
    return {
        "apiVersion": CILIUM_API,
        "kind": "CiliumClusterwideNetworkPolicy",
        "metadata": {"name": NAME, "labels": dict(labels)},
        "spec": {
            "description": "Line namespaces never reach the instance metadata service (factory-floor).",
            "endpointSelector": {
                "matchExpressions": [
                    {"key": "k8s:io.kubernetes.pod.namespace", "operator": "In", "values": list(namespaces)}
                ]
            },
            "egressDeny": [{"toCIDR": [f"{METADATA_V4}/32", f"{METADATA_V6}/128"]}],
        },
    }


RENDERERS: Mapping[str, Callable[[Sequence[str], Mapping[str, str]], Manifest]] = {
    "calico": calico_policy,
    "canal": calico_policy,
    "cilium": cilium_policy,
}


def supported(distribution: str, enforcer: str | None) -> bool:
    # where the metadata address is a line's identity endpoint (GKE), denying it would cut the identity path
    # (core/contracts.py); SELF_MANAGED leaves GKE out already, this keeps it out if that list ever grows
    if distribution in METADATA_IDENTITY_DISTRIBUTIONS:
        return False
    return distribution in SELF_MANAGED and enforcer in RENDERERS


def metadata_deny(ctx: ClusterContext, probe_namespace: str, labels: Mapping[str, str]) -> list[Manifest]:
    """The cluster-wide deny for this cluster's line namespaces and the canary's probing zone, or nothing
    where its implementation has no cluster-wide policy we may use."""
    cluster = ctx.cluster
    enforcer = cluster.network_policy_enforcer
    if enforcer is None or not supported(cluster.distribution, enforcer):
        return []
    namespaces = sorted({line.namespace for line in ctx.factory.lines_on(cluster.name)} | {probe_namespace})
    return [RENDERERS[enforcer](namespaces, labels)]
