"""The AWS backup store under the SDK mock runtime: what it registers in production and development, judged by the
real policy pack and by checkov, and the writer grant Velero's role gets."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.backup.config import AwsStoreConfig
from components.backup.stores import aws_policies
from components.backup.stores.aws import AwsBackupStore, AwsStoreArgs, bucket_name, grant_writer
from components.backup.stores.location import StoreLocation
from components.core.component import ComponentArgs, FactoryComponent, Protection
from offline import harness
from offline.harness import Recording, Registration
from offline.policy_runner import evaluate, load_policies
from tests.support.judges import checkov_cloudformation
from tests.support.runs import ROOT, named

ACCOUNT = "111122223333"
STORE = {"accountId": ACCOUNT, "region": "eu-central-1"}
REPLICATED = {**STORE, "replicaRegion": "eu-west-1"}
BUCKET = "aws:s3/bucket:Bucket"
KEY = "aws:kms/key:Key"
STATEFUL = (BUCKET, KEY)
STORE_POLICIES = (
    "aws-s3-versioning",
    "aws-s3-object-lock",
    "aws-s3-kms-encryption",
    "aws-s3-public-access-block",
    "aws-s3-tls-only",
    "aws-s3-owner-enforced",
    "backup-store-protected",
)
REQUIRED_WRITER_DENIES = {
    "s3:DeleteObjectVersion",
    "s3:BypassGovernanceRetention",
    "s3:PutObjectRetention",
    "s3:PutObjectLegalHold",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketPolicy",
    "s3:PutLifecycleConfiguration",
}


class ArnMocks(harness.EchoMocks):
    """Echo mocks that also give keys, buckets and roles the ARN the cloud would, so documents built from them are
    known (under the plain echo mocks they stay unknown, as in a first preview)."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        id_, outputs = super().new_resource(args)
        if args.typ == KEY:
            outputs["arn"] = f"arn:aws:kms:eu-central-1:{ACCOUNT}:key/{args.name}"
        elif args.typ == BUCKET:
            outputs["arn"] = f"arn:aws:s3:::{args.inputs['bucket']}"
        elif args.typ == "aws:iam/role:Role":
            outputs["arn"] = f"arn:aws:iam::{ACCOUNT}:role/{args.inputs['name']}"
        return id_, outputs


@dataclass
class Run:
    recording: Recording
    location: dict[str, Any]  # the store's StoreLocation, resolved


class Writer(FactoryComponent[ComponentArgs]):
    """A test owner of a writer grant, as the per-cluster backup side will be."""


def run_store(
    store: dict[str, Any] = REPLICATED,
    *,
    environment: str = "production",
    stateful: bool | None = None,
    factory: str = "pilsen",
    writer_prefix: str | None = None,
    monkeypatch: pytest.MonkeyPatch | None = None,
) -> Run:
    if monkeypatch is not None:
        monkeypatch.setattr(harness, "EchoMocks", ArnMocks)
    resolved: dict[str, Any] = {}

    def program() -> None:
        protection = Protection.of(environment, stateful)
        args = AwsStoreArgs(
            protection=protection,
            factory=factory,
            environment=environment,
            store=AwsStoreConfig.model_validate(store),
        )
        found = AwsBackupStore(f"{factory}-aws-store", args)
        location: StoreLocation = found.location
        pulumi.Output.all(bucket=location.bucket, key=location.key, velero=dict(location.velero_config)).apply(
            resolved.update
        )
        resolved.update(cloud=location.cloud, region=location.region, replica=location.replica)
        if writer_prefix is not None:
            owner = Writer("velero", ComponentArgs(protection=protection))
            grant_writer(owner, "store-access", location, "pilsen-velero", writer_prefix)

    return Run(harness.run(program, project="factory-floor", stack="test"), resolved)


@pytest.fixture(scope="module")
def production() -> Run:
    return run_store()


@pytest.fixture(scope="module")
def policies() -> list[Any]:
    return load_policies(ROOT / "policy")


def judge(policies: list[Any], recording: Recording, environment: str = "production") -> dict[str, list[str]]:
    from factory_policies.settings import pack_config  # noqa: PLC0415 - the pack's path is set by conftest

    verdicts = evaluate(policies, recording, config=pack_config(policies, environment=environment))
    return {v.policy.name: [f"{x.resource}: {x.message}" for x in v.violations] for v in verdicts if v.violations}


def document(registration: Registration, prop: str) -> dict[str, Any]:
    return json.loads(registration.inputs[prop])


