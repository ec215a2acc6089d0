"""Running the real program for tests: the real `__main__.py` under the SDK mock runtime (offline.harness),
and the offline plan of a reference stack — each computed once per session and shared (read-only)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pulumi

from offline import harness
from offline.harness import Recording, Registration
from offline.plan import PlanResult, plan
from offline.render import is_manifest, manifest, redact
from tests.support.factories import pulumi_config

ROOT = Path(__file__).resolve().parents[2]


class Runs:
    """The session's harness: `main(raw)` runs __main__.py with a raw stack config, `stack(name)` plans a
    reference stack, `failing(config, secrets)` runs a config the program must refuse."""

    def __init__(self) -> None:
        self._mains: dict[str, Recording] = {}
        self._stacks: dict[str, PlanResult] = {}

    def main(self, raw: dict[str, Any]) -> Recording:
        key = json.dumps(raw, sort_keys=True)
        if key not in self._mains:
            config, secrets = pulumi_config(raw)
            self._mains[key] = harness.run(
                harness.main_program(ROOT), project="factory-floor", stack="test", config=config, secret_keys=secrets
            )
        return self._mains[key]

    def stack(self, name: str) -> PlanResult:
        if name not in self._stacks:
            self._stacks[name] = plan(name, ROOT)
        return self._stacks[name]

    @staticmethod
    def failing(config: dict[str, str], secrets: Sequence[str]) -> tuple[str, Recording]:
        """Run __main__.py, catching the RunError inside the program so we can see what got registered."""
        main = harness.main_program(ROOT)
        caught: list[str] = []

        def program() -> None:
            try:
                main()
            except pulumi.RunError as error:
                caught.append(str(error))

        recording = harness.run(program, project="factory-floor", stack="test", config=config, secret_keys=secrets)
        assert caught, "the program accepted a broken configuration"
        return caught[0], recording


def one(recording: Recording, type_: str, name: str) -> Registration:
    found = [r for r in recording.resources if r.type == type_ and r.name == name]
    assert len(found) == 1, f"{type_} {name}: {[r.name for r in recording.of_type(type_)]}"
    return found[0]


def named(recording: Recording, suffix: str) -> Registration:
    found = [r for r in recording.resources if r.name.endswith(suffix)]
    assert len(found) == 1, (suffix, [r.name for r in found])
    return found[0]


def inputs_in_namespace(recording: Recording, type_: str, namespace: str) -> list[dict[str, Any]]:
    return [
        redact(r.inputs) for r in recording.of_type(type_) if r.inputs.get("metadata", {}).get("namespace") == namespace
    ]


def chart_values(recording: Recording, cluster: str, component: str) -> dict[str, dict[str, Any]]:
    """Release name -> the values its Chart was given, for the charts of one capability component (`observability`,
    `baseline`, ...) on one cluster."""
    return {
        r.inputs["name"]: r.inputs["values"]
        for r in recording.of_type("kubernetes:helm.sh/v4:Chart")
        if f"-{cluster}-{component}-" in r.name
    }


def network_policies(recording: Recording) -> list[dict[str, Any]]:
    """Every NetworkPolicy the recording registers, as the API server would receive it (for tests.support.netpol)."""
    return [manifest(r) for r in recording.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy") if is_manifest(r)]
