"""What every backup store offers its writers (Velero, the snapshot and escrow jobs) and the recovery runbooks,
whatever its cloud: one contract, so the per-cluster side never looks inside a store."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from components.backup.config import Cloud
from components.core.component import ComponentArgs


@dataclass(frozen=True)
class StoreLocation:
    cloud: Cloud
    bucket: pulumi.Output[str]  # the S3 or GCS bucket, or the Azure blob container
    region: str  # the region or location the copies are in (the replica's is in `replica`)
    key: pulumi.Output[str]  # the customer-managed key: KMS key ARN, Cloud KMS key id, Key Vault key id
    # Velero's BackupStorageLocation `spec.config` for this store (REFERENCE-2 §1: AWS region/kmsKeyId, GCP
    # kmsKeyName, Azure resourceGroup/storageAccount/subscriptionId/useAAD)
    velero_config: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    replica: str | None = None  # where a second, equally locked copy lives (region, dual-region, paired region)
    # the store's own cloud provider: what grants to the store's writers are made with
    provider: pulumi.ProviderResource | None = None


@dataclass(frozen=True, kw_only=True)
class StoreArgs(ComponentArgs):
    factory: str
    environment: str  # decides the lock mode when the stack does not (compliance in production)
