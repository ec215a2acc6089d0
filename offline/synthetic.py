"""Synthetic factories of any size for the benchmark, the profile and the graph tests."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from components.config.document import SECTIONS
from components.config.loader import load_factory_config
from components.config.types import PROJECT
from offline.plan import stand_in_credentials
from offline.stackfile import StackSettings, load_stack

PROJECT_DIR = Path(__file__).resolve().parent.parent
LINES_PER_CLUSTER = 50
TEAMS = 4
STACK = "bench"
TEMPLATE_STACK = "dev"


def synthetic_sections(lines: int, template: Mapping[str, Any]) -> dict[str, Any]:
    """A valid factory of `lines` lines: one cluster per 50 lines, four teams, a chain of conduits.

    Every section the lines do not shape (environment, security, site, ...) is taken from `template`, the
    embedded `dev` stack, so the benchmark follows the schema as it grows instead of breaking on every new
    required section. Clusters copy the template's first cluster. Every line declares a flow to the next
    line on the same cluster (the last line of a cluster has none), so most lines carry one egress and one
    ingress conduit, as on a real assembly chain.
    """
    sections = {key: copy.deepcopy(value) for key, value in template.items() if key in SECTIONS}
    sections["factory"] = {**sections["factory"], "name": f"bench{lines}"}
    cluster_template = sections["clusters"][0]
    sections["clusters"] = [
        {**cluster_template, "name": f"cluster-{c}", "kubeconfig": {"secretKey": f"cluster{c}Kubeconfig"}}
        for c in range(max(1, -(-lines // LINES_PER_CLUSTER)))
    ]
    sections["teams"] = [
        {"name": f"team-{t}", "idpGroups": [f"bench-team-{t}", f"bench-team-{t}-oncall"]} for t in range(TEAMS)
    ]
    criticalities = ("standard", "high", "critical")
    line_items: list[dict[str, Any]] = []
    for i in range(lines):
        cluster = i // LINES_PER_CLUSTER
        item: dict[str, Any] = {
            "name": f"cell-{i:03d}",
            "cluster": f"cluster-{cluster}",
            "team": f"team-{i % TEAMS}",
            "criticality": criticalities[i % len(criticalities)],
            "chaosOptIn": i % 5 == 0,
        }
        following = i + 1
        if following < lines and following // LINES_PER_CLUSTER == cluster:
            item["flows"] = [{"to": f"cell-{following:03d}", "ports": [8443], "description": "handover"}]
        line_items.append(item)
    sections["lines"] = line_items
    return sections


def synthetic_stack(lines: int) -> StackSettings:
    """The stack settings the CLI would hand over (objects as JSON text) plus stand-in kubeconfig secrets."""
    sections = synthetic_sections(lines, load_stack(PROJECT_DIR, TEMPLATE_STACK).raw_project_config())
    config = {
        f"{PROJECT}:{key}": value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        for key, value in sections.items()
    }
    settings = StackSettings(project=PROJECT, stack=STACK, config=config, secret_keys=[])
    # fail before timing anything if the generator ever produces an invalid factory
    stand_in_credentials(settings, load_factory_config(settings.raw_project_config(), require_kubeconfigs=False))
    return settings
