"""Chaos experiments only hit namespaces that opted in, one pod at a time, for a bounded duration.

Chaos Mesh silently ignores a target outside its filtered namespaces, and a mistyped selector could hit a
line that never agreed to it — so the pack checks the targets against the namespaces in the same stack.
A namespace opted in when it carries the label `factory-floor.io/chaos: opt-in` (set by ProductionLine for
`chaosOptIn: true`) or Chaos Mesh's own annotation `chaos-mesh.org/inject: enabled`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyResource, ReportViolation, Severity, StackValidationArgs

from factory_policies import vocabulary as vocab
from factory_policies.controls import (
    IEC_62443,
    K8S_NAMESPACE,
    annotations_of,
    dig,
    items,
    labels,
    mapping,
    metadata,
    number,
)
from factory_policies.kit import each, stack_policy

CHAOS_GROUP = "kubernetes:chaos-mesh.org/v1alpha1:"
EXPERIMENT_KINDS = (
    "PodChaos",
    "NetworkChaos",
    "StressChaos",
    "IOChaos",
    "TimeChaos",
    "DNSChaos",
    "HTTPChaos",
    "JVMChaos",
    "KernelChaos",
)
CHAOS_TYPES = tuple(f"{CHAOS_GROUP}{kind}" for kind in ("Schedule", "Workflow", *EXPERIMENT_KINDS))
# the blast radius a plant accepts from one experiment
MAX_FIXED_PODS = 2
MAX_FIXED_PERCENT = 20


def opted_in_namespaces(resources: Iterable[PolicyResource]) -> set[str]:
    found = set()
    for r in resources:
        if r.resource_type != K8S_NAMESPACE:
            continue
        labelled = labels(r.props).get(vocab.CHAOS) == vocab.CHAOS_OPT_IN
        if labelled or annotations_of(r.props).get(vocab.CHAOS_MESH_INJECT) == vocab.CHAOS_MESH_INJECT_VALUE:
            found.add(str(metadata(r.props).get("name")))
    return found


def experiment_spec(kind: str, props: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
    """(path, spec) of the experiment; a Schedule embeds it under spec.<type with a lower-case first letter>."""
    if kind != "Schedule":
        return "spec", mapping(props, "spec")
    schedule_type = str(dig(props, "spec", "type") or "")
    key = schedule_type[:1].lower() + schedule_type[1:]
    embedded = dig(props, "spec", key) if key else None
    return (f"spec.{key}", embedded) if isinstance(embedded, Mapping) else None


def _targets(where: str, selector: Mapping[str, Any], opted: set[str]) -> Iterator[str]:
    namespaces = [str(n) for n in items(selector, "namespaces")]
    if not namespaces:
        yield f"{where}.namespaces is empty: name the opted-in namespaces to target"
    for namespace in namespaces:
        if namespace not in opted:
            yield f"{where}.namespaces targets '{namespace}', which has not opted in to chaos experiments"


def _blast_radius(where: str, spec: Mapping[str, Any]) -> Iterator[str]:
    mode, value = dig(spec, "mode"), number(dig(spec, "value"))
    if mode == "fixed" and (value is None or value > MAX_FIXED_PODS):
        yield f"{where}.mode fixed with value {dig(spec, 'value')!r}: at most {MAX_FIXED_PODS} pods"
    elif mode == "fixed-percent" and (value is None or value > MAX_FIXED_PERCENT):
        yield f"{where}.mode fixed-percent with value {dig(spec, 'value')!r}: at most {MAX_FIXED_PERCENT}%"
    elif mode not in ("one", "fixed", "fixed-percent"):
        yield f"{where}.mode is {mode!r}: use one, or a small fixed / fixed-percent"
    if not dig(spec, "duration"):
        yield f"{where}.duration is not set: every experiment ends on its own"


def _judge(resource: PolicyResource, opted: set[str]) -> Iterator[str]:
    kind = resource.resource_type.rsplit(":", 1)[1]
    name = f"{kind} {metadata(resource.props).get('namespace')}/{metadata(resource.props).get('name')}"
    if kind == "Workflow":
        yield f"{name}: Workflows are not judged by the pack; use one Schedule per experiment"
        return
    found = experiment_spec(kind, resource.props)
    if found is None:
        yield f"{name}: spec.type {dig(resource.props, 'spec', 'type')!r} has no embedded experiment spec"
        return
    where, spec = found
    yield from (f"{name}: {m}" for m in _targets(f"{where}.selector", mapping(spec, "selector"), opted))
    if dig(spec, "target") is not None:  # NetworkChaos partitions name a second set of pods
        yield from (
            f"{name}: {m}" for m in _targets(f"{where}.target.selector", mapping(spec, "target", "selector"), opted)
        )
    yield from (f"{name}: {m}" for m in _blast_radius(where, spec))


def _check(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    opted = opted_in_namespaces(args.resources)
    experiments = [r for r in args.resources if r.resource_type in CHAOS_TYPES]
    each(experiments, lambda r: list(_judge(r, opted)), report_violation)


chaos_opted_in_targets = stack_policy(
    name="chaos-targets-opted-in-namespaces",
    title="Chaos experiments target only opted-in namespaces, with a small blast radius",
    description=(
        "Every Chaos Mesh Schedule and experiment (PodChaos, NetworkChaos, StressChaos, ...) names its target "
        "namespaces in selector.namespaces (Schedule: spec.<type>.selector.namespaces), each of them a "
        "namespace of this stack that opted in (label factory-floor.io/chaos=opt-in or annotation "
        "chaos-mesh.org/inject=enabled); mode is one, fixed (at most 2 pods) or fixed-percent (at most 20%), "
        "and a duration is set. Workflows are refused."
    ),
    controls=(IEC_62443("SR 7.1"), IEC_62443("SR 5.1")),
    resource_types=(K8S_NAMESPACE, *CHAOS_TYPES),
    check=_check,
    severity=Severity.HIGH,
    remediation=(
        "Set `chaosOptIn: true` on the line that accepts experiments (or target such a line), list its "
        "namespace in selector.namespaces, use mode: one and set a duration such as 30s."
    ),
)
