"""DisasterRecovery as the real program registers it: Velero where a cluster reaches a store (with its own identity,
or with a writer principal's credential from Vault), each writer's grant on its own prefix, one
BackupStorageLocation per store and one Schedule per policy and location — and the judge for Velero's custom
resources, which kubernetes-validate has no schema for (we do not vendor other projects' CRDs: the fields Velero
requires and the references between them are checked here)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from components.backup.stores.aws_policies import writer_policy
from components.backup.velero import CLUSTER_ADMIN_SUBJECT
from components.config.loader import load_factory_config
from components.core.kube import restricted_security, type_token
from components.inventory import pack_settings, platform_namespaces
from factory_policies import pod_security_restricted
from offline.harness import Recording, Registration
from offline.render import is_manifest, manifest
from offline.rules import write_rules
from offline.stackfile import load_config
from tests.support.debian_tools import run_promtool
from tests.support.factories import mutate, secure_raw
from tests.support.policy_kit import Res, judge
from tests.support.projects import ROOT
from tests.support.runs import Runs, named

BSL = "kubernetes:velero.io/v1:BackupStorageLocation"
POD_SECURITY, RESTRICTED_CONTAINER = restricted_security(1000)
SCHEDULE = "kubernetes:velero.io/v1:Schedule"
CRONJOB = "kubernetes:batch/v1:CronJob"
PROVIDERS = {"velero.io/aws", "velero.io/gcp", "velero.io/azure"}
CRON = re.compile(r"^CRON_TZ=[A-Za-z_]+/[A-Za-z_]+ (\S+ ){4}\S+$")
DURATION = re.compile(r"^[0-9]+h0m0s$")


def _velero_objects(recording: Recording) -> list[dict[str, Any]]:
    return [
        manifest(r)
        for r in recording.resources
        if is_manifest(r) and manifest(r)["apiVersion"].startswith("velero.io/")
    ]


def _judge_location(where: str, spec: dict[str, Any]) -> list[str]:
    problems = []
    if spec.get("provider") not in PROVIDERS:
        problems.append(f"{where}: provider {spec.get('provider')!r} is not a plugin's")
    if not spec.get("objectStorage", {}).get("bucket"):
        problems.append(f"{where}: objectStorage.bucket is required")
    if spec.get("accessMode") not in ("ReadWrite", "ReadOnly"):
        problems.append(f"{where}: accessMode {spec.get('accessMode')!r}")
    return problems


def _judge_schedule(where: str, namespace: str, spec: dict[str, Any], locations: set[tuple[str, str]]) -> list[str]:
    problems, template = [], spec.get("template", {})
    if not CRON.match(str(spec.get("schedule", ""))):
        problems.append(f"{where}: schedule {spec.get('schedule')!r} is not CRON_TZ=<zone> and five fields")
    if not DURATION.match(str(template.get("ttl", ""))):
        problems.append(f"{where}: ttl {template.get('ttl')!r} is not a Go duration in hours")
    if (namespace, template.get("storageLocation")) not in locations:
        problems.append(f"{where}: storageLocation {template.get('storageLocation')!r} does not exist")
    if spec.get("useOwnerReferencesInBackup") is not False:
        problems.append(f"{where}: owner references would delete every backup when the Schedule is replaced")
    return problems


def judge_velero(documents: list[dict[str, Any]]) -> list[str]:
    """What the API server would refuse, or Velero could not use: the fields its CRDs require (v1.18
    BackupStorageLocation: spec.provider, spec.objectStorage.bucket; Schedule: spec.schedule, spec.template), a
    provider no plugin registers, a schedule or TTL Velero cannot parse, a Schedule naming a location that does
    not exist in its namespace."""
    locations = {
        (d["metadata"]["namespace"], d["metadata"]["name"]) for d in documents if d["kind"] == "BackupStorageLocation"
    }
    problems = []
    for d in documents:
        namespace, spec = d["metadata"].get("namespace", ""), d.get("spec", {})
        where = f"{d['kind']} {namespace}/{d['metadata']['name']}"
        if d["kind"] == "BackupStorageLocation":
            problems += _judge_location(where, spec)
        elif d["kind"] == "Schedule":
            problems += _judge_schedule(where, namespace, spec, locations)
        else:
            problems.append(f"{where}: no judge for this kind")
    return problems


@pytest.mark.parametrize("stack", ["dev", "pilsen", "rheinfeld"])
def test_every_velero_object_of_every_reference_stack_passes_the_judge(runs: Runs, stack: str) -> None:
    assert judge_velero(_velero_objects(runs.stack(stack).recording)) == []


def test_the_judge_refuses_what_velero_would(runs: Runs) -> None:
    documents = _velero_objects(runs.stack("rheinfeld").recording)
    broken = json.loads(json.dumps(documents))
    for d in broken:
        if d["kind"] == "Schedule":
            d["spec"]["template"]["storageLocation"] = "gcs"
            d["spec"]["schedule"] = "0 * * * *"
        else:
            d["spec"]["provider"] = "aws"
    found = judge_velero(broken)
    assert any("does not exist" in p for p in found) and any("CRON_TZ" in p for p in found)
    assert any("not a plugin's" in p for p in found)


def _locations(recording: Recording, cluster: str) -> dict[str, Registration]:
    prefix = f"-{cluster}-recovery-location-"
    return {r.name.split(prefix)[1]: r for r in recording.of_type(BSL) if prefix in r.name}


def test_rheinfelds_eks_cluster_backs_up_its_lines_to_the_aws_store_in_berlin_time(runs: Runs) -> None:
    recording = runs.stack("rheinfeld").recording
    locations = _locations(recording, "cloud")
    assert sorted(locations) == ["aws", "azure", "gcp"]
    location = locations["aws"]
    spec = location.inputs["spec"]
    assert spec["provider"] == "velero.io/aws" and spec["objectStorage"]["prefix"] == "velero/cloud"
    assert spec["objectStorage"]["bucket"] == "rheinfeld-backup-123456789012-eu-central-1"
    assert "credential" not in spec, "the ambient identity: no key anywhere"
    config = runs.stack("rheinfeld").config
    lines = {line.name: line for line in config.lines_on("cloud")}
    schedules = [s for s in recording.of_type(SCHEDULE) if s.name.startswith("rheinfeld-cloud-recovery-schedule-")]
    assert len(schedules) == 3 * len(locations), "one Schedule per policy and location"
    for schedule in schedules:
        spec = schedule.inputs["spec"]
        policy = next(p for p in config.backup.policies if spec["schedule"].endswith(p.schedule))
        assert spec["schedule"] == f"CRON_TZ=Europe/Berlin {policy.schedule}"
        covered = [n.removeprefix("line-") for n in spec["template"]["includedNamespaces"]]
        assert covered and all(lines[n].criticality in policy.criticality for n in covered)
        assert locations[spec["template"]["storageLocation"]].urn in schedule.dependencies


def test_the_writer_grant_is_the_velero_roles_and_reaches_only_its_prefix(runs: Runs) -> None:
    recording = runs.stack("rheinfeld").recording
    grant = named(recording, "rheinfeld-cloud-recovery-velero-writer-aws")
    role = named(recording, "rheinfeld-cloud-recovery-velero-identity-role")
    # the role's name is the cloud's to tell (a computed output offline): the grant waits for exactly that role
    assert role.urn in grant.dependencies
    # what it allows is the store's writer policy for this cluster's prefix (its content: test_aws_store.py)
    document = writer_policy("rheinfeld-backup-123456789012-eu-central-1", "eu-central-1", "key", "velero/cloud")
    resources = json.dumps([s.get("Resource") for s in document["Statement"] if s["Effect"] == "Allow"])
    assert "velero/cloud/" in resources and "velero/plant" not in resources


def test_a_cluster_without_a_cloud_identity_writes_with_credentials_from_vault(runs: Runs) -> None:
    """pilsen's k3s cluster: a location per store, each naming a credential Secret that External Secrets copies
    from Velero's own Vault folder; per store a writer principal of its own with its own prefix, and no credential
    anywhere in the program (no access key, no service-account key, no client secret)."""
    recording = runs.stack("pilsen").recording
    locations = _locations(recording, "shopfloor")
    assert sorted(locations) == ["aws", "azure"]
    for cloud, location in locations.items():
        spec = location.inputs["spec"]
        assert spec["credential"] == {"name": f"velero-{cloud}", "key": "cloud"}
        secret = named(recording, f"pilsen-shopfloor-recovery-velero-secret-velero-{cloud}").inputs
        assert secret["metadata"]["namespace"] == "velero"
        assert secret["spec"]["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "vault-addon.velero"}
        [data] = secret["spec"]["data"]
        assert data == {
            "secretKey": "cloud",
            "remoteRef": {"key": f"shopfloor/addon.velero/{cloud}", "property": "cloud"},
        }
    store = named(recording, "pilsen-shopfloor-recovery-velero-secret-store").inputs
    assert store["spec"]["conditions"] == [{"namespaces": ["velero"]}], "only Velero's namespace may use it"
    auth = store["spec"]["provider"]["vault"]["auth"]["kubernetes"]
    assert auth["role"] == "external-secrets-shopfloor.addon.velero"
    assert auth["serviceAccountRef"] == {"name": "addon-secrets", "namespace": "velero"}
    # the AWS writer: a user with no key, in a group that carries the writer policy on velero/shopfloor only
    user = named(recording, "pilsen-shopfloor-recovery-velero-writer-aws-user").inputs
    group = named(recording, "pilsen-shopfloor-recovery-velero-writer-aws-group").inputs
    policy = named(recording, "pilsen-shopfloor-recovery-velero-writer-aws")
    assert user["name"] == group["name"] == "pilsen-shopfloor-velero" and user["path"] == "/factory-floor/"
    assert policy.type == "aws:iam/groupPolicy:GroupPolicy" and policy.inputs["name"] == "backup-store-velero-shopfloor"
    # the Azure writer: the service principal the stack names, on the container only
    assignment = named(recording, "pilsen-shopfloor-recovery-velero-writer-azure").inputs
    assert assignment["principalId"] == "5d6e7f80-9a1b-4c2d-8e3f-4a5b6c7d8e9f"
    assert "/blobServices/default/containers/" in assignment["scope"]
    credentials = ("aws:iam/accessKey:AccessKey", "gcp:serviceaccount/key:Key", "azuread:")
    assert not [r.name for r in recording.resources if r.type.startswith(credentials)]


def test_writer_principals_wait_for_no_cluster_and_use_the_stores_provider(runs: Runs) -> None:
    recording = runs.stack("rheinfeld").recording
    gate = named(recording, "rheinfeld-plant-admission-gatekeeper-webhook-probe-job").urn
    account = named(recording, "rheinfeld-plant-recovery-velero-writer-gcp-account")
    user = named(recording, "rheinfeld-plant-recovery-velero-writer-aws-user")
    for principal in (account, user):
        assert gate not in principal.dependencies, "a cloud principal needs nothing of the cluster"
        assert "-backup-" in str(principal.provider), "made in the store's project or account"
    assert re.fullmatch(r"[a-z][-a-z0-9]{4,28}[a-z0-9]", account.inputs["accountId"])


def test_every_managed_secret_stays_out_of_backups_and_keeps_its_data(runs: Runs) -> None:
    """Velero leaves out objects labelled velero.io/exclude-from-backup; a template with metadata only still copies
    every fetched key (External Secrets v2.0.0 ApplyTemplate)."""
    for stack in ("dev", "pilsen", "rheinfeld"):
        secrets = runs.stack(stack).recording.of_type("kubernetes:external-secrets.io/v1:ExternalSecret")
        assert secrets, stack
        for secret in secrets:
            template = secret.inputs["spec"]["target"]["template"]
            assert template["metadata"]["labels"]["velero.io/exclude-from-backup"] == "true", secret.name
            assert not template.get("data") and not template.get("templateFrom"), secret.name
            assert template["metadata"]["labels"]["app.kubernetes.io/part-of"] == "factory-floor"


@pytest.mark.parametrize("cloud", ["gcp", "azure"])
def test_gke_and_aks_write_to_their_own_clouds_store_through_its_grant(runs: Runs, cloud: str) -> None:
    raw = secure_raw(cloud)
    raw["backup"]["gcp"] = {"project": "testwerk-backup", "location": "EUROPE-WEST3"}
    recording = runs.main(raw)
    location = _locations(recording, "cloud")[cloud]
    assert location.inputs["spec"]["provider"] == f"velero.io/{cloud}"
    assert "credential" not in location.inputs["spec"], "its own identity"
    grants = [r for r in recording.resources if r.name.startswith(f"testwerk-cloud-recovery-velero-writer-{cloud}")]
    assert grants and not [r for r in grants if r.type.startswith(("aws:iam/user", "gcp:serviceaccount/account"))]


def test_the_pack_admits_veleros_cluster_admin_binding_only_where_velero_runs(runs: Runs) -> None:
    assert pack_settings(runs.stack("rheinfeld").config)["clusterAdminSubjects"] == [CLUSTER_ADMIN_SUBJECT]
    assert pack_settings(runs.stack("pilsen").config)["clusterAdminSubjects"] == [CLUSTER_ADMIN_SUBJECT]
    no_store = load_factory_config(mutate(mutate(secure_raw(), "environment", "staging"), "backup", {}))
    assert pack_settings(no_store)["clusterAdminSubjects"] == []


def test_veleros_restore_helper_runs_restricted_in_a_line(runs: Runs) -> None:
    """A restored pod with file-system backups gets Velero's `restore-wait` init container, built from the plugin
    config the program creates (Velero 1.18.1 pod_volume_restore_action.go): the pod stays Pod Security restricted
    in its line, with bounded resources, judged by the pack as a line's pod."""
    recording = runs.stack("pilsen").recording
    config = named(recording, "pilsen-shopfloor-recovery-restore-helper-config").inputs
    assert config["metadata"]["labels"]["velero.io/plugin-config"] == ""
    assert config["metadata"]["labels"]["velero.io/pod-volume-restore"] == "RestoreItemAction"
    data = config["data"]
    helper = {
        "name": "restore-wait",
        "image": "docker.io/velero/velero:v1.18.1",
        "args": ["restore-uid"],
        "securityContext": json.loads(data["secCtx"]),
        "resources": {
            "requests": {"cpu": data["cpuRequest"], "memory": data["memRequest"]},
            "limits": {"cpu": data["cpuLimit"], "memory": data["memLimit"]},
        },
    }
    workload = {
        "name": "app",
        "image": "registry.pilsen.example.com/lines/press/app:1",
        "securityContext": RESTRICTED_CONTAINER,
    }
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "restored", "namespace": "line-press"},
        "spec": {"initContainers": [helper], "containers": [workload], "securityContext": POD_SECURITY},
    }
    assert judge(pod_security_restricted, [Res(type_token("v1", "Pod"), pod)]) == []
    helper["securityContext"] = {}  # what Velero would copy from a careless first container
    assert judge(pod_security_restricted, [Res(type_token("v1", "Pod"), pod)]) != []


