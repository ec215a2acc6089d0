"""The AWS backup store: an S3 bucket nobody can empty before its lock runs out, encrypted with a key nobody can
casually disable, optionally copied to a second region, every object access recorded in a locked log bucket.

Choices, and why (the report of issue #11 cites the same sources):
- Access logs are CloudTrail data events, not S3 server access logs. A server access log target may not have Object
  Lock nor SSE-KMS default encryption (S3 User Guide, "Enabling Amazon S3 server access logging", and "Object Lock
  considerations": "S3 buckets with Object Lock can't be used as destination buckets for server access logs"), so
  such a bucket could neither be immutable nor pass the pack's `aws-s3-kms-encryption`, which judges every bucket.
  A trail delivers to a bucket locked like the store and encrypted with a rotating key of its own, with log file
  validation (digests) on. The log bucket carries the purpose tag `access-logs`: it holds no backup (a Velero
  location must never point at it), not because it fails a rule — it passes every S3 rule of the pack.
- The bucket policy denies, to every principal including the account's administrators and root: plain HTTP (the
  pack's rule), deleting an object version (lifecycle expiry is not a principal's request and still runs — which is
  why the PutBucketLifecycleConfiguration reference tells you to deny s3:PutLifecycleConfiguration as well to stop
  deletions), and writing objects with another algorithm or a key outside this account and region (a foreign key its
  owner can revoke would make the copies unreadable). It does not deny s3:PutBucketPolicy, DeleteBucketPolicy,
  PutBucketObjectLockConfiguration or PutLifecycleConfiguration: this program changes them when `lockDays` or
  `retentionDays` change, no deploying identity is configured to exempt, and the root user can always remove a bucket
  policy anyway. What those could weaken is covered elsewhere: COMPLIANCE mode (production) locks every written
  version for its full term whatever the bucket's settings become, and every writer is denied them (`grant_writer`).
- The key policy lets the account's IAM policies use and administer the key (AWS's default statement — no other
  principal, no wildcard grant) and denies everyone kms:DisableKey, kms:ScheduleKeyDeletion and
  kms:DisableKeyRotation. Deleting the key therefore takes two deliberate, logged steps — change the key policy, then
  schedule deletion, which still waits 30 days. kms:PutKeyPolicy is not denied: the program would lock itself out.
- MFA delete needs the root user and cannot be managed here; COMPLIANCE mode is the compensating control.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.backup.config import AwsStoreConfig
from components.backup.stores.aws_policies import (
    ReplicationEnds,
    key_policy,
    log_bucket_policy,
    partition,
    replication_policy,
    replication_trust_policy,
    store_bucket_policy,
    writer_policy,
)
from components.backup.stores.location import StoreArgs, StoreLocation
from components.core import vocabulary as vocab
from components.core.component import FactoryComponent

LOG_PURPOSE = "access-logs"  # value of vocab.PURPOSE on the CloudTrail bucket: not a backup store
BUCKET_NAME_MAX = 63
ROLE_NAME_MAX = 64
HASH_LENGTH = 8
ABORT_MULTIPART_DAYS = 7
KEY_DELETION_WINDOW_DAYS = 30  # the longest KMS allows: a scheduled deletion can be noticed and cancelled
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_PREFIX = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")  # no wildcard can widen a writer's grant


def bounded_name(parts: Sequence[str], limit: int) -> str:
    """`parts` joined by '-', or when longer than `limit` its head and a hash of the whole name — so two long names
    that differ only at their ends still differ. Deterministic: the same parts always give the same name."""
    name = "-".join(parts)
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:HASH_LENGTH]
    return f"{name[: limit - HASH_LENGTH - 1].rstrip('-')}-{digest}"


def bucket_name(factory: str, account_id: str, role: str, region: str) -> str:
    """A valid S3 bucket name (3-63 lowercase letters, digits, '-'), unique per factory, role, account and region."""
    name = bounded_name([factory, role, account_id, region], BUCKET_NAME_MAX)
    if name.startswith(_RESERVED_PREFIXES):
        name = bounded_name(["ff", factory, role, account_id, region], BUCKET_NAME_MAX)
    if not _BUCKET_NAME.match(name):
        raise ValueError(f"'{name}' is not a valid S3 bucket name")
    return name


def grant_writer(
    owner: FactoryComponent[Any],
    key: str,
    location: StoreLocation,
    role_name: pulumi.Input[str],
    prefix: str,
    *,
    group: bool = False,
) -> pulumi.Resource:
    """An inline policy on `role_name` (a child of `owner` under `key`, managed by the AWS provider `owner` gives its
    children — the role's account): read/write/list only `prefix` of the store at `location` with its key through
    S3, and an explicit deny of every way to delete a locked version or loosen the store. With `group`, the name
    is an IAM group's (a credential writer's: components/backup/writers.py), made with the store's provider."""
    if location.cloud != "aws":
        raise ValueError(f"{owner.name}: grant_writer needs an AWS store, got {location.cloud}")
    prefix = prefix.strip("/")
    if not prefix:
        raise ValueError(f"{owner.name}: a writer gets a prefix of its own, never the whole store")
    if not _PREFIX.match(prefix):
        raise ValueError(f"{owner.name}: '{prefix}' is not a plain key prefix (letters, digits, '.', '_', '-', '/')")
    document = pulumi.Output.all(location.bucket, location.key).apply(
        lambda bucket_key: json.dumps(writer_policy(bucket_key[0], location.region, bucket_key[1], prefix))
    )
    name = f"backup-store-{prefix.replace('/', '-')}"[:128]
    if group:
        opts = pulumi.ResourceOptions(parent=owner, provider=location.provider)  # not after a cluster's gate
        return owner.own(
            key, aws.iam.GroupPolicy(owner.child_name(key), name=name, group=role_name, policy=document, opts=opts)
        )
    policy = aws.iam.RolePolicy(
        owner.child_name(key), name=name, role=role_name, policy=document, opts=owner.child_opts()
    )
    return owner.own(key, policy)


