"""Config of segmentation verification: `clusters[].networkPolicy`, the implementation that enforces
NetworkPolicy on a cluster, judged per distribution.

Every line's isolation is a set of NetworkPolicies, and a NetworkPolicy is only stored by the API server: the
CNI (or an agent next to it) enforces it, or nothing does. Where the distribution's own default enforces
(k3s embeds kube-router's network policy controller, RKE2's default CNI canal runs Calico's Felix), that is the
default; where it does not, or cannot be known (EKS's VPC CNI enforces nothing until its network policy agent
is on, GKE and AKS only with a policy engine chosen at creation, a generic cluster runs any CNI), the stack
must say. A value that enforces nothing is refused with the reason. What the value claims, the segmentation
canary proves on the cluster after every change (components/verification/canary.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from components.config.problems import Problems, config_path, did_you_mean, field, present

NETWORK_POLICY_KEY = "networkPolicy"

# distribution -> implementation -> where it comes from on that distribution (messages and the reference quote it)
ENFORCERS: Mapping[str, Mapping[str, str]] = {
    "k3s": {
        "kube-router": (
            "k3s's embedded network policy controller (kube-router), on unless the servers run with "
            "--disable-network-policy"
        ),
        "calico": "Calico, installed with --flannel-backend=none --disable-network-policy",
        "cilium": "Cilium, installed with --flannel-backend=none --disable-network-policy",
    },
    "rke2": {
        "canal": "RKE2's default CNI (`cni: canal`): flannel carries the traffic, Calico's Felix enforces the policies",
        "calico": "`cni: calico`",
        "cilium": "`cni: cilium`",
    },
    "eks": {
        "aws-network-policy-agent": (
            'the Amazon VPC CNI\'s network policy agent, on with enableNetworkPolicy: "true" in the vpc-cni add-on '
            "configuration (VPC CNI 1.14 or later)"
        ),
        "calico": "Calico for policy next to the VPC CNI (Tigera operator)",
        "cilium": "Cilium (ENI mode, or chained to the VPC CNI)",
    },
    "gke": {
        "dataplane-v2": "GKE Dataplane V2 (--enable-dataplane-v2; always on Autopilot)",
        "calico": "GKE network policy enforcement (--enable-network-policy), which runs Calico",
    },
    "aks": {
        "azure-npm": "Azure Network Policy Manager (--network-policy azure)",
        "calico": "Calico (--network-policy calico)",
        "cilium": "Azure CNI powered by Cilium (--network-dataplane cilium --network-policy cilium)",
    },
    "generic": {
        "antrea": "Antrea",
        "calico": "Calico",
        "canal": "Canal (flannel with Calico's policy engine)",
        "cilium": "Cilium",
        "kube-router": "kube-router with its firewall (--run-firewall)",
    },
}

# where the distribution's own default enforces, it is the default
DEFAULT_ENFORCERS: Mapping[str, str] = {"k3s": "kube-router", "rke2": "canal"}

# why the others have no default
WHY_REQUIRED: Mapping[str, str] = {
    "eks": "the Amazon VPC CNI enforces no NetworkPolicy until its network policy agent is turned on",
    "gke": "GKE enforces NetworkPolicy only with Dataplane V2 or network policy enforcement turned on",
    "aks": "AKS enforces NetworkPolicy only on clusters created with a network policy engine (--network-policy)",
    "generic": "the program cannot know which CNI a generic cluster runs",
}

# names people write that enforce nothing, and why
NOT_ENFORCING: Mapping[str, str] = {
    "flannel": (
        "flannel carries pod traffic and enforces no NetworkPolicy (k3s pairs it with kube-router, RKE2's canal with "
        "Calico for that)"
    ),
    "none": "nothing would enforce the lines' NetworkPolicies",
    "vpc-cni": (
        'the Amazon VPC CNI alone enforces none: turn on its network policy agent (enableNetworkPolicy: "true" in '
        "the vpc-cni add-on configuration) and write 'aws-network-policy-agent'"
    ),
    "kubenet": "kubenet enforces no NetworkPolicy",
    "azure-cni": "Azure CNI alone enforces none: AKS needs --network-policy azure, calico or cilium",
}

CONSEQUENCE = "every line would reach the other lines, the API server and the instance metadata service"


def effective_enforcer(distribution: str, configured: str | None) -> str | None:
    """The implementation that enforces NetworkPolicy: the configured one, else the distribution's default."""
    return configured or DEFAULT_ENFORCERS.get(distribution)


def _names(distribution: str) -> str:
    return ", ".join(ENFORCERS[distribution])


def _described(distribution: str) -> str:
    return "; ".join(f"'{name}' ({how})" for name, how in ENFORCERS[distribution].items())


def network_policy_problem(distribution: str, value: str | None) -> str | None:
    """Why `value` cannot be a `distribution` cluster's networkPolicy, or None when it can."""
    allowed = ENFORCERS[distribution]
    if value is None:
        if distribution in DEFAULT_ENFORCERS:
            return None
        return (
            f"is required on {distribution}: {WHY_REQUIRED[distribution]}; name the implementation that enforces "
            f"NetworkPolicy on this cluster, one of: {_described(distribution)}"
        )
    if value in allowed:
        return None
    if value in NOT_ENFORCING:
        return (
            f"'{value}' does not enforce NetworkPolicy ({NOT_ENFORCING[value]}): {CONSEQUENCE}; on {distribution} use "
            f"one of: {_names(distribution)}"
        )
    elsewhere = sorted(d for d, names in ENFORCERS.items() if value in names and d != "generic")
    if elsewhere:
        return (
            f"'{value}' enforces NetworkPolicy on {' and '.join(elsewhere)}, not on {distribution}; on {distribution} "
            f"use one of: {_names(distribution)}"
        )
    hint = did_you_mean(value, list(allowed)).strip()
    return (
        f"'{value}' is not an implementation known to enforce NetworkPolicy on {distribution}"
        f"{f' ({hint})' if hint else ''}; use one of: {_names(distribution)}"
    )


def network_policy_description() -> str:
    """The reference's description of the key, from the tables above (so the two cannot drift)."""
    per_distribution = "; ".join(
        f"{distribution}: "
        + ", ".join(
            f"`{name}`" + (" (default)" if DEFAULT_ENFORCERS.get(distribution) == name else "") for name in names
        )
        for distribution, names in ENFORCERS.items()
    )
    required = ", ".join(d for d in ENFORCERS if d not in DEFAULT_ENFORCERS)
    refused = ", ".join(f"`{name}`" for name in NOT_ENFORCING)
    return (
        "The implementation that enforces NetworkPolicy on this cluster — every line's segmentation rests on it, "
        "and a canary Job proves it after every change. "
        f"{per_distribution}. Required on {required}. {refused} are refused: they enforce none."
    )


def check_network_policy(clusters: Sequence[object | None], problems: Problems) -> None:
    """Each cluster names an implementation that enforces NetworkPolicy on its distribution (or keeps the
    distribution's enforcing default)."""
    reported = {problem.path for problem in problems}
    for i, cluster in present(clusters):
        distribution = field(cluster, "distribution")
        loc = ("clusters", i, NETWORK_POLICY_KEY)
        # an unknown distribution is reported at its own key; a value that failed on its own (not text, empty)
        # is reported at this key already
        if distribution not in ENFORCERS or config_path(loc) in reported:
            continue
        problem = network_policy_problem(distribution, field(cluster, "network_policy"))
        if problem is not None:
            problems.add(loc, problem)
