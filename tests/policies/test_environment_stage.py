"""Which stage the pack judges a stack at, as the engine hands config to the pack: the policy's config, else
the stack tag `environment`, else production — and the engine fills schema defaults in first, so the tag is
only ever read because `environment` declares none (docs/policies.md)."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ResourceValidationPolicy

import factory_policies as fp
from factory_policies.settings import SETTINGS, pack_config
from offline.policy_runner import evaluate, mandatory_violations, schema_defaults
from tests.support.policy_cases.aws import FIXTURE as S3_FIXTURE
from tests.support.policy_kit import Res, recording_of

POLICIES = fp.ALL_POLICIES
PRODUCTION_ONLY = {"aws-s3-object-lock", "backup-store-protected"}

# an S3 backup store that only a production stage refuses: GOVERNANCE lock, not protected
RELAXED_STORE = [
    Res(
        r.type,
        {**r.props, "rule": {"defaultRetention": {"mode": "GOVERNANCE", "days": 35}}} if r.name == "lock" else r.props,
        r.name,
        False,
        r.links,
    )
    for r in S3_FIXTURE
]


def schema_of(policy: Any) -> dict[str, Any]:
    return dict(policy.config_schema.properties) if policy.config_schema else {}


def _refused_by(config: dict[str, Any] | None, tags: dict[str, str] | None) -> set[str]:
    verdicts = evaluate(POLICIES, recording_of(RELAXED_STORE), config=config, stack_tags=tags)
    return {v.policy for v in mandatory_violations(verdicts)}


@pytest.mark.parametrize(
    ("config", "tags", "stage"),
    [
        (None, None, "production"),
        (None, {"environment": "development"}, "development"),
        (None, {"environment": "staging", "pulumi:project": "factory-floor"}, "staging"),
        ({"environment": "staging"}, {"environment": "production"}, "staging"),
        ({"environment": "production"}, {"environment": "development"}, "production"),
        # a tag is free text: anything but a stage must not relax the pack
        (None, {"environment": "prod"}, "production"),
        (None, {"environment": "Development"}, "production"),
        (None, {"stage": "development"}, "production"),
    ],
    ids=[
        "nothing-set",
        "tag-only",
        "tag-among-others",
        "config-beats-a-stricter-tag",
        "config-beats-a-looser-tag",
        "tag-not-a-stage",
        "tag-wrong-case",
        "other-tag",
    ],
)
def test_the_stage_comes_from_config_then_the_stack_tag_then_production(
    config: dict[str, str] | None, tags: dict[str, str] | None, stage: str
) -> None:
    document = pack_config(POLICIES, **config) if config else None
    refused = _refused_by(document, tags)
    assert refused == (PRODUCTION_ONLY if stage == "production" else set()), (config, tags)


def test_the_environment_schema_leaves_the_engine_nothing_to_fill_in() -> None:
    readers = [p for p in POLICIES if p.config_schema and "environment" in p.config_schema.properties]
    assert {p.name for p in readers} >= PRODUCTION_ONLY
    for policy in readers:
        assert "default" not in schema_of(policy)["environment"], policy.name
        assert "environment" not in schema_defaults(policy), policy.name
    assert SETTINGS["environment"].default == "production"


def test_every_other_setting_keeps_a_schema_default_equal_to_what_the_pack_falls_back_to() -> None:
    for key, setting in SETTINGS.items():
        if key != "environment":
            assert setting.schema["default"] == setting.default, key
            assert setting.fallback is None, key


def _capturing(schema: dict[str, dict[str, Any]], seen: list[dict[str, Any]]) -> ResourceValidationPolicy:
    def validate(args: Any, report: Any) -> None:
        seen.append(dict(args.get_config()))

    return ResourceValidationPolicy(
        name="captures-config",
        description="records the config it is handed",
        validate=validate,
        enforcement_level=EnforcementLevel.ADVISORY,
        config_schema=PolicyConfigSchema(properties=schema),
    )


def test_the_runner_hands_each_policy_its_schema_defaults_overlaid_with_the_given_config() -> None:
    seen: list[dict[str, Any]] = []
    policy = _capturing(
        {
            "level": {"type": "number", "default": 3},
            "names": {"type": "array", "default": ["a"]},
            "stage": {"type": "string"},
        },
        seen,
    )
    recording = recording_of(RELAXED_STORE[:1])
    evaluate([policy], recording)
    evaluate([policy], recording, config={"captures-config": {"names": ["b"], "stage": "staging"}})
    evaluate([policy], recording, config={"another-policy": {"level": 9}})
    assert seen == [
        {"level": 3, "names": ["a"]},
        {"level": 3, "names": ["b"], "stage": "staging"},
        {"level": 3, "names": ["a"]},
    ]
