"""The server config the offline plan writes for k3s/RKE2 clusters (build/<stack>/node-config/): one file per
such cluster of each reference stack, valid YAML with DenyServiceExternalIPs next to the distribution's own
plugins, a header saying where it goes; none for a managed cluster, and nothing stale from an earlier run."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from offline.node_config import write_node_config
from tests.support.runs import Runs

# the k3s/RKE2 clusters of the reference stacks, and the managed ones that get no file
SERVER_CLUSTERS = {"dev": {"edge": "k3s"}, "pilsen": {"shopfloor": "k3s"}, "rheinfeld": {"plant": "rke2"}}
MANAGED = {"dev": set(), "pilsen": set(), "rheinfeld": {"cloud"}}


@pytest.mark.parametrize("stack", sorted(SERVER_CLUSTERS))
def test_each_k3s_and_rke2_cluster_gets_its_server_config(stack: str, runs: Runs, tmp_path: Path) -> None:
    config = runs.stack(stack).config
    assert {c.name: c.distribution for c in config.clusters if c.name not in MANAGED[stack]} == SERVER_CLUSTERS[stack]
    lines = write_node_config(tmp_path, config)
    root = tmp_path / "node-config"
    # the server config of each cluster (its CoreDNS settings live apart, under <cluster>/dns/: test_dns.py)
    written = sorted(p.relative_to(root).as_posix() for p in root.glob("*/*.yaml"))
    assert written == sorted(
        f"{name}/{kind}-{role}config.yaml" for name, kind in SERVER_CLUSTERS[stack].items() for role in ("", "agent-")
    )
    for name, distribution in SERVER_CLUSTERS[stack].items():
        path = root / name / f"{distribution}-config.yaml"
        text = path.read_text()
        document = yaml.safe_load(text)
        # the admission plugins (and, with security.falco.kubernetesAudit, the audit flags: test_k8saudit.py)
        [entry] = [e for e in document["kube-apiserver-arg"] if e.startswith("enable-admission-plugins=")]
        _, _, value = entry.partition("=")
        assert value.split(",") == ["NodeRestriction", "DenyServiceExternalIPs"]
        # the header says where the file goes, that it is merged, and that the servers must restart
        comments = "\n".join(line for line in text.splitlines() if line.startswith("#"))
        assert f"/etc/rancher/{distribution}/config.yaml" in comments
        assert "merged" in comments and "restart" in comments
        assert any(line.startswith(f"{name} ({distribution}): wrote {path}") for line in lines), lines
        # every node caps each pod's PIDs: servers in the same file, agents in their own
        assert document["kubelet-arg"] == ["pod-max-pids=4096"]
        agent_path = root / name / f"{distribution}-agent-config.yaml"
        agent_text = agent_path.read_text()
        assert yaml.safe_load(agent_text) == {"kubelet-arg": ["pod-max-pids=4096"]}
        assert "every AGENT node" in agent_text and f"{distribution}-agent" in agent_text
        assert any(line.startswith(f"{name} ({distribution}): wrote {agent_path}") for line in lines), lines
    for name in MANAGED[stack]:
        assert not (root / name).exists()
        assert any(line.startswith(f"{name} (") and "no server config" in line for line in lines), lines


def test_a_second_run_gives_the_same_bytes_and_removes_stale_files(runs: Runs, tmp_path: Path) -> None:
    config = runs.stack("rheinfeld").config
    stale = tmp_path / "node-config" / "old-cluster" / "k3s-config.yaml"
    stale.parent.mkdir(parents=True)
    stale.write_text("kube-apiserver-arg: []\n")
    write_node_config(tmp_path, config)
    path = tmp_path / "node-config" / "plant" / "rke2-config.yaml"
    first = path.read_bytes()
    assert not stale.parent.exists()
    write_node_config(tmp_path, config)
    assert path.read_bytes() == first
