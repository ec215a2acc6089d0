"""The GCS backup store: one bucket per factory whose copies nobody can delete or replace before `lockDays`,
encrypted with the factory's own Cloud KMS key, never public, kept `retentionDays`.

Facts the shape rests on (Google's documentation):
- Object Versioning cannot be enabled on a bucket that has a retention policy
  (https://cloud.google.com/storage/docs/object-versioning, "Considerations"). Every store has one, so versioning
  is off: inside the lock window the retention policy already refuses every delete and overwrite, and the soft
  delete policy keeps what is deleted after it (Google recommends soft delete over versioning on that page).
- The key ring must be in the bucket's location: a region's key in that region; for most dual-regions the
  associated multi-region; for the predefined dual-regions asia1, eur4 and nam4 the same dual-region
  (Cloud Storage's CMEK restrictions, as Google quotes them in its Cloud Storage controls, COM-CO-2.3, of
  https://cloud.google.com/docs/security/security-best-practices-genai).
- Cloud Storage encrypts with the project's service agent, which needs encrypter/decrypter on the key; its address
  comes from `get_project_service_account`, which also creates the agent if it does not exist yet (the SDK's
  docstring warns against composing `service-<number>@gs-project-accounts...` by hand). Writers need no key role:
  the agent encrypts and decrypts for every requester allowed on the bucket.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components.backup.config import GcpStoreConfig, geo_redundant, kms_location
from components.backup.stores.location import StoreArgs, StoreLocation
from components.core.component import FactoryComponent
from components.core.vocabulary import BACKUP_PURPOSE, PURPOSE, cloud_tags

SECONDS_PER_DAY = 86400
KEY_ROTATION_DAYS = 90
KEY_DESTROY_DELAY_DAYS = 30  # a destroyed key version can be restored for this long (KMS allows up to 120)
SOFT_DELETE_DAYS = 14  # GCS accepts 7..90: two weeks to notice a purge of copies whose lock has run out
KEY_NAME = "backups"
KEY_USER_ROLE = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
# create + get/list, nothing else: no storage.objects.delete, no storage.buckets.update (the retention policy),
# no setIamPolicy — a writer can add copies and read them back, never remove or unlock them
WRITER_CREATE_ROLE = "roles/storage.objectCreator"
WRITER_READ_ROLE = "roles/storage.objectViewer"
PUBLIC_MEMBERS = frozenset({"allUsers", "allAuthenticatedUsers"})

BUCKET_PREFIX = "backup-"
NAME_LIMIT = 63  # GCS bucket names (3..63) and KMS key ring names (1..63)
DIGEST_LENGTH = 8
GOOGLE_LOOKALIKE = re.compile(r"g[o0]{2}g")  # GCS refuses the 'goog' prefix and 'google' and its misspellings
PREFIX = re.compile(r"^[a-z0-9][a-z0-9._-]*(/[a-z0-9][a-z0-9._-]*)*/?$")


def bucket_name(project: str, factory: str) -> str:
    """`backup-<factory>-<digest>`: valid for GCS (3..63 lowercase characters, no 'goog'), the same on every run,
    distinct per (project, factory) even where a long factory name had to be cut."""
    digest = hashlib.sha256(f"{project}/{factory}".encode()).hexdigest()[:DIGEST_LENGTH]
    readable = factory[: NAME_LIMIT - len(BUCKET_PREFIX) - 1 - DIGEST_LENGTH].strip("-")
    if GOOGLE_LOOKALIKE.search(readable):
        readable = ""  # the digest (hex: no 'g', no 'o') keeps it unique
    return f"{BUCKET_PREFIX}{readable}-{digest}" if readable else f"{BUCKET_PREFIX}{digest}"


@dataclass(frozen=True)
class GcpStoreLocation(StoreLocation):
    # the store's explicit provider, for the writer grants other components make on its bucket (the shared
    # contract has no provider field yet)
    provider: gcp.Provider | None = None


@dataclass(frozen=True, kw_only=True)
class GcpStoreArgs(StoreArgs):
    store: GcpStoreConfig


class GcpBackupStore(FactoryComponent[GcpStoreArgs]):
    """Creates a factory's GCS backup store with its own provider (the store's project, the factory's labels): a
    Cloud KMS key ring and rotating key in the bucket's location, encrypter/decrypter on it for the project's
    Cloud Storage service agent, and the bucket — uniform access, public access prevention enforced, the key as
    default CMEK, a retention policy of `lockDays` (locked under compliance), soft delete, no versioning (GCS
    refuses it next to a retention policy) and deletion after `retentionDays`. Bucket and key are protected and
    retained in production."""

    location: StoreLocation

    def __init__(self, name: str, args: GcpStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, args, opts)
        store = args.store
        self.provider = self.own(
            "provider",
            gcp.Provider(
                self.child_name("gcp"),
                project=store.project,
                default_labels=cloud_tags(args.factory),
                opts=self.child_opts(),
            ),
        )
        name = bucket_name(store.project, args.factory)
        key = self._key(store, name)  # the key ring takes the bucket's name: both unique per factory
        bucket = self._bucket(store, name, key)
        self.location = GcpStoreLocation(
            cloud="gcp",
            bucket=bucket.name,
            region=store.location,
            key=key.id,
            velero_config={"kmsKeyName": key.id},
            replica=store.location if geo_redundant(store.location) else None,
            provider=self.provider,
        )
        self.finish({"bucket": bucket.name, "key": key.id})

    def _key(self, store: GcpStoreConfig, ring_name: str) -> gcp.kms.CryptoKey:
        ring = self.own(
            "key_ring",
            gcp.kms.KeyRing(
                self.child_name("key-ring"),
                name=ring_name,
                location=kms_location(store.location),
                project=store.project,
                opts=self.child_opts(stateful=True, provider=self.provider),
            ),
        )
        return self.own(
            "key",
            gcp.kms.CryptoKey(
                self.child_name("key"),
                name=KEY_NAME,
                key_ring=ring.id,
                purpose="ENCRYPT_DECRYPT",
                rotation_period=f"{KEY_ROTATION_DAYS * SECONDS_PER_DAY}s",
                destroy_scheduled_duration=f"{KEY_DESTROY_DELAY_DAYS * SECONDS_PER_DAY}s",
                opts=self.child_opts(stateful=True, provider=self.provider),
            ),
        )

    def _bucket(self, store: GcpStoreConfig, name: str, key: gcp.kms.CryptoKey) -> gcp.storage.Bucket:
        agent = gcp.storage.get_project_service_account_output(
            project=store.project, opts=pulumi.InvokeOutputOptions(parent=self, provider=self.provider)
        )
        # GCS checks the agent's access when the bucket is created with a default key: grant first
        agent_grant = self.own(
            "key_user",
            gcp.kms.CryptoKeyIAMMember(
                self.child_name("storage-agent"),
                crypto_key_id=key.id,
                role=KEY_USER_ROLE,
                member=agent.member,
                opts=self.child_opts(stateful=True, provider=self.provider),
            ),
        )
        locked = store.mode(self.args.environment) == "compliance"
        return self.own(
            "bucket",
            gcp.storage.Bucket(
                self.child_name("bucket"),
                name=name,
                project=store.project,
                location=store.location,
                storage_class="STANDARD",
                uniform_bucket_level_access=True,
                public_access_prevention="enforced",
                force_destroy=False,
                encryption=gcp.storage.BucketEncryptionArgs(default_kms_key_name=key.id),
                retention_policy=gcp.storage.BucketRetentionPolicyArgs(
                    retention_period=str(store.lock_days * SECONDS_PER_DAY), is_locked=locked
                ),
                soft_delete_policy=gcp.storage.BucketSoftDeletePolicyArgs(
                    retention_duration_seconds=SOFT_DELETE_DAYS * SECONDS_PER_DAY
                ),
                versioning=gcp.storage.BucketVersioningArgs(enabled=False),
                lifecycle_rules=[
                    gcp.storage.BucketLifecycleRuleArgs(
                        action=gcp.storage.BucketLifecycleRuleActionArgs(type="Delete"),
                        condition=gcp.storage.BucketLifecycleRuleConditionArgs(age=store.retention_days),
                    )
                ],
                labels={**cloud_tags(self.args.factory), PURPOSE: BACKUP_PURPOSE},
                opts=self.child_opts(stateful=True, provider=self.provider, depends_on=[agent_grant]),
            ),
        )


def writer_folder(prefix: str) -> str:
    """The object folder a writer is confined to, `prefix` with one trailing '/'; refuses anything that could
    widen or break the IAM condition it goes into (empty, quotes, '..', upper case)."""
    if not PREFIX.match(prefix) or ".." in prefix or len(prefix) > 200:
        raise ValueError(
            f"writer prefix '{prefix}': use lowercase path segments like 'velero' or 'clusters/edge-1' (no '..')"
        )
    return prefix.rstrip("/") + "/"


def _conditions(bucket: str, folder: str) -> tuple[str, str]:
    """CEL for objects in `folder` (an object's IAM resource name is projects/_/buckets/<bucket>/objects/<name>),
    and for reading also listing with a prefix inside it (storage.objects.list is checked on the bucket; the
    request's prefix is the API attribute storage.googleapis.com/objectListPrefix) —
    https://cloud.google.com/iam/docs/conditions-attribute-reference."""
    objects = f'resource.name.startsWith("projects/_/buckets/{bucket}/objects/{folder}")'
    listing = f'api.getAttribute("storage.googleapis.com/objectListPrefix", "").startsWith("{folder}")'
    return objects, f"{objects} || {listing}"


def grant_writer(
    owner: pulumi.Resource, key: str, location: StoreLocation, member: pulumi.Input[str], prefix: str
) -> list[pulumi.Resource]:
    """Lets `member` (e.g. `serviceAccount:velero@...`) create, read and list objects under `prefix` of this
    store's bucket, and nothing else: no delete, no bucket update (so no retention change), no admin role, no
    key role (the service agent encrypts). Bucket IAM members with conditions, parented to `owner`, made with the
    store's provider."""
    if not isinstance(location, GcpStoreLocation) or location.provider is None:
        raise TypeError("grant_writer needs the GcpStoreLocation of a GcpBackupStore (it carries the provider)")
    if isinstance(member, str) and member in PUBLIC_MEMBERS:
        raise ValueError(f"'{member}' cannot write backups")
    folder = writer_folder(prefix)
    conditions = location.bucket.apply(lambda bucket: _conditions(bucket, folder))
    opts = pulumi.ResourceOptions(parent=owner, provider=location.provider)
    grants = (
        ("create", WRITER_CREATE_ROLE, conditions.apply(lambda c: c[0])),
        ("read", WRITER_READ_ROLE, conditions.apply(lambda c: c[1])),
    )
    return [
        gcp.storage.BucketIAMMember(
            f"{key}-gcs-{verb}",
            bucket=location.bucket,
            role=role,
            member=member,
            condition=gcp.storage.BucketIAMMemberConditionArgs(
                title=f"backup-{verb}-{folder.rstrip('/')}"[:100],
                description=f"{verb} objects under '{folder}' only",
                expression=expression,
            ),
            opts=opts,
        )
        for verb, role, expression in grants
    ]
