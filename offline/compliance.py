"""Compliance evidence from a plan's verdicts: the console lines grouped by framework, and the text of
build/<stack>/compliance.md — each control, its framework references, pass/fail and the resources it judged.

Pure functions of `offline.policy_runner.Verdict`s (which carry their policies): no I/O, no clock, sorted
output, so the document is byte-identical across runs. Framework references come from a policy's
`controls` (factory_policies.kit); a policy without them is grouped by the prefix of its `tags`
("cis-k8s:5.2.1"), one without either under "Unmapped". Given the recording, a resource a policy skipped
on purpose (a workload in an exempt namespace) is listed with the policy's reason instead of as a pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties

from offline.harness import Recording
from offline.policy_runner import Verdict

UNMAPPED = "Unmapped"
PASS, FAIL, WARN, NOT_APPLICABLE, DISABLED = "pass", "FAIL", "warn", "n/a", "disabled"
RESULTS = (PASS, FAIL, WARN, NOT_APPLICABLE, DISABLED)


@dataclass(frozen=True, order=True)
class Reference:
    framework: str  # display title, e.g. "CIS Kubernetes Benchmark 1.9"
    control: str  # e.g. "5.2.1", "SR 5.1", "restricted"


@dataclass(frozen=True)
class Evidence:
    verdict: Verdict
    judged: tuple[str, ...]  # URNs the policy judged
    exempt: Mapping[str, str]  # URN -> why the policy skipped it

    @property
    def policy(self) -> Any:
        return self.verdict.policy

    @property
    def status(self) -> str:
        if self.verdict.level == "disabled":
            return DISABLED
        if not self.verdict.passed:
            return FAIL if self.verdict.level == "mandatory" else WARN
        # a control with nothing (or only exempt resources) to judge in this stack is evidence of nothing
        return PASS if set(self.judged) - set(self.exempt) else NOT_APPLICABLE


def references(policy: Any) -> list[Reference]:
    controls = getattr(policy, "controls", None)
    if controls:
        return [Reference(_title(c.framework.compliance), c.control) for c in controls]
    tagged = [tag.split(":", 1) for tag in (getattr(policy, "tags", None) or []) if ":" in tag]
    return [Reference(prefix, control) for prefix, control in tagged] or [Reference(UNMAPPED, "-")]


def _title(framework: Any) -> str:
    return " ".join(part for part in (framework.name, framework.version) if part)


def resource_type(urn: str) -> str:
    """urn:pulumi:<stack>::<project>::<parent types$...$type>::<name> -> the resource's own type."""
    parts = urn.split("::")
    return parts[2].rsplit("$", 1)[-1] if len(parts) >= 4 else ""


def resource_label(urn: str) -> str:
    parts = urn.split("::")
    return f"{resource_type(urn)} {parts[-1]}" if len(parts) >= 4 else urn


def judged_resources(verdict: Verdict) -> list[str]:
    """The URNs a verdict judged. A stack policy sees the whole stack; its `resource_types` name the ones
    relevant to it, and any resource it reported is relevant by definition."""
    types = getattr(verdict.policy, "resource_types", None)
    if types is None or not isinstance(verdict.policy, StackValidationPolicy):
        return sorted(set(verdict.judged))
    reported = {v.resource for v in verdict.violations} - {"stack"}
    return sorted({urn for urn in verdict.judged if resource_type(urn) in types} | reported)


def _exemptions(
    verdict: Verdict, judged: Sequence[str], recording: Recording | None, config: Mapping[str, Any]
) -> dict[str, str]:
    exemption = getattr(verdict.policy, "exemption", None)
    if exemption is None or recording is None:
        return {}
    by_urn = recording.by_urn()
    found = {}
    options = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)
    for urn in judged:
        r = by_urn.get(urn)
        if r is None:
            continue
        args = ResourceValidationArgs(r.type, deserialize_properties(r.inputs), urn, r.name, options, None, config)
        try:
            reason = exemption(args)
        except Exception:  # e.g. a namespace unknown during preview: it cannot be shown exempt
            reason = None
        if reason:
            found[urn] = reason
    return found


def evidence(
    verdicts: Iterable[Verdict],
    recording: Recording | None = None,
    config: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Evidence]:
    """One Evidence per verdict; `recording` and `config` (per policy, as given to evaluate) let policies
    explain the resources they skipped."""
    result = []
    for verdict in verdicts:
        judged = judged_resources(verdict)
        policy_config = dict((config or {}).get(verdict.policy.name, {}))
        result.append(Evidence(verdict, tuple(judged), _exemptions(verdict, judged, recording, policy_config)))
    return result


def natural_key(text: str) -> list[Any]:
    """Order "5.2.10" after "5.2.9" and "SR 7.10" after "SR 7.9"."""
    return [int(piece) if piece.isdigit() else piece for piece in re.split(r"(\d+)", text)]


def _by_framework(items: Iterable[Evidence]) -> dict[str, list[tuple[Reference, Evidence]]]:
    grouped: dict[str, list[tuple[Reference, Evidence]]] = {}
    for item in items:
        for reference in references(item.policy):
            grouped.setdefault(reference.framework, []).append((reference, item))
    for rows in grouped.values():
        rows.sort(key=lambda row: (natural_key(row[0].control), row[1].policy.name))
    return dict(sorted(grouped.items(), key=lambda entry: (entry[0] == UNMAPPED, entry[0])))


