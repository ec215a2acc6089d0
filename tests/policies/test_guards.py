"""The guard rails beyond their cases (tests/support/policy_cases/guards.py): what a disposable stack may do, what
no stack may do, the one exception for the site mirror, and agreement with the config rules they repeat."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

import factory_policies as fp
from components.security.gatekeeper import templates
from components.security.gatekeeper.config import image_pattern_problem
from factory_policies import production_guards as guards
from tests.support.policy_cases.guards import (
    ALLOWED,
    CONSTRAINT_FIXTURE,
    EDITORS,
    LINE_IMAGES,
    MIRROR,
    WEBHOOK,
    chart,
)
from tests.support.policy_kit import Mutation, judge, judge_offline, mutated

DISPOSABLE = ("staging", "development")


def _set(res: Any, path: str, value: Any) -> Any:
    [changed] = mutated([res], Mutation("edit", path, value, ""))
    return changed


def _audited() -> list[Any]:
    return [_set(r, "spec.enforcementAction", "dryrun") for r in CONSTRAINT_FIXTURE]


def _fail_open() -> list[Any]:
    return [_set(r, "values.validatingWebhookFailurePolicy", "Ignore") for r in WEBHOOK.fixture]


@pytest.mark.parametrize("environment", DISPOSABLE)
def test_disposable_stacks_may_audit_and_fail_open(environment: str) -> None:
    config = {"environment": environment}
    assert judge(fp.gatekeeper_enforced_in_production, _audited(), config) == []
    assert judge(fp.gatekeeper_webhook_fail_closed_in_production, _fail_open(), config) == []
    # the stack tag is read when the pack config does not say
    tags = {"environment": environment}
    assert judge(fp.gatekeeper_enforced_in_production, _audited(), stack_tags=tags) == []
    assert judge(fp.gatekeeper_webhook_fail_closed_in_production, _fail_open(), stack_tags=tags) == []


def test_a_pack_without_config_judges_as_production() -> None:
    """A `pulumi up` that never ran `make plan` passes no pack config: the strictest stage applies."""
    assert len(judge(fp.gatekeeper_enforced_in_production, _audited())) == len(CONSTRAINT_FIXTURE)
    assert len(judge_offline(fp.gatekeeper_enforced_in_production, _audited())) == len(CONSTRAINT_FIXTURE)
    assert len(judge(fp.gatekeeper_webhook_fail_closed_in_production, _fail_open())) == 2  # not falco
    staging_tag_but_production_config = judge(
        fp.gatekeeper_enforced_in_production, _audited(), {"environment": "production"}, {"environment": "staging"}
    )
    assert len(staging_tag_but_production_config) == len(CONSTRAINT_FIXTURE), "the pack config wins"


@pytest.mark.parametrize("environment", ("production", *DISPOSABLE))
def test_system_groups_and_wide_images_are_refused_in_every_stage(environment: str) -> None:
    config = {"environment": environment}
    bound = _set(EDITORS, "subjects.0.name", "system:authenticated")
    assert judge(fp.rbac_no_system_groups, [bound], config)
    wide = _set(ALLOWED, "spec.parameters.allowedImages", ["docker.io/*"])
    assert judge(fp.allowed_images_narrow, [wide], {"environment": environment, "registryMirror": MIRROR})


def test_the_mirror_is_never_on_a_list_and_a_line_folder_only_on_its_lines() -> None:
    """#9 finding 6: the site mirror is a proxy cache (it fetches anything, all of Docker Hub), so no entry opens
    it whole or a registry through it; a line's folder under it is allowed by that line's constraint alone."""
    config = {"registryMirror": MIRROR}
    for entry in (f"{MIRROR}/*", "harbor.plant.local/*", f"{MIRROR}/docker.io/*", f"{MIRROR}/ghcr.io/*"):
        wide = _set(ALLOWED, "spec.parameters.allowedImages", [entry])
        assert judge(fp.allowed_images_narrow, [wide], config), entry
    for entry in (f"{MIRROR}/docker.io/library/busybox:1.36", f"{MIRROR}/ghcr.io/acme/*"):
        narrow = _set(ALLOWED, "spec.parameters.allowedImages", [entry])
        assert judge(fp.allowed_images_narrow, [narrow], config) == [], entry
    assert judge(fp.allowed_images_narrow, [LINE_IMAGES], config) == []
    [found] = judge(fp.allowed_images_narrow, [_set(LINE_IMAGES, "spec.match", {"excludedNamespaces": []})], config)
    assert "is line 'press''s own folder under the site mirror" in found
    # without the pack config (a `pulumi up` without `make plan`) the mirror is unknown: a mirror with a path
    # is then judged like any registry path, a mirror that is a whole host is still refused
    assert judge(fp.allowed_images_narrow, [_set(ALLOWED, "spec.parameters.allowedImages", [f"{MIRROR}/*"])]) == []
    assert judge(fp.allowed_images_narrow, [_set(ALLOWED, "spec.parameters.allowedImages", ["harbor.plant.local/*"])])


def test_other_charts_and_bindings_are_not_judged_as_gatekeeper_or_system_groups() -> None:
    falco = chart("falco", "falco", "falcosecurity/falco", {"validatingWebhookFailurePolicy": "Ignore"})
    assert judge(fp.gatekeeper_webhook_fail_closed_in_production, [falco]) == []
    user = _set(EDITORS, "subjects.0", {"kind": "User", "name": "system-integrator"})
    service_account = _set(EDITORS, "subjects.0", {"kind": "ServiceAccount", "name": "system", "namespace": "x"})
    assert judge(fp.rbac_no_system_groups, [user, replace(service_account, name="sa")]) == []


def test_every_constraint_kind_the_program_applies_is_listed_for_the_report() -> None:
    """Any constraint kind is judged; the list names the types the compliance report shows as judged."""
    assert set(templates.TEMPLATES) <= set(guards.CONSTRAINT_KINDS)


ENTRIES = [
    "registry.plant.local/lines/*",
    "registry.plant.local:5000/lines/press/*",
    "harbor.rheinfeld.example.com/mirror/*",
    "docker.io/library/busybox:1.36",
    "registry.plant.local/press/plc-gateway@sha256:" + "a" * 64,
    "docker.io/*",
    "registry.plant.local:5000/*",
    "ghcr.io/acme*",
    "ghcr.io/acme/app*",
    "registry.plant.local/lines/app:*",
    "registry.plant.local/*/press/*",
    "registry.plant.local/lines//*",
    "*",
    "docker.io",
    "busybox:1.36",
]


@pytest.mark.parametrize("entry", ENTRIES)
def test_the_policy_and_the_config_agree_on_every_entry(entry: str) -> None:
    """The pack keeps its own copy of the rule (it imports nothing of the program): both judge alike."""
    assert (guards.image_entry_problem(entry) is None) == (image_pattern_problem(entry) is None)
