"""DisasterRecovery as the real program registers it: Velero only where a cluster reaches a store with its own
identity, that identity's writer grant on its own prefix, one BackupStorageLocation per such store and one Schedule
per policy — and the judge for Velero's custom resources, which kubernetes-validate has no schema for (we do not
vendor other projects' CRDs: the fields Velero requires and the references between them are checked here)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from components.backup.stores.aws_policies import writer_policy
from components.backup.velero import CLUSTER_ADMIN_SUBJECT
from components.config.loader import load_factory_config
from components.inventory import pack_settings
from offline.harness import Recording, Registration
from offline.render import is_manifest, manifest
from tests.support.factories import mutate, secure_raw
from tests.support.runs import Runs, named

BSL = "kubernetes:velero.io/v1:BackupStorageLocation"
SCHEDULE = "kubernetes:velero.io/v1:Schedule"
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


def test_rheinfelds_eks_cluster_backs_up_its_lines_to_the_aws_store_in_berlin_time(runs: Runs) -> None:
    recording = runs.stack("rheinfeld").recording
    [location] = recording.of_type(BSL)
    spec = location.inputs["spec"]
    assert location.name == "rheinfeld-cloud-recovery-location-aws"
    assert spec["provider"] == "velero.io/aws" and spec["objectStorage"]["prefix"] == "velero/cloud"
    assert spec["objectStorage"]["bucket"] == "rheinfeld-backup-123456789012-eu-central-1"
    assert "credential" not in spec, "the ambient identity: no key anywhere"
    config = runs.stack("rheinfeld").config
    lines = {line.name: line for line in config.lines_on("cloud")}
    for schedule in recording.of_type(SCHEDULE):
        spec = schedule.inputs["spec"]
        policy = next(p for p in config.backup.policies if spec["schedule"].endswith(p.schedule))
        assert spec["schedule"] == f"CRON_TZ=Europe/Berlin {policy.schedule}"
        assert spec["template"]["storageLocation"] == "aws"
        covered = [n.removeprefix("line-") for n in spec["template"]["includedNamespaces"]]
        assert covered and all(lines[n].criticality in policy.criticality for n in covered)
        assert location.urn in schedule.dependencies


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


def test_a_cluster_without_its_own_way_to_a_store_gets_no_velero(runs: Runs) -> None:
    for stack in ("dev", "pilsen"):
        recording = runs.stack(stack).recording
        assert not recording.of_type("factory:index:DisasterRecovery"), stack
        assert not [r for r in recording.resources if r.type == "kubernetes:helm.sh/v4:Chart" and "velero" in r.name]
    plant = [r for r in runs.stack("rheinfeld").recording.resources if r.name.startswith("rheinfeld-plant-recovery")]
    assert plant == [], "rheinfeld's RKE2 cluster has no cloud identity"


@pytest.mark.parametrize("cloud", ["gcp", "azure"])
def test_gke_and_aks_write_to_their_own_clouds_store_through_its_grant(runs: Runs, cloud: str) -> None:
    raw = secure_raw(cloud)
    raw["backup"]["gcp"] = {"project": "testwerk-backup", "location": "EUROPE-WEST3"}
    recording = runs.main(raw)
    [location] = recording.of_type(BSL)
    assert location.inputs["spec"]["provider"] == f"velero.io/{cloud}"
    grants: list[Registration] = [r for r in recording.resources if "-recovery-velero-writer-" in r.name]
    assert grants and all(r.name.startswith(f"testwerk-cloud-recovery-velero-writer-{cloud}") for r in grants)


def test_the_pack_admits_veleros_cluster_admin_binding_only_where_velero_runs(runs: Runs) -> None:
    assert pack_settings(runs.stack("rheinfeld").config)["clusterAdminSubjects"] == [CLUSTER_ADMIN_SUBJECT]
    assert pack_settings(runs.stack("pilsen").config)["clusterAdminSubjects"] == []
    no_store = load_factory_config(mutate(mutate(secure_raw(), "environment", "staging"), "backup", {}))
    assert pack_settings(no_store)["clusterAdminSubjects"] == []
