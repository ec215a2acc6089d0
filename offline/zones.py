"""The picture an IEC 62443 auditor asks for: the factory's zones and conduits (build/<stack>/zones.md, .svg).

Derived from the recorded NetworkPolicies (what would be deployed), not from the config, so the picture can
neither show a flow the program forgot to build nor hide one it builds unasked. Sorted everywhere: two runs
give byte-identical files."""

from __future__ import annotations

import re
import shutil
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphviz  # type: ignore[import-untyped]  # the package ships no type information

from offline.harness import Recording, Registration
from offline.render import cluster_of, redact

NAMESPACE_TYPE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY_TYPE = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
COMPONENT_LABEL, LINE_COMPONENT = "app.kubernetes.io/component", "production-line"
LINE_LABEL = "factory-floor.io/line"
NAMESPACE_NAME = "kubernetes.io/metadata.name"
ALL = "all"  # a rule without `ports` opens every port of every protocol
# Only says *why* a platform conduit exists (an unknown platform namespace is still drawn); kept here, not
# imported from components/, because the picture follows the recorded objects alone.
PLATFORM_PURPOSE = {"kube-system": "DNS", "monitoring": "metrics scrape"}
BOX, ZONES, PLATFORM = ":box", ":zones", ":platform"  # never a namespace name (DNS labels have no ':')
SVG_SKIPPED = "zones.svg skipped: Graphviz 'dot' not found (apt-get install graphviz)"

Port = int | str  # a number, a named port or a "from-to" range
Ports = tuple[tuple[str, tuple[Port, ...]], ...]  # ((protocol, ports), ...) sorted by protocol
ByCluster = dict[str, dict[str, str]]  # cluster -> line namespace -> line name
Descriptions = Mapping[tuple[str, str], str]  # (source line, target line) -> why the flow exists


@dataclass(frozen=True, order=True)
class Conduit:
    """A declared flow between two line zones of one cluster (its egress policy in the sending zone)."""

    cluster: str
    source: str  # sending namespace
    target: str  # receiving namespace
    protocol: str
    ports: tuple[Port, ...]
    description: str = ""


@dataclass(frozen=True, order=True)
class PlatformConduit:
    """A conduit line zones have to or from one platform namespace, summarised once per cluster."""

    cluster: str
    namespace: str
    outbound: bool  # True: line zones -> namespace (DNS); False: namespace -> line zones (scrape)
    ports: Ports
    lines: int  # how many of the cluster's line zones carry it


@dataclass(frozen=True)
class ClusterZones:
    name: str
    zones: Mapping[str, str]  # line namespace -> line name, sorted by namespace
    platform: tuple[str, ...]  # every other namespace, drawn apart
    conduits: tuple[Conduit, ...]
    platform_conduits: tuple[PlatformConduit, ...]


@dataclass(frozen=True)
class ZoneModel:
    stack: str
    clusters: tuple[ClusterZones, ...]


def _ports_by_protocol(ports: Iterable[Any] | None) -> dict[str, set[Port]]:
    grouped: dict[str, set[Port]] = defaultdict(set)
    for entry in ports or [{"protocol": ALL}]:
        numbers = grouped[str(entry.get("protocol") or "TCP")]  # Kubernetes' default protocol
        port, end = entry.get("port"), entry.get("endPort")
        if port is not None:
            numbers.add(f"{port}-{end}" if end is not None else port)
    return grouped


def _peer(peer: Mapping[str, Any]) -> str | None:
    """The namespace a peer names. The line builders only name namespaces, but anything wider is drawn too,
    so that "everything not drawn is denied" stays true. A pod-only peer stays inside the own zone."""
    if "ipBlock" in peer:
        return f"ipBlock {peer['ipBlock'].get('cidr')}"
    selector = peer.get("namespaceSelector")
    if selector is None:
        return None if "podSelector" in peer else "anywhere"  # a rule without peers admits every address
    name = (selector.get("matchLabels") or {}).get(NAMESPACE_NAME)
    return name if isinstance(name, str) else "selected namespaces" if selector else "any namespace"


