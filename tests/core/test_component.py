"""The base component: one token scheme, `(name, args, opts)` with nothing after opts, a docstring saying
what it creates, children kept in `resources`, and the stack's protection rule on stateful children."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from pulumi.runtime import rpc

import components
from components.core.component import ComponentArgs, FactoryComponent, Protection
from offline import harness
from offline.harness import Recording


def _component_classes() -> list[type[Any]]:
    for module in pkgutil.walk_packages(components.__path__, "components."):
        importlib.import_module(module.name)
    found: list[type[Any]] = []
    queue: list[type[Any]] = list(FactoryComponent.__subclasses__())
    while queue:
        cls = queue.pop()
        found.append(cls)
        queue += cls.__subclasses__()
    return [cls for cls in found if cls.__module__.startswith("components.")]


def test_every_component_is_name_args_opts_and_says_what_it_creates() -> None:
    classes = _component_classes()
    assert {c.__name__ for c in classes} >= {
        "FactoryPlatform",
        "ClusterPlatform",
        "ProductionLine",
        "SecurityBaseline",
        "WorkloadIdentity",
    }
    for cls in classes:
        assert list(inspect.signature(cls.__init__).parameters) == ["self", "name", "args", "opts"], cls
        assert cls.__doc__ and "Creates" in cls.__doc__, f"{cls.__name__} does not say what it creates"


@dataclass(frozen=True, kw_only=True)
class VaultArgs(ComponentArgs):
    keys: int


class Vault(FactoryComponent[VaultArgs]):
    """Creates `keys` ConfigMaps (stand-ins for stateful objects) and one stateless one."""

    def __init__(self, name: str, args: VaultArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, args, opts)
        for i in range(args.keys):
            self.own(
                f"key-{i}", k8s.core.v1.ConfigMap(self.child_name(f"key-{i}"), opts=self.child_opts(stateful=True))
            )
        self.own("index", k8s.core.v1.ConfigMap(self.child_name("index"), opts=self.child_opts()))
        self.finish({"keys": args.keys})


def _run(protection: Protection) -> Recording:
    def program() -> None:
        provider = k8s.Provider("test", kubeconfig="offline")
        vault = Vault("vault", VaultArgs(protection=protection, keys=2), pulumi.ResourceOptions(provider=provider))
        assert sorted(vault.resources) == ["index", "key-0", "key-1"]

    return harness.run(program, project="factory-floor", stack="test")


def test_token_parent_and_names() -> None:
    recording = _run(Protection(False))
    [vault] = recording.of_type("factory:index:Vault")
    children = [r for r in recording.resources if r.parent == vault.urn]
    assert sorted(r.name for r in children) == ["vault-index", "vault-key-0", "vault-key-1"]


@pytest.mark.parametrize("stateful", [True, False])
def test_stateful_children_follow_the_stack_protection(stateful: bool) -> None:
    recording = _run(Protection(stateful))
    flags = {r.name: (r.protect, r.retain_on_delete) for r in recording.of_type("kubernetes:core/v1:ConfigMap")}
    assert flags == {
        "vault-key-0": (stateful, stateful),
        "vault-key-1": (stateful, stateful),
        "vault-index": (False, False),
    }


def test_a_child_key_is_unique() -> None:
    def program() -> None:
        owner = Vault("v", VaultArgs(protection=Protection(False), keys=0))
        with pytest.raises(ValueError, match="two children under the key 'index'"):
            owner.own("index", k8s.core.v1.ConfigMap("again"))

    harness.run(program, project="factory-floor", stack="test")


def test_kubernetes_objects_are_registered_as_the_typed_classes_register_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same token, inputs (a Secret's values as secrets), plugin version and secret outputs as k8s.core.v1.Secret."""
    from components.core.kube import kube_resource  # noqa: PLC0415 - kept next to the one test that needs it

    metadata = {"name": "s", "namespace": "n"}
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "type": "Opaque", "stringData": {"k": "v"}}
    seen: dict[str, Any] = {}

    class Spy(harness.RecordingMonitor):
        def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
            inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
            outputs = sorted(request.additionalSecretOutputs)
            seen[request.name] = (request.type, request.version, request.pluginDownloadURL, outputs, inputs)
            return super().RegisterResource(request)

    def program() -> None:
        provider = k8s.Provider("p", kubeconfig="offline")
        kube_resource("ours", secret, pulumi.ResourceOptions(provider=provider))
        k8s.core.v1.Secret(
            "typed",
            metadata=metadata,
            type="Opaque",
            string_data={"k": "v"},
            opts=pulumi.ResourceOptions(provider=provider),
        )

    monkeypatch.setattr(harness, "RecordingMonitor", Spy)
    harness.run(program, project="factory-floor", stack="test")
    assert seen["ours"] == seen["typed"]
    assert seen["ours"][1] and seen["ours"][3] == ["data", "stringData"]
    assert seen["ours"][4]["stringData"].get(harness.SECRET_SIG) == harness.SECRET_VALUE_SIG, (
        "the value travels as a secret"
    )
