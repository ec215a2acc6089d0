"""Pod Security at the cluster's Kubernetes minor: for every control that changed between 1.29 and 1.37, a
workload that is fine on one side of the boundary and a violation on the other, in all nine pod-carrying
kinds, judged the way the engine delivers it (numbers as floats, read-only proxies)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest

import factory_policies as fp
from factory_policies import pss
from factory_policies.workloads import POD_SPEC_PATHS
from tests.support.policy_cases.kubernetes import BASELINE as BASELINE_CASE
from tests.support.policy_cases.kubernetes import RESTRICTED as RESTRICTED_CASE
from tests.support.policy_cases.kubernetes import workload
from tests.support.policy_kit import Res, judge, mutated

Pod = dict[str, Any]


def _app(pod: Pod) -> dict[str, Any]:
    return pod["spec"]["containers"][0] if "spec" in pod else pod["containers"][0]


@dataclass(frozen=True)
class Boundary:
    id: str
    policy: Any
    change: Callable[[Pod, dict[str, Any]], None]  # (pod spec, pod metadata) -> mutate in place
    fine: str | None  # a minor where the workload passes ("1.33"), None: none
    violation: str | None  # a minor where it is refused
    expect: str  # fragment of the violation message


def probe_host(pod: Pod, _meta: dict[str, Any]) -> None:
    pod["containers"][0]["livenessProbe"] = {"httpGet": {"host": "10.20.0.7", "path": "/healthz", "port": 8443}}


def lifecycle_host(pod: Pod, _meta: dict[str, Any]) -> None:
    pod["initContainers"][0]["lifecycle"] = {"preStop": {"tcpSocket": {"host": "plc.plant.local", "port": 102}}}


def sysctl(name: str) -> Callable[[Pod, dict[str, Any]], None]:
    def change(pod: Pod, _meta: dict[str, Any]) -> None:
        pod["securityContext"]["sysctls"] = [{"name": name, "value": "1"}]

    return change


def selinux_engine(pod: Pod, _meta: dict[str, Any]) -> None:
    pod["containers"][0]["securityContext"]["seLinuxOptions"] = {"type": "container_engine_t"}


def user_namespace(**context: Any) -> Callable[[Pod, dict[str, Any]], None]:
    def change(pod: Pod, _meta: dict[str, Any]) -> None:
        pod["hostUsers"] = False
        for key, value in context.items():
            if value is None:
                pod["securityContext"].pop(key, None)
                for container in pod["containers"] + pod["initContainers"] + pod["ephemeralContainers"]:
                    container["securityContext"].pop(key, None)
            elif key == "procMount":
                pod["containers"][0]["securityContext"]["procMount"] = value
            else:
                pod["securityContext"][key] = value

    return change


def apparmor_annotation(value: str) -> Callable[[Pod, dict[str, Any]], None]:
    def change(_pod: Pod, meta: dict[str, Any]) -> None:
        meta.setdefault("annotations", {})["container.apparmor.security.beta.kubernetes.io/app"] = value

    return change


BASELINE, RESTRICTED = fp.pod_security_baseline, fp.pod_security_restricted
BOUNDARIES = [
    Boundary("probe-host", BASELINE, probe_host, "1.33", "1.34", "livenessProbe.httpGet.host is '10.20.0.7'"),
    Boundary("lifecycle-host", BASELINE, lifecycle_host, "1.33", "1.34", "lifecycle.preStop.tcpSocket.host"),
    Boundary("sysctl-1.32", BASELINE, sysctl("net.ipv4.tcp_rmem"), "1.32", "1.31", "'net.ipv4.tcp_rmem'"),
    Boundary("sysctl-1.37", BASELINE, sysctl("net.ipv4.tcp_slow_start_after_idle"), "1.37", "1.36", "tcp_slow_start"),
    Boundary("selinux-engine", BASELINE, selinux_engine, "1.31", "1.30", "'container_engine_t'"),
    Boundary(
        "proc-mount-user-namespace-baseline",
        BASELINE,
        user_namespace(procMount="Unmasked"),
        "1.35",
        "1.34",
        "procMount is 'Unmasked'",
    ),
    Boundary(
        "proc-mount-user-namespace-restricted",
        RESTRICTED,
        user_namespace(procMount="Unmasked"),
        "1.34",  # below 1.35 restricted uses baseline's rule: the baseline policy reports it (case above)
        "1.35",
        "procMount is 'Unmasked'",
    ),
    Boundary("root-user-namespace", RESTRICTED, user_namespace(runAsUser=0), "1.35", "1.34", "runAsUser is 0"),
    Boundary("non-root-unset", RESTRICTED, user_namespace(runAsNonRoot=None), "1.35", "1.34", "runAsNonRoot"),
    # the same at every minor: the legacy AppArmor annotation is still judged
    Boundary("apparmor-annotation", BASELINE, apparmor_annotation("unconfined"), None, "1.37", "'unconfined'"),
    Boundary("apparmor-annotation-old", BASELINE, apparmor_annotation("unconfined"), None, "1.29", "'unconfined'"),
    Boundary("apparmor-localhost", BASELINE, apparmor_annotation("localhost/line-mes"), "1.29", None, ""),
    Boundary("apparmor-runtime-default", BASELINE, apparmor_annotation("runtime/default"), "1.37", None, ""),
]
KINDS = list(POD_SPEC_PATHS)


def _fixture(kind: str, change: Callable[[Pod, dict[str, Any]], None]) -> list[Res]:
    props = workload(kind)
    *parents, _ = POD_SPEC_PATHS[kind]
    node = props
    for part in parents:
        node = node[part]
    pod, meta = node["spec"], node.setdefault("metadata", {})
    change(pod, meta)
    return [Res(kind, props, name="order-api")]


def _at(boundary: Boundary, minor: str, kind: str) -> list[str]:
    violations = judge(boundary.policy, _fixture(kind, boundary.change), {"kubernetesVersion": minor})
    return [v for v in violations if boundary.expect in v] if boundary.expect else violations


@pytest.mark.parametrize("kind", KINDS, ids=[k.rsplit(":", 1)[1] for k in KINDS])
@pytest.mark.parametrize("boundary", BOUNDARIES, ids=[b.id for b in BOUNDARIES])
def test_a_control_applies_from_its_minor_on(boundary: Boundary, kind: str) -> None:
    if boundary.fine is not None:
        assert _at(boundary, boundary.fine, kind) == [], f"refused at {boundary.fine}"
    if boundary.violation is not None:
        assert _at(boundary, boundary.violation, kind), f"not refused at {boundary.violation}"


@pytest.mark.parametrize("boundary", BOUNDARIES, ids=[b.id for b in BOUNDARIES])
def test_an_unknown_minor_is_judged_at_the_strictest(boundary: Boundary) -> None:
    # every restriction of any minor, none of the later relaxations (user namespaces, newer safe sysctls)
    strict = judge(boundary.policy, _fixture("kubernetes:apps/v1:Deployment", boundary.change))
    strictest_refuses = boundary.violation is not None and boundary.id not in ("proc-mount-user-namespace-restricted",)
    assert bool([v for v in strict if boundary.expect in v]) == strictest_refuses, strict


def windows(pod: Pod, _meta: dict[str, Any]) -> None:
    pod["os"] = {"name": "windows"}
    pod["securityContext"].pop("seccompProfile")
    for container in pod["containers"] + pod["initContainers"] + pod["ephemeralContainers"]:
        container["securityContext"] = {}


@pytest.mark.parametrize("kind", KINDS, ids=[k.rsplit(":", 1)[1] for k in KINDS])
def test_windows_pods_skip_the_linux_only_controls_but_not_host_process(kind: str) -> None:
    assert judge(RESTRICTED, _fixture(kind, windows), {"kubernetesVersion": "1.29"}) == []

    def linux(pod: Pod, meta: dict[str, Any]) -> None:
        windows(pod, meta)
        del pod["os"]

    assert any(
        "allowPrivilegeEscalation" in v for v in judge(RESTRICTED, _fixture(kind, linux), {"kubernetesVersion": "1.29"})
    )

    def host_process(pod: Pod, meta: dict[str, Any]) -> None:
        windows(pod, meta)
        pod["securityContext"]["windowsOptions"] = {"hostProcess": True}

    assert any("hostProcess" in v for v in judge(BASELINE, _fixture(kind, host_process)))


def test_the_cluster_minor_comes_from_the_provider_the_workload_goes_to() -> None:
    fixture = _fixture("kubernetes:apps/v1:Deployment", probe_host)
    config = {"kubernetesVersions": {"plant/old": "1.33", "plant/new": "1.34"}, "kubernetesVersion": "1.34"}
    assert judge(BASELINE, fixture, config, provider={"clusterIdentifier": "plant/old"}) == []
    assert judge(BASELINE, fixture, config, provider={"clusterIdentifier": "plant/new"})
    assert judge(BASELINE, fixture, config, provider={"clusterIdentifier": "plant/unlisted"}), "falls back to 1.34"


def test_image_volumes_are_a_restricted_volume_type() -> None:
    def image_volume(pod: Pod, _meta: dict[str, Any]) -> None:
        pod["volumes"].append({"name": "model", "image": {"reference": "registry.plant.example.com/ml/model:3"}})

    assert judge(RESTRICTED, _fixture("kubernetes:core/v1:Pod", image_volume), {"kubernetesVersion": "1.33"}) == []


# Every control, also those that did not change between minors: each mutation of the Pod Security cases
# (written against a Deployment), moved to every kind's pod spec and refused at the first and last minor.
DEPLOYMENT_POD = ".".join(POD_SPEC_PATHS["kubernetes:apps/v1:Deployment"])
EVERY_CONTROL = [(case, mutation) for case in (BASELINE_CASE, RESTRICTED_CASE) for mutation in case.mutations]


@pytest.mark.parametrize("kind", KINDS, ids=[k.rsplit(":", 1)[1] for k in KINDS])
@pytest.mark.parametrize(("case", "mutation"), EVERY_CONTROL, ids=[f"{c.policy.name}:{m.id}" for c, m in EVERY_CONTROL])
@pytest.mark.parametrize("minor", [f"1.{pss.SUPPORTED[0]}", f"1.{pss.SUPPORTED[-1]}"])
def test_every_control_is_refused_in_every_kind_at_every_minor(case: Any, mutation: Any, kind: str, minor: str) -> None:
    moved = replace(mutation, path=mutation.path.replace(DEPLOYMENT_POD, ".".join(POD_SPEC_PATHS[kind])))
    fixture = [Res(kind, workload(kind), name="order-api")]
    assert judge(case.policy, fixture, {"kubernetesVersion": minor}) == [], "the unchanged workload passes"
    violations = judge(case.policy, mutated(fixture, moved), {"kubernetesVersion": minor})
    assert any(mutation.expect in v for v in violations), (mutation.expect, violations)
