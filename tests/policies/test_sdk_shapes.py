"""The pack judges what the installed SDKs really send: a compliant backup vault on each cloud and a
restricted workload, declared with the provider SDKs, recorded by the offline harness, judged by the runner.

Hand-written fixtures could drift from the SDKs' wire names (camelCase, nesting, pulumi-aws 7's split
resources); this program cannot.
"""

from __future__ import annotations

import importlib
import json
import warnings
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

import factory_policies as fp
from offline import harness
from offline.policy_runner import evaluate

# The cloud SDK modules are imported by name (typed Any): mypy checking nested dict literals against these
# SDKs' TypedDict unions runs out of memory, and the wire shapes, not the SDK types, are under test here.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # the SDKs' own deprecated aliases; not ours to fix
    s3: Any = importlib.import_module("pulumi_aws.s3")
    kms: Any = importlib.import_module("pulumi_aws.kms")
    gcs: Any = importlib.import_module("pulumi_gcp.storage")
    azure_storage: Any = importlib.import_module("pulumi_azure_native.storage")
pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated:DeprecationWarning")
PROTECTED = pulumi.ResourceOptions(protect=True, retain_on_delete=True)


def s3_vault(status: str = "Enabled") -> None:
    key = kms.Key("backup-key", enable_key_rotation=True, deletion_window_in_days=30)
    bucket = s3.Bucket("backups", bucket="testwerk-backups", object_lock_enabled=True, opts=PROTECTED)
    s3.BucketVersioning("versioning", bucket=bucket.id, versioning_configuration={"status": status})
    s3.BucketObjectLockConfiguration(
        "lock", bucket=bucket.id, rule={"default_retention": {"mode": "COMPLIANCE", "days": 30}}
    )
    s3.BucketServerSideEncryptionConfiguration(
        "encryption",
        bucket=bucket.id,
        rules=[
            {
                "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": key.arn},
                "bucket_key_enabled": True,
            }
        ],
    )
    s3.BucketPublicAccessBlock(
        "public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
    )
    s3.BucketOwnershipControls("ownership", bucket=bucket.id, rule={"object_ownership": "BucketOwnerEnforced"})
    arn = "arn:aws:s3:::testwerk-backups"  # from the known name, so the document is judged at preview
    statement = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    s3.BucketPolicy("tls", bucket=bucket.id, policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))


def gcs_vault(uniform: bool = True) -> None:
    gcs.Bucket(
        "gcs-backups",
        location="EUROPE-WEST3",
        uniform_bucket_level_access=uniform,
        public_access_prevention="enforced",
        encryption={"default_kms_key_name": "projects/p/locations/europe-west3/keyRings/r/cryptoKeys/velero"},
        retention_policy={"retention_period": 30 * 86400, "is_locked": True},
        opts=PROTECTED,
    )


def azure_vault(shared_key: bool = False) -> None:
    account = azure_storage.StorageAccount(
        "backupaccount",
        resource_group_name="testwerk-backups",
        kind="StorageV2",
        sku={"name": "Standard_ZRS"},
        enable_https_traffic_only=True,
        minimum_tls_version="TLS1_2",
        allow_blob_public_access=False,
        allow_shared_key_access=shared_key,
        allow_cross_tenant_replication=False,
        encryption={
            "require_infrastructure_encryption": True,
            "key_source": "Microsoft.Keyvault",
            "key_vault_properties": {"key_name": "velero", "key_vault_uri": "https://testwerk.vault.azure.net"},
        },
        opts=PROTECTED,
    )
    azure_storage.BlobServiceProperties(
        "blob-service",
        account_name=account.name,
        resource_group_name="testwerk-backups",
        blob_services_name="default",
        delete_retention_policy={"enabled": True, "days": 14},
        container_delete_retention_policy={"enabled": True, "days": 14},
        is_versioning_enabled=True,
    )
    container = azure_storage.BlobContainer(
        "velero", account_name=account.name, resource_group_name="testwerk-backups", public_access="None"
    )
    azure_storage.BlobContainerImmutabilityPolicy(
        "velero-worm",
        account_name=account.name,
        container_name=container.name,
        resource_group_name="testwerk-backups",
        immutability_period_since_creation_in_days=30,
    )


def workload(privileged: bool = False) -> None:
    context = {"allow_privilege_escalation": False, "privileged": privileged, "capabilities": {"drop": ["ALL"]}}
    resources = {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}
    pod: dict[str, Any] = {
        "restart_policy": "Never",
        "security_context": {
            "run_as_non_root": True,
            "run_as_user": 10001,
            "seccomp_profile": {"type": "RuntimeDefault"},
        },
        "containers": [
            {
                "name": "report",
                "image": "registry.plant.example.com/mes/report:1.2.0",
                "security_context": context,
                "resources": resources,
            }
        ],
    }
    # typed as a plain dict: inferring a nested literal against the SDK's TypedDict unions exhausts mypy
    line = {"labels": {"factory-floor.io/line": "mes"}}  # the line its namespace belongs to
    spec: dict[str, Any] = {
        "schedule": "0 3 * * *",
        "job_template": {"metadata": line, "spec": {"template": {"metadata": line, "spec": pod}}},
    }
    k8s.batch.v1.CronJob("report", metadata={"name": "report", "namespace": "line-mes", **line}, spec=spec)


def _violations(program: Callable[[], None]) -> list[str]:
    recording = harness.run(program, project="factory-floor", stack="testwerk")
    return [f"{v.policy}: {v.message}" for verdict in evaluate(fp.ALL_POLICIES, recording) for v in verdict.violations]


def everything() -> None:
    s3_vault()
    gcs_vault()
    azure_vault()
    workload()


def test_compliant_stores_and_workload_from_the_sdks_pass() -> None:
    assert _violations(everything) == []


@pytest.mark.parametrize(
    ("program", "expected"),
    [
        (lambda: s3_vault(status="Suspended"), "aws-s3-versioning: bucket 'backups' has versioning ['Suspended']"),
        (lambda: gcs_vault(uniform=False), "gcs-uniform-bucket-level-access: bucket 'gcs-backups' does not set"),
        (lambda: azure_vault(shared_key=True), "azure-storage-no-shared-key: storage account 'backupaccount'"),
        (lambda: workload(privileged=True), "pod-security-baseline: spec.jobTemplate.spec.template.spec.containers"),
    ],
    ids=["s3-versioning-suspended", "gcs-acl-mode", "azure-shared-key", "cronjob-privileged"],
)
def test_one_sdk_argument_changed_is_caught(program: Callable[[], None], expected: str) -> None:
    found = _violations(program)
    assert any(v.startswith(expected) for v in found), found
