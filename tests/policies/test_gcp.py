"""Cloud Storage backup buckets beyond their cases (tests/support/policy_cases/gcp.py)."""

from __future__ import annotations

import factory_policies as fp
from tests.support.policy_cases.gcp import BUCKET, DAY, GCS
from tests.support.policy_kit import Res, judge


def test_retention_period_as_string_and_unlocked_outside_production() -> None:
    """Some provider versions type retentionPeriod as a string; a disposable stack need not lock."""
    props = {**BUCKET.props, "retentionPolicy": {"retentionPeriod": str(35 * DAY), "isLocked": False}}
    assert judge(fp.gcs_retention, [Res(GCS, props)]) == [
        "bucket 'subject' retentionPolicy is not locked (isLocked) in production"
    ]
    assert judge(fp.gcs_retention, [Res(GCS, props)], {"environment": "staging"}) == []
