"""The plan as a graph: explicit dependsOn and providers in plan.json, a critical path through the cluster's
admission gate that stays as deep however many lines a factory has, and the resources each line adds."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s
import pytest

from offline import graph, harness
from offline.harness import Recording
from offline.plan import main as plan_main
from offline.plan import run_stack
from offline.synthetic import synthetic_stack
from tests.support.runs import Runs

# provider -> (single-node cells: in-tree policy -> its binding ->) Gatekeeper's chart, done when its objects are,
# which a component is not counted as -> the webhook probe Job -> a line's namespace -> its Role -> RoleBinding
DEPTH = {"dev": 7, "pilsen": 6, "rheinfeld": 6}


# provider -> bucket -> its versioning, lock, encryption, public-access block, ownership, policy and lifecycle, one
# after another (S3 refuses concurrent changes to one bucket's settings)
STORE_DEPTH = 9


def _clusters(recording: Recording) -> Recording:
    """The stack without its backup stores: what each cluster waits for."""
    return Recording(
        recording.project,
        recording.stack,
        [r for r in recording.resources if "factory:index:BackupStores" not in r.urn],
        recording.outputs,
    )


@pytest.mark.parametrize("stack", ["dev", "pilsen", "rheinfeld"])
def test_every_reference_stack_waits_for_the_admission_gate_and_then_three_steps(runs: Runs, stack: str) -> None:
    recording = runs.stack(stack).recording
    path = graph.critical_path(_clusters(recording))
    assert len(path) == DEPTH[stack], [r.name for r in path]
    # the stores are built side by side with the clusters, so the whole update is as deep as the deeper of the two
    assert graph.depth(recording) == max(DEPTH[stack], STORE_DEPTH)
    assert path[0].type.startswith("pulumi:providers:"), "every chain starts at a cluster's provider"
    gate = [r.name for r in path].index(next(r.name for r in path if r.name.endswith("-webhook-probe-job")))
    assert len(path) - gate - 1 == 3, "after the gate: a line's namespace, its Role and their binding"


@pytest.mark.parametrize("lines", [10, 60])
def test_depth_does_not_grow_with_the_number_of_lines(lines: int) -> None:
    assert graph.depth(run_stack(synthetic_stack(lines))) == graph.depth(run_stack(synthetic_stack(1)))


def _chain_program() -> Recording:
    def program() -> None:
        provider = k8s.Provider("p", kubeconfig="offline")
        first = k8s.core.v1.ConfigMap("a", opts=pulumi.ResourceOptions(provider=provider))
        group = pulumi.ComponentResource("test:index:Group", "group")
        k8s.core.v1.ConfigMap("b", opts=pulumi.ResourceOptions(provider=provider, parent=group, depends_on=[first]))
        # waiting on a component means waiting on what is inside it
        k8s.core.v1.ConfigMap("c", opts=pulumi.ResourceOptions(provider=provider, depends_on=[group]))

    return harness.run(program, project="factory-floor", stack="test")


def test_a_chain_through_a_component_counts_every_custom_resource() -> None:
    assert [r.name for r in graph.critical_path(_chain_program())] == ["p", "a", "b", "c"]


def test_a_line_counts_its_own_resources_and_those_other_capabilities_put_into_it(runs: Runs) -> None:
    recording = runs.stack("pilsen").recording
    counts = graph.line_counts(recording)
    assert set(counts) == {"press", "weld", "paint", "inspection", "logistics"}
    # press and paint both declare one conduit and receive one; press also gets its secrets' account,
    # store and ExternalSecret from the security capability
    assert counts["press"] == counts["paint"] + 3
    assert counts["logistics"] == counts["paint"] - 1  # logistics receives no conduit


def test_plan_json_records_providers_and_explicit_depends_on(tmp_path: Path) -> None:
    assert plan_main(["--stack", "dev", "--out", str(tmp_path)]) == 0
    document = json.loads((tmp_path / "dev" / "plan.json").read_text())
    resources = {r["name"]: r for r in document["resources"] if r["type"] != "factory:index:ClusterPlatform"}
    role, binding = resources["dev-assembly-editor"], resources["dev-assembly-editors"]
    assert role["provider"] == resources["dev-edge"]["urn"] and resources["dev-edge"]["type"].startswith("pulumi:")
    gate = resources["dev-edge-admission-gatekeeper-webhook-probe-job"]["urn"]
    assert binding["dependsOn"] == sorted([gate, resources["dev-assembly-namespace"]["urn"], role["urn"]])
    assert all("dependsOn" in r and "aliases" in r for r in resources.values())
