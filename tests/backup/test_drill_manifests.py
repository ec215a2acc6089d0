"""The restore drill's objects as the builders return them: valid Kubernetes (strict schemas), a Pod Security
restricted pod with one digest-pinned image and bounded resources, RBAC no wider than the script's calls, the
marker namespace closed and restricted, and the script, its settings and its deadline agreeing with each other."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.backup.config import BackupConfig
from components.backup.drill import drill_job
from components.backup.drill.addon import MARKER_ENTRY, enabled
from components.backup.drill.config import DrillConfig
from components.backup.drill.manifests import (
    CLEAN_UP_SECONDS,
    COMPONENT,
    IMAGE,
    MARKER,
    MARKER_NAMESPACE,
    SCRIPT,
    location_manifests,
    marker_config_map,
    run_marker,
    scratch_namespace,
    settings,
)
from components.catalogue.install import namespace_manifests, namespace_network_policies
from components.catalogue.model import ClusterContext
from components.catalogue.release import resolve
from components.core.kube import Manifest, containers, pod_spec, type_token
from components.inventory import platform_namespaces
from factory_policies import (
    namespace_pod_security,
    pod_security_restricted,
    rbac_no_escalation_verbs,
    rbac_no_wildcards,
)
from offline.stackfile import load_config
from tests.support.judges import kubernetes_validate_all
from tests.support.policy_kit import Res, judge
from tests.support.projects import ROOT

FACTORY, CLUSTER, TIMEZONE = "rheinfeld", "plant", "Europe/Berlin"
DRILL = DrillConfig.model_validate({"schedule": "15 5 * * *", "maxAgeHours": 50, "timeoutMinutes": 20})


def _marker_namespace() -> list[Manifest]:
    """The marker namespace and its policies as the catalogue makes them on rheinfeld's plant cluster."""
    _settings, config = load_config(ROOT, FACTORY)
    ctx = ClusterContext(config, config.cluster(CLUSTER), platform_namespaces())
    release = resolve(MARKER_ENTRY, ctx)
    return [
        *namespace_manifests([release], FACTORY, ctx.cluster, COMPONENT),
        *namespace_network_policies([release], FACTORY, ctx.cluster, COMPONENT),
    ]


def rendered(clouds: tuple[Any, ...] = ("aws", "gcp")) -> list[Manifest]:
    """Everything of the drill on a cluster whose Velero writes to `clouds`."""
    locations = [m for c in clouds for m in location_manifests(FACTORY, CLUSTER, c, timezone=TIMEZONE, drill=DRILL)]
    return [*_marker_namespace(), marker_config_map(FACTORY, CLUSTER), *locations]


def by(manifests: list[Manifest], kind: str, name: str, namespace: str | None = None) -> Manifest:
    (found,) = [
        m
        for m in manifests
        if m["kind"] == kind and m["metadata"]["name"] == name and m["metadata"].get("namespace") == namespace
    ]
    return found


@pytest.mark.parametrize("minor", ["1.30", "1.33"])
def test_every_object_is_valid_kubernetes_in_strict_mode(minor: str) -> None:
    result = kubernetes_validate_all(rendered(), minor)
    assert result.errors == [] and result.missing_schemas == []


def test_object_names_are_unique_on_a_cluster_with_two_locations() -> None:
    keys = [(m["kind"], m["metadata"].get("namespace"), m["metadata"]["name"]) for m in rendered()]
    assert len(keys) == len(set(keys))
    assert len([m for m in rendered() if m["kind"] == "Namespace"]) == 1  # one marker namespace per cluster


def test_nothing_when_the_drill_is_off_or_velero_runs_nowhere() -> None:
    _settings, config = load_config(ROOT, FACTORY)
    ctx = ClusterContext(config, config.cluster(CLUSTER), platform_namespaces())
    assert enabled(ctx)
    off = config.model_copy(update={"backup": config.backup.model_copy(update={"drill": DrillConfig(enabled=False)})})
    assert not enabled(ClusterContext(off, off.cluster(CLUSTER)))
    without_backup = config.model_copy(update={"backup": BackupConfig()})
    assert not enabled(ClusterContext(without_backup, without_backup.cluster(CLUSTER)))