def statements(registration: Registration, prop: str = "policy") -> dict[str, dict[str, Any]]:
    return {s.get("Sid", str(i)): s for i, s in enumerate(document(registration, prop)["Statement"])}


# --- the policy pack -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("environment", ["production", "development"])
def test_the_store_passes_the_whole_pack(policies: list[Any], environment: str) -> None:
    recording = run_store(environment=environment).recording
    assert judge(policies, recording, environment) == {}
    judged = {v.policy.name for v in evaluate(policies, recording) if v.judged}
    assert judged >= set(STORE_POLICIES) - {"backup-store-protected"}


def _mutated(run: Run, suffix: str, change: Callable[[Registration], None]) -> Recording:
    recording = copy.deepcopy(run.recording)
    change(named(recording, suffix))
    return recording


def _governance(lock: Registration) -> None:
    lock.inputs["rule"]["defaultRetention"]["mode"] = "GOVERNANCE"


def _unprotected(bucket: Registration) -> None:
    bucket.protect = False


def _plain_http(policy: Registration) -> None:
    kept = [s for s in document(policy, "policy")["Statement"] if s["Sid"] != "DenyInsecureTransport"]
    policy.inputs["policy"] = json.dumps({"Version": "2012-10-17", "Statement": kept})


def _aes256(encryption: Registration) -> None:
    encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] = "AES256"


@pytest.mark.parametrize(
    ("suffix", "change", "expected"),
    [
        ("store-bucket-lock", _governance, ("aws-s3-object-lock", "production requires COMPLIANCE")),
        ("store-replica-lock", _governance, ("aws-s3-object-lock", "production requires COMPLIANCE")),
        ("store-bucket", _unprotected, ("backup-store-protected", "is not protected")),
        ("store-replica-policy", _plain_http, ("aws-s3-tls-only", "aws:SecureTransport")),
        ("store-logs-encryption", _aes256, ("aws-s3-kms-encryption", "not SSE-KMS")),
    ],
)
def test_the_pack_catches_a_mutated_registration(
    production: Run,
    policies: list[Any],
    suffix: str,
    change: Callable[[Registration], None],
    expected: tuple[str, str],
) -> None:
    policy, message = expected
    found = judge(policies, _mutated(production, suffix, change))
    assert list(found) == [policy]
    assert len(found[policy]) == 1 and message in found[policy][0]


# --- protection ----------------------------------------------------------------------------------------------


def test_production_protects_and_retains_every_bucket_and_key_and_nothing_is_force_destroyed(production: Run) -> None:
    stateful = [r for r in production.recording.resources if r.type in STATEFUL]
    assert len(stateful) == 6  # store, replica and log bucket, each with its key
    assert all(r.protect and r.retain_on_delete for r in stateful), [r.name for r in stateful if not r.protect]
    # the settings too: a destroy (or the store removed from the stack) must not lift a lock, a public-access block
    # or a policy while keeping the bucket; a setting that needs replacing is unprotected on purpose first
    settings = [r for r in production.recording.resources if r.custom and not r.type.startswith("pulumi:providers:")]
    assert [r.name for r in settings if not (r.protect and r.retain_on_delete)] == []
    assert all(r.inputs.get("forceDestroy") is not True for r in production.recording.of_type(BUCKET))


@pytest.mark.parametrize(("stateful", "protected"), [(None, False), (True, True)])
def test_development_protects_only_when_the_stack_says_so(stateful: bool | None, protected: bool) -> None:
    recording = run_store(environment="development", stateful=stateful).recording
    assert {(r.protect, r.retain_on_delete) for r in recording.resources if r.type in STATEFUL} == {
        (protected, protected)
    }


