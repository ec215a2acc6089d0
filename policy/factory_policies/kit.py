"""How a factory-floor policy is made: audit metadata, the resource types it judges, and preview safety.

Every policy of the pack is built by `resource_policy` or `stack_policy`, so each one carries the same
metadata (display name, description, severity, enforcement level, remediation, primary framework and a tag
per framework reference) plus two attributes the offline tooling reads:

- `resource_types`: the type tokens the policy judges — a resource policy only sees these (Python has no
  `validate_resource_of_type`), and the compliance report lists the resources of these types as judged;
- `controls`: the framework references as structured data, for grouping verdicts by framework.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from factory_policies.controls import Control, PreviewUnknownError
from factory_policies.settings import config_schema

ResourceCheck = Callable[[ResourceValidationArgs, ReportViolation], None]
Exemption = Callable[[ResourceValidationArgs], "str | None"]  # why a resource of a judged type is skipped
StackCheck = Callable[[StackValidationArgs, ReportViolation], None]

MANDATORY = EnforcementLevel.MANDATORY  # security controls: a violation stops the update
ADVISORY = EnforcementLevel.ADVISORY  # hygiene: reported, never blocking


class FactoryResourcePolicy(ResourceValidationPolicy):
    resource_types: tuple[str, ...]
    controls: tuple[Control, ...]
    exemption: Exemption | None  # the compliance report shows skipped resources with this reason


class FactoryStackPolicy(StackValidationPolicy):
    resource_types: tuple[str, ...]
    controls: tuple[Control, ...]


def _metadata(
    *,
    name: str,
    title: str,
    description: str,
    controls: Sequence[Control],
    severity: Severity,
    level: EnforcementLevel,
    remediation: str,
    config: Sequence[str],
) -> dict[str, Any]:
    if not controls:
        raise ValueError(f"policy {name} maps to no framework control")
    return {
        "name": name,
        "display_name": title,
        "description": description,
        "enforcement_level": level,
        "severity": severity,
        "framework": controls[0].framework.compliance,  # the primary framework
        "tags": [control.tag for control in controls],  # every reference, primary first
        "remediation_steps": remediation,
        "config_schema": config_schema(*config) if config else None,
    }


def resource_policy(
    *,
    name: str,
    title: str,
    description: str,
    controls: Sequence[Control],
    resource_types: Iterable[str],
    check: ResourceCheck,
    severity: Severity,
    remediation: str,
    level: EnforcementLevel = MANDATORY,
    config: Sequence[str] = (),
    exemption: Exemption | None = None,
) -> FactoryResourcePolicy:
    types = tuple(resource_types)

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in types:
            return
        try:
            if exemption is None or exemption(args) is None:
                check(args, report_violation)
        except PreviewUnknownError:
            # The offline harness could not know a value (it depends on another resource's output). The
            # analyzer's own UnknownValueError is left to propagate: Pulumi then reports an advisory "can't
            # run policy during preview" note, and `pulumi up` judges the real value.
            return

    policy = FactoryResourcePolicy(
        validate=validate,
        **_metadata(
            name=name,
            title=title,
            description=description,
            controls=controls,
            severity=severity,
            level=level,
            remediation=remediation,
            config=config,
        ),
    )
    policy.resource_types = types
    policy.controls = tuple(controls)
    policy.exemption = exemption
    return policy


def stack_policy(
    *,
    name: str,
    title: str,
    description: str,
    controls: Sequence[Control],
    resource_types: Iterable[str],
    check: StackCheck,
    severity: Severity,
    remediation: str,
    level: EnforcementLevel = MANDATORY,
    config: Sequence[str] = (),
) -> FactoryStackPolicy:
    """A stack policy; `check` guards each subject itself (see `each`) so one unknown never hides the rest."""

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        try:
            check(args, report_violation)
        except PreviewUnknownError:
            return  # offline, as the analyzer would for UnknownValueError: no verdict until `pulumi up`

    policy = FactoryStackPolicy(
        validate=validate,
        **_metadata(
            name=name,
            title=title,
            description=description,
            controls=controls,
            severity=severity,
            level=level,
            remediation=remediation,
            config=config,
        ),
    )
    policy.resource_types = tuple(resource_types)
    policy.controls = tuple(controls)
    return policy


def each(
    subjects: Iterable[PolicyResource],
    judge: Callable[[PolicyResource], Iterable[str]],
    report_violation: ReportViolation,
) -> None:
    """Judge every subject of a stack policy and report against it. A subject whose verdict needs a value
    unknown during preview gets none; the others are still judged, and then the analyzer's
    UnknownValueError is raised so Pulumi notes that the policy could not fully run during preview."""
    unknown: UnknownValueError | None = None
    for subject in subjects:
        try:
            messages = list(judge(subject))
        except PreviewUnknownError:
            continue
        except UnknownValueError as error:
            unknown = unknown or error
            continue
        for message in messages:
            report_violation(message, subject.urn)
    if unknown is not None:
        raise unknown
