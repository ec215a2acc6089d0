"""Every reference stack's URNs, and what each resource is called where it lives, equal the committed
snapshot: an accidental rename or re-parent of a Pulumi resource, or a rename of the object on the cluster
or in the cloud — which the engine would carry out by deleting and re-creating production objects — fails
here with the list of changes."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
import pytest

from offline import harness, urns
from offline.harness import Recording
from offline.stackfile import available_stacks
from tests.support.runs import ROOT, Runs


@pytest.mark.parametrize("stack", available_stacks(ROOT))
def test_reference_stack_urns_match_the_snapshot(runs: Runs, stack: str) -> None:
    snapshot = urns.snapshot_of(stack)
    assert snapshot, f"no URN snapshot for stack {stack}: run `make urns`"
    changes = urns.compare(snapshot, runs.stack(stack).recording)
    assert changes.clean, changes.report(stack)


def _moved(alias: bool) -> Recording:
    """A ConfigMap that used to sit at the top and now sits in a component, with or without an alias."""

    def program() -> None:
        provider = k8s.Provider("p", kubeconfig="offline")
        group = pulumi.ComponentResource("test:index:Group", "group")
        aliases = [pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)] if alias else None
        k8s.core.v1.ConfigMap("config", opts=pulumi.ResourceOptions(provider=provider, parent=group, aliases=aliases))

    return harness.run(program, project="factory-floor", stack="test")


OLD = "urn:pulumi:test::factory-floor::kubernetes:core/v1:ConfigMap::config"


def test_a_reparent_without_an_alias_is_a_replacement() -> None:
    changes = urns.compare({OLD: "ConfigMap config"}, _moved(alias=False))
    assert changes.replaced == [OLD] and changes.moved == []
    assert "would be DELETED" in changes.report("test")


def test_a_reparent_with_an_alias_is_a_move() -> None:
    recording = _moved(alias=True)
    changes = urns.compare({OLD: "ConfigMap config"}, recording)
    assert changes.replaced == [] and changes.moved == [OLD]
    assert any(r.urn.endswith("test:index:Group$kubernetes:core/v1:ConfigMap::config") for r in recording.resources)


def test_moving_a_component_moves_its_children_with_it() -> None:
    """A component renamed with an alias: its children, named after it, are adopted under their old URNs too."""

    def program(name: str, alias: str | None) -> None:
        provider = k8s.Provider("p", kubeconfig="offline")
        aliases = [pulumi.Alias(name=alias)] if alias else None
        line = pulumi.ComponentResource("test:index:Line", name, opts=pulumi.ResourceOptions(aliases=aliases))
        k8s.core.v1.ConfigMap(f"{name}-quota", opts=pulumi.ResourceOptions(provider=provider, parent=line))

    before = harness.run(lambda: program("press", None), project="factory-floor", stack="test")
    after = harness.run(lambda: program("press-1", "press"), project="factory-floor", stack="test")
    changes = urns.compare(urns.urns(before), after)
    assert changes.replaced == []
    assert sorted(changes.moved) == sorted(r.urn for r in before.resources if r.type != "pulumi:providers:kubernetes")


def test_a_rename_on_the_cluster_under_the_same_urn_is_a_replacement() -> None:
    def program(metadata_name: str) -> None:
        provider = k8s.Provider("p", kubeconfig="offline")
        k8s.core.v1.ConfigMap(
            "quota",
            metadata={"name": metadata_name, "namespace": "line-press"},
            opts=pulumi.ResourceOptions(provider=provider),
        )

    before = harness.run(lambda: program("line-quota"), project="factory-floor", stack="test")
    after = harness.run(lambda: program("press-quota"), project="factory-floor", stack="test")
    changes = urns.compare(urns.urns(before), after)
    assert changes.replaced == changes.added == []
    assert changes.renamed == [
        "urn:pulumi:test::factory-floor::kubernetes:core/v1:ConfigMap::quota: "
        "ConfigMap line-press/line-quota -> ConfigMap line-press/press-quota"
    ]
    assert "RENAMED where it lives" in changes.report("test")
