"""Config of production lines and the conduits (flows) between them, with their cross-references."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from components.config.problems import Problems, field, names, present
from components.config.types import Criticality, Name, Port, StrictModel, dns_label
from components.core import vocabulary as vocab
from components.observability.config import LineSloConfig
from components.security.secrets.config import LineSecret

LINE_NAMESPACE_PREFIX = vocab.LINE_NAMESPACE_PREFIX
# Names that would collide with the platform's own and Kubernetes' system namespaces.
RESERVED_LINE_NAMES = frozenset({"default", "system", "platform", "monitoring"})
LineName = Annotated[str, AfterValidator(dns_label(63 - len(LINE_NAMESPACE_PREFIX)))]


class FlowConfig(StrictModel):
    to: LineName = Field(description="Target line of this conduit (same cluster).")
    ports: list[Port] = Field(min_length=1, description="Destination ports on the target line's pods.")
    protocol: Literal["TCP", "UDP", "SCTP"] = Field(default="TCP", description="Transport protocol.")
    description: str | None = Field(default=None, description="Why this conduit exists (audit trail).")

    @model_validator(mode="after")
    def _ports_unique(self) -> FlowConfig:
        if len(set(self.ports)) != len(self.ports):
            raise ValueError("ports lists a port more than once")
        return self


class LineConfig(StrictModel):
    name: LineName = Field(description="Line id; its namespace is `line-<name>`.")
    cluster: Name = Field(description="Cluster the line runs on (a `clusters[].name`).")
    team: Name = Field(description="Owning team (a `teams[].name`); its groups get edit rights in the line.")
    criticality: Criticality = Field(
        default="standard", description="Scales quotas; orders restores and recovery objectives."
    )
    slo_target: float = Field(
        default=99.5,
        gt=90,
        lt=100,
        description=(
            "Availability objective in percent over 30 days: the line's SLO rules and burn-rate alerts "
            "(at least 93.06, where the fastest page can still fire)."
        ),
    )
    flows: list[FlowConfig] = Field(
        default_factory=list, description="Declared conduits from this line to other lines."
    )
    metrics_port: Port = Field(
        default=9464,
        description=(
            "Port the observability stack (Prometheus pods in `monitoring`) may scrape on the line's pods; "
            "never a port of a TCP flow from or to the line."
        ),
    )
    slo: LineSloConfig = Field(
        default_factory=LineSloConfig,
        description=(
            "Objectives beyond availability (`sloTarget`): latency, throughput, or availability from a probe "
            "(docs/observability.md)."
        ),
    )
    chaos_opt_in: bool = Field(default=False, description="Allow chaos experiments to target this line's namespace.")
    secrets: list[LineSecret] = Field(
        default_factory=list,
        description="Secrets the line needs, synced from Vault by External Secrets (values never pass here).",
    )

    @staticmethod
    def namespace_of(line_name: str) -> str:
        return LINE_NAMESPACE_PREFIX + line_name

    @property
    def namespace(self) -> str:
        return self.namespace_of(self.name)


def check_lines(
    clusters: Sequence[object | None],
    teams: Sequence[object | None],
    lines: Sequence[LineConfig | None],
    problems: Problems,
) -> None:
    """Unique names, known clusters and teams, flows to existing lines on the same cluster, and scrape ports
    apart from conduit ports."""
    problems.duplicates("lines", lines)
    cluster_names, team_names = names(clusters), names(teams)
    # a line whose own cluster is unknown maps to None: that is reported once, not again for every flow
    line_cluster = {
        field(line, "name"): c if (c := field(line, "cluster")) in cluster_names else None for _, line in present(lines)
    }
    line_cluster.pop(None, None)
    for i, line in present(lines):
        name, cluster, team = field(line, "name"), field(line, "cluster"), field(line, "team")
        if name in RESERVED_LINE_NAMES:
            problems.add(("lines", i, "name"), f"'{name}' is reserved for the platform")
        # with no valid cluster (or team) at all, that section's own problem says it: no echo per line
        if cluster is not None and cluster_names and cluster not in cluster_names:
            problems.unknown(("lines", i, "cluster"), "cluster", cluster, cluster_names)
        if team is not None and team_names and team not in team_names:
            problems.unknown(("lines", i, "team"), "team", team, team_names)
        if name is not None:
            known_cluster = cluster if cluster in cluster_names else None  # an unknown one is reported above
            flows = field(line, "flows") or []
            _check_flows(i, name, known_cluster, flows, line_cluster=line_cluster, problems=problems)
    _check_metrics_ports(lines, problems)


def _check_flows(
    index: int,
    name: str,
    cluster: str | None,
    flows: Sequence[FlowConfig],
    *,
    line_cluster: Mapping[str, str | None],
    problems: Problems,
) -> None:
    targets: set[tuple[str, str]] = set()
    for j, flow in enumerate(flows):
        loc = ("lines", index, "flows", j, "to")
        if flow.to == name:
            problems.add(loc, "a line cannot declare a flow to itself (pods in a line talk freely)")
        elif flow.to not in line_cluster:
            problems.unknown(loc, "line", flow.to, sorted(line_cluster))
        elif line_cluster[flow.to] not in (None, cluster) and cluster is not None:
            problems.add(
                loc,
                f"line '{flow.to}' runs on cluster '{line_cluster[flow.to]}', not '{cluster}'; "
                "NetworkPolicies cannot span clusters, so cross-cluster conduits are not supported",
            )
        if (flow.to, flow.protocol) in targets:
            problems.add(loc, f"a {flow.protocol} flow to '{flow.to}' is already declared; merge their ports")
        targets.add((flow.to, flow.protocol))


def _metrics_port(line: LineConfig) -> str:
    port = field(line, "metrics_port")
    return f"{port}" if "metrics_port" in line.model_fields_set else f"{port} (the default)"


def _check_metrics_ports(lines: Sequence[LineConfig | None], problems: Problems) -> None:
    """The scrape path (TCP, from Prometheus) and a conduit must not share a port on the same pods: both
    ingress rules would open it, so Prometheus could reach the conduit's service and the sending line the
    metrics endpoint. At the receiving end that is exactly what the NetworkPolicies allow; at the sending
    end the line's pods usually serve the conduit's protocol too (OPC UA, MQTT run both ways), so the scrape
    port stays apart from every conduit port of a line, in either direction."""
    position: dict[str, int] = {}
    for i, line in present(lines):
        if (name := field(line, "name")) is not None:
            position.setdefault(name, i)  # a duplicate name is reported by check_lines
    for i, line in present(lines):
        name = field(line, "name")
        for j, flow in enumerate(field(line, "flows") or []):
            if flow.protocol != "TCP" or flow.to == name:  # the scrape path is TCP; a flow to itself is refused
                continue
            if field(line, "metrics_port") in flow.ports:
                problems.add(
                    ("lines", i, "metricsPort"),
                    f"{_metrics_port(line)} is also a port of this line's TCP conduit to '{flow.to}' "
                    f"(lines[{i}].flows[{j}]): a conduit's protocol is usually served at both ends, so the scrape "
                    "path would open that service to Prometheus — choose a metricsPort that is no conduit port",
                )
            k = position.get(flow.to)
            target = lines[k] if k is not None else None
            if k is not None and target is not None and field(target, "metrics_port") in flow.ports:
                problems.add(
                    ("lines", k, "metricsPort"),
                    f"{_metrics_port(target)} is also a port of the TCP conduit from line '{name}' "
                    f"(lines[{i}].flows[{j}]): both open it on this line's pods, so Prometheus could "
                    f"reach the conduit's service and '{name}' the metrics endpoint — choose a metricsPort that "
                    "is no conduit port",
                )
