"""The scope of the restore drill's accounts, evaluated in a real CEL runtime (cel-expr-python) as the API server
would: the match condition first, then the variables, then every validation (one that is false or errors refuses:
Deny, failurePolicy Fail). The attacks are what a compromised drill pod would ask Velero — which runs as
cluster-admin — to do; next to them, the drill's own requests, built as drill_job.py builds them, and Velero's."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.backup.drill import admission
from components.backup.drill.config import DrillConfig
from components.backup.drill.manifests import settings
from components.config.loader import load_factory_config
from tests.support.admission_cel import evaluate_policy
from tests.support.factories import mutate, valid_raw
from tests.support.runs import Runs

[POLICY, BINDING] = admission.manifests("testwerk", load_factory_config(valid_raw()).cluster("edge"))
DRILL_AWS = "system:serviceaccount:velero:restore-drill-aws"


def evaluate(obj: dict[str, Any], username: str) -> list[str] | None:
    """None when the policy does not judge the request; else the messages of its failed validations."""
    return evaluate_policy(POLICY, obj, username)


def _drill_requests() -> tuple[dict[str, Any], dict[str, Any]]:
    """The Backup and Restore the drill of location aws sends (drill_job.py steps())."""
    ours = settings("testwerk", "edge", "aws", DrillConfig())
    name = f"{ours['name']}-20261207043000"
    metadata = {"name": name, "namespace": "velero"}
    backup = {
        "apiVersion": "velero.io/v1",
        "kind": "Backup",
        "metadata": metadata,
        "spec": {
            "includedNamespaces": [ours["markerNamespace"]],
            "storageLocation": ours["location"],
            "ttl": ours["backupTtl"],
            "snapshotVolumes": False,
            "defaultVolumesToFsBackup": False,
        },
    }
    restore = {
        "apiVersion": "velero.io/v1",
        "kind": "Restore",
        "metadata": metadata,
        "spec": {
            "backupName": name,
            "includedNamespaces": [ours["markerNamespace"]],
            "namespaceMapping": {ours["markerNamespace"]: ours["scratchNamespace"]},
            "restorePVs": False,
        },
    }
    return backup, restore


def test_the_drills_own_backup_and_restore_are_admitted() -> None:
    backup, restore = _drill_requests()
    assert evaluate(backup, DRILL_AWS) == []
    assert evaluate(restore, DRILL_AWS) == []


def _changed(obj: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    found = copy.deepcopy(obj)
    *parents, last = path.split(".")
    node = found
    for part in parents:
        node = node[part]
    node[last] = value
    return found


BACKUP_ATTACKS = [
    ("spec.includedNamespaces", ["line-weld"], "the namespace restore-drill only"),
    ("spec.includedNamespaces", ["restore-drill", "line-weld"], "the namespace restore-drill only"),
    ("spec.includeClusterResources", True, "no cluster resources"),
    ("spec.storageLocation", "gcp", "its own location aws"),
    ("metadata.name", "critical-lines-aws-20261207", "names its objects restore-drill-aws-<run>"),
]
RESTORE_ATTACKS = [
    ("spec.backupName", "critical-lines-aws-20261101000000", "restores only its own backups"),
    ("spec.namespaceMapping", {"restore-drill": "line-weld"}, "restores only its own backups"),
    ("spec.existingResourcePolicy", "update", "never updating what exists"),
    ("spec.includedNamespaces", ["line-weld"], "the namespace restore-drill only"),
]


@pytest.mark.parametrize(("path", "value", "says"), BACKUP_ATTACKS)
def test_a_compromised_drill_pod_cannot_back_up_anything_else(path: str, value: Any, says: str) -> None:
    backup, _restore = _drill_requests()
    refused = evaluate(_changed(backup, path, value), DRILL_AWS)
    assert refused and any(says in message for message in refused), refused


@pytest.mark.parametrize(("path", "value", "says"), RESTORE_ATTACKS)
def test_a_compromised_drill_pod_cannot_restore_over_a_line(path: str, value: Any, says: str) -> None:
    _backup, restore = _drill_requests()
    refused = evaluate(_changed(restore, path, value), DRILL_AWS)
    assert refused and any(says in message for message in refused), refused


def test_one_locations_drill_cannot_use_anothers_backups() -> None:
    _backup, restore = _drill_requests()
    assert evaluate(restore, "system:serviceaccount:velero:restore-drill-azure")


@pytest.mark.parametrize(
    "username",
    ["system:serviceaccount:velero:velero-server", "kubernetes-admin", "system:serviceaccount:line-weld:line-workload"],
)
def test_velero_and_people_are_not_judged_by_it(username: str) -> None:
    backup, restore = _drill_requests()
    line = _changed(backup, "spec.includedNamespaces", ["line-weld"])
    assert evaluate(line, username) is None and evaluate(restore, username) is None


def test_it_binds_in_velero_only_and_always_denies() -> None:
    assert BINDING["spec"]["validationActions"] == ["Deny"]
    [selector] = BINDING["spec"]["matchResources"]["namespaceSelector"]["matchExpressions"]
    assert selector == {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["velero"]}
    assert POLICY["spec"]["failurePolicy"] == "Fail"


def test_every_drill_cluster_at_1_30_or_later_gets_it(runs: Runs) -> None:
    for stack in ("dev", "pilsen", "rheinfeld"):
        found = runs.stack(stack).recording.of_type(
            "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy"
        )
        drills = [r for r in found if r.inputs["metadata"]["name"] == admission.NAME]
        assert len(drills) == len(runs.stack(stack).config.clusters), stack
    old = load_factory_config(mutate(valid_raw(), "clusters.0.kubernetesVersion", "1.29"))
    assert admission.manifests("testwerk", old.cluster("edge")) == []
