"""The zones-and-conduits picture (build/<stack>/zones.md, zones.svg) as an auditor reads it: every line a zone
in its cluster's box, every declared flow exactly one conduit and nothing else, the platform apart, and the
same bytes on every run."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import pytest

from components.identity.egress import identity_endpoints
from offline import zones
from offline.plan import PlanResult, plan

ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
SUBGRAPH = re.compile(r'^ *subgraph (\S+)\["([^"]*)"\]$')
NODE = re.compile(r'^ *(\S+)\["([^"]*)"\]$')
EDGE = re.compile(r'^ *(\S+) (-->|-\.->)\|"([^"]*)"\| (\S+)$')


@dataclass
class Diagram:
    """The Mermaid flowchart of a zones.md, read back line by line: anything unexpected fails the parse."""

    boxes: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)  # id -> (label, enclosing ids)
    nodes: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    edges: list[tuple[str, str, str, str]] = field(default_factory=list)  # (source, arrow, label, target)

    def node(self, cluster: str, label: str) -> str:
        """The id of the node labelled `label` inside the box of `cluster`."""
        box = self.box(f"cluster {cluster}")
        found = [i for i, (text, enclosing) in self.nodes.items() if text == label and box in enclosing]
        assert len(found) == 1, (cluster, label, found)
        return found[0]

    def cluster_box(self, id_: str) -> str:
        """The outermost box around a node or box: its cluster's."""
        enclosing = (self.nodes.get(id_) or self.boxes[id_])[1]
        return enclosing[0] if enclosing else id_

    def box(self, label: str, inside: str | None = None) -> str:
        found = [i for i, (text, enclosing) in self.boxes.items() if text == label and (inside in (None, *enclosing))]
        assert len(found) == 1, (label, inside, found)
        return found[0]


def parse(markdown: str) -> Diagram:
    block = markdown.split("```mermaid\n", 1)[1].split("\n```\n", 1)[0].splitlines()
    assert block[0] == "flowchart LR"
    diagram = Diagram()
    open_boxes: list[str] = []
    for line in block[1:]:
        if match := SUBGRAPH.match(line):
            diagram.boxes[match[1]] = (match[2], tuple(open_boxes))
            open_boxes.append(match[1])
        elif line.strip() == "end":
            open_boxes.pop()
        elif match := EDGE.match(line):
            diagram.edges.append((match[1], match[2], match[3], match[4]))
        elif match := NODE.match(line):
            diagram.nodes[match[1]] = (match[2], tuple(open_boxes))
        else:
            assert line.strip() == "direction LR", f"unexpected Mermaid line: {line!r}"
    assert not open_boxes, "a subgraph is not closed"
    return diagram


def descriptions(result: PlanResult) -> dict[tuple[str, str], str]:
    return {(line.name, f.to): f.description for line in result.config.lines for f in line.flows if f.description}


def markdown(result: PlanResult) -> str:
    return zones.mermaid(zones.zone_model(result.recording, descriptions(result)))


@pytest.fixture(scope="module")
def pilsen() -> PlanResult:
    return plan("pilsen")


@pytest.fixture(scope="module")
def rheinfeld() -> PlanResult:
    return plan("rheinfeld")


def line_clusters(result: PlanResult) -> Iterator[tuple[str, str]]:
    for line in result.config.lines:
        yield line.cluster, f"line-{line.name}"


def test_every_line_is_a_zone_inside_its_cluster_box(pilsen: PlanResult) -> None:
    diagram = parse(markdown(pilsen))
    for cluster, namespace in line_clusters(pilsen):
        box = diagram.box(f"cluster {cluster}")
        assert diagram.nodes[diagram.node(cluster, namespace)][1] == (box, diagram.box("line zones", inside=box))
    model = zones.zone_model(pilsen.recording)
    assert {(c.name, ns) for c in model.clusters for ns in c.zones} == set(line_clusters(pilsen))


