"""Backup store protection beyond its case (tests/support/policy_cases/backup.py): disposable stacks and
stores of another purpose need none."""

from __future__ import annotations

from dataclasses import replace

import factory_policies as fp
from tests.support.policy_cases.backup import STORES
from tests.support.policy_cases.gcp import BUCKET as GCS_BUCKET
from tests.support.policy_kit import judge


def test_disposable_stacks_and_other_purposes_need_no_protection() -> None:
    unprotected = [replace(r, protect=False) for r in STORES]
    assert len(judge(fp.backup_store_protected, unprotected)) == 3
    assert judge(fp.backup_store_protected, unprotected, {"environment": "development"}) == []
    logs = replace(GCS_BUCKET, protect=False, props={**GCS_BUCKET.props, "labels": {"factory-floor-purpose": "logs"}})
    assert judge(fp.backup_store_protected, [logs]) == []