def _rules(registration: Registration) -> Iterator[tuple[bool, str, str, dict[str, set[Port]]]]:
    """(outbound, own namespace, peer, ports) for every peer outside the own namespace."""
    document = redact(registration.inputs)
    own = str((document.get("metadata") or {}).get("namespace") or "")
    spec = document.get("spec") or {}
    for outbound, kind, peers in ((True, "Egress", "to"), (False, "Ingress", "from")):
        if kind in (spec.get("policyTypes") or []):
            for rule in spec.get(kind.lower()) or []:
                for name in filter(None, map(_peer, rule.get(peers) or [{}])):
                    yield outbound, own, name, _ports_by_protocol(rule.get("ports"))


def _namespaces(recording: Recording, by_urn: dict[str, Registration]) -> tuple[ByCluster, dict[str, set[str]]]:
    """Per cluster: line namespace -> line name, and the set of every recorded namespace."""
    zones: ByCluster = defaultdict(dict)
    every: dict[str, set[str]] = defaultdict(set)
    for registration in recording.of_type(NAMESPACE_TYPE):
        cluster = cluster_of(registration, by_urn)
        metadata = redact(registration.inputs).get("metadata") or {}
        name, labels = str(metadata.get("name") or registration.name), metadata.get("labels") or {}
        every[cluster].add(name)
        if labels.get(COMPONENT_LABEL) == LINE_COMPONENT and LINE_LABEL in labels:
            zones[cluster][name] = str(labels[LINE_LABEL])
    return zones, every


@dataclass
class _Allowed:
    """Ports per (cluster, source, target, protocol) and per (cluster, platform namespace, outbound)."""

    flows: dict[tuple[str, str, str, str], set[Port]] = field(default_factory=lambda: defaultdict(set))
    platform: dict[tuple[str, str, bool], dict[str, set[Port]]] = field(default_factory=dict)
    lines: dict[tuple[str, str, bool], set[str]] = field(default_factory=lambda: defaultdict(set))


def _allowed(recording: Recording, by_urn: dict[str, Registration], zones: Mapping[str, Mapping[str, str]]) -> _Allowed:
    allowed = _Allowed()
    for registration in recording.of_type(NETWORK_POLICY_TYPE):
        cluster = cluster_of(registration, by_urn)
        lines = zones.get(cluster, {})
        for outbound, own, peer, ports in _rules(registration):
            if own not in lines:
                continue
            if peer not in lines:
                key = (cluster, peer, outbound)
                allowed.lines[key].add(own)
                merged = allowed.platform.setdefault(key, defaultdict(set))
                for protocol, numbers in ports.items():
                    merged[protocol] |= numbers
            elif outbound:  # the receiver's ingress policy mirrors this egress: one conduit, not two
                for protocol, numbers in ports.items():
                    allowed.flows[(cluster, own, peer, protocol)] |= numbers
    return allowed


def _sorted(ports: Iterable[Port]) -> tuple[Port, ...]:
    return tuple(sorted(ports, key=lambda port: str(port).rjust(9, "0")))  # numbers in order, names after


def zone_model(recording: Recording, descriptions: Descriptions | None = None) -> ZoneModel:
    """Zones and conduits per cluster; `descriptions` add why a flow exists to its conduit's label."""
    by_urn = recording.by_urn()
    zones, every = _namespaces(recording, by_urn)
    allowed = _allowed(recording, by_urn, zones)
    descriptions = descriptions or {}
    clusters = []
    for cluster in sorted(every):
        lines = zones.get(cluster, {})
        conduits = tuple(
            Conduit(c, s, t, p, _sorted(n), descriptions.get((lines[s], lines[t]), ""))
            for (c, s, t, p), n in sorted(allowed.flows.items())
            if c == cluster
        )
        summaries = tuple(
            PlatformConduit(*key, tuple((p, _sorted(n)) for p, n in sorted(ports.items())), len(allowed.lines[key]))
            for key, ports in sorted(allowed.platform.items())
            if key[0] == cluster
        )
        # kube-system and monitoring are not created by the program but are the ends of platform conduits
        apart = (every[cluster] - set(lines)) | {s.namespace for s in summaries}
        clusters.append(ClusterZones(cluster, dict(sorted(lines.items())), tuple(sorted(apart)), conduits, summaries))
    return ZoneModel(recording.stack, tuple(clusters))


