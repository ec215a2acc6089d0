"""SLOs as Prometheus rules: per SLO, the error ratio over every alerting window, the budget bookkeeping under
Sloth's names, and the page and ticket alerts of the multi-window, multi-burn-rate recipe (burn.py). A pure
generator: a list of Slo in, a rule-file document out, judged by promtool in the tests.

Groups, as Sloth lays them out (each evaluated in order): `sloth-slo-sli-recordings-<id>` (the SLI per window,
the period's from the 5-minute one), `sloth-slo-meta-recordings-<id>` (objective, budget, burn rates, remaining
budget, info), `sloth-slo-alerts-<id>` (one page and one ticket alert, both named `<Service><Slo>ErrorBudgetBurn`
... distinguished by `severity`). Alerts carry `severity` (page | ticket) for routing and every label of the SLO
(factory, cluster, line, team), so Alertmanager routes a line's page to its own team.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from components.observability.slo.burn import PERIOD_DAYS, PERIOD_WINDOW, RATE_WINDOWS, WINDOWS, Severity, error_budget
from components.observability.slo.model import Slo

SLI = "slo:sli_error:ratio_rate"
INTERVAL = "30s"
ALERT_FOR = {"page": "2m", "ticket": "15m"}  # long enough to ignore one bad scrape, short against the windows


def _selector(slo: Slo) -> str:
    return ", ".join(f'{k}="{v}"' for k, v in slo.sloth_labels.items())


def alert_name(slo: Slo) -> str:
    words = [*slo.service.split("-"), slo.name]
    return "".join(word.capitalize() for word in words) + "ErrorBudgetBurn"


def sli_rules(slo: Slo) -> list[dict[str, Any]]:
    labels = {**slo.sloth_labels, **slo.labels}
    rules = [
        {"record": f"{SLI}{window}", "expr": slo.error_ratio(window), "labels": {**labels, "sloth_window": window}}
        for window in RATE_WINDOWS
    ]
    # the period's ratio from the 5-minute one (Sloth's optimisation: a 30-day rate() over raw series is costly)
    five = f"{SLI}5m{{{_selector(slo)}}}"
    period = (
        f"sum_over_time({five}[{PERIOD_WINDOW}]) / ignoring (sloth_window) count_over_time({five}[{PERIOD_WINDOW}])"
    )
    rules.append(
        {"record": f"{SLI}{PERIOD_WINDOW}", "expr": period, "labels": {**labels, "sloth_window": PERIOD_WINDOW}}
    )
    return rules


def meta_rules(slo: Slo) -> list[dict[str, Any]]:
    labels = {**slo.sloth_labels, **slo.labels}
    selector = _selector(slo)
    budget = f"slo:error_budget:ratio{{{selector}}}"
    on = "on (sloth_id, sloth_slo, sloth_service) group_left"
    return [
        {"record": "slo:objective:ratio", "expr": f"vector({slo.objective})", "labels": labels},
        {"record": "slo:error_budget:ratio", "expr": f"vector({error_budget(slo.objective)})", "labels": labels},
        {"record": "slo:time_period:days", "expr": f"vector({PERIOD_DAYS})", "labels": labels},
        {"record": "slo:current_burn_rate:ratio", "expr": f"{SLI}5m{{{selector}}} / {on} {budget}", "labels": labels},
        {
            "record": "slo:period_burn_rate:ratio",
            "expr": f"{SLI}{PERIOD_WINDOW}{{{selector}}} / {on} {budget}",
            "labels": labels,
        },
        {
            "record": "slo:period_error_budget_remaining:ratio",
            "expr": f"1 - slo:period_burn_rate:ratio{{{selector}}}",
            "labels": labels,
        },
        {
            "record": "sloth_slo_info",
            "expr": "vector(1)",
            "labels": {**labels, "sloth_objective": f"{slo.objective * 100:g}", "sloth_mode": "factory-floor"},
        },
    ]


def _pair(slo: Slo, long: str, short: str, threshold: float) -> str:
    selector = _selector(slo)
    return (
        f"(max(slo:sli_error:ratio_rate{short}{{{selector}}} > {threshold}) without (sloth_window) "
        f"and max(slo:sli_error:ratio_rate{long}{{{selector}}} > {threshold}) without (sloth_window))"
    )


def alert_expression(slo: Slo, severity: Severity) -> str:
    pairs = [_pair(slo, w.long, w.short, w.threshold(slo.objective)) for w in WINDOWS if w.severity == severity]
    return " or ".join(pairs)


def alert_rules(slo: Slo) -> list[dict[str, Any]]:
    percent = f"{slo.objective * 100:g} %"
    rules = []
    severities: tuple[Severity, ...] = ("page", "ticket")
    for severity in severities:
        windows = ", ".join(f"{w.long}/{w.short} at {w.burn_rate:g}x" for w in WINDOWS if w.severity == severity)
        speed = "will be gone within days" if severity == "page" else "will be gone before the period ends"
        rules.append(
            {
                "alert": alert_name(slo),
                "expr": alert_expression(slo, severity),
                "for": ALERT_FOR[severity],
                "labels": {**slo.labels, **slo.sloth_labels, "severity": severity, "sloth_severity": severity},
                "annotations": {
                    "summary": (
                        f"{slo.service}: the {slo.name} error budget ({percent} over {PERIOD_DAYS} days) {speed}"
                    ),
                    "description": (
                        f"{slo.description} The error ratio is above the threshold in both windows of a pair "
                        f'({windows}). Current burn rate: slo:current_burn_rate:ratio{{sloth_id="{slo.id}"}}; '
                        "budget left: slo:period_error_budget_remaining:ratio (docs/observability.md, "
                        '"Handling a page").'
                    ),
                },
            }
        )
    return rules


def slo_rules(slos: Sequence[Slo]) -> dict[str, Any]:
    """The rule file of a set of SLOs (none: no groups)."""
    groups: list[dict[str, Any]] = []
    for slo in slos:
        groups += [
            {"name": f"sloth-slo-sli-recordings-{slo.id}", "interval": INTERVAL, "rules": sli_rules(slo)},
            {"name": f"sloth-slo-meta-recordings-{slo.id}", "interval": INTERVAL, "rules": meta_rules(slo)},
            {"name": f"sloth-slo-alerts-{slo.id}", "interval": INTERVAL, "rules": alert_rules(slo)},
        ]
    return {"groups": groups}
