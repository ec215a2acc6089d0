"""The plan as a graph: how deep the longest chain of custom resources is (what bounds a `pulumi up`, since
the engine creates everything else in parallel), and how many resources each production line adds.

A custom resource waits for its dependencies and its provider. Depending on a component means waiting for
everything inside it and for what the component itself waits for, so components are transparent here: a
remote component such as a helm.v4.Chart (its objects are not visible under mocks) counts as what it waits
for. The depth does not grow with the number of lines: lines are side by side, not chained.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from functools import cache

from components.core import vocabulary as vocab
from offline.harness import Recording, Registration

LINE_TYPE = "factory:index:ProductionLine"


def _children(recording: Recording) -> dict[str, list[Registration]]:
    children: dict[str, list[Registration]] = {}
    for r in recording.resources:
        children.setdefault(r.parent, []).append(r)
    return children


def critical_path(recording: Recording) -> list[Registration]:
    """The longest chain of custom resources, first (a provider) to last."""
    by_urn = recording.by_urn()
    children = _children(recording)

    def waits_for(r: Registration) -> Iterable[str]:
        yield from r.dependencies
        if r.custom and r.provider_urn:
            yield r.provider_urn
        if not r.custom:
            yield from (child.urn for child in children.get(r.urn, []))

    @cache
    def chain(urn: str) -> tuple[str, ...]:
        r = by_urn.get(urn)
        if r is None:
            return ()
        longest = max((chain(dep) for dep in waits_for(r)), key=len, default=())
        return (*longest, urn) if r.custom else longest

    ends = (chain(r.urn) for r in recording.resources)
    return [by_urn[urn] for urn in max(ends, key=len, default=())]


def depth(recording: Recording) -> int:
    return len(critical_path(recording))


def line_counts(recording: Recording) -> dict[str, int]:
    """Per line: the resources inside its ProductionLine, plus those other capabilities put into it (objects
    labelled with the line, cloud resources tagged with it)."""
    children = _children(recording)
    counts: Counter[str] = Counter()
    inside: set[str] = set()
    for line in recording.of_type(LINE_TYPE):
        name = str(line.name).split("-", 1)[-1]
        stack = [line]
        while stack:
            node = stack.pop()
            counts[name] += 1
            inside.add(node.urn)
            stack += children.get(node.urn, [])
    known = set(counts)
    for r in recording.resources:
        labels = (r.inputs.get("metadata") or {}).get("labels") or {}
        tags = r.inputs.get("tags") if isinstance(r.inputs.get("tags"), dict) else {}
        owner = labels.get(vocab.LINE) or (tags or {}).get(vocab.TAG_LINE)
        if r.urn not in inside and owner in known:
            counts[str(owner)] += 1
    return dict(sorted(counts.items()))


def report_lines(recording: Recording) -> list[str]:
    path = critical_path(recording)
    chain = " → ".join(f"{r.type.rsplit(':', 1)[-1]} {r.name}" for r in path)
    lines = [f"Critical path: {len(path)} custom resources deep ({chain})"]
    counts = line_counts(recording)
    if counts:
        lines.append("Resources per line: " + ", ".join(f"{line} {count}" for line, count in counts.items()))
    return lines