@dataclass(frozen=True, kw_only=True)
class AwsStoreArgs(StoreArgs):
    store: AwsStoreConfig


@dataclass(frozen=True)
class _Bucket:
    """What makes one locked, encrypted bucket: its name, purpose, key, policy and who manages it."""

    name: str
    purpose: str
    key: aws.kms.Key
    policy: dict
    provider: aws.Provider
    expire_current: bool = False  # logs expire; backups are expired by Velero (a delete marker) then lifecycle


class AwsBackupStore(FactoryComponent[AwsStoreArgs]):
    """Creates an AWS backup store: its own aws.Provider (the store's region and account only, the factory's cloud tags
    by default); a customer-managed KMS key (rotating; under compliance locks its disabling and deletion denied to
    everyone); an S3 bucket created with object lock (COMPLIANCE in production, `lockDays`), versioning, SSE-KMS
    with a bucket key, all four public access blocks, BucketOwnerEnforced, a bucket policy (TLS only, no version
    deletion, no foreign keys) and a lifecycle expiring noncurrent versions after `retentionDays`; with
    `replicaRegion` the same in that region (second provider and key) and a replication rule (KMS-encrypted objects,
    no delete markers) run by a role that can do nothing else; and a CloudTrail trail recording every object-level
    request to the stores into a log bucket locked and encrypted the same way (tagged `factory-floor-purpose:
    access-logs`). Buckets and keys are stateful: protected and retained in production or where the stack says so.
    `location` is what writers and runbooks use."""

    location: StoreLocation

    def __init__(self, name: str, args: AwsStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, args, opts)
        store = args.store
        provider = self._new_provider("aws", store.region)
        key = self._new_key("key", store.region, provider)
        bucket = self._store_bucket("bucket", store.region, key, provider)
        replica = None
        if store.replica_region is not None:
            replica_provider = self._new_provider("replica-aws", store.replica_region)
            replica_key = self._new_key("replica-key", store.replica_region, replica_provider)
            replica = self._store_bucket("replica", store.replica_region, replica_key, replica_provider)
            self._replication(bucket, key, replica_key, provider)
        regions = [store.region, *([store.replica_region] if store.replica_region else [])]
        self._trail(provider, [self._bucket_arn("backup", region) for region in regions])
        self.location = StoreLocation(
            cloud="aws",
            bucket=bucket.bucket,
            region=store.region,
            key=key.arn,
            velero_config={"region": store.region, "kmsKeyId": key.arn},
            replica=store.replica_region,
            provider=provider,
        )
        self.finish({"bucket": bucket.bucket, "key": key.arn, "replica": replica.bucket if replica else None})

    # --- names and tags ------------------------------------------------------------------------------------

    def _bucket_name(self, role: str, region: str) -> str:
        return bucket_name(self.args.factory, self.args.store.account_id, role, region)

    def _bucket_arn(self, role: str, region: str) -> str:
        return f"arn:{partition(region)}:s3:::{self._bucket_name(role, region)}"

    def _arn(self, service: str, region: str, resource: str) -> str:
        return f"arn:{partition(region)}:{service}:{region}:{self.args.store.account_id}:{resource}"

    def _tags(self, purpose: str | None = None) -> dict[str, str]:
        tags = vocab.cloud_tags(self.args.factory)
        return {**tags, vocab.PURPOSE: purpose} if purpose else tags

    # --- children ------------------------------------------------------------------------------------------

    def _new_provider(self, key: str, region: str) -> aws.Provider:
        provider = aws.Provider(
            self.child_name(key),
            region=region,
            allowed_account_ids=[self.args.store.account_id],
            default_tags={"tags": self._tags()},
            opts=self.child_opts(),
        )
        return self.own(key, provider)

    @property
    def _compliance(self) -> bool:
        return self.args.store.mode(self.args.environment) == "compliance"

    def _new_key(self, key: str, region: str, provider: aws.Provider, trail_arn: str | None = None) -> aws.kms.Key:
        what = "CloudTrail logs of the backup store" if trail_arn else "backup store"
        kms_key = aws.kms.Key(
            self.child_name(key),
            description=f"{what} of factory {self.args.factory} ({region})",
            enable_key_rotation=True,
            deletion_window_in_days=KEY_DELETION_WINDOW_DAYS,
            policy=json.dumps(
                key_policy(self.args.store.account_id, region, trail_arn, guarded=self._compliance),
                sort_keys=True,
            ),
            tags=self._tags(),
            opts=self.child_opts(stateful=True, provider=provider),
        )
        return self.own(key, kms_key)

    def _store_bucket(self, key: str, region: str, kms_key: aws.kms.Key, provider: aws.Provider) -> aws.s3.Bucket:
        policy = store_bucket_policy(self._bucket_arn("backup", region), self.args.store.account_id, region)
        spec = _Bucket(self._bucket_name("backup", region), vocab.BACKUP_PURPOSE, kms_key, policy, provider)
        return self._locked_bucket(key, spec)

    def _locked_bucket(self, key: str, spec: _Bucket) -> aws.s3.Bucket:
        store = self.args.store
        bucket = self.own(
            key,
            aws.s3.Bucket(
                self.child_name(key),
                bucket=spec.name,
                object_lock_enabled=True,  # only at creation; S3 turns versioning on with it
                force_destroy=False,
                tags=self._tags(spec.purpose),
                opts=self.child_opts(stateful=True, provider=spec.provider),
            ),
        )

        retention = {"mode": store.mode(self.args.environment).upper(), "days": store.lock_days}
        by_default = {"sse_algorithm": "aws:kms", "kms_master_key_id": spec.key.arn}
        flags = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
        settings: list[tuple[str, Any, dict[str, Any]]] = [
            ("versioning", aws.s3.BucketVersioning, {"versioning_configuration": {"status": "Enabled"}}),
            ("lock", aws.s3.BucketObjectLockConfiguration, {"rule": {"default_retention": retention}}),
            (
                "encryption",
                aws.s3.BucketServerSideEncryptionConfiguration,
                {"rules": [{"apply_server_side_encryption_by_default": by_default, "bucket_key_enabled": True}]},
            ),
            ("public-access", aws.s3.BucketPublicAccessBlock, dict.fromkeys(flags, True)),
            ("ownership", aws.s3.BucketOwnershipControls, {"rule": {"object_ownership": "BucketOwnerEnforced"}}),
            ("policy", aws.s3.BucketPolicy, {"policy": json.dumps(spec.policy, sort_keys=True)}),
            ("lifecycle", aws.s3.BucketLifecycleConfiguration, {"rules": self._lifecycle(spec)}),
        ]
        # one after the other: S3 answers concurrent changes to one bucket's configuration with OperationAborted, and
        # the lock and lifecycle need versioning first
        previous: list[pulumi.Resource] = []
        for suffix, cls, props in settings:
            opts = self.child_opts(stateful=True, depends_on=previous, provider=spec.provider)
            child = cls(self.child_name(f"{key}-{suffix}"), bucket=bucket.id, **props, opts=opts)
            previous = [self.own(f"{key}-{suffix}", child)]
        return bucket

    def _lifecycle(self, spec: _Bucket) -> list[dict[str, Any]]:
        days = self.args.store.retention_days
        rule: dict[str, Any] = {
            "id": "expire-after-retention",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "noncurrent_version_expiration": {"noncurrent_days": days},
            "abort_incomplete_multipart_upload": {"days_after_initiation": ABORT_MULTIPART_DAYS},
        }
        expiration = {"days": days} if spec.expire_current else {"expired_object_delete_marker": True}
        return [{**rule, "expiration": expiration}]

    def _replication(
        self,
        source: aws.s3.Bucket,
        source_key: aws.kms.Key,
        replica_key: aws.kms.Key,
        provider: aws.Provider,
    ) -> None:
        store = self.args.store
        assert store.replica_region is not None
        source_arn = self._bucket_arn("backup", store.region)
        replica_arn = self._bucket_arn("backup", store.replica_region)
        role = self.own(
            "replication-role",
            aws.iam.Role(
                self.child_name("replication-role"),
                name=bounded_name([self.args.factory, "backup-replication", store.region], ROLE_NAME_MAX),
                description=f"S3 replication of factory {self.args.factory}'s backup store to {store.replica_region}",
                assume_role_policy=json.dumps(replication_trust_policy(store.account_id, source_arn), sort_keys=True),
                tags=self._tags(),
                opts=self.child_opts(stateful=True, provider=provider),
            ),
        )
        ends = ReplicationEnds(
            source_arn, store.region, source_key.arn, replica_arn, store.replica_region, replica_key.arn
        )
        permissions = self.own(
            "replication-policy",
            aws.iam.RolePolicy(
                self.child_name("replication-policy"),
                name="replicate-backups",
                role=role.name,
                policy=pulumi.Output.json_dumps(replication_policy(ends)),
                opts=self.child_opts(stateful=True, provider=provider),
            ),
        )
        rule = {
            "id": "replicate-everything",
            "status": "Enabled",
            "priority": 1,
            "filter": {"prefix": ""},
            "delete_marker_replication": {"status": "Disabled"},  # a delete on one side never reaches the other
            "source_selection_criteria": {"sse_kms_encrypted_objects": {"status": "Enabled"}},
            "destination": {
                "bucket": replica_arn,
                "storage_class": "STANDARD",
                "encryption_configuration": {"replica_kms_key_id": replica_key.arn},
            },
        }
        versionings = [self.resources["bucket-versioning"], self.resources["replica-versioning"]]
        self.own(
            "replication",
            aws.s3.BucketReplicationConfig(
                self.child_name("replication"),
                bucket=source.id,
                role=role.arn,
                rules=[rule],
                opts=self.child_opts(stateful=True, depends_on=[*versionings, permissions], provider=provider),
            ),
        )

    def _trail(self, provider: aws.Provider, stores: Sequence[str]) -> None:
        """A trail of every object-level request to `stores` (bucket ARNs), into a bucket locked like them."""
        store = self.args.store
        trail_name = bounded_name([self.args.factory, "backup-objects"], BUCKET_NAME_MAX)
        trail_arn = self._arn("cloudtrail", store.region, f"trail/{trail_name}")
        log_key = self._new_key("log-key", store.region, provider, trail_arn)
        policy = log_bucket_policy(self._bucket_arn("backup-logs", store.region), store.account_id, trail_arn)
        spec = _Bucket(self._bucket_name("backup-logs", store.region), LOG_PURPOSE, log_key, policy, provider, True)
        logs = self._locked_bucket("logs", spec)
        selector = {
            "name": "Every object-level request to the backup stores",
            "field_selectors": [
                {"field": "eventCategory", "equals": ["Data"]},
                {"field": "resources.type", "equals": ["AWS::S3::Object"]},
                {"field": "resources.ARN", "starts_withs": [f"{arn}/" for arn in stores]},
            ],
        }
        self.own(
            "trail",
            aws.cloudtrail.Trail(
                self.child_name("trail"),
                name=trail_name,
                s3_bucket_name=logs.bucket,
                kms_key_id=log_key.arn,
                enable_log_file_validation=True,
                is_multi_region_trail=True,  # records the replica's region too
                include_global_service_events=True,  # required of a multi-region trail
                advanced_event_selectors=[selector],
                tags=self._tags(),
                opts=self.child_opts(stateful=True, depends_on=[self.resources["logs-policy"]], provider=provider),
            ),
        )