def test_the_cron_job_runs_one_drill_at_a_time_never_retried_and_stopped_at_its_deadline() -> None:
    cron = by(rendered(), "CronJob", "restore-drill-aws", "velero")
    spec = cron["spec"]
    assert spec["schedule"] == "15 5 * * *" and spec["timeZone"] == TIMEZONE
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["successfulJobsHistoryLimit"] == spec["failedJobsHistoryLimit"] == 3
    job = spec["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 0 and job["activeDeadlineSeconds"] == 20 * 60
    # the script's own budget ends first, so it still deletes the scratch namespace
    drill = settings(FACTORY, CLUSTER, "aws", DRILL)
    assert drill["timeoutSeconds"] == 20 * 60 - CLEAN_UP_SECONDS > 0


def test_the_pod_is_restricted_with_the_pinned_image_and_bounded_resources() -> None:
    cron = by(rendered(), "CronJob", "restore-drill-aws", "velero")
    spec = pod_spec(cron)
    assert spec is not None and spec["serviceAccountName"] == "restore-drill-aws"
    assert spec["automountServiceAccountToken"] is False and spec["restartPolicy"] == "Never"
    assert {v["name"] for v in spec["volumes"]} == {"drill", "api-access"}  # a ConfigMap and a projected token
    (container,) = containers(spec)
    assert container["image"] == IMAGE.reference and "@sha256:" in container["image"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    for bound in ("requests", "limits"):
        assert {"cpu", "memory", "ephemeral-storage"} <= set(container["resources"][bound])
    # judged by the pack as if `velero` were not exempt: the drill's pod is restricted on its own
    res = Res(type_token("batch/v1", "CronJob"), cron)
    assert judge(pod_security_restricted, [res], config={"exemptNamespaces": []}) == []


def test_the_token_and_ca_are_mounted_where_the_script_reads_them() -> None:
    spec = pod_spec(by(rendered(), "CronJob", "restore-drill-aws", "velero"))
    assert spec is not None
    (container,) = containers(spec)
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["api-access"] == str(drill_job.ACCOUNT)
    (api_access,) = [v for v in spec["volumes"] if v["name"] == "api-access"]
    paths = [s.get("serviceAccountToken", {}).get("path") for s in api_access["projected"]["sources"]]
    assert "token" in paths
    items = [i["path"] for s in api_access["projected"]["sources"] for i in s.get("configMap", {}).get("items", [])]
    assert items == ["ca.crt"]


def test_the_script_and_its_settings_are_the_ones_the_command_runs() -> None:
    manifests = rendered()
    config_map = by(manifests, "ConfigMap", "restore-drill-gcp", "velero")
    assert config_map["data"][SCRIPT.name] == SCRIPT.read_text()
    assert json.loads(config_map["data"]["drill.json"]) == settings(FACTORY, CLUSTER, "gcp", DRILL)
    spec = pod_spec(by(manifests, "CronJob", "restore-drill-gcp", "velero"))
    assert spec is not None
    (container,) = containers(spec)
    mount = next(m["mountPath"] for m in container["volumeMounts"] if m["name"] == "drill")
    assert container["command"] == ["python3", "-I", "-B", f"{mount}/{SCRIPT.name}", f"{mount}/drill.json"]
    (volume,) = [v for v in spec["volumes"] if v["name"] == "drill"]
    assert volume["configMap"]["name"] == config_map["metadata"]["name"]


def test_the_marker_namespace_is_restricted_closed_and_holds_the_programs_marker() -> None:
    namespace, policy = _marker_namespace()
    marker = marker_config_map(FACTORY, CLUSTER)
    labels = namespace["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/enforce-version"] == "v1.32"  # the plant cluster's minor
    assert judge(namespace_pod_security, [Res(type_token("v1", "Namespace"), namespace)], config={}) == []
    assert policy["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    assert marker["metadata"] | {"name": MARKER, "namespace": MARKER_NAMESPACE} == marker["metadata"]
    assert marker["data"] == settings(FACTORY, CLUSTER, "aws", DRILL)["markerData"]


def rules(manifests: list[Manifest], kind: str, namespace: str | None) -> list[dict[str, Any]]:
    return list(by(manifests, kind, "restore-drill-aws", namespace)["rules"])


def test_rbac_grants_exactly_the_calls_the_script_makes() -> None:
    manifests = location_manifests(FACTORY, CLUSTER, "aws", timezone=TIMEZONE, drill=DRILL)
    assert rules(manifests, "Role", "velero") == [
        {"apiGroups": ["velero.io"], "resources": ["backups", "restores"], "verbs": ["create", "get"]}
    ]
    assert rules(manifests, "Role", MARKER_NAMESPACE) == [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create"]},
        {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": [run_marker("aws")], "verbs": ["update"]},
        {
            "apiGroups": [""],
            "resources": ["configmaps"],
            "resourceNames": [MARKER, run_marker("aws")],
            "verbs": ["get"],
        },
    ]
    assert rules(manifests, "ClusterRole", None) == [
        {
            "apiGroups": [""],
            "resources": ["namespaces"],
            "resourceNames": [scratch_namespace("aws")],
            "verbs": ["get", "delete"],
        }
    ]
    for kind, namespace in (("RoleBinding", "velero"), ("RoleBinding", MARKER_NAMESPACE), ("ClusterRoleBinding", None)):
        binding = by(manifests, kind, "restore-drill-aws", namespace)
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "restore-drill-aws", "namespace": "velero"}]
    fixture = [
        Res(type_token(m["apiVersion"], m["kind"]), m, name=f"{m['kind']}-{i}")
        for i, m in enumerate(manifests)
        if m["kind"] in ("Role", "ClusterRole")
    ]
    assert judge(rbac_no_wildcards, fixture) == [] and judge(rbac_no_escalation_verbs, fixture) == []


def test_the_drill_of_one_location_cannot_touch_another_locations_scratch_namespace() -> None:
    manifests = rendered()
    aws = by(manifests, "ClusterRole", "restore-drill-aws", None)["rules"]
    gcp = by(manifests, "ClusterRole", "restore-drill-gcp", None)["rules"]
    assert aws[0]["resourceNames"] == ["restore-drill-scratch-aws"]
    assert gcp[0]["resourceNames"] == ["restore-drill-scratch-gcp"]