# --- the buckets -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("environment", "mode"), [("production", "COMPLIANCE"), ("development", "GOVERNANCE")])
def test_every_bucket_is_locked_in_the_environments_mode_for_lock_days(environment: str, mode: str) -> None:
    recording = run_store({**REPLICATED, "lockDays": 40, "retentionDays": 60}, environment=environment).recording
    locks = recording.of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    assert len(locks) == 3
    assert {json.dumps(r.inputs["rule"]) for r in locks} == {
        json.dumps({"defaultRetention": {"mode": mode, "days": 40.0}})
    }
    assert all(r.inputs["objectLockEnabled"] is True for r in recording.of_type(BUCKET))
    lifecycle = named(recording, "store-bucket-lifecycle").inputs["rules"][0]
    assert lifecycle["noncurrentVersionExpiration"] == {"noncurrentDays": 60.0}
    assert lifecycle["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7.0}
    assert "days" not in lifecycle["expiration"], "Velero expires backups; the store never expires a current version"


def test_the_store_bucket_policy_denies_version_deletion_and_foreign_keys_to_everyone(production: Run) -> None:
    found = statements(named(production.recording, "store-bucket-policy"))
    assert found["DenyDeletingObjectVersions"]["Action"] == ["s3:DeleteObjectVersion"]
    foreign = found["DenyForeignKeys"]["Condition"]["StringNotLikeIfExists"]
    assert foreign == {"s3:x-amz-server-side-encryption-aws-kms-key-id": f"arn:aws:kms:eu-central-1:{ACCOUNT}:key/*"}
    assert all(s["Effect"] == "Deny" and s["Principal"] == "*" for s in found.values())


def test_a_disposable_stores_keys_may_be_deleted_so_a_destroy_can_finish() -> None:
    for key in run_store(environment="development").recording.of_type(KEY):
        assert "NobodyDisablesOrDeletesTheKey" not in statements(key), key.name


def test_keys_rotate_and_nobody_may_disable_or_delete_them_and_no_grant_is_open(production: Run) -> None:
    for key in production.recording.of_type(KEY):
        assert key.inputs["enableKeyRotation"] is True and key.inputs["deletionWindowInDays"] == 30.0
        found = statements(key)
        guarded = found["NobodyDisablesOrDeletesTheKey"]
        assert guarded["Effect"] == "Deny" and guarded["Principal"] == {"AWS": "*"}
        assert set(guarded["Action"]) == {"kms:DisableKey", "kms:ScheduleKeyDeletion", "kms:DisableKeyRotation"}
        for statement in (s for s in found.values() if s["Effect"] == "Allow"):
            principal = statement["Principal"]
            assert principal != "*" and "*" not in json.dumps(principal), (key.name, statement)


def test_a_replica_exists_only_with_a_replica_region(production: Run) -> None:
    alone = run_store(STORE).recording
    assert len(alone.resources) == 21 and len(production.recording.resources) == 34
    assert not [r.name for r in alone.resources if "replica" in r.name]
    assert len(alone.of_type("pulumi:providers:aws")) == 1


def test_the_replica_is_locked_and_encrypted_like_the_store_in_its_own_region(production: Run) -> None:
    recording = production.recording
    provider = named(recording, "store-replica-aws")
    assert provider.inputs["region"] == "eu-west-1"
    assert json.loads(provider.inputs["allowedAccountIds"]) == [ACCOUNT]
    replica = [r for r in recording.resources if r.name.startswith("pilsen-aws-store-replica") and r.custom]
    replica = [r for r in replica if not r.name.startswith("pilsen-aws-store-replication")]
    assert len(replica) == 10  # its provider, key, bucket and the bucket's seven settings
    assert {r.provider_urn for r in replica if r.type != "pulumi:providers:aws"} == {provider.urn}
    for setting in ("lock", "public-access", "ownership", "versioning"):
        source, copy_ = named(recording, f"store-bucket-{setting}"), named(recording, f"store-replica-{setting}")
        assert {**source.inputs, "bucket": None} == {**copy_.inputs, "bucket": None}, setting
    encryption = named(recording, "store-replica-encryption")
    assert encryption.property_dependencies["rules"] == [named(recording, "store-replica-key").urn]
    assert named(recording, "store-replica").inputs["bucket"] == f"pilsen-backup-{ACCOUNT}-eu-west-1"


def test_replication_copies_kms_objects_but_never_a_delete(production: Run) -> None:
    [rule] = named(production.recording, "store-replication").inputs["rules"]
    assert rule["deleteMarkerReplication"] == {"status": "Disabled"}
    assert rule["sourceSelectionCriteria"] == {"sseKmsEncryptedObjects": {"status": "Enabled"}}
    assert rule["destination"]["bucket"] == f"arn:aws:s3:::pilsen-backup-{ACCOUNT}-eu-west-1"
    trust = document(named(production.recording, "store-replication-role"), "assumeRolePolicy")
    assert trust["Statement"][0]["Condition"]["ArnEquals"] == {
        "aws:SourceArn": f"arn:aws:s3:::pilsen-backup-{ACCOUNT}-eu-central-1"
    }


def test_the_replication_role_may_only_read_the_source_and_write_replicas(monkeypatch: pytest.MonkeyPatch) -> None:
    recording = run_store(monkeypatch=monkeypatch).recording
    granted = document(named(recording, "store-replication-policy"), "policy")["Statement"]
    actions = {a for s in granted for a in s["Action"]}
    assert "s3:ReplicateDelete" not in actions and not any(a.endswith("*") and a.startswith("s3") for a in actions)
    kms = {s["Action"][0]: s["Resource"] for s in granted if s["Action"][0].startswith("kms")}
    assert kms == {
        "kms:Decrypt": f"arn:aws:kms:eu-central-1:{ACCOUNT}:key/pilsen-aws-store-key",
        "kms:Encrypt": f"arn:aws:kms:eu-central-1:{ACCOUNT}:key/pilsen-aws-store-replica-key",
    }


def test_every_object_request_is_recorded_in_a_locked_log_bucket(production: Run) -> None:
    recording = production.recording
    logs = named(recording, "store-logs")
    assert logs.inputs["tags"]["factory-floor-purpose"] == "access-logs"
    trail = named(recording, "store-trail")
    assert trail.inputs["enableLogFileValidation"] is True and trail.inputs["isMultiRegionTrail"] is True
    assert trail.property_dependencies["kmsKeyId"] == [named(recording, "store-log-key").urn]
    selectors = {s["field"]: s for s in trail.inputs["advancedEventSelectors"][0]["fieldSelectors"]}
    assert selectors["resources.ARN"]["startsWiths"] == [
        f"arn:aws:s3:::pilsen-backup-{ACCOUNT}-eu-central-1/",
        f"arn:aws:s3:::pilsen-backup-{ACCOUNT}-eu-west-1/",
    ]
    trail_arn = f"arn:aws:cloudtrail:eu-central-1:{ACCOUNT}:trail/pilsen-backup-objects"
    write = statements(named(recording, "store-logs-policy"))["CloudTrailWrite"]
    assert write["Condition"]["StringEquals"]["aws:SourceArn"] == trail_arn
    encrypt = statements(named(recording, "store-log-key"))["CloudTrailEncryptsLogs"]
    assert encrypt["Condition"]["StringEquals"] == {"aws:SourceArn": trail_arn}


def test_every_child_uses_the_stores_own_providers(production: Run) -> None:
    providers = {r.urn for r in production.recording.of_type("pulumi:providers:aws")}
    custom = [r for r in production.recording.resources if r.custom and r.type != "pulumi:providers:aws"]
    assert {r.provider_urn for r in custom} == providers
    default_tags = json.loads(named(production.recording, "store-aws").inputs["defaultTags"])["tags"]
    assert default_tags == {"factory": "pilsen", "managed-by": "pulumi"}


def test_the_location_is_what_velero_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    location = run_store(monkeypatch=monkeypatch).location
    key = f"arn:aws:kms:eu-central-1:{ACCOUNT}:key/pilsen-aws-store-key"
    assert location == {
        "cloud": "aws",
        "bucket": f"pilsen-backup-{ACCOUNT}-eu-central-1",
        "region": "eu-central-1",
        "key": key,
        "velero": {"region": "eu-central-1", "kmsKeyId": key},
        "replica": "eu-west-1",
    }


# --- names ---------------------------------------------------------------------------------------------------


VALID_BUCKET = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")


def test_bucket_names_are_valid_and_unique_even_for_the_longest_factory_names() -> None:
    longest = ["f" * 63, "f" * 62 + "g", "f" * 40]
    roles, regions = ("backup", "backup-logs"), ("eu-central-1", "eu-west-1")
    names = [bucket_name(f, ACCOUNT, role, region) for f in longest for role in roles for region in regions]
    assert all(VALID_BUCKET.match(n) for n in names), names
    assert len(set(names)) == len(names)
    assert bucket_name("f" * 63, ACCOUNT, "backup", "eu-west-1") == names[1], "deterministic"
    assert bucket_name("xn--plant", ACCOUNT, "backup", "eu-west-1").startswith("ff-")


def test_a_63_character_factory_registers_valid_names() -> None:
    recording = run_store(factory="p" * 63).recording
    names = [r.inputs["bucket"] for r in recording.of_type(BUCKET)]
    assert len(set(names)) == 3 and all(VALID_BUCKET.match(n) for n in names), names
    assert len(named(recording, "store-replication-role").inputs["name"]) <= 64


# --- the writer grant ------------------------------------------------------------------------------------------


def test_a_writer_may_use_only_its_prefix_and_never_delete_a_version(monkeypatch: pytest.MonkeyPatch) -> None:
    recording = run_store(writer_prefix="/velero/", monkeypatch=monkeypatch).recording
    grant = named(recording, "velero-store-access")
    assert grant.inputs["role"] == "pilsen-velero"
    found = statements(grant)
    bucket = f"arn:aws:s3:::pilsen-backup-{ACCOUNT}-eu-central-1"
    assert found["ObjectsUnderPrefix"]["Resource"] == f"{bucket}/velero/*"
    assert found["ListPrefix"]["Condition"] == {"StringLike": {"s3:prefix": ["velero", "velero/*"]}}
    assert found["StoreKeyThroughS3"]["Resource"] == f"arn:aws:kms:eu-central-1:{ACCOUNT}:key/pilsen-aws-store-key"
    assert set(found["NeverDeleteLockedVersions"]["Action"]) >= REQUIRED_WRITER_DENIES
    assert found["NeverDeleteLockedVersions"]["Resource"] == [bucket, f"{bucket}/*"]
    allowed = [s for s in found.values() if s["Effect"] == "Allow"]
    assert not any(s["Resource"] == "*" or "s3:*" in s["Action"] for s in allowed)


@pytest.mark.parametrize(("prefix", "refusal"), [("/", "prefix of its own"), ("velero/*", "not a plain key prefix")])
def test_a_writer_without_a_plain_prefix_is_refused(prefix: str, refusal: str) -> None:
    with pytest.raises(ValueError, match=re.escape(refusal)):
        run_store(writer_prefix=prefix)


# --- checkov ---------------------------------------------------------------------------------------------------


def _template(recording: Recording) -> dict[str, Any]:
    """The keys, the trail and the two roles' documents as CloudFormation resources, for checkov's checks."""
    resources: dict[str, Any] = {}
    for key in recording.of_type(KEY):
        properties = {"EnableKeyRotation": True, "KeyPolicy": document(key, "policy")}
        resources[key.name.replace("-", "")] = {"Type": "AWS::KMS::Key", "Properties": properties}
    trail = named(recording, "store-trail").inputs
    resources["Trail"] = {
        "Type": "AWS::CloudTrail::Trail",
        "Properties": {
            "IsLogging": True,
            "S3BucketName": "logs",
            "KMSKeyId": "arn:aws:kms:eu-central-1:111122223333:key/log",
            "EnableLogFileValidation": trail["enableLogFileValidation"],
            "IsMultiRegionTrail": trail["isMultiRegionTrail"],
        },
    }
    for name, suffix in (("Writer", "velero-store-access"), ("Replication", "store-replication-policy")):
        policy = [{"PolicyName": name, "PolicyDocument": document(named(recording, suffix), "policy")}]
        trust = document(named(recording, "replication-role"), "assumeRolePolicy")
        role = {"RoleName": name, "AssumeRolePolicyDocument": trust, "Policies": policy}
        resources[name] = {"Type": "AWS::IAM::Role", "Properties": role}
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}


