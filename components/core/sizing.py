"""Sizing profiles: how much a production line may consume on each kind of cluster.

CPU is in millicores and memory in MiB so that arithmetic stays exact; `cpu()` and `memory()` format
Kubernetes quantities.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from components.config.types import Criticality, Profile


@dataclass(frozen=True)
class LineBudget:
    requests_cpu_m: int
    requests_memory_mi: int
    limits_cpu_m: int
    limits_memory_mi: int
    pods: int
    persistent_volume_claims: int
    storage_gi: int


@dataclass(frozen=True)
class ContainerDefaults:
    request_cpu_m: int
    request_memory_mi: int
    limit_cpu_m: int
    limit_memory_mi: int
    max_cpu_m: int
    max_memory_mi: int


@dataclass(frozen=True)
class ProfileSizing:
    line_budget: LineBudget
    container: ContainerDefaults


PROFILES: dict[Profile, ProfileSizing] = {
    # single small node at the cell: lines must leave room for the platform itself
    "edge-small": ProfileSizing(
        LineBudget(1000, 2048, 2000, 4096, 20, 5, 20),
        ContainerDefaults(50, 64, 500, 512, 1000, 2048),
    ),
    "edge-ha": ProfileSizing(
        LineBudget(2000, 4096, 4000, 8192, 40, 10, 50),
        ContainerDefaults(50, 64, 500, 512, 2000, 4096),
    ),
    "site": ProfileSizing(
        LineBudget(4000, 8192, 8000, 16384, 80, 20, 200),
        ContainerDefaults(100, 128, 1000, 1024, 4000, 8192),
    ),
    "cloud": ProfileSizing(
        LineBudget(8000, 16384, 16000, 32768, 150, 40, 500),
        ContainerDefaults(100, 128, 1000, 1024, 4000, 8192),
    ),
}

# Critical lines get headroom so a surge (rework, recipe change) never hits the quota mid-shift.
CRITICALITY_FACTOR: dict[Criticality, Fraction] = {
    "standard": Fraction(1),
    "high": Fraction(3, 2),
    "critical": Fraction(2),
}


def line_budget(profile: Profile, criticality: Criticality) -> LineBudget:
    base = PROFILES[profile].line_budget
    factor = CRITICALITY_FACTOR[criticality]

    def scale(value: int) -> int:
        return int(value * factor)

    return LineBudget(
        requests_cpu_m=scale(base.requests_cpu_m),
        requests_memory_mi=scale(base.requests_memory_mi),
        limits_cpu_m=scale(base.limits_cpu_m),
        limits_memory_mi=scale(base.limits_memory_mi),
        pods=scale(base.pods),
        persistent_volume_claims=scale(base.persistent_volume_claims),
        storage_gi=scale(base.storage_gi),
    )


def cpu(millicores: int) -> str:
    return str(millicores // 1000) if millicores % 1000 == 0 else f"{millicores}m"


def memory(mebibytes: int) -> str:
    return f"{mebibytes // 1024}Gi" if mebibytes % 1024 == 0 else f"{mebibytes}Mi"


# --- the platform's own add-ons ------------------------------------------------------------------------

# Replicas of highly available platform controllers (Gatekeeper): one on a single-node cell.
ADDON_REPLICAS: dict[Profile, int] = {"edge-small": 1, "edge-ha": 2, "site": 3, "cloud": 3}


def resources(cpu_request: str, memory_request: str, cpu_limit: str, memory_limit: str) -> dict[str, Any]:
    """A container's requests and limits, as chart values and pod specs spell them."""
    return {
        "requests": {"cpu": cpu_request, "memory": memory_request},
        "limits": {"cpu": cpu_limit, "memory": memory_limit},
    }
