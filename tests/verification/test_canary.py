"""The segmentation canary as rendered and registered: two zones shaped exactly like a line's, a listener, a
Job that checks the positive control and every forbidden target, Pod Security restricted with one pinned,
mirrored image, and the Job applied last — after every policy it tests and the listener it reaches — without
deepening the plan's critical path (issue #9, finding 4)."""

from __future__ import annotations

import re
from typing import Any, cast

import pytest

from components.catalogue.install import install
from components.catalogue.model import ClusterContext, Manifest
from components.catalogue.release import resolve
from components.config.document import FactoryConfig
from components.config.loader import load_factory_config
from components.core.component import Protection
from components.core.kube import containers, pod_spec
from components.core.network_policy import ALLOW_DNS, DEFAULT_DENY
from components.inventory import CATALOGUE, exempt_namespaces, platform_namespaces
from components.lines.manifests import line_args, network_policies
from components.verification import canary
from components.verification.canary import (
    CANARY,
    CONDUIT_PORT,
    EGRESS_CLOSED_PORT,
    IMAGE,
    INGRESS_CLOSED_PORT,
    LISTENER_ADDON,
    PROBE_NAMESPACE,
    SCRIPT,
    TARGET_NAMESPACE,
)
from components.verification.cluster_wide import METADATA_V4, METADATA_V6
from offline import graph
from offline.harness import Recording, Registration
from offline.render import manifest
from tests.support.factories import MIRROR, mutate, secure_raw, valid_raw
from tests.support.runs import Runs

JOB = "kubernetes:batch/v1:Job"


def _context(raw: dict[str, Any] | None = None, cluster: str = "edge") -> ClusterContext:
    config = load_factory_config(raw or valid_raw())
    return ClusterContext(config, config.cluster(cluster), platform_namespaces())


def _rendered(ctx: ClusterContext) -> list[Manifest]:
    return [*canary.listener_manifests(ctx), *canary.canary_manifests(ctx)]


def _by(manifests: list[Manifest], kind: str, name: str, namespace: str | None = None) -> Manifest:
    [found] = [
        m
        for m in manifests
        if m["kind"] == kind
        and m["metadata"]["name"] == name
        and (namespace is None or m["metadata"].get("namespace") == namespace)
    ]
    return found


# --- the zones are a line's zones ----------------------------------------------------------------------------


def _line_policies(config: FactoryConfig) -> dict[str, Manifest]:
    args = line_args(config, Protection(False))[0]
    return {p["metadata"]["name"]: p["spec"] for p in network_policies(args)}


@pytest.mark.parametrize("namespace", [PROBE_NAMESPACE, TARGET_NAMESPACE])
def test_each_zone_starts_with_exactly_the_default_deny_and_dns_a_line_gets(namespace: str) -> None:
    ctx = _context()
    line = _line_policies(ctx.factory)
    for name in (DEFAULT_DENY, ALLOW_DNS):
        policy = _by(_rendered(ctx), "NetworkPolicy", name, namespace)
        assert policy["spec"] == line[name], f"{namespace}/{name} drifted from the line's {name}"


def test_one_conduit_leaves_one_port_open_each_way_shut_by_only_one_side() -> None:
    """8080 both sides allow (the positive control); 8081 the probing zone sends but the listener's zone does not
    admit (ingress enforced); 8082 the listener's zone admits but the probing zone may not send (egress enforced)."""
    ctx = _context()
    rendered = _rendered(ctx)
    probing = [p for p in rendered if p["kind"] == "NetworkPolicy" and p["metadata"]["namespace"] == PROBE_NAMESPACE]
    target = [p for p in rendered if p["kind"] == "NetworkPolicy" and p["metadata"]["namespace"] == TARGET_NAMESPACE]
    [out] = [p for p in probing if "egress" in p["spec"] and p["metadata"]["name"] != ALLOW_DNS]
    [into] = [p for p in target if "ingress" in p["spec"]]
    assert out["metadata"]["name"] == f"flow-to-{TARGET_NAMESPACE}-tcp"
    assert into["metadata"]["name"] == f"flow-from-{PROBE_NAMESPACE}-tcp"
    [egress] = out["spec"]["egress"]
    [ingress] = into["spec"]["ingress"]
    assert egress["to"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": TARGET_NAMESPACE}}}]
    assert ingress["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": PROBE_NAMESPACE}}}]
    assert {p["port"] for p in egress["ports"]} == {CONDUIT_PORT, INGRESS_CLOSED_PORT}
    assert {p["port"] for p in ingress["ports"]} == {CONDUIT_PORT, EGRESS_CLOSED_PORT}
    # nothing else opens either zone
    assert {p["metadata"]["name"] for p in probing} == {DEFAULT_DENY, ALLOW_DNS, out["metadata"]["name"]}
    assert {p["metadata"]["name"] for p in target} == {DEFAULT_DENY, ALLOW_DNS, into["metadata"]["name"]}


