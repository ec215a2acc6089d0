"""Run the real Pulumi program under the SDK's mock runtime and record what it registers.

The mock monitor sees every RegisterResource request the program makes — the same requests the engine
would receive in `pulumi preview` — and we keep type, name, parent, providers, dependencies, options
and inputs of each.
"""

from __future__ import annotations

import gc
import runpy
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config
from pulumi.runtime import mocks, rpc, settings

SECRET_SIG = rpc._special_sig_key
SECRET_VALUE_SIG = rpc._special_secret_sig


@dataclass
class Registration:
    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    provider: str
    providers: dict[str, str]
    dependencies: list[str]
    protect: bool
    retain_on_delete: bool
    remote: bool
    inputs: dict[str, Any]

    @property
    def provider_urn(self) -> str:
        """The provider's URN: a provider reference is "<provider urn>::<provider id>"; remote components
        name theirs per package in `providers`."""
        reference = self.provider or self.providers.get("kubernetes", "")
        return reference.rsplit("::", 1)[0] if reference else ""


@dataclass
class Recording:
    project: str
    stack: str
    resources: list[Registration] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def by_urn(self) -> dict[str, Registration]:
        return {r.urn: r for r in self.resources}

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.resources if r.type == type_]


class EchoMocks(pulumi.runtime.Mocks):
    """Outputs equal inputs (otherwise `.apply` sees None); ids are derived from names, so runs repeat."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


class RecordingMonitor(mocks.MockMonitor):
    """A MockMonitor that also keeps the request fields MockResourceArgs leaves out (parent, deps, ...)."""

    def __init__(self, mock: pulumi.runtime.Mocks) -> None:
        super().__init__(mock)
        self._lock = threading.Lock()  # RegisterResource is called from several threads
        self.registrations: list[Registration] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        registration = Registration(
            urn=response.urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            parent=request.parent,
            provider=request.provider,
            providers=dict(request.providers),
            dependencies=sorted(request.dependencies),
            protect=bool(request.protect),
            retain_on_delete=bool(request.retainOnDelete),
            remote=bool(request.remote),
            inputs=rpc.deserialize_properties(request.object, keep_unknowns=True),
        )
        with self._lock:
            self.registrations.append(registration)
        return response


def _reset_runtime() -> None:
    settings.reset_options()
    runtime_config.set_all_config({}, [])


def run(
    program: Callable[[], None],
    *,
    project: str,
    stack: str,
    config: Mapping[str, str] | None = None,
    secret_keys: Sequence[str] = (),
) -> Recording:
    """Run `program` as a Pulumi program in preview mode under mocks; return everything it registered."""
    _reset_runtime()
    runtime_config.set_all_config(dict(config or {}), list(secret_keys))
    monitor = RecordingMonitor(EchoMocks())
    pulumi.runtime.set_mocks(EchoMocks(), project=project, stack=stack, preview=True, monitor=monitor)
    recording = Recording(project=project, stack=stack)

    def body() -> Any:
        program()
        root = settings.get_root_resource()
        exported = dict(getattr(root, "outputs", {}) or {})
        return pulumi.Output.from_input(exported).apply(recording.outputs.update)

    # A plan is a short batch whose objects all live to its end: the cyclic collector would only rescan
    # them, over and over (measured: about 45% of a 100-line plan, and the cause of super-linear growth).
    collecting = gc.isenabled()
    gc.disable()
    try:
        pulumi.runtime.test(body)()
    finally:
        _reset_runtime()
        if collecting:
            gc.enable()
    # Sorting by URN makes every artifact independent of the order the threads registered in.
    recording.resources = sorted(monitor.registrations, key=lambda r: r.urn)
    return recording


def main_program(project_dir: Path) -> Callable[[], None]:
    """The project's real `__main__.py`, run the way the Python language host runs it."""

    def program() -> None:
        if str(project_dir) not in sys.path:
            sys.path.insert(0, str(project_dir))
        runpy.run_path(str(project_dir / "__main__.py"), run_name="__main__")

    return program
