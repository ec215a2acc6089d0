"""The pack as a whole: what `pulumi preview --policy-pack policy` loads, and what every policy carries.

Per-policy cases live in tests/support/policy_cases (a compliant fixture and one-field mutations each, judged
by tests/policies/test_cases.py); this module checks that together they cover every policy.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from importlib import metadata
from pathlib import Path
from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

import factory_policies
from factory_policies.controls import FRAMEWORKS
from tests.support.policy_kit import all_cases

ROOT = Path(__file__).resolve().parents[2]
MINIMUM_MUTATIONS = 60
TAG = re.compile(r"^(cis-k8s|pss|iec62443|cis-aws|cis-gcp|cis-azure):\S.*$")


def _defined_policies() -> list[Any]:
    found = []
    for module in pkgutil.iter_modules(factory_policies.__path__):
        loaded = importlib.import_module(f"factory_policies.{module.name}")
        found += [v for v in vars(loaded).values() if isinstance(v, ResourceValidationPolicy | StackValidationPolicy)]
    return found


def test_pack_includes_every_policy_defined() -> None:
    defined = {id(p) for p in _defined_policies()}
    assert defined == {id(p) for p in factory_policies.ALL_POLICIES}
    names = [p.name for p in factory_policies.ALL_POLICIES]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z0-9-]{3,64}", n) for n in names)


def test_pack_entry_point_only_builds_the_pack() -> None:
    """policy/__main__.py is parsed, never imported (PolicyPack blocks serving gRPC)."""
    tree = ast.parse((ROOT / "policy" / "__main__.py").read_text())
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert [c.func.id for c in calls if isinstance(c.func, ast.Name)] == ["PolicyPack"]
    keywords = {k.arg: k.value for k in calls[0].keywords}
    assert isinstance(keywords["policies"], ast.Name) and keywords["policies"].id == "ALL_POLICIES"
    imports = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert any(i.module == "factory_policies" and "ALL_POLICIES" in {a.name for a in i.names} for i in imports)
    project = (ROOT / "policy" / "PulumiPolicy.yaml").read_text()
    assert "runtime:" in project and "python" in project
    assert re.fullmatch(r"[a-zA-Z0-9-_.]{1,100}", factory_policies.PACK_NAME)


def test_pack_requirements_pin_the_sdk_the_tests_ran_with() -> None:
    pinned = dict(
        line.split("==") for line in (ROOT / "policy" / "requirements.txt").read_text().split() if "==" in line
    )
    assert pinned["pulumi-policy"] == metadata.version("pulumi-policy")
    assert pinned["pulumi"] == metadata.version("pulumi")


def test_every_policy_carries_audit_metadata() -> None:
    framework_names = {f.compliance.name for f in FRAMEWORKS}
    for policy in factory_policies.ALL_POLICIES:
        assert policy.description and policy.remediation_steps and policy.display_name, policy.name
        assert policy.severity is not None, policy.name
        assert policy.enforcement_level in (EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY), policy.name
        assert policy.tags and all(TAG.match(t) for t in policy.tags), (policy.name, policy.tags)
        assert policy.framework is not None and policy.framework.name in framework_names, policy.name
        assert policy.framework is policy.controls[0].framework.compliance, "primary framework is the first tag"
        assert [c.tag for c in policy.controls] == policy.tags, policy.name
        assert policy.resource_types, f"{policy.name} declares no resource types (compliance report)"


def test_every_policy_has_a_passing_fixture_and_caught_mutations() -> None:
    cases = all_cases()
    covered = {case.policy.name for case in cases if case.mutations}
    assert covered == {p.name for p in factory_policies.ALL_POLICIES}
    for case in cases:
        ids = [m.id for m in case.mutations]
        assert len(ids) == len(set(ids)), case.label
    labels = [case.label for case in cases]
    assert len(labels) == len(set(labels)), "case ids are unique"
    total = sum(len(case.mutations) for case in cases)
    assert total >= MINIMUM_MUTATIONS, total
