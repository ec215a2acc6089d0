"""Finding 10 (#9): DNS tunnelling through CoreDNS's upstream forwarder. A compromised pod may ask cluster DNS
(its only egress) for `<data>.t.attacker.example`; CoreDNS relays whatever it does not answer to the nodes'
resolvers, and a recursive resolver carries the name to the attacker's name server. With `site.dns`, a k3s/RKE2
cluster's CoreDNS answers `cluster.local`, sends the plant's zones to the plant's name servers and every other
name to the site's filtering resolvers only — checked on the files `make plan` writes, by following a query
through them the way CoreDNS routes it (most specific server block; the `.` block's forward)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from components.config.loader import load_factory_config
from components.config.problems import FactoryConfigError
from components.security import dns
from offline.node_config import write_node_config
from tests.support.factories import DELETE, mutate, valid_raw
from tests.support.runs import Runs

TUNNEL = "bWFjaGluZS1wYXJhbWV0ZXJz.t.attacker.example"


def problems_for(raw: dict[str, Any]) -> str:
    with pytest.raises(FactoryConfigError) as caught:
        load_factory_config(raw)
    return str(caught.value)


def test_a_production_stack_with_k3s_must_say_where_its_dns_goes() -> None:
    careless = mutate(valid_raw(), "site", {})  # the careless edit: the DNS section dropped
    assert "factory-floor:site.dns: is required in production with k3s clusters" in problems_for(careless)
    load_factory_config(mutate(careless, "environment", "development"))  # a disposable stack may leave it


@pytest.mark.parametrize(
    ("path", "value", "fragment"),
    [
        # the systemd-resolved stub every Ubuntu node lists: inside the CoreDNS pod it is the pod itself
        ("site.dns.resolvers", ["127.0.0.53"], "loopback"),
        ("site.dns.resolvers", ["resolver.plant.local"], "not an IP address"),
        ("site.dns.resolvers", ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"], "at most 3"),
        ("site.dns.resolvers", [], "at least 1"),
        ("site.dns.zones", [{"name": "svc.cluster.local", "servers": ["10.0.0.9"]}], "the cluster's own domain"),
        ("site.dns.zones", [{"name": "Plant.Local.", "servers": ["10.0.0.9"]}], "not a DNS zone"),
        (
            "site.dns.zones",
            [{"name": "plant.local", "servers": ["10.0.0.9"]}, {"name": "plant.local", "servers": ["10.0.0.8"]}],
            "more than once",
        ),
    ],
)
def test_dns_settings_are_validated_at_their_key(path: str, value: object, fragment: str) -> None:
    found = problems_for(mutate(valid_raw(), path, value))
    assert "factory-floor:site.dns" in found and fragment in found, found


@pytest.fixture(scope="module")
def written(runs: Runs, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The node-config directories `make plan` writes for the reference stacks' k3s and RKE2 clusters."""
    found = {}
    for stack, cluster in (("pilsen", "shopfloor"), ("rheinfeld", "plant"), ("dev", "edge")):
        out = tmp_path_factory.mktemp(stack)
        write_node_config(out, runs.stack(stack).config)
        found[stack] = out / "node-config" / cluster / "dns"
    return found


def server_blocks(corefile: str) -> dict[str, list[list[str]]]:
    """zone -> its directives (as word lists), for a Corefile of top-level `<zone>:<port> { ... }` blocks."""
    blocks: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for raw in corefile.splitlines():
        words = raw.split()
        if not words:
            continue
        if current is None:
            assert words[-1] == "{" and len(words) == 2, raw
            current = blocks.setdefault(words[0].rsplit(":", 1)[0].rstrip("."), [])
        elif words == ["}"]:
            current = None
        else:
            assert "{" not in words and "}" not in words, f"nested block: {raw}"
            current.append(words)
    assert current is None, "unclosed block"
    return blocks


def route(name: str, blocks: dict[str, list[str]], default: list[str]) -> list[str]:
    """The upstreams CoreDNS asks for `name`: the most specific zone's forward, else the `.` block's."""
    zones = [zone for zone in blocks if zone != "." and (name == zone or name.endswith(f".{zone}"))]
    return blocks[max(zones, key=len)] if zones else default


