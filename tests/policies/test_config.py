"""Enforcement levels and pack config behave as docs/policies.md says, through the runner `make plan` uses."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema
import pytest
from pulumi_policy import EnforcementLevel

import factory_policies as fp
from factory_policies.settings import EXEMPT_NAMESPACES, SETTINGS, pack_config
from offline.policy_runner import evaluate, mandatory_violations
from tests.support.policy_cases.aws import FIXTURE as S3_FIXTURE
from tests.support.policy_cases.kubernetes import DEPLOYMENT, workload
from tests.support.policy_kit import Case, Res, all_cases, judge, recording_of

POLICIES = fp.ALL_POLICIES


def _privileged_deployment() -> list[Res]:
    props = workload(DEPLOYMENT)
    props["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = True
    return [Res(DEPLOYMENT, props, name="order-api")]


def _verdict(verdicts: list[Any], name: str) -> Any:
    return next(v for v in verdicts if v.policy.name == name)


def test_security_policies_are_mandatory_and_hygiene_advisory() -> None:
    levels = {p.name: p.enforcement_level for p in POLICIES}
    assert set(levels.values()) == {EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY}
    assert {n for n, level in levels.items() if level == EnforcementLevel.ADVISORY} == {
        "container-requests-and-limits",
        "helm-chart-version-pinned",
    }


def test_a_mandatory_violation_fails_the_plan_and_an_override_demotes_it() -> None:
    recording = recording_of(_privileged_deployment())
    verdicts = evaluate(POLICIES, recording)
    baseline = _verdict(verdicts, "pod-security-baseline")
    assert baseline.level == "mandatory" and not baseline.passed and mandatory_violations(verdicts)
    assert baseline.judged == ("urn:pulumi:test::factory-floor::kubernetes:apps/v1:Deployment::order-api",)

    advisory = evaluate(POLICIES, recording, enforcement={"pod-security-baseline": "advisory"})
    assert _verdict(advisory, "pod-security-baseline").violations, "still reported"
    assert mandatory_violations(advisory) == [], "but no longer blocking"

    disabled = evaluate(POLICIES, recording, enforcement={"pod-security-baseline": "disabled"})
    assert _verdict(disabled, "pod-security-baseline").violations == ()


def test_pack_config_spreads_shared_settings_to_every_policy_that_reads_them() -> None:
    document = pack_config(POLICIES, environment="development", minimumRetentionDays=14)
    assert set(document) == {
        p.name
        for p in POLICIES
        if p.config_schema and {"environment", "minimumRetentionDays"} & set(p.config_schema.properties)
    }
    assert document["aws-s3-object-lock"] == {"environment": "development", "minimumRetentionDays": 14}
    assert document["backup-store-protected"] == {"environment": "development"}
    with pytest.raises(KeyError, match="unknown pack settings: enviroment"):
        pack_config(POLICIES, enviroment="development")


def test_environment_config_reaches_the_policies_through_the_runner() -> None:
    governance = [
        Res(
            r.type,
            {**r.props, "rule": {"defaultRetention": {"mode": "GOVERNANCE", "days": 35}}},
            r.name,
            r.protect,
            r.links,
        )
        if r.name == "lock"
        else Res(r.type, r.props, r.name, False, r.links)
        for r in S3_FIXTURE
    ]
    production = evaluate(POLICIES, recording_of(governance))
    assert {v.policy for v in mandatory_violations(production)} == {"aws-s3-object-lock", "backup-store-protected"}
    development = evaluate(POLICIES, recording_of(governance), config=pack_config(POLICIES, environment="development"))
    assert mandatory_violations(development) == []


def test_every_config_document_validates_against_the_policy_schemas() -> None:
    values = {key: setting.default for key, setting in SETTINGS.items()}
    document = {"all": "mandatory", **pack_config(POLICIES, **values)}
    schemas = {p.name: p.config_schema for p in POLICIES if p.config_schema}
    assert set(document) - {"all"} == set(schemas)
    for name, config in document.items():
        if name != "all":
            jsonschema.validate(config, {"type": "object", "properties": schemas[name].properties})
    json.dumps(document)  # what --policy-pack-config reads
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            {"environment": "prod"}, {"type": "object", "properties": schemas["backup-store-protected"].properties}
        )


class _Recording(Mapping[str, Any]):
    """Config that remembers which keys a policy asked for."""

    def __init__(self) -> None:
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return default

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


@pytest.mark.parametrize("case", all_cases(), ids=lambda c: c.label)
def test_policies_read_only_config_keys_they_declare(case: Case) -> None:
    """Pulumi validates a stack's policy config against the schema: an undeclared key could not be set."""
    config = _Recording()
    judge(case.policy, case.fixture, config)
    declared = set(case.policy.config_schema.properties) if case.policy.config_schema else set()
    assert config.read <= declared, f"{case.policy.name} reads {sorted(config.read - declared)} without declaring it"


def test_default_exempt_namespaces_carry_reasons() -> None:
    assert set(EXEMPT_NAMESPACES) == {
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "gatekeeper-system",
        "falco",
        "trivy-system",
        "kube-bench",
        "external-secrets",
        "segmentation-canary-a",
        "segmentation-canary-b",
        "velero",
        "restore-drill",
        "escrow",
        "monitoring",
        "node-exporter",
        "loki",
        "fluent-bit",
        "jaeger",
        "opentelemetry",
        "blackbox-exporter",
    }
    assert all(len(reason) > 30 for reason in EXEMPT_NAMESPACES.values())
    assert SETTINGS["exemptNamespaces"].default == list(EXEMPT_NAMESPACES)
    for policy in POLICIES:
        for key, schema in policy.config_schema.properties.items() if policy.config_schema else ():
            assert schema == dict(SETTINGS[key].schema) and schema["description"], (policy.name, key)
