"""The procedure as users read and copy it: Markdown, each step's commands in one `sh` block, steps numbered in
the order they run, and per restored cluster its expected duration against each line's RTO."""

from __future__ import annotations

from offline.recovery.procedure import MINUTES, ClusterRecovery, Procedure, Step, location_text, timings


def clock(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def _step(number: int, step: Step, level: str) -> list[str]:
    out = [f"{level} Step {number}. {step.title}", ""]
    for paragraph in step.text:
        out += [paragraph, ""]
    if step.commands:
        out += ["```sh", *step.commands, "```", ""]
    return out


def _cluster_header(recovery: ClusterRecovery) -> list[str]:
    cluster = recovery.cluster
    if recovery.choice is None:
        return [f"## Cluster `{cluster.name}` ({cluster.distribution}): keeps running", ""]
    return [
        f"## Cluster `{cluster.name}` ({cluster.distribution}): restore from location `{recovery.choice.cloud}`",
        "",
    ]


def _durations(procedure: Procedure, recovery: ClusterRecovery) -> list[str]:
    found = timings(procedure, recovery)
    if not found:
        return []
    assumed = ", ".join(f"{kind} {minutes}" for kind, minutes in MINUTES.items())
    out = [
        "### Expected duration against each line's RTO",
        "",
        "Assumption: the steps above run one after another — every command waits for what it starts — so a line is "
        "back after every step before its own restore plus that restore; critical lines go first. Counted from step "
        "1, not from the loss (noticing it and deciding to restore come on top); clusters are restored side by side. "
        f"Minutes per step are assumed, not measured ({assumed}); restore drills (issue #11 item 6) will measure them.",
        "",
        "| line | criticality | back after | RTO | |",
        "|---|---|---|---|---|",
    ]
    for timing in found:
        rto = round(timing.rto_hours * 60)
        verdict = (
            f"within ({clock(rto - timing.minutes)} to spare)"
            if timing.within
            else f"OVER by {clock(timing.minutes - rto)}"
        )
        out.append(
            f"| `{timing.line.namespace}` | {timing.line.criticality} | {clock(timing.minutes)} | "
            f"{timing.rto_hours:g} h | {verdict} |"
        )
    return [*out, ""]


def render(procedure: Procedure) -> str:
    out = [f"# Recovery procedure — {procedure.title}", ""]
    for paragraph in procedure.preface:
        out += [paragraph, ""]
    number = 0
    for step in procedure.first:
        number += 1
        out += _step(number, step, "##")
    for recovery in procedure.clusters:
        out += _cluster_header(recovery)
        if recovery.choice is not None:
            for paragraph in location_text(procedure.config, recovery):
                out += [paragraph, ""]
        for step in recovery.steps:
            number += 1
            out += _step(number, step, "###")
        out += _durations(procedure, recovery)
    return "\n".join(out).rstrip("\n") + "\n"
