"""Requests/limits helpers shared by add-on value builders (quantities as Kubernetes writes them)."""

from __future__ import annotations

from typing import Any


def resources(cpu_request: str, memory_request: str, cpu_limit: str, memory_limit: str) -> dict[str, Any]:
    return {
        "requests": {"cpu": cpu_request, "memory": memory_request},
        "limits": {"cpu": cpu_limit, "memory": memory_limit},
    }


REPLICAS = {"edge-small": 1, "edge-ha": 2, "site": 3, "cloud": 3}
