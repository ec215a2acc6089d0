"""Cloud Storage backup buckets: one resource carries every setting."""

from __future__ import annotations

import factory_policies as fp
from tests.support.policy_kit import DELETE, Case, Mutation, Res

GCS = "gcp:storage/bucket:Bucket"
DAY = 86400
BUCKET = Res(
    GCS,
    {
        "name": "pilsen-backups",
        "location": "EUROPE-WEST3",
        "uniformBucketLevelAccess": True,
        "publicAccessPrevention": "enforced",
        "encryption": {"defaultKmsKeyName": "projects/p/locations/europe-west3/keyRings/backups/cryptoKeys/velero"},
        "retentionPolicy": {"retentionPeriod": 35 * DAY, "isLocked": True},
        "softDeletePolicy": {"retentionDurationSeconds": 7 * DAY},
        "labels": {"factory-floor-purpose": "backup"},
    },
    name="gcs-backups",
    protect=True,
)

CASES = [
    Case(
        fp.gcs_uniform_access,
        (BUCKET,),
        (
            Mutation("disabled", "uniformBucketLevelAccess", False, "does not set uniformBucketLevelAccess"),
            Mutation("unset", "uniformBucketLevelAccess", DELETE, "does not set uniformBucketLevelAccess"),
        ),
    ),
    Case(
        fp.gcs_public_access_prevention,
        (BUCKET,),
        (
            Mutation("inherited", "publicAccessPrevention", "inherited", "'inherited', not 'enforced'"),
            Mutation("unset", "publicAccessPrevention", DELETE, "None, not 'enforced'"),
        ),
    ),
    Case(
        fp.gcs_cmek,
        (BUCKET,),
        (
            Mutation("google-managed", "encryption", DELETE, "no encryption.defaultKmsKeyName"),
            Mutation("empty-key", "encryption.defaultKmsKeyName", "", "no encryption.defaultKmsKeyName"),
        ),
    ),
    Case(
        fp.gcs_retention,
        (BUCKET,),
        (
            Mutation("too-short", "retentionPolicy.retentionPeriod", 7 * DAY, "keeps objects 7 days"),
            Mutation("unlocked-in-production", "retentionPolicy.isLocked", False, "not locked"),
            Mutation("no-retention", "retentionPolicy", DELETE, "keeps objects 0 days"),
        ),
    ),
]