@pytest.mark.parametrize("stack", ["dev", "pilsen", "rheinfeld"])
def test_every_location_gets_a_drill_that_waits_for_it(runs: Runs, stack: str) -> None:
    """One restore drill per location Velero has on a cluster, applied after that location exists; its Roles in the
    marker namespace after that namespace; its image admitted in `velero` by the platform's image constraint."""
    recording = runs.stack(stack).recording
    for cluster in runs.stack(stack).config.clusters:
        locations = _locations(recording, cluster.name)
        prefix = f"{stack}-{cluster.name}-recovery-restore-drill-cronjob-restore-drill-"
        drills = {r.name.removeprefix(prefix): r for r in recording.of_type(CRONJOB) if r.name.startswith(prefix)}
        assert sorted(drills) == sorted(locations) and drills, cluster.name
        for cloud, drill in drills.items():
            assert locations[cloud].urn in drill.dependencies
        marker = named(recording, f"{stack}-{cluster.name}-recovery-ns-restore-drill")
        role = named(
            recording, f"{stack}-{cluster.name}-recovery-restore-drill-role-restore-drill-aws-in-restore-drill"
        )
        assert marker.urn in role.dependencies
        platform = named(recording, f"{stack}-{cluster.name}-admission-gatekeeper-constraint-allowed-images-platform")
        [image] = {
            c["image"] for c in drills["aws"].inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
        }
        assert image in platform.inputs["spec"]["parameters"]["allowedImages"] and "@sha256:" in image
        assert "restore-drill" in platform_namespaces(), "the marker namespace is the platform's, never a line's"


@pytest.mark.parametrize("stack", ["dev", "pilsen", "rheinfeld"])
def test_the_drill_and_escrow_rules_make_plan_writes_pass_promtool(tmp_path: Path, stack: str) -> None:
    _settings, config = load_config(ROOT, stack)
    written = [w for w in write_rules(tmp_path, config) if "-restore-drill.yaml" in w or "-escrow.yaml" in w]
    assert len(written) == 2 * len(config.clusters)  # every reference cluster drills and escrows
    for path in sorted((tmp_path / "rules").glob("*-restore-drill.yaml")):
        result = run_promtool(tmp_path, "check", "rules", str(path))
        assert result.returncode == 0 and "SUCCESS: 8 rules found" in result.stdout, result.stdout + result.stderr
