"""The metric contract every line's applications expose on their metrics port (`lines[].metricsPort`, scraped by
the platform's Prometheus), documented in docs/observability.md. The SLOs and line KPIs are computed from these
names only; an application that exposes them gets its SLO rules, dashboard and routes with no further work.

Availability and latency of the line's operations (a request, a command, a transaction with the line's PLC or MES):
- `factory_line_operations_total{result="ok"|"error"}` — counter of finished operations.
- `factory_line_operation_duration_seconds` — histogram of their durations, with (at least) the buckets
  OPERATION_BUCKETS: a latency objective's threshold is one of them.
Throughput: `factory_line_cycle_duration_seconds` — histogram of production cycle times, with a bucket at the
line's takt time (`lines[].slo.throughput.taktSeconds`).
OEE (overall equipment effectiveness = availability * performance * quality):
- `factory_line_planned_production_seconds_total` — counter: seconds the line was scheduled to produce.
- `factory_line_run_seconds_total` — counter: seconds it actually ran.
- `factory_line_units_total{quality="good"|"scrap"}` — counter of units finished.
- `factory_line_ideal_cycle_time_seconds` — gauge: the design cycle time of one unit.
Prometheus adds `namespace` (the line's) when it scrapes; the rules select a line by it.
"""

from __future__ import annotations

from components.observability import config

OPERATIONS = "factory_line_operations_total"
OPERATION_DURATION = "factory_line_operation_duration_seconds"
CYCLE_DURATION = "factory_line_cycle_duration_seconds"
PLANNED_SECONDS = "factory_line_planned_production_seconds_total"
RUN_SECONDS = "factory_line_run_seconds_total"
UNITS = "factory_line_units_total"
IDEAL_CYCLE = "factory_line_ideal_cycle_time_seconds"
RESULT_ERROR = 'result="error"'
OPERATION_BUCKETS = config.OPERATION_BUCKETS  # a latency threshold is one of them (the config checks it)
PROBE_SUCCESS = "probe_success"  # blackbox exporter: 1 when a probe of the line succeeded


def le(seconds: float) -> str:
    """A bucket's `le` label as Prometheus client libraries write it (0.5 -> "0.5", 1 -> "1.0")."""
    return repr(float(seconds))
