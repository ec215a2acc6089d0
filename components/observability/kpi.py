"""Line KPIs from the metric contract (slo/contract.py): OEE = availability * performance * quality, per line
(`namespace`) over the last hour and the last shift (8 hours), as recording rules one group evaluates in order.

- availability: run time / planned production time;
- performance: ideal cycle time * units finished / run time (1 when the line runs at its design speed);
- quality: good units / units finished.
A line that was not planned to produce in the window has no availability (a zero denominator gives no sample), so
its OEE is absent rather than 0 or NaN — a stopped weekend is not a bad weekend. A pure builder, judged by promtool.
"""

from __future__ import annotations

from typing import Any

from components.observability.slo import contract

GROUP = "factory-floor-line-kpis"
WINDOWS = {"1h": "the last hour", "8h": "the last shift"}
GOOD = 'quality="good"'


def _rate(metric: str, window: str, selector: str = "") -> str:
    return f"sum by (namespace) (rate({metric}{{{selector}}}[{window}]))"


def kpi_rules() -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    for window in WINDOWS:
        availability = f"line:oee_availability:ratio_rate{window}"
        performance = f"line:oee_performance:ratio_rate{window}"
        quality = f"line:oee_quality:ratio_rate{window}"
        run = _rate(contract.RUN_SECONDS, window)
        units = _rate(contract.UNITS, window)
        ideal = f"max by (namespace) ({contract.IDEAL_CYCLE})"
        rules += [
            # `> 0` drops a zero denominator: no sample, rather than NaN
            {"record": availability, "expr": f"{run} / ({_rate(contract.PLANNED_SECONDS, window)} > 0)"},
            {"record": performance, "expr": f"{ideal} * {units} / ({run} > 0)"},
            {"record": quality, "expr": f"{_rate(contract.UNITS, window, GOOD)} / ({units} > 0)"},
            {"record": f"line:oee:ratio_rate{window}", "expr": f"{availability} * {performance} * {quality}"},
        ]
    return {"groups": [{"name": GROUP, "interval": "1m", "rules": rules}]}
