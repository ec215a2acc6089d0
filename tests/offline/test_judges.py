"""Outside judges on every stack's rendered manifests, and proof that the judges can fail.

Each stack is planned once (module-scoped fixture), its manifests are written exactly as `make plan` writes
them, and each cluster's manifests are judged against that cluster's own Kubernetes minor. checkov runs once
per stack over the whole manifest tree, and once more on a deliberately bad Pod.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from offline import render
from offline.stackfile import available_stacks
from tests.support.judges import (
    REPO_ROOT,
    CheckovError,
    CheckovResult,
    KubernetesValidation,
    MissingSchemaError,
    format_failed_checks,
    kubernetes_validate_all,
    kubernetes_validate_errors,
    load_checkov_skips,
    load_manifest_dir,
    normalize_checkov,
    run_checkov,
    schema_version,
)
from tests.support.runs import Runs

STACKS = available_stacks(REPO_ROOT)


@dataclass(frozen=True)
class PlannedStack:
    stack: str
    manifest_dir: Path  # <dir>/<cluster>/<namespace or _cluster>/<kind>-<name>.yaml
    versions: dict[str, str]  # cluster name -> Kubernetes minor, from the stack's config
    rendered: list[render.RenderedManifest]


@pytest.fixture(scope="module", params=STACKS)
def planned(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, runs: Runs) -> PlannedStack:
    stack: str = request.param
    result = runs.stack(stack)
    out_dir = tmp_path_factory.mktemp(f"judges-{stack}")
    rendered = render.write_artifacts(out_dir, result.recording, result.verdicts)
    versions = {cluster.name: cluster.kubernetes_version for cluster in result.config.clusters}
    return PlannedStack(stack, out_dir / "manifests", versions, rendered)


@pytest.fixture(scope="module")
def validations(planned: PlannedStack) -> dict[str, KubernetesValidation]:
    """cluster -> strict kubernetes-validate result of that cluster's files, at that cluster's version."""
    by_cluster = {}
    for cluster in sorted({m.cluster for m in planned.rendered}):
        assert cluster in planned.versions, (
            f"{planned.stack}: manifests rendered for cluster '{cluster}', which is not in the stack's clusters "
            f"{sorted(planned.versions)} — no Kubernetes version to judge them against"
        )
        names, documents = load_manifest_dir(planned.manifest_dir / cluster)
        assert len(documents) == sum(m.cluster == cluster for m in planned.rendered)
        by_cluster[cluster] = kubernetes_validate_all(documents, planned.versions[cluster], names)
    return by_cluster


@pytest.fixture(scope="module")
def checkov_result(planned: PlannedStack) -> CheckovResult:
    return run_checkov(planned.manifest_dir)


def test_stack_renders_manifests(planned: PlannedStack) -> None:
    assert planned.rendered, f"{planned.stack}: nothing rendered, so the judges below would judge nothing"


def test_kubernetes_validate_strict_per_cluster_version(
    planned: PlannedStack, validations: dict[str, KubernetesValidation]
) -> None:
    errors = [error for result in validations.values() for error in result.errors]
    assert not errors, f"{planned.stack}: {len(errors)} strict schema error(s):\n" + "\n".join(errors)
    for cluster, result in validations.items():
        assert result.schema_version.startswith(f"{planned.versions[cluster]}.")


# Custom resources kubernetes-validate has no schema for. We do not vendor other projects' CRDs; each group
# has its own judge in tests/test_custom_resources.py (regopy compiles every template, constraint parameters
# are validated against their template's schema, External Secrets objects against the fields ESO requires);
# the cluster-wide metadata deny (Calico GlobalNetworkPolicy, Cilium CiliumClusterwideNetworkPolicy) has its
# judge in tests/verification/test_cluster_wide.py (the fields each CRD requires, CIDRs, selectors); Velero's
# BackupStorageLocations and Schedules in tests/backup/test_recovery.py (required fields, providers, cron, TTL, every
# Schedule's location present); the Prometheus Operator's PrometheusRules in tests/observability/test_stack.py
# (`promtool check rules` on each installed spec) and its PodMonitors there (namespace, port per line), Fluent Bit's
# ServiceMonitor in tests/observability/test_logs.py (selector, port, path); the OpenTelemetryCollector in
# tests/observability/test_traces.py (its pipeline names only receivers, processors and exporters it defines).
CUSTOM_RESOURCE_GROUPS = (
    "monitoring.coreos.com/",
    "opentelemetry.io/",
    "velero.io/",
    "templates.gatekeeper.sh/",
    "constraints.gatekeeper.sh/",
    "external-secrets.io/",
    "crd.projectcalico.org/",
    "cilium.io/",
)


def test_every_rendered_kind_has_a_schema(planned: PlannedStack, validations: dict[str, KubernetesValidation]) -> None:
    custom = {m.path for m in planned.rendered if m.document["apiVersion"].startswith(CUSTOM_RESOURCE_GROUPS)}
    missing = [
        item
        for result in validations.values()
        for item in result.missing_schemas
        if not any(item.startswith(path.split("/", 1)[1] + ":") for path in custom)
    ]
    assert not missing, (
        f"{planned.stack}: kinds kubernetes-validate cannot judge and no custom-resource judge covers:\n"
        + "\n".join(missing)
    )
    judged_elsewhere = sum(len(result.missing_schemas) for result in validations.values()) - len(missing)
    assert judged_elsewhere == len(custom), "a custom resource slipped past both judges"


# checkov 3's kubernetes graph (kubernetes_utils.SUPPORTED_POD_CONTAINERS_TYPES): their spec.template becomes a Pod
CHECKOV_UNFOLDED_KINDS = frozenset(
    {"Deployment", "DeploymentConfig", "DaemonSet", "Job", "ReplicaSet", "ReplicationController", "StatefulSet"}
)


def test_checkov_finds_no_failed_checks(planned: PlannedStack, checkov_result: CheckovResult) -> None:
    assert checkov_result["failed"] == 0, (
        f"{planned.stack}: {checkov_result['failed']} failed checkov check(s):\n{format_failed_checks(checkov_result)}"
    )
    assert checkov_result["passed"] > 0
    assert checkov_result["parsing_errors"] == []
    assert checkov_result.get("unused_skips") == [], "stale resource-scoped skips in tests/checkov_skips.yaml"
    # checkov saw every object we rendered (a file it could not read would silently shrink this), and judges the
    # pod template of each workload kind it unfolds (its graph's nested Pods) as one resource more
    nested = sum(m.document["kind"] in CHECKOV_UNFOLDED_KINDS for m in planned.rendered)
    assert checkov_result["resource_count"] == len(planned.rendered) + nested


# --- the judges can fail ---------------------------------------------------------------------------------------


def _network_policy(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "default-deny", "namespace": "line-a"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], **spec},
    }


def _namespace(**extra: Any) -> dict[str, Any]:
    document: dict[str, Any] = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "line-a"}}
    for key, value in extra.items():
        document.setdefault(key, {}).update(value)
    return document


BROKEN = [
    pytest.param(
        _network_policy(podSelectr={}),
        "spec: Additional properties are not allowed ('podSelectr' was unexpected)",
        id="unknown-field",
    ),
    pytest.param(
        _namespace(metadata={"labels": {"line": 7}}), "metadata.labels.line: 7 is not of type", id="int-label"
    ),
    pytest.param(
        _namespace(spec={"finalizers": "kubernetes"}),
        "spec.finalizers: 'kubernetes' is not of type 'array'",
        id="wrong-type",
    ),
]


@pytest.mark.parametrize(("document", "expected"), BROKEN)
def test_kubernetes_validate_reports_broken_manifest(document: dict[str, Any], expected: str) -> None:
    assert kubernetes_validate_errors([_network_policy()], "1.33") == []  # the unbroken baseline passes
    errors = kubernetes_validate_errors([document], "1.33", names=["line-a/broken.yaml"])
    assert len(errors) == 1
    assert expected in errors[0]
    assert errors[0].startswith(f"line-a/broken.yaml: {document['kind']} ")


def test_a_kind_without_schema_is_never_silently_passed() -> None:
    crd = {"apiVersion": "velero.io/v1", "kind": "Schedule", "metadata": {"name": "daily", "namespace": "velero"}}
    result = kubernetes_validate_all([_namespace(), crd], "1.33", names=["ns.yaml", "schedule.yaml"])
    assert result.errors == []
    assert len(result.missing_schemas) == 1
    assert result.missing_schemas[0].startswith("schedule.yaml: Schedule velero/daily")
    with pytest.raises(MissingSchemaError, match=r"schedule\.yaml"):
        kubernetes_validate_errors([crd], "1.33", names=["schedule.yaml"])


@pytest.mark.parametrize(("version", "expected"), [("1.33", "1.33.0"), ("v1.32", "1.32.0"), ("1.33.4", "1.33.0")])
def test_schema_version_is_the_clusters_own_minor(version: str, expected: str) -> None:
    assert schema_version(version) == expected


@pytest.mark.parametrize("version", ["1.24", "1.99", "latest"])
def test_unbundled_cluster_version_is_an_error_not_a_fallback(version: str) -> None:
    with pytest.raises(ValueError):
        kubernetes_validate_errors([_namespace()], version)


PRIVILEGED_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: bad
  namespace: line-a
spec:
  containers:
    - name: plc-bridge
      image: registry.example.com/plc-bridge:1.0.0
      securityContext:
        privileged: true
"""