def test_every_declared_flow_is_exactly_one_conduit_with_its_ports(pilsen: PlanResult) -> None:
    declared = sorted(
        (line.cluster, f"line-{line.name}", f"line-{flow.to}", flow.protocol, tuple(sorted(flow.ports)))
        for line in pilsen.config.lines
        for flow in line.flows
    )
    assert len(declared) == 5
    model = zones.zone_model(pilsen.recording, descriptions(pilsen))
    conduits = [c for cluster in model.clusters for c in cluster.conduits]
    assert sorted((c.cluster, c.source, c.target, c.protocol, c.ports) for c in conduits) == declared

    diagram = parse(zones.mermaid(model))
    solid = [(source, label, target) for source, arrow, label, target in diagram.edges if arrow == "-->"]
    assert len(solid) == len(declared), "an edge the config does not declare"
    for line in pilsen.config.lines:
        for flow in line.flows:
            source, target = (
                diagram.node(line.cluster, f"line-{line.name}"),
                diagram.node(line.cluster, f"line-{flow.to}"),
            )
            labels = [label for s, label, t in solid if (s, t) == (source, target)]
            ports = ", ".join(map(str, sorted(flow.ports)))
            assert labels == [f"{flow.protocol} {ports} · {flow.description}"], (line.name, flow.to)
    assert "| shopfloor | line-press | line-weld | TCP 4840 | OPC UA" in zones.mermaid(model)


def test_platform_namespaces_are_drawn_apart_from_the_lines(pilsen: PlanResult) -> None:
    diagram = parse(markdown(pilsen))
    box = diagram.box("cluster shopfloor")
    apart, line_zones = diagram.box("platform (apart)", inside=box), diagram.box("line zones", inside=box)
    platform = {label for label, enclosing in diagram.nodes.values() if apart in enclosing}
    lines = {label for label, enclosing in diagram.nodes.values() if line_zones in enclosing}
    assert {"gatekeeper-system", "falco", "trivy-system", "kube-system", "monitoring"} <= platform
    assert lines == {namespace for _, namespace in line_clusters(pilsen)}
    assert not platform & lines
    platform_ids = {i for i, (_, enclosing) in diagram.nodes.items() if apart in enclosing}
    assert not [edge for edge in diagram.edges if edge[1] == "-->" and {edge[0], edge[3]} & platform_ids]


@pytest.mark.parametrize("stack", ["pilsen", "rheinfeld"])
def test_dns_scrape_and_traces_are_one_summarised_edge_per_cluster(stack: str, request: pytest.FixtureRequest) -> None:
    result: PlanResult = request.getfixturevalue(stack)
    diagram = parse(markdown(result))
    dashed = [edge for edge in diagram.edges if edge[1] == "-.->"]
    # besides DNS, the scrape path and the trace path, a line zone's only platform conduits are the identity
    # endpoint's addresses (one edge per address; identity/egress.py) on clusters that federate with a cloud
    endpoints = [
        (cluster.name, f"ipBlock {cidr}", port)
        for cluster in result.config.clusters
        for cidr, port in identity_endpoints(cluster)
    ]
    assert len(dashed) == 3 * len(result.config.clusters) + len(endpoints)
    for cluster_name, label, port in endpoints:
        count = sum(1 for line in result.config.lines if line.cluster == cluster_name)
        zones_box = diagram.box("line zones", inside=diagram.box(f"cluster {cluster_name}"))
        target = diagram.node(cluster_name, label)
        assert [e[2] for e in dashed if (e[0], e[3]) == (zones_box, target)] == [
            f"platform · TCP {port} · {count} of {count} lines"
        ]
    for cluster in result.config.clusters:
        line_zones = diagram.box("line zones", inside=diagram.box(f"cluster {cluster.name}"))
        count = sum(1 for line in result.config.lines if line.cluster == cluster.name)
        dns, monitoring = diagram.node(cluster.name, "kube-system"), diagram.node(cluster.name, "monitoring")
        assert [e[2] for e in dashed if (e[0], e[3]) == (line_zones, dns)] == [
            f"DNS · TCP 53 + UDP 53 · {count} of {count} lines"
        ]
        ports = sorted({line.metrics_port for line in result.config.lines if line.cluster == cluster.name})
        assert [e[2] for e in dashed if (e[0], e[3]) == (monitoring, line_zones)] == [
            f"metrics scrape · TCP {', '.join(map(str, ports))} · {count} of {count} lines"
        ]
        collector = diagram.node(cluster.name, "opentelemetry")
        assert [e[2] for e in dashed if (e[0], e[3]) == (line_zones, collector)] == [
            f"platform · TCP 4317, 4318 · {count} of {count} lines"
        ]