def test_checkov_passes_the_keys_the_trail_and_the_roles_and_refuses_an_open_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    template = _template(run_store(writer_prefix="velero", monkeypatch=monkeypatch).recording)
    (tmp_path / "store.json").write_text(json.dumps(template))
    verdict = checkov_cloudformation(tmp_path)
    assert verdict["failed"] == set()
    assert verdict["passed"] >= {"CKV_AWS_7", "CKV_AWS_33", "CKV_AWS_35", "CKV_AWS_36", "CKV_AWS_67", "CKV_AWS_111"}
    key = next(r for r in template["Resources"].values() if r["Type"] == "AWS::KMS::Key")
    key["Properties"]["KeyPolicy"]["Statement"][0]["Principal"] = {"AWS": "*"}
    (tmp_path / "store.json").write_text(json.dumps(template))
    assert "CKV_AWS_33" in checkov_cloudformation(tmp_path)["failed"]


def test_the_policy_builders_name_no_wildcard_allow() -> None:
    """The pure builders, checked once more without the runtime: no Allow with a wildcard principal anywhere."""
    documents = [
        aws_policies.key_policy(ACCOUNT, "eu-central-1"),
        aws_policies.key_policy(ACCOUNT, "cn-north-1", "arn:aws-cn:cloudtrail:cn-north-1:1:trail/t"),
        aws_policies.log_bucket_policy("arn:aws:s3:::logs", ACCOUNT, "arn:aws:cloudtrail:eu-central-1:1:trail/t"),
    ]
    allows = [s for d in documents for s in d["Statement"] if s["Effect"] == "Allow"]
    assert allows and all("*" not in json.dumps(s["Principal"]) for s in allows)
    assert documents[1]["Statement"][0]["Principal"] == {"AWS": f"arn:aws-cn:iam::{ACCOUNT}:root"}
