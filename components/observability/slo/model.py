"""One service-level objective as the generator needs it: who it belongs to, its objective, and its SLI as an
error ratio over any window — the same shape for a line's availability, latency and throughput SLOs and for the
platform's own (API server availability, restore-drill success), so one generator and one set of tests serve all.

Names follow Sloth (slok/sloth pkg/common/conventions, REFERENCE-2 §6): `sloth_id` = `<service>-<slo>`,
`sloth_service`, `sloth_slo`; recorded series carry them, so Sloth's dashboards read our rules unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from components.observability.slo import contract

ErrorRatio = Callable[[str], str]  # window ("5m") -> PromQL of the error ratio over that window


@dataclass(frozen=True)
class Slo:
    service: str  # the line (`line-weld`) or the platform part (`platform-api-server`)
    name: str  # availability | latency | throughput | ...
    objective: float  # a ratio: 0.995
    error_ratio: ErrorRatio
    description: str
    labels: Mapping[str, str] = field(default_factory=dict)  # factory, line, team, cluster: for routing

    @property
    def id(self) -> str:
        return f"{self.service}-{self.name}"

    @property
    def sloth_labels(self) -> dict[str, str]:
        return {"sloth_id": self.id, "sloth_service": self.service, "sloth_slo": self.name}


def _namespace(namespace: str) -> str:
    return f'namespace="{namespace}"'


def events(namespace: str) -> ErrorRatio:
    """Failed operations among all, from the metric contract's counter."""
    ns = _namespace(namespace)
    return lambda w: (
        f"sum(rate({contract.OPERATIONS}{{{ns}, {contract.RESULT_ERROR}}}[{w}])) "
        f"/ sum(rate({contract.OPERATIONS}{{{ns}}}[{w}]))"
    )


def slower_than(histogram: str, namespace: str, seconds: float) -> ErrorRatio:
    """The share of observations slower than `seconds` (a bucket boundary of the histogram)."""
    ns = _namespace(namespace)
    fast = f'{histogram}_bucket{{{ns}, le="{contract.le(seconds)}"}}'
    count = f"{histogram}_count{{{ns}}}"
    return lambda w: f"(sum(rate({count}[{w}])) - sum(rate({fast}[{w}]))) / sum(rate({count}[{w}]))"


def probe_failures(namespace: str) -> ErrorRatio:
    """The share of failed blackbox probes of the line (time-based: one probe per scrape interval)."""
    ns = _namespace(namespace)
    return lambda w: f"1 - avg(avg_over_time({contract.PROBE_SUCCESS}{{{ns}}}[{w}]))"
