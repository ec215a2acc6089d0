"""The IAM documents the program writes for a line's AWS identity — the trust policy and the source-perimeter
deny — judged by checkov's IAM checks (CloudFormation framework: the role as a template resource), next to a
careless trust policy that the same judge must refuse, so it cannot pass by not looking."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from offline.harness import Recording
from tests.support.factories import secure_raw
from tests.support.judges import checkov_cloudformation
from tests.support.runs import Runs, named

# the IAM checks checkov runs on an AWS::IAM::Role's documents (trust and inline policies)
EXPECTED_CHECKS = {"CKV_AWS_60", "CKV_AWS_61", "CKV_AWS_62", "CKV_AWS_63", "CKV_AWS_107", "CKV_AWS_110", "CKV_AWS_111"}


def template(trust: dict[str, Any], perimeter: dict[str, Any]) -> dict[str, Any]:
    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": "line-role",
            "MaxSessionDuration": 3600,
            "AssumeRolePolicyDocument": trust,
            "Policies": [{"PolicyName": "source-perimeter", "PolicyDocument": perimeter}],
        },
    }
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"LineRole": role}}


@pytest.fixture(scope="module")
def recording(runs: Runs) -> Recording:
    return runs.main(secure_raw())


def judge(tmp_path: Path, trust: dict[str, Any], perimeter: dict[str, Any]) -> dict[str, set[str]]:
    (tmp_path / "role.json").write_text(json.dumps(template(trust, perimeter)))
    return checkov_cloudformation(tmp_path)


def test_the_line_roles_documents_pass_checkovs_iam_checks(recording: Recording, tmp_path: Path) -> None:
    trust = json.loads(named(recording, "testwerk-mes-identity-role").inputs["assumeRolePolicy"])
    perimeter = json.loads(named(recording, "testwerk-mes-identity-perimeter").inputs["policy"])
    verdict = judge(tmp_path, trust, perimeter)
    assert verdict["failed"] == set()
    assert verdict["passed"] >= EXPECTED_CHECKS, verdict


def test_a_trust_policy_open_to_everyone_is_refused_by_the_same_judge(recording: Recording, tmp_path: Path) -> None:
    trust = json.loads(named(recording, "testwerk-mes-identity-role").inputs["assumeRolePolicy"])
    careless = {
        **trust,
        "Statement": [{**trust["Statement"][0], "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
    perimeter = json.loads(named(recording, "testwerk-mes-identity-perimeter").inputs["policy"])
    assert "CKV_AWS_60" in judge(tmp_path, careless, perimeter)["failed"]