def test_k3s_forwards_only_to_the_filtering_resolvers_and_the_plant_zone_servers(written: dict[str, Path]) -> None:
    directory = written["pilsen"]
    assert sorted(p.name for p in directory.iterdir()) == [
        "60-factory-floor-dns.yaml",
        "coredns-custom.yaml",
        "factory-floor-resolv.conf",
    ]
    resolvers = [
        line.split()[1]
        for line in (directory / "factory-floor-resolv.conf").read_text().splitlines()
        if line.startswith("nameserver")
    ]
    assert resolvers == ["10.60.0.53", "10.60.1.53"]
    assert yaml.safe_load((directory / "60-factory-floor-dns.yaml").read_text()) == {"resolv-conf": dns.K3S_RESOLV_CONF}
    configmap = yaml.safe_load((directory / "coredns-custom.yaml").read_text())
    assert (configmap["metadata"]["name"], configmap["metadata"]["namespace"]) == ("coredns-custom", "kube-system")
    upstreams = {}
    for key, text in configmap["data"].items():
        assert key.endswith(".server")  # k3s imports only *.server (blocks) and *.override
        for zone, directives in server_blocks(text).items():
            [forward] = [d for d in directives if d[0] == "forward"]
            assert forward[1] == "."
            upstreams[zone] = forward[2:]
    assert upstreams == {"pilsen.plant.example.com": ["10.60.0.10", "10.60.1.10"]}
    # the tunnel's query leaves only to the filter; the plant's names to the plant's servers
    assert route(TUNNEL, upstreams, resolvers) == ["10.60.0.53", "10.60.1.53"]
    assert route("plc-17.pilsen.plant.example.com", upstreams, resolvers) == ["10.60.0.10", "10.60.1.10"]
    # a look-alike of the plant zone is not the plant zone
    assert route("pilsen.plant.example.com.attacker.example", upstreams, resolvers) == resolvers


def test_rke2_replaces_the_forwarder_of_its_coredns_chart(written: dict[str, Path]) -> None:
    directory = written["rheinfeld"]
    assert [p.name for p in directory.iterdir()] == ["rke2-coredns-config.yaml"]
    config = yaml.safe_load((directory / "rke2-coredns-config.yaml").read_text())
    assert (config["apiVersion"], config["kind"]) == ("helm.cattle.io/v1", "HelmChartConfig")
    assert (config["metadata"]["name"], config["metadata"]["namespace"]) == ("rke2-coredns", "kube-system")
    servers = yaml.safe_load(config["spec"]["valuesContent"])["servers"]
    assert "/etc/resolv.conf" not in config["spec"]["valuesContent"]  # the nodes' resolvers are out of the path
    upstreams, root = {}, None
    for server in servers:
        [zone] = [z["zone"] for z in server["zones"]]
        plugins = {p["name"]: p for p in server["plugins"]}
        forward = plugins["forward"]["parameters"].split()
        assert forward[0] == "." and server["port"] == 53
        if zone == ".":
            root = plugins
            resolvers = forward[1:]
        else:
            upstreams[zone.rstrip(".")] = forward[1:]
    assert root is not None and resolvers == ["10.20.0.53", "10.20.1.53"]
    # the chart's own duties stay: cluster.local from the API, the probes' endpoints, the metrics
    assert root["kubernetes"]["parameters"].split()[0] == "cluster.local"
    assert {"health", "ready", "prometheus", "cache", "loop", "reload"} <= set(root)
    assert upstreams == {"rheinfeld.plant.example.com": ["10.20.0.10", "10.20.1.10"]}
    assert route(TUNNEL, upstreams, resolvers) == resolvers


def test_without_site_dns_nothing_is_written_and_the_plan_says_so(runs: Runs, tmp_path: Path) -> None:
    config = runs.stack("dev").config  # development: allowed to leave it
    assert config.site.dns is None
    lines = write_node_config(tmp_path, config)
    assert not (tmp_path / "node-config" / "edge" / "dns").exists()
    assert "edge (k3s): no DNS settings (site.dns unset): CoreDNS forwards every name to the nodes' resolvers" in lines


def test_managed_clusters_get_no_dns_files(runs: Runs, tmp_path: Path) -> None:
    write_node_config(tmp_path, runs.stack("rheinfeld").config)
    assert not (tmp_path / "node-config" / "cloud").exists()


def test_zone_blocks_and_values_are_built_from_config_only() -> None:
    raw = mutate(valid_raw(), "site.dns.zones", DELETE)
    settings = load_factory_config(raw).site.dns
    assert settings is not None
    assert dns.k3s_coredns_custom(settings)["data"] == {}
    assert [s["zones"] for s in dns.rke2_servers(settings)] == [[{"zone": "."}]]
