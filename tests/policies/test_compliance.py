"""offline/compliance.py: verdicts grouped by framework, and the compliance.md an auditor reads."""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy

import factory_policies as fp
from offline.compliance import (
    compliance_markdown,
    evidence,
    framework_lines,
    judged_resources,
    natural_key,
    references,
    resource_label,
)
from offline.policy_runner import evaluate
from tests.support.policy_cases.kubernetes import CRONJOB, DEPLOYMENT, LINE_NS, ROLE, workload
from tests.support.policy_kit import Res, recording_of

PRIVILEGED = workload(DEPLOYMENT)
PRIVILEGED["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = True
BENCH = workload(CRONJOB, namespace="kube-bench")
BENCH["spec"]["jobTemplate"]["spec"]["template"]["spec"]["hostPID"] = True
FIXTURE = [Res(DEPLOYMENT, PRIVILEGED, name="order-api"), Res(CRONJOB, BENCH, name="kube-bench"), ROLE, LINE_NS]
RECORDING = recording_of(FIXTURE)
VERDICTS = evaluate(fp.ALL_POLICIES, RECORDING)


def _evidence(name: str) -> Any:
    return next(e for e in evidence(VERDICTS, RECORDING) if e.policy.name == name)


def test_results_distinguish_pass_fail_exempt_and_not_applicable() -> None:
    baseline = _evidence("pod-security-baseline")
    assert baseline.status == "FAIL"
    assert (
        set(baseline.exempt) == {FIXTURE[1].urn}
        and "kube-bench runs the CIS node checks" in baseline.exempt[FIXTURE[1].urn]
    )
    assert _evidence("rbac-no-wildcards").status == "pass"
    assert _evidence("aws-s3-versioning").status == "n/a", "nothing to judge is not a pass"
    assert _evidence("line-namespace-default-deny").status == "FAIL"


def test_stack_policies_list_only_the_resources_relevant_to_them() -> None:
    deny = next(v for v in VERDICTS if v.policy.name == "line-namespace-default-deny")
    assert len(deny.judged) == len(FIXTURE), "the runner hands a stack policy the whole stack"
    assert judged_resources(deny) == [LINE_NS.urn]


def test_console_lines_group_controls_by_framework() -> None:
    lines = framework_lines(VERDICTS, RECORDING)
    assert lines[0] == "Compliance by framework:"
    assert "  CIS Kubernetes Benchmark 1.9: 12 pass, 8 FAIL, 7 n/a" in lines
    assert "    5.2.2        FAIL     pod-security-baseline (1 judged)" in lines
    assert not any("aws-s3" in line for line in lines), "n/a controls are only counted"
    assert any("aws-s3-versioning" in line for line in framework_lines(VERDICTS, RECORDING, show_not_applicable=True))
    frameworks = [line.split(":")[0].strip() for line in lines[1:] if not line.startswith("    ")]
    assert frameworks == sorted(frameworks)


def test_compliance_document_names_controls_references_results_and_resources() -> None:
    text = compliance_markdown("testwerk", VERDICTS, RECORDING)
    assert text.startswith("# Compliance evidence — stack `testwerk`\n") and text.endswith("\n")
    assert "| [`pod-security-baseline`](#pod-security-baseline) | mandatory | critical | FAIL | 1 | 1 | 1 |" in text
    assert "### CIS Kubernetes Benchmark 1.9" in text and "| 5.2.2 | [`pod-security-baseline`]" in text
    assert "- **Framework references:** Pod Security Standards v1 baseline, CIS Kubernetes Benchmark 1.9 5.2.2" in text
    assert f"  - `{resource_label(FIXTURE[0].urn)}`" in text
    assert "securityContext.privileged is true" in text
    assert "- **Exempt (1):**\n  - `kubernetes:batch/v1:CronJob kube-bench`: namespace 'kube-bench' is exempt" in text
    assert "None: every policy used its defaults" in text
    assert text == compliance_markdown("testwerk", VERDICTS, RECORDING), "deterministic"


def test_the_document_shows_the_config_and_disabled_policies() -> None:
    config = {"aws-s3-object-lock": {"environment": "development"}}
    disabled = evaluate(fp.ALL_POLICIES, RECORDING, config=config, enforcement={"pod-security-baseline": "disabled"})
    text = compliance_markdown("testwerk", disabled, RECORDING, config)
    assert "- `aws-s3-object-lock`: {'environment': 'development'}" in text
    assert "| [`pod-security-baseline`](#pod-security-baseline) | disabled | critical | disabled |" in text


def test_policies_without_controls_are_grouped_by_tag_prefix_or_unmapped() -> None:
    def never(args: Any, report: Any) -> None:
        return None

    tagged = ResourceValidationPolicy(
        name="t", description="d", validate=never, tags=["cis-k8s:5.7.4"], enforcement_level=EnforcementLevel.ADVISORY
    )
    bare = ResourceValidationPolicy(name="u", description="d", validate=never)
    assert [(r.framework, r.control) for r in references(tagged)] == [("cis-k8s", "5.7.4")]
    assert [(r.framework, r.control) for r in references(bare)] == [("Unmapped", "-")]
    lines = framework_lines(evaluate([tagged, bare], RECORDING))
    assert lines.index("  cis-k8s: 1 n/a") < lines.index("  Unmapped: 1 n/a")


def test_controls_sort_naturally() -> None:
    assert sorted(["5.2.10", "5.2.9", "SR 7.10", "SR 7.2"], key=natural_key) == ["5.2.9", "5.2.10", "SR 7.2", "SR 7.10"]
