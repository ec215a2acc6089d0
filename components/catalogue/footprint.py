"""What the platform itself costs a cluster: requests and limits of every add-on's workloads.

Read from the very values `helm.v4.Chart` receives and the very pod specs a manifest add-on applies
(`release.Release.workloads`), so the figure cannot drift from what is deployed. DaemonSets count once per
node; scan jobs are reported apart from the steady state.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

_QUANTITY = re.compile(r"^([0-9.]+)([a-zA-Z]*)$")
_SUFFIX = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
}


def quantity(value: str | int | float) -> Decimal:
    """A Kubernetes quantity ('250m', '1', '128Mi', '500M') as a number of cores or bytes."""
    match = _QUANTITY.match(str(value))
    if not match or match.group(2) not in _SUFFIX:
        raise ValueError(f"not a Kubernetes quantity: {value!r}")
    return Decimal(match.group(1)) * _SUFFIX[match.group(2)]


@dataclass(frozen=True)
class Usage:
    cpu_requests: Decimal = Decimal(0)  # cores
    memory_requests: Decimal = Decimal(0)  # bytes
    cpu_limits: Decimal = Decimal(0)
    memory_limits: Decimal = Decimal(0)

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.cpu_requests + other.cpu_requests,
            self.memory_requests + other.memory_requests,
            self.cpu_limits + other.cpu_limits,
            self.memory_limits + other.memory_limits,
        )

    def times(self, count: int) -> Usage:
        return Usage(
            self.cpu_requests * count, self.memory_requests * count, self.cpu_limits * count, self.memory_limits * count
        )

    def as_dict(self) -> dict[str, float]:
        gib = Decimal(2) ** 30
        return {
            "cpuRequests": float(round(self.cpu_requests, 3)),
            "memoryRequestsGiB": float(round(self.memory_requests / gib, 3)),
            "cpuLimits": float(round(self.cpu_limits, 3)),
            "memoryLimitsGiB": float(round(self.memory_limits / gib, 3)),
        }


def usage_of(resources: Mapping[str, Any] | None, where: str) -> Usage:
    if not resources or not resources.get("requests") or not resources.get("limits"):
        raise ValueError(f"{where}: every container we configure declares requests and limits")
    requests, limits = resources["requests"], resources["limits"]
    return Usage(
        quantity(requests["cpu"]), quantity(requests["memory"]), quantity(limits["cpu"]), quantity(limits["memory"])
    )


@dataclass(frozen=True)
class Workload:
    """One pod template of an add-on: what one copy requests and limits, and how many copies run."""

    name: str
    usage: Usage
    replicas: int = 1
    per_node: bool = False  # a DaemonSet: one copy per node
    transient: bool = False  # a scan Job or CronJob: not part of the steady state


@dataclass(frozen=True)
class Footprint:
    steady: Usage  # what runs all the time with `nodes` nodes
    transient: Usage  # scan jobs at their concurrency cap
    per_addon: dict[str, Usage]


def footprint(workloads: Mapping[str, Iterable[Workload]], nodes: int = 1) -> Footprint:
    """Sum per add-on (name -> its workloads); per-add-on figures are the steady state, or the transient
    one for an add-on that only runs jobs."""
    steady, transient = Usage(), Usage()
    per_addon: dict[str, Usage] = {}
    for addon, found in workloads.items():
        addon_steady, addon_transient = Usage(), Usage()
        for workload in found:
            usage = workload.usage.times(nodes if workload.per_node else workload.replicas)
            if workload.transient:
                addon_transient = addon_transient + usage
            else:
                addon_steady = addon_steady + usage
        steady, transient = steady + addon_steady, transient + addon_transient
        per_addon[addon] = addon_steady if addon_steady != Usage() else addon_transient
    return Footprint(steady, transient, per_addon)