def ports_label(ports: Ports) -> str:
    """(("TCP", (4840, 8883)),) -> "TCP 4840, 8883"; a protocol without ports is open on every port."""
    if any(protocol == ALL for protocol, _ in ports):
        return "all traffic"
    return " + ".join(f"{protocol} {', '.join(map(str, numbers)) or 'all ports'}" for protocol, numbers in ports)


def conduit_label(conduit: Conduit) -> str:
    label = ports_label(((conduit.protocol, conduit.ports),))
    return f"{label} · {conduit.description}" if conduit.description else label


def summary_label(summary: PlatformConduit, zone_count: int) -> str:
    purpose = PLATFORM_PURPOSE.get(summary.namespace, "platform")
    return f"{purpose} · {ports_label(summary.ports)} · {summary.lines} of {zone_count} lines"


def node_ids(model: ZoneModel) -> dict[tuple[str, str], str]:
    """(cluster, namespace) and (cluster, BOX | ZONES | PLATFORM) -> an id valid in Mermaid and Graphviz:
    outside [A-Za-z0-9] becomes '_', a prefix keeps keywords such as `end` out, a suffix settles clashes."""
    ids: dict[tuple[str, str], str] = {}
    for cluster in model.clusters:
        c = re.sub(r"[^A-Za-z0-9]", "_", cluster.name)
        wanted = {(cluster.name, BOX): f"cluster_{c}", (cluster.name, ZONES): f"zones_{c}"}
        wanted |= {(cluster.name, PLATFORM): f"platform_{c}"}
        for prefix, namespaces in (("z", cluster.zones), ("p", cluster.platform)):
            wanted |= {(cluster.name, ns): f"{prefix}_{c}__{re.sub(r'[^A-Za-z0-9]', '_', ns)}" for ns in namespaces}
        for key, base in wanted.items():
            ids[key] = base + "_" * next(n for n in range(len(ids) + 1) if base + "_" * n not in ids.values())
    return ids