def test_the_listener_listens_on_every_port_and_is_ready_only_when_all_three_accept() -> None:
    rendered = _rendered(_context())
    deployment = _by(rendered, "Deployment", "listener", TARGET_NAMESPACE)
    service = _by(rendered, "Service", "listener", TARGET_NAMESPACE)
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    ports = {CONDUIT_PORT, INGRESS_CLOSED_PORT, EGRESS_CLOSED_PORT}
    assert {p["containerPort"] for p in container["ports"]} == ports
    assert {p["port"] for p in service["spec"]["ports"]} == ports
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    listening = container["command"][-1]
    for port in ports:
        assert f"nc -lk -p {port} -e true" in listening
        assert f"nc -z -w 1 127.0.0.1 {port}" in container["readinessProbe"]["exec"]["command"][-1]
    assert container["livenessProbe"]["exec"] == container["readinessProbe"]["exec"]


# --- the Job ------------------------------------------------------------------------------------------------------


def _job(ctx: ClusterContext) -> Manifest:
    return _by(canary.canary_manifests(ctx), "Job", CANARY, PROBE_NAMESPACE)


def test_the_job_fails_once_fast_and_is_replaced_after_a_failure() -> None:
    job = _job(_context())
    spec = job["spec"]
    assert spec["backoffLimit"] == 0  # one attempt: a retry could pass on a flaky moment and hide a leak
    assert 60 <= spec["activeDeadlineSeconds"] <= 300
    assert spec["ttlSecondsAfterFinished"] == 86400
    assert spec["template"]["spec"]["restartPolicy"] == "Never"
    assert job["metadata"]["annotations"] == {"pulumi.com/replaceUnready": "true"}


