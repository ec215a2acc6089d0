"""Every reference stack's URNs equal the committed snapshot: an accidental rename or re-parent — which the
engine would carry out by deleting and re-creating production objects — fails here with the list of URNs."""

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
    changes = urns.compare([OLD], _moved(alias=False))
    assert changes.replaced == [OLD] and changes.moved == []
    assert "would be DELETED" in changes.report("test")


def test_a_reparent_with_an_alias_is_a_move() -> None:
    recording = _moved(alias=True)
    changes = urns.compare([OLD], recording)
    assert changes.replaced == [] and changes.moved == [OLD]
    assert any(r.urn.endswith("test:index:Group$kubernetes:core/v1:ConfigMap::config") for r in recording.resources)