def _mermaid_text(text: str) -> str:
    # inside a quoted label these would end the string, start an entity, end the edge label or become HTML
    for raw, entity in (("#", "#35;"), ('"', "#quot;"), ("|", "#124;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(raw, entity)
    return " ".join(text.split())


def _mermaid_cluster(cluster: ClusterZones, ids: Mapping[tuple[str, str], str]) -> list[str]:
    lines = [f'  subgraph {ids[cluster.name, BOX]}["cluster {_mermaid_text(cluster.name)}"]', "    direction LR"]
    for box, title, namespaces in (
        (ZONES, "line zones", cluster.zones),
        (PLATFORM, "platform (apart)", cluster.platform),
    ):
        if namespaces:
            lines.append(f'    subgraph {ids[cluster.name, box]}["{title}"]')
            lines += [f'      {ids[cluster.name, ns]}["{_mermaid_text(ns)}"]' for ns in namespaces]
            lines.append("    end")
    lines.append("  end")
    for c in cluster.conduits:
        label = _mermaid_text(conduit_label(c))
        lines.append(f'  {ids[c.cluster, c.source]} -->|"{label}"| {ids[c.cluster, c.target]}')
    for s in cluster.platform_conduits:
        ends = [ids[s.cluster, ZONES], ids[s.cluster, s.namespace]]
        source, target = ends if s.outbound else ends[::-1]
        lines.append(f'  {source} -.->|"{_mermaid_text(summary_label(s, len(cluster.zones)))}"| {target}')
    return lines


def _row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(" ".join(cell.replace("|", "\\|").split()) for cell in cells) + " |"


def _table(model: ZoneModel) -> list[str]:
    rows = ["| cluster | from | to | protocol/ports | description |", "| --- | --- | --- | --- | --- |"]
    for cluster in model.clusters:
        for c in cluster.conduits:
            rows.append(_row([c.cluster, c.source, c.target, ports_label(((c.protocol, c.ports),)), c.description]))
        for s in cluster.platform_conduits:
            lines = f"{s.lines} of {len(cluster.zones)} line zones"
            ends = [lines, s.namespace] if s.outbound else [s.namespace, lines]
            purpose = PLATFORM_PURPOSE.get(s.namespace, "platform")
            rows.append(_row([s.cluster, *ends, ports_label(s.ports), f"{purpose} (summarised)"]))
    return rows


INTRO = (
    "Each production line is a **zone**: its own namespace, closed by default-deny NetworkPolicies in both "
    "directions. A **conduit** is a flow the configuration declares between two lines: an egress policy in "
    "the sending zone and an ingress policy in the receiving one, open only on the protocol and ports on its "
    "arrow. Everything not drawn is denied by default. Platform namespaces are drawn apart from the lines; "
    "the platform conduits lines have (cluster DNS, metrics scrape) are drawn once per cluster as dashed "
    "arrows. Derived from the objects the plan records, i.e. what would be deployed."
)


def mermaid(model: ZoneModel) -> str:
    """The Markdown of build/<stack>/zones.md: intro, Mermaid flowchart, table of conduits."""
    ids = node_ids(model)
    lines = [f"# Zones and conduits — stack `{model.stack}`", "", INTRO, "", "```mermaid", "flowchart LR"]
    for cluster in model.clusters:
        lines += _mermaid_cluster(cluster, ids)
    lines += ["```", "", "## Conduits", "", *_table(model)]
    return "\n".join(lines) + "\n"


def _graphviz_cluster(graph: Any, cluster: ClusterZones, ids: Mapping[tuple[str, str], str]) -> None:
    with graph.subgraph(name=f"cluster_{ids[cluster.name, BOX]}") as box:
        box.attr(label=graphviz.escape(f"cluster {cluster.name}"), style="rounded,bold")
        with box.subgraph(name=f"cluster_{ids[cluster.name, ZONES]}") as zones:
            zones.attr(label="line zones", style="solid")
            for ns in cluster.zones:
                zones.node(ids[cluster.name, ns], graphviz.escape(ns), shape="box")
        with box.subgraph(name=f"cluster_{ids[cluster.name, PLATFORM]}") as platform:
            platform.attr(label="platform (apart)", style="dashed")
            for ns in cluster.platform:
                platform.node(ids[cluster.name, ns], graphviz.escape(ns), shape="box", style="rounded,dashed")
    for c in cluster.conduits:
        graph.edge(ids[c.cluster, c.source], ids[c.cluster, c.target], label=graphviz.escape(conduit_label(c)))
    for s in cluster.platform_conduits:
        # Graphviz edges join nodes: start at one line zone and clip the edge at the line-zone box
        anchor, clip = ids[s.cluster, next(iter(cluster.zones))], f"cluster_{ids[s.cluster, ZONES]}"
        label = graphviz.escape(summary_label(s, len(cluster.zones)))
        if s.outbound:
            graph.edge(anchor, ids[s.cluster, s.namespace], label=label, style="dashed", ltail=clip)
        else:
            graph.edge(ids[s.cluster, s.namespace], anchor, label=label, style="dashed", lhead=clip)


def svg(model: ZoneModel) -> str:
    """The same picture laid out by Graphviz; needs the `dot` executable."""
    font = {"fontname": "Helvetica"}
    title = graphviz.escape(f"Zones and conduits — stack {model.stack}")
    graph_attr = {"rankdir": "LR", "compound": "true", "labelloc": "t", "label": title, **font}
    graph = graphviz.Digraph("zones", graph_attr=graph_attr, node_attr=font, edge_attr={**font, "fontsize": "10"})
    ids = node_ids(model)
    for cluster in model.clusters:
        _graphviz_cluster(graph, cluster, ids)
    return str(graph.pipe(format="svg", encoding="utf-8"))


def write_zones(out_dir: Path, recording: Recording, descriptions: Descriptions | None = None) -> list[str]:
    """zones.md always; zones.svg only where Graphviz is installed. Returns the lines `make plan` prints."""
    model = zone_model(recording, descriptions)
    out_dir.mkdir(parents=True, exist_ok=True)
    markdown, picture = out_dir / "zones.md", out_dir / "zones.svg"
    markdown.write_text(mermaid(model), encoding="utf-8")
    picture.unlink(missing_ok=True)  # one left by an earlier run would no longer match zones.md
    if shutil.which("dot") is None:
        return [f"Wrote {markdown}", SVG_SKIPPED]
    picture.write_text(svg(model), encoding="utf-8")
    return [f"Wrote {markdown}", f"Wrote {picture}"]