def test_the_script_checks_the_positive_control_first_then_every_forbidden_target() -> None:
    [container] = _job(_context())["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["/bin/sh", "-c", SCRIPT]
    assert container["env"] == [{"name": "NETWORK_POLICY", "value": "kube-router"}]
    positive = SCRIPT.index(f'until nc -z -w "$W" "$LISTENER" {CONDUIT_PORT}')
    settle = SCRIPT.index(f'while nc -z -w "$W" "$LISTENER" {EGRESS_CLOSED_PORT}')
    checks = re.findall(r'^forbidden "[^"]+" (\S+) (\S+)$', SCRIPT, re.MULTILINE)
    assert checks == [
        ('"$LISTENER"', str(INGRESS_CLOSED_PORT)),
        ('"$LISTENER"', str(EGRESS_CLOSED_PORT)),
        ('"$KUBERNETES_SERVICE_HOST"', '"$KUBERNETES_SERVICE_PORT"'),  # kubernetes.default.svc:443, no DNS needed
        (METADATA_V4, "80"),
        (METADATA_V6, "80"),
    ]
    assert positive < settle < SCRIPT.index("\nforbidden ")
    assert "LISTENER=listener.segmentation-canary-b.svc" in SCRIPT
    assert "bad address" in SCRIPT, "a name that does not resolve must never count as blocked"


def test_the_job_and_the_listener_run_pod_security_restricted_with_the_pinned_image() -> None:
    ctx = _context(secure_raw(mirror=True))
    for addon in (CATALOGUE[LISTENER_ADDON], CATALOGUE[CANARY]):
        release = resolve(addon, ctx)
        workloads = [m for m in release.manifests if pod_spec(m) is not None]
        assert workloads, addon.name
        for workload in workloads:
            spec = pod_spec(workload)
            assert spec is not None
            assert spec["automountServiceAccountToken"] is False
            assert spec["securityContext"] == {
                "runAsNonRoot": True,
                "runAsUser": 65534,
                "runAsGroup": 65534,
                "seccompProfile": {"type": "RuntimeDefault"},
            }
            assert not {"hostNetwork", "hostPID", "hostIPC", "volumes"} & set(spec)
            for container in containers(spec):
                assert container["image"] == f"{MIRROR}/{IMAGE.reference}"  # digest-pinned, through the mirror
                assert container["imagePullPolicy"] == "IfNotPresent"
                assert container["securityContext"] == {
                    "runAsNonRoot": True,
                    "runAsUser": 65534,
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"]},
                }
                for bound in ("requests", "limits"):
                    assert {"cpu", "memory", "ephemeral-storage"} <= set(container["resources"][bound])
    # the OCI image index (every platform, arm64 cells too) docker-library/repo-info records for the tag
    digest = "sha256:9db7b59979c38555a39def84a31fb98b5296952f9e3afd4f6f11f05b07adfab0"
    assert IMAGE.reference == f"docker.io/library/busybox:1.37.0@{digest}"
    assert IMAGE.tag == CATALOGUE[CANARY].version == CATALOGUE[LISTENER_ADDON].version


def test_both_namespaces_are_platform_namespaces_that_enforce_restricted(runs: Runs) -> None:
    reasons = exempt_namespaces()
    assert {PROBE_NAMESPACE, TARGET_NAMESPACE} <= set(reasons)
    recording = runs.main(valid_raw())
    for namespace in (PROBE_NAMESPACE, TARGET_NAMESPACE):
        [registered] = [
            r
            for r in recording.of_type("kubernetes:core/v1:Namespace")
            if r.name == f"testwerk-edge-verification-ns-{namespace}"
        ]
        labels = manifest(registered)["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
        assert labels["pod-security.kubernetes.io/enforce-version"] == "v1.32"


# --- what it proves, and when it proves again --------------------------------------------------------------------


def _verifies(raw: dict[str, Any], cluster: str = "edge") -> str:
    return str(_job(_context(raw, cluster))["spec"]["template"]["metadata"]["annotations"]["factory-floor.io/verifies"])


def test_a_change_to_what_it_verifies_replaces_the_job_and_nothing_else_does() -> None:
    """The provider replaces a Job whose pod template changed; the digest is in the template."""
    base = _verifies(valid_raw())
    assert _verifies(valid_raw()) == base  # deterministic: an unchanged stack does not re-run it
    assert _verifies(mutate(valid_raw(), "teams.0.contact", "press@plant.example.com")) == base
    assert _verifies(mutate(valid_raw(), "clusters.0.kubernetesVersion", "1.33")) != base  # an upgrade re-proves
    assert _verifies(mutate(valid_raw(), "clusters.0.networkPolicy", "calico")) != base  # another enforcer
    # with a cluster-wide deny an added line changes what it covers; without one, nothing the canary tests
    paint = {"name": "paint", "cluster": "edge", "team": "digital"}
    calico = mutate(valid_raw(), "clusters.0.networkPolicy", "calico")
    assert _verifies(mutate(calico, "lines", [*calico["lines"], paint])) != _verifies(calico)
    assert _verifies(mutate(valid_raw(), "lines", [*valid_raw()["lines"], paint])) == base


# --- order: the Job last, and the plan no deeper ----------------------------------------------------------------


def _in(recording: Recording, cluster: str) -> list[Registration]:
    [component] = [r for r in recording.of_type("factory:index:SegmentationCanary") if r.name.endswith(cluster)]
    return [r for r in recording.resources if r.parent == component.urn]


def _object(registrations: list[Registration], kind: str, name: str, namespace: str | None = None) -> Registration:
    [found] = [
        r
        for r in registrations
        if r.custom
        and manifest(r)["kind"] == kind
        and manifest(r)["metadata"]["name"] == name
        and (namespace is None or manifest(r)["metadata"].get("namespace") == namespace)
    ]
    return found


def test_the_job_waits_for_every_policy_it_tests_and_for_the_listener(runs: Runs) -> None:
    recording = runs.main(mutate(valid_raw(), "clusters.0.networkPolicy", "calico"))
    inside = _in(recording, "edge-verification")
    job = _object(inside, "Job", CANARY)
    tested = [r for r in inside if r.custom and r.urn != job.urn and manifest(r)["kind"] != "Namespace"]
    kinds = sorted(manifest(r)["kind"] for r in tested)
    assert kinds == ["Deployment", "GlobalNetworkPolicy", *["NetworkPolicy"] * 6, "Service"]
    assert set(job.depends_on) >= {r.urn for r in tested}
    assert _object(inside, "Namespace", PROBE_NAMESPACE).urn in job.depends_on
    gate = next(r.urn for r in recording.resources if r.name.endswith("-webhook-probe-job") and "edge" in r.name)
    for r in tested:  # and nothing it tests waits for it
        assert job.urn not in r.dependencies, r.name
        [namespace] = set(r.depends_on) - {gate}
        assert namespace.rsplit("::", 1)[1].startswith("testwerk-edge-verification-ns-"), r.name


@pytest.mark.parametrize("stack", ["dev", "pilsen", "rheinfeld"])
def test_the_canary_is_never_the_longest_chain(runs: Runs, stack: str) -> None:
    """gate -> namespace -> policy, Deployment or Service -> Job: as deep as a line's RBAC after the gate."""
    recording = runs.stack(stack).recording
    assert recording.of_type("factory:index:SegmentationCanary")
    path = graph.critical_path(recording)
    assert not any(r.name.endswith(f"-{CANARY}-job") for r in path[:-1])
    canary = [r for r in recording.resources if r.name.endswith(f"-{CANARY}-job")]
    assert canary


def test_only_an_add_on_that_applies_something_last_can_be_gated() -> None:
    """`install(..., gated_on=...)` would otherwise accept what nothing of the add-on waits for."""
    release = resolve(CATALOGUE[LISTENER_ADDON], _context())
    with pytest.raises(ValueError, match="applies nothing last"):
        install(cast(Any, None), release, cast(Any, None), gated_on=[cast(Any, object())])
    assert CATALOGUE[CANARY].source.applied_last == frozenset({"Job"})  # type: ignore[union-attr]