def framework_lines(
    verdicts: Sequence[Verdict],
    recording: Recording | None = None,
    config: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    show_not_applicable: bool = False,
) -> list[str]:
    """Console lines: per framework a tally, then each control with the policy that checks it and its
    result; controls with nothing to judge in this stack are counted, and listed only when asked."""
    lines = ["Compliance by framework:"]
    for framework, rows in _by_framework(evidence(verdicts, recording, config)).items():
        counts = {r: sum(1 for _, e in rows if e.status == r) for r in RESULTS}
        lines.append(f"  {framework}: " + ", ".join(f"{n} {r}" for r, n in counts.items() if n))
        for reference, item in rows:
            if item.status == NOT_APPLICABLE and not show_not_applicable:
                continue
            judged = len(item.judged) - len(item.exempt)
            lines.append(f"    {reference.control:<12} {item.status:<8} {item.policy.name} ({judged} judged)")
    return lines


# --- compliance.md -------------------------------------------------------------------------------------


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _severity(policy: Any) -> str:
    severity = getattr(policy, "severity", None)
    return severity.value if severity is not None else "-"


def _link(policy: Any) -> str:
    return f"[`{policy.name}`](#{policy.name})"


def _summary(items: Sequence[Evidence]) -> list[str]:
    counts = {r: sum(1 for e in items if e.status == r) for r in RESULTS}
    return [
        f"{len(items)} policies: {counts[PASS]} pass, {counts[FAIL]} fail (mandatory), {counts[WARN]} warn "
        f"(advisory), {counts[NOT_APPLICABLE]} not applicable (nothing of their types to judge in this stack), "
        f"{counts[DISABLED]} disabled.",
        "",
        "| policy | enforcement | severity | result | resources judged | exempt | violations |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| {_link(e.policy)} | {e.verdict.level} | {_severity(e.policy)} | {e.status} | "
            f"{len(e.judged) - len(e.exempt)} | {len(e.exempt)} | {len(e.verdict.violations)} |"
            for e in items
        ),
    ]


def _framework_tables(items: Sequence[Evidence]) -> list[str]:
    lines: list[str] = []
    for framework, rows in _by_framework(items).items():
        lines += ["", f"### {framework}", "", "| control | policy | result | resources judged |", "|---|---|---|---|"]
        lines += [
            f"| {_cell(ref.control)} | {_link(e.policy)} | {e.status} | {len(e.judged) - len(e.exempt)} |"
            for ref, e in rows
        ]
    return lines


def _policy_section(item: Evidence) -> list[str]:
    policy = item.policy
    refs = ", ".join(f"{r.framework} {r.control}" for r in references(policy))
    judged = [urn for urn in item.judged if urn not in item.exempt]
    lines = [
        "",
        f'<a id="{policy.name}"></a>',
        f"### `{policy.name}` — {_cell(getattr(policy, 'display_name', None) or policy.description)}",
        "",
        _cell(policy.description),
        "",
        f"- **Result:** {item.status} ({item.verdict.level}, severity {_severity(policy)})",
        f"- **Framework references:** {refs}",
        f"- **Remediation:** {_cell(getattr(policy, 'remediation_steps', None) or '-')}",
        f"- **Resources judged ({len(judged)}):**" + ("" if judged else " none in this stack"),
        *(f"  - `{resource_label(urn)}`" for urn in judged),
    ]
    if item.exempt:
        lines.append(f"- **Exempt ({len(item.exempt)}):**")
        lines += [f"  - `{resource_label(urn)}`: {_cell(reason)}" for urn, reason in sorted(item.exempt.items())]
    if item.verdict.violations:
        lines.append(f"- **Violations ({len(item.verdict.violations)}):**")
        lines += [f"  - `{resource_label(v.resource)}`: {_cell(v.message)}" for v in item.verdict.violations]
    return lines


def compliance_markdown(
    stack: str,
    verdicts: Sequence[Verdict],
    recording: Recording | None = None,
    config: Mapping[str, Mapping[str, Any]] | None = None,
) -> str:
    """The text of build/<stack>/compliance.md; `config` is the per-policy config the verdicts were judged
    with (the `config` given to evaluate), `recording` the run they judged."""
    items = evidence(verdicts, recording, config)
    lines = [
        f"# Compliance evidence — stack `{stack}`",
        "",
        "Generated by the offline plan from the CrossGuard policy pack in `policy/` (catalogue: "
        "docs/policies.md). Each policy judged the resources this stack registers, as "
        "`pulumi preview --policy-pack policy --policy-pack-config build/<stack>/policy-config.json` would.",
        "",
        "## Summary",
        "",
        *_summary(items),
        "",
        "## Policy configuration",
        "",
    ]
    if config:
        lines += [f"- `{name}`: {_cell(dict(sorted(values.items())))}" for name, values in sorted(config.items())]
    else:
        lines.append("None: every policy used its defaults (the strictest settings, environment production).")
    lines += ["", "## Controls by framework", *_framework_tables(items), "", "## Policies"]
    for item in items:
        lines += _policy_section(item)
    return "\n".join(lines) + "\n"
