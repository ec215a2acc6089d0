"""The CoreDNS settings of each k3s/RKE2 cluster (components/security/dns.py) as files for the platform team:
build/<stack>/node-config/<cluster>/dns/, each with a header saying where it goes. The distributions own CoreDNS,
so the program cannot apply these; a cluster whose stack sets no `site.dns` keeps CoreDNS forwarding to its
nodes' resolvers, and the plan says so."""

from __future__ import annotations

from pathlib import Path

from components.config.factory import ClusterConfig
from components.config.site_dns import SiteDnsConfig
from components.security import dns

DNS_DIR = "dns"


def _header(where: str, then: str) -> str:
    return (
        "# Written by `make plan` (offline/node_dns.py) from site.dns: do not edit here, change the stack and plan\n"
        "# again.\n"
        f"# Where: {where}\n# Then: {then}\n"
    )


def _yaml(document: object) -> str:
    return dns.dump_yaml(document)


def k3s_files(settings: SiteDnsConfig) -> dict[str, str]:
    manifests = dns.MANIFEST_DIRS["k3s"]
    return {
        "factory-floor-resolv.conf": _header(
            f"{dns.K3S_RESOLV_CONF} on EVERY node (servers and agents: CoreDNS may run on any of them).",
            "the option file below points the kubelet at it.",
        )
        + dns.resolv_conf(settings),
        "60-factory-floor-dns.yaml": _header(
            "/etc/rancher/k3s/config.yaml.d/60-factory-floor-dns.yaml on EVERY node.",
            "restart k3s (servers) or k3s-agent (agents) one node at a time; CoreDNS pods started afterwards forward "
            "only to the filtering resolvers (`kubectl -n kube-system rollout restart deploy/coredns`).",
        )
        + _yaml(dns.k3s_node_config()),
        "coredns-custom.yaml": _header(
            f"{manifests}/factory-floor-coredns-custom.yaml on ONE server (k3s applies what that directory holds).",
            "`kubectl -n kube-system rollout restart deploy/coredns` (a new import is not a Corefile change).",
        )
        + _yaml(dns.k3s_coredns_custom(settings)),
    }


def rke2_files(settings: SiteDnsConfig) -> dict[str, str]:
    manifests = dns.MANIFEST_DIRS["rke2"]
    return {
        "rke2-coredns-config.yaml": _header(
            f"{manifests}/rke2-coredns-config.yaml on the servers (RKE2 applies what that directory holds); if a "
            "HelmChartConfig rke2-coredns exists already, merge its valuesContent into this one instead.",
            "RKE2's helm controller upgrades the rke2-coredns release with these values.",
        )
        + _yaml(dns.rke2_coredns_config(settings)),
    }


RENDERERS = {"k3s": k3s_files, "rke2": rke2_files}


def write_dns(directory: Path, cluster: ClusterConfig, settings: SiteDnsConfig | None) -> str | None:
    """The files of one cluster under `directory`; the line `make plan` prints, or None (not a k3s/RKE2 cluster)."""
    render = RENDERERS.get(cluster.distribution)
    if render is None:
        return None
    if settings is None:
        return (
            f"{cluster.name} ({cluster.distribution}): no DNS settings (site.dns unset): CoreDNS forwards every name "
            "to the nodes' resolvers"
        )
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in render(settings).items():
        (directory / name).write_text(text)
    return f"{cluster.name} ({cluster.distribution}): wrote {directory}/ (CoreDNS forwards only to site.dns)"