def test_rheinfeld_lines_stay_in_their_own_cluster_box(rheinfeld: PlanResult) -> None:
    diagram = parse(markdown(rheinfeld))
    clusters = {cluster.name for cluster in rheinfeld.config.clusters}
    assert clusters == {"plant", "cloud"}
    for cluster, namespace in line_clusters(rheinfeld):
        enclosing = diagram.nodes[diagram.node(cluster, namespace)][1]
        for other in clusters - {cluster}:
            assert diagram.box(f"cluster {other}") not in enclosing
    # the same platform namespace on two clusters is two nodes, one in each box
    assert diagram.node("plant", "gatekeeper-system") != diagram.node("cloud", "gatekeeper-system")
    assert all(diagram.cluster_box(source) == diagram.cluster_box(target) for source, _, _, target in diagram.edges)


def test_two_runs_give_the_same_bytes(rheinfeld: PlanResult, tmp_path: Path) -> None:
    again = plan("rheinfeld")
    assert markdown(again) == markdown(rheinfeld)
    reversed_descriptions = dict(reversed(list(descriptions(rheinfeld).items())))
    for run, recording, described in (
        ("a", rheinfeld.recording, descriptions(rheinfeld)),
        ("b", again.recording, reversed_descriptions),
    ):
        zones.write_zones(tmp_path / run, recording, described)
    written = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert written == sorted(p.name for p in (tmp_path / "b").iterdir())
    for name in written:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_mermaid_ids_are_valid_and_every_edge_joins_declared_nodes(rheinfeld: PlanResult) -> None:
    hostile = {("mes", "traceability"): 'says "hi" | <b>#1</b>\nend'}
    text = zones.mermaid(zones.zone_model(rheinfeld.recording, hostile))
    diagram = parse(text)  # a quote or newline leaking out of a label would break the parse
    declared = set(diagram.nodes) | set(diagram.boxes)
    assert len(declared) == len(diagram.nodes) + len(diagram.boxes)
    assert all(ID.match(i) and "-" not in i and i != "end" for i in declared)
    assert all(source in declared and target in declared for source, _, _, target in diagram.edges)
    assert diagram.node("plant", "line-end-of-line-test") == "z_plant__line_end_of_line_test"
    assert "says #quot;hi#quot; #124; #lt;b#gt;#35;1#lt;/b#gt; end" in text  # the edge label, as entities
    assert '| says "hi" \\| <b>#1</b> end |' in text  # the table cell: one row, the pipe escaped


def test_ids_stay_unique_when_names_clash_after_sanitizing() -> None:
    clusters = tuple(zones.ClusterZones(name, {"line-end": "end"}, ("end",), (), ()) for name in ("a-b", "a_b", "a.b"))
    ids = zones.node_ids(zones.ZoneModel("edge-case", clusters))
    assert len(set(ids.values())) == len(ids) == 3 * 5
    assert all(ID.match(i) for i in ids.values())


def test_svg_where_graphviz_is_installed_and_a_note_where_it_is_not(
    rheinfeld: PlanResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    markdown_path, svg_path = tmp_path / "zones.md", tmp_path / "zones.svg"
    printed = zones.write_zones(tmp_path, rheinfeld.recording, descriptions(rheinfeld))
    if shutil.which("dot"):
        assert printed == [f"Wrote {markdown_path}", f"Wrote {svg_path}"]
        text = " ".join(ElementTree.parse(svg_path).getroot().itertext())
        names = [cluster.name for cluster in rheinfeld.config.clusters] + [line.name for line in rheinfeld.config.lines]
        assert all(name in text for name in names) and "cluster plant" in text and "MES writes genealogy" in text
    else:
        assert printed == [f"Wrote {markdown_path}", zones.SVG_SKIPPED] and not svg_path.exists()

    # and without Graphviz, whatever this machine has: no picture (not even an old one), one note
    svg_path.write_text("<svg>from an earlier run</svg>")
    monkeypatch.setattr(zones.shutil, "which", lambda name: None)
    printed = zones.write_zones(tmp_path, rheinfeld.recording)
    assert printed == [
        f"Wrote {markdown_path}",
        "zones.svg skipped: Graphviz 'dot' not found (apt-get install graphviz)",
    ]
    assert markdown_path.read_text().startswith("# Zones and conduits — stack `rheinfeld`")
    assert not svg_path.exists()
