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
from pulumi.output import Unknown
from pulumi.runtime import config as runtime_config
from pulumi.runtime import mocks, rpc, settings

SECRET_SIG = rpc._special_sig_key
SECRET_VALUE_SIG = rpc._special_secret_sig
ROOT_STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass
class Registration:
    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    provider: str
    providers: dict[str, str]
    dependencies: list[str]  # every resource it waits for: explicit depends_on and those its inputs come from
    property_dependencies: dict[str, list[str]]  # input name -> resources that input's value comes from
    aliases: list[str]  # URNs this resource had before a move (the engine treats them as the same resource)
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

    @property
    def depends_on(self) -> list[str]:
        """The explicit `depends_on`: dependencies that no input's value accounts for."""
        from_inputs = {urn for urns in self.property_dependencies.values() for urn in urns}
        return [urn for urn in self.dependencies if urn not in from_inputs]


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
        outputs = dict(args.inputs)
        identity = outputs.get("identity")
        # azure-native takes `identity.userAssignedIdentities` as a list of ids and answers with a map keyed by id
        # (the SDK refuses to read the echoed list into that map)
        if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
            assigned: dict[str, Any] = {i: {} for i in identity["userAssignedIdentities"]}
            outputs["identity"] = {**identity, "userAssignedIdentities": assigned}
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        """What a data source would answer: a stand-in for the ones the program asks (offline there is no cloud to
        ask), nothing for the rest. Never None for the failures: the SDK iterates over them."""
        answer = OFFLINE_ANSWERS.get(args.token)
        return (answer(dict(args.args)) if answer else {}), []


# what a preview shows for a value only the cloud knows (an ARN, a generated id): the mocks echo inputs, so a
# resource's other outputs stay unknown wherever another resource uses them
COMPUTED = "(known after apply)"


def _known(value: Any) -> Any:
    if isinstance(value, Unknown):
        return COMPUTED
    if isinstance(value, dict):
        return {k: _known(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_known(v) for v in value]
    return value


# token -> the stand-in answer of an invoke, from its arguments (an impossible project number marks it as offline)
OFFLINE_ANSWERS: dict[str, Any] = {
    "gcp:storage/getProjectServiceAccount:getProjectServiceAccount": lambda a: {
        "project": a.get("project", ""),
        "emailAddress": "service-000000000000@gs-project-accounts.iam.gserviceaccount.com",
        "member": "serviceAccount:service-000000000000@gs-project-accounts.iam.gserviceaccount.com",
        "id": a.get("project", ""),
    },
}


class RecordingMonitor(mocks.MockMonitor):
    """A MockMonitor that also keeps the request fields MockResourceArgs leaves out (parent, deps, ...)."""

    def __init__(self, mock: pulumi.runtime.Mocks) -> None:
        super().__init__(mock)
        self._lock = threading.Lock()  # RegisterResource is called from several threads
        self.registrations: list[Registration] = []
        self._known_aliases: dict[str, list[str]] = {}  # URN -> every alias the engine would give it

    def make_urn(self, parent: str, type_: str, name: str, stack: str = "", project: str = "") -> str:
        """The URN the engine gives: the parent's whole qualified type chain, except the root stack's. (The SDK's
        mock keeps only the parent's last type and prefixes the stack's, which no real URN does.)"""
        if parent:
            qualified = parent.split("::")[2]
            if qualified != ROOT_STACK_TYPE:
                type_ = f"{qualified}${type_}"
        parts = [stack or pulumi.get_stack(), project or pulumi.get_project(), type_, name]
        return "urn:pulumi:" + "::".join(parts)

    def _alias_urn(self, alias: Any, request: Any) -> str:
        """An alias as the engine collapses it: a URN, or a spec whose unset fields are the resource's own."""
        if alias.urn:
            return str(alias.urn)
        spec = alias.spec
        parent = "" if spec.noParent else spec.parentUrn or request.parent
        return self.make_urn(parent, spec.type or request.type, spec.name or request.name, spec.stack, spec.project)

    def _aliases(self, request: Any) -> list[str]:
        """The engine's aliases of a resource: its own, and for every alias of its parent the URN it had under
        that alias (its name's parent prefix swapped too) — so moving a component moves its children with it."""
        own = [self._alias_urn(alias, request) for alias in request.aliases]
        parent_name = request.parent.rsplit("::", 1)[-1] if request.parent else ""
        with self._lock:
            parent_aliases = self._known_aliases.get(request.parent, [])
        found = list(own)
        for parent_alias in parent_aliases:
            for child_type, child_name in [(request.type, request.name), *((_type(u), _name(u)) for u in own)]:
                found.append(_inherited(child_type, child_name, parent_name, parent_alias))
        return list(dict.fromkeys(found))

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        if request.type == ROOT_STACK_TYPE:
            return response
        aliases = [alias for alias in self._aliases(request) if alias != response.urn]
        with self._lock:
            self._known_aliases[response.urn] = aliases
        registration = Registration(
            urn=response.urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            parent=request.parent,
            provider=request.provider,
            providers=dict(request.providers),
            dependencies=sorted(request.dependencies),
            property_dependencies={
                key: sorted(value.urns) for key, value in sorted(request.propertyDependencies.items()) if value.urns
            },
            aliases=sorted(aliases),
            protect=bool(request.protect),
            retain_on_delete=bool(request.retainOnDelete),
            remote=bool(request.remote),
            inputs=_known(rpc.deserialize_properties(request.object, keep_unknowns=True)),
        )
        with self._lock:
            self.registrations.append(registration)
        return response


def _type(urn: str) -> str:
    return urn.split("::")[2].rsplit("$", 1)[-1]


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _inherited(child_type: str, child_name: str, parent_name: str, parent_alias: str) -> str:
    """The URN a child had when its parent had the URN `parent_alias` (Pulumi's `inheritedChildAlias`)."""
    name = _name(parent_alias) + child_name[len(parent_name) :] if child_name.startswith(parent_name) else child_name
    return f"{parent_alias[: parent_alias.rfind('::')]}${child_type}::{name}"


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
