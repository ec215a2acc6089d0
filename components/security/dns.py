"""CoreDNS settings of a k3s or RKE2 cluster from `site.dns`: `cluster.local` from the API, the plant's zones
from the plant's name servers, every other name from the site's filtering resolvers only — so a pod cannot
tunnel data out through names the filter refuses. Pure builders; `make plan` writes them, with where each goes,
to build/<stack>/node-config/<cluster>/dns/ (offline/node_config.py), next to the API server flags.

The distributions ship and own CoreDNS, so the settings are files their own mechanisms read:
- k3s: its Corefile forwards to `/etc/resolv.conf` of the CoreDNS pod (`dnsPolicy: Default`), which the kubelet
  builds from the file its `resolv-conf` option names — on every node (agents too), a file listing only the
  filtering resolvers; a Corefile has one `forward` per server block, so the plant's zones are extra server blocks
  in the `coredns-custom` ConfigMap k3s imports (`import /etc/coredns/custom/*.server`), deployed from a server's
  auto-deploy manifests directory.
- RKE2: a `HelmChartConfig` for its `rke2-coredns` chart, whose `servers` value replaces the chart's: the chart's
  default `.` server block with `forward` to the resolvers, and one server block per zone.
"""

from __future__ import annotations

from typing import Any

import yaml

from components.config.site_dns import CLUSTER_DOMAIN, DnsZone, SiteDnsConfig
from components.core.kube import Manifest

K3S_RESOLV_CONF = "/etc/rancher/k3s/factory-floor-resolv.conf"
MANIFEST_DIRS = {"k3s": "/var/lib/rancher/k3s/server/manifests", "rke2": "/var/lib/rancher/rke2/server/manifests"}
CUSTOM_CONFIGMAP = "coredns-custom"  # k3s mounts it (optional) at /etc/coredns/custom
RKE2_CHART = "rke2-coredns"
DNS_NAMESPACE = "kube-system"
CACHE_S = 30


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (Corefile blocks, valuesContent) as literal blocks: readable as the Corefile they are."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _text)


def dump_yaml(document: object) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, default_flow_style=False)


def resolv_conf(dns: SiteDnsConfig) -> str:
    """The resolver file the k3s kubelet hands CoreDNS: the filtering resolvers and nothing else (no search
    domains: CoreDNS forwards fully qualified names)."""
    return "".join(f"nameserver {address}\n" for address in dns.resolvers)


def k3s_node_config() -> dict[str, str]:
    """The k3s option every node needs (servers and agents: CoreDNS may run on any of them)."""
    return {"resolv-conf": K3S_RESOLV_CONF}


def zone_block(zone: DnsZone) -> str:
    """A Corefile server block answering one plant zone from its name servers only."""
    return f"{zone.name}:53 {{\n    errors\n    cache {CACHE_S}\n    forward . {' '.join(zone.servers)}\n}}\n"


def k3s_coredns_custom(dns: SiteDnsConfig) -> Manifest:
    """The `coredns-custom` ConfigMap: one `<zone>.server` key per plant zone."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": CUSTOM_CONFIGMAP, "namespace": DNS_NAMESPACE},
        "data": {f"{zone.name}.server": zone_block(zone) for zone in dns.zones},
    }


def _plugin(name: str, parameters: str | None = None, config_block: str | None = None) -> dict[str, str]:
    plugin = {"name": name}
    if parameters is not None:
        plugin["parameters"] = parameters
    if config_block is not None:
        plugin["configBlock"] = config_block
    return plugin


def rke2_servers(dns: SiteDnsConfig) -> list[dict[str, Any]]:
    """The chart's `servers`: its default `.` block (health and ready serve the probes, prometheus the metrics)
    with `forward` to the filtering resolvers, then one block per plant zone."""
    root = [
        _plugin("errors"),
        _plugin("health", config_block="lameduck 5s"),
        _plugin("ready"),
        _plugin(
            "kubernetes",
            f"{CLUSTER_DOMAIN} in-addr.arpa ip6.arpa",
            "pods insecure\nfallthrough in-addr.arpa ip6.arpa\nttl 30",
        ),
        _plugin("prometheus", "0.0.0.0:9153"),
        _plugin("forward", f". {' '.join(dns.resolvers)}"),
        _plugin("cache", str(CACHE_S)),
        _plugin("loop"),
        _plugin("reload"),
        _plugin("loadbalance"),
    ]
    servers: list[dict[str, Any]] = [{"zones": [{"zone": "."}], "port": 53, "plugins": root}]
    for zone in dns.zones:
        plugins = [_plugin("errors"), _plugin("cache", str(CACHE_S)), _plugin("forward", f". {' '.join(zone.servers)}")]
        servers.append({"zones": [{"zone": f"{zone.name}."}], "port": 53, "plugins": plugins})
    return servers


def rke2_coredns_config(dns: SiteDnsConfig) -> Manifest:
    return {
        "apiVersion": "helm.cattle.io/v1",
        "kind": "HelmChartConfig",
        "metadata": {"name": RKE2_CHART, "namespace": DNS_NAMESPACE},
        "spec": {"valuesContent": dump_yaml({"servers": rke2_servers(dns)})},
    }