def test_checkov_fails_a_privileged_pod_without_limits(tmp_path: Path) -> None:
    (tmp_path / "pod-bad.yaml").write_text(PRIVILEGED_POD)
    result = run_checkov(tmp_path)
    assert result["failed"] > 0
    failed = {check["check_id"] for check in result["failed_checks"]}
    # privileged, no CPU limit, no memory limit
    assert {"CKV_K8S_16", "CKV_K8S_11", "CKV_K8S_13"} <= failed, format_failed_checks(result)
    assert {check["file"] for check in result["failed_checks"]} == {"pod-bad.yaml"}
    assert {check["resource"] for check in result["failed_checks"]} == {"Pod.line-a.bad"}
    pinned = re.search(r"^checkov==(\S+)$", (REPO_ROOT / "requirements-checkov.in").read_text(), re.MULTILINE)
    assert pinned is not None
    assert result["checkov_version"] == pinned[1]


def test_missing_checkov_binary_raises(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CHECKOV", str(tmp_path / "no-such-checkov"))
    with pytest.raises(CheckovError, match=r"no-such-checkov"):
        run_checkov(tmp_path)


def test_checkov_skips_each_carry_a_reason(tmp_path: Path) -> None:
    assert all(skip["reason"].strip() for skip in load_checkov_skips().values())
    bad = tmp_path / "skips.yaml"
    for text in ("CKV_K8S_16: ''\n", "CKV_K8S_16: {reason: x, resources: []}\n", "CKV_K8S_16: {resources: [a]}\n"):
        bad.write_text(text)
        with pytest.raises(ValueError, match="CKV_K8S_16"):
            load_checkov_skips(bad)


def test_normalize_checkov_output_shapes() -> None:
    summary = {"passed": 0, "failed": 0, "skipped": 0, "parsing_errors": 0, "resource_count": 0}
    assert normalize_checkov(json.dumps({**summary, "checkov_version": "3.3.30"}))["passed"] == 0  # empty dir
    failed = {"check_id": "CKV_K8S_16", "check_name": "privileged", "file_path": "/a/pod.yaml", "resource": "Pod.a.p"}
    reports = [
        {
            "check_type": "kubernetes",
            "summary": {**summary, "passed": 2, "failed": 1, "resource_count": 1},
            "results": {"failed_checks": [failed], "parsing_errors": []},
        },
        {"check_type": "secrets", "summary": {**summary, "passed": 3}, "results": {"failed_checks": []}},
    ]
    result = normalize_checkov(json.dumps(reports))  # several frameworks -> a list
    assert (result["passed"], result["failed"], result["resource_count"]) == (5, 1, 1)
    assert result["failed_checks"] == [
        {"check_id": "CKV_K8S_16", "check_name": "privileged", "file": "a/pod.yaml", "resource": "Pod.a.p"}
    ]
