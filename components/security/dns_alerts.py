"""Alerts on DNS volume: a tunnel moves data as many queries for unique names, often TXT or NULL records.

What can be measured, honestly:
- **per line**: CoreDNS's metrics carry no client, so no CoreDNS metric says which namespace asked. Cilium's
  Hubble does, for clusters that run Cilium with DNS visibility: `hubble_dns_queries_total` with the label
  `source_namespace` (Cilium values `hubble.metrics.enabled: ["dns:labelsContext=source_namespace"]`, and an L7
  DNS rule on the lines' egress to kube-dns so the DNS proxy sees each query). Elsewhere this rule has no series
  and stays silent — say so in a review, it is not a pass.
- **per cluster**, from CoreDNS itself (`coredns_dns_requests_total{server, zone, type, ...}`): the total query
  rate, and the rate of TXT and NULL queries, the record types a tunnel carries most data in.

A pure builder: the Prometheus rule-file document (`groups:`), judged by promtool in the tests. Nothing installs
it yet: the observability capability (a later issue) brings Prometheus and the PrometheusRule CRD.
"""

from __future__ import annotations

from typing import Any

from components.core import vocabulary as vocab

GROUP = "factory-floor-dns"
WINDOW = "5m"
LINE_NAMESPACES = f'source_namespace=~"{vocab.LINE_NAMESPACE_PREFIX}.+"'
TUNNEL_TYPES = ("TXT", "NULL")


def dns_alert_rules(per_line_qps: float = 20, cluster_qps: float = 500, tunnel_types_qps: float = 5) -> dict[str, Any]:
    """Thresholds are sustained queries per second over WINDOW: a line's workloads resolve a handful of names
    and cache them; a tunnel asks for new names continuously."""
    types = "|".join(TUNNEL_TYPES)
    rules: list[dict[str, Any]] = [
        {
            "alert": "DnsQueryRateHighPerLine",
            "expr": (
                f"sum by (source_namespace) (rate(hubble_dns_queries_total{{{LINE_NAMESPACES}}}[{WINDOW}])) "
                f"> {per_line_qps:g}"
            ),
            "for": "10m",
            "labels": {"severity": "ticket"},
            "annotations": {
                "summary": (
                    "Line namespace {{ $labels.source_namespace }} asks {{ $value | humanize }} DNS queries per second"
                ),
                "description": (
                    f"Pods of {{{{ $labels.source_namespace }}}} sent more than {per_line_qps:g} DNS queries per "
                    "second for 10 minutes (Hubble). A tunnel looks like this: many unique names under one domain. "
                    "Read the names (hubble observe --namespace <ns> --protocol dns) and the filtering resolver's log."
                ),
            },
        },
        {
            "alert": "DnsTunnelRecordTypes",
            "expr": f'sum(rate(coredns_dns_requests_total{{type=~"{types}"}}[{WINDOW}])) > {tunnel_types_qps:g}',
            "for": "10m",
            "labels": {"severity": "ticket"},
            "annotations": {
                "summary": "CoreDNS answers {{ $value | humanize }} TXT/NULL queries per second",
                "description": (
                    f"More than {tunnel_types_qps:g} TXT or NULL queries per second for 10 minutes, cluster-wide "
                    "(CoreDNS's metrics do not say which pod asked): the record types DNS tunnels carry data in. "
                    "Find the client in CoreDNS's log (the log plugin) or Hubble, and the names in the filtering "
                    "resolver's log."
                ),
            },
        },
        {
            "alert": "DnsQueryRateHigh",
            "expr": f"sum(rate(coredns_dns_requests_total[{WINDOW}])) > {cluster_qps:g}",
            "for": "15m",
            "labels": {"severity": "ticket"},
            "annotations": {
                "summary": "CoreDNS answers {{ $value | humanize }} queries per second",
                "description": (
                    f"More than {cluster_qps:g} DNS queries per second for 15 minutes, cluster-wide. A new workload "
                    "without a cache, a resolution loop, or a tunnel: look at which zones and types grew."
                ),
            },
        },
    ]
    return {"groups": [{"name": GROUP, "rules": rules}]}
