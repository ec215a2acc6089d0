"""Backup stores are protected from deletion in production, on all three clouds: the stores of aws.py,
gcp.py and azure.py together."""

from __future__ import annotations

import factory_policies as fp
from tests.support.policy_cases.aws import BUCKET as S3_NAME
from tests.support.policy_cases.aws import FIXTURE as S3_FIXTURE
from tests.support.policy_cases.azure import ACCOUNT as AZURE_NAME
from tests.support.policy_cases.azure import FIXTURE as AZURE_FIXTURE
from tests.support.policy_cases.gcp import BUCKET as GCS_BUCKET
from tests.support.policy_kit import Case, Mutation

STORES = (*S3_FIXTURE, GCS_BUCKET, *AZURE_FIXTURE)
EXPECT = "is not protected (opts.protect) in a production stack"

CASES = [
    Case(
        fp.backup_store_protected,
        STORES,
        (
            Mutation("s3-unprotected", "@protect", False, f"'{S3_NAME}' {EXPECT}", S3_NAME),
            Mutation("gcs-unprotected", "@protect", False, f"'{GCS_BUCKET.name}' {EXPECT}", GCS_BUCKET.name),
            Mutation("azure-unprotected", "@protect", False, f"'{AZURE_NAME}' {EXPECT}", AZURE_NAME),
        ),
    )
]
