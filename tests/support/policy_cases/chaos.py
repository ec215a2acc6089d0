"""Chaos Mesh experiments: only opted-in namespaces, a small blast radius, a bounded duration."""

from __future__ import annotations

from typing import Any

import factory_policies as fp
from tests.support.policy_kit import DELETE, DROP, Case, Mutation, Res

NS = "kubernetes:core/v1:Namespace"
CHAOS = "kubernetes:chaos-mesh.org/v1alpha1"


def namespace(name: str, labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None) -> Res:
    return Res(NS, {"metadata": {"name": name, "labels": labels or {}, "annotations": annotations or {}}}, name=name)


def experiment(kind: str, name: str, spec: dict[str, Any]) -> Res:
    props = {
        "apiVersion": "chaos-mesh.org/v1alpha1",
        "kind": kind,
        "metadata": {"name": name, "namespace": "chaos-mesh"},
    }
    return Res(f"{CHAOS}:{kind}", {**props, "spec": spec}, name=name)


FIXTURE = (
    namespace("line-quality", labels={"factory-floor.io/chaos": "opt-in"}),  # set by ProductionLine
    namespace("line-assembly", annotations={"chaos-mesh.org/inject": "enabled"}),  # Chaos Mesh's own opt-in
    namespace("line-press", labels={"factory-floor.io/line": "press"}),  # never opted in
    experiment(
        "Schedule",
        "quality-pod-kill",
        {
            "schedule": "@every 6h",
            "type": "PodChaos",
            "concurrencyPolicy": "Forbid",
            "historyLimit": 3,
            "podChaos": {
                "action": "pod-kill",
                "mode": "one",
                "duration": "30s",
                "selector": {"namespaces": ["line-quality"]},
            },
        },
    ),
    experiment(
        "NetworkChaos",
        "assembly-delay",
        {
            "action": "delay",
            "mode": "fixed",
            "value": "1",
            "duration": "2m",
            "delay": {"latency": "50ms"},
            "selector": {"namespaces": ["line-assembly"]},
            "direction": "to",
            "target": {"mode": "one", "selector": {"namespaces": ["line-quality"]}},
        },
    ),
    experiment(
        "StressChaos",
        "quality-cpu",
        {
            "mode": "fixed-percent",
            "value": "10",
            "duration": "5m",
            "stressors": {"cpu": {"workers": 1, "load": 50}},
            "selector": {"namespaces": ["line-quality"], "labelSelectors": {"app": "gauge"}},
        },
    ),
)

CHAOS_CASE = Case(
    fp.chaos_opted_in_targets,
    FIXTURE,
    (
        Mutation(
            "schedule-targets-closed-line",
            "spec.podChaos.selector.namespaces",
            ["line-press"],
            "'line-press', which has not opted in",
            target="quality-pod-kill",
        ),
        Mutation(
            "schedule-no-namespaces",
            "spec.podChaos.selector",
            {"labelSelectors": {"app": "x"}},
            "namespaces is empty",
            target="quality-pod-kill",
        ),
        Mutation("schedule-mode-all", "spec.podChaos.mode", "all", "mode is 'all'", target="quality-pod-kill"),
        Mutation(
            "schedule-no-duration", "spec.podChaos.duration", DELETE, "duration is not set", target="quality-pod-kill"
        ),
        Mutation(
            "schedule-type-mismatch",
            "spec.type",
            "NetworkChaos",
            "has no embedded experiment spec",
            target="quality-pod-kill",
        ),
        Mutation(
            "opt-in-label-removed",
            ("metadata", "labels", "factory-floor.io/chaos"),
            DELETE,
            "'line-quality', which has not",
            target="line-quality",
        ),
        Mutation("opt-in-namespace-gone", "", DROP, "'line-assembly', which has not", target="line-assembly"),
        Mutation(
            "annotation-disabled",
            ("metadata", "annotations", "chaos-mesh.org/inject"),
            "disabled",
            "'line-assembly'",
            target="line-assembly",
        ),
        Mutation(
            "partition-target-closed",
            "spec.target.selector.namespaces",
            ["line-press"],
            "target.selector.namespaces targets 'line-press'",
            target="assembly-delay",
        ),
        Mutation("fixed-too-many", "spec.value", "10", "at most 2 pods", target="assembly-delay"),
        Mutation("percent-too-high", "spec.value", "50", "at most 20%", target="quality-cpu"),
        Mutation(
            "random-max-percent",
            "spec.mode",
            "random-max-percent",
            "mode is 'random-max-percent'",
            target="quality-cpu",
        ),
        Mutation("workflow", "@type", f"{CHAOS}:Workflow", "Workflows are not judged", target="quality-cpu"),
    ),
)

CASES = [CHAOS_CASE]
