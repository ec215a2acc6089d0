"""The offline plan as users run it: the stack sweep, artifacts, determinism, redaction and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from offline import plan as plan_cli
from offline.stackfile import available_stacks
from tests.support.projects import dev_with, project_copy
from tests.support.runs import Runs

ROOT = Path(__file__).resolve().parents[2]
STACKS = available_stacks(ROOT)


def test_reference_stacks_exist() -> None:
    assert "dev" in STACKS
    assert len(STACKS) >= 3


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_plans_clean(stack: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert plan_cli.main(["--stack", stack, "--out", str(tmp_path)]) == plan_cli.EXIT_OK
    document = json.loads((tmp_path / stack / "plan.json").read_text())
    assert document["stack"] == stack
    assert document["violations"] == []
    assert {"type", "name", "parent", "custom", "inputs"} <= set(document["resources"][0])
    manifests = list((tmp_path / stack / "manifests").rglob("*.yaml"))
    assert len(manifests) == sum(
        1 for r in document["resources"] if r["custom"] and r["type"].startswith("kubernetes:")
    )
    out = capsys.readouterr().out
    assert "factory:index:FactoryPlatform" in out and "Resources by type:" in out and "Compliance by framework:" in out
    assert (tmp_path / stack / "compliance.md").exists()
    bundle = json.loads((tmp_path / stack / "bundle.json").read_text())
    assert set(bundle) == {"clusters", "pulumi"} and bundle["clusters"]
    # every stack deploys to Kubernetes; the plugins the printed list names are the bundle's
    assert any(p["name"] == "kubernetes" and p["usedByThisStack"] for p in bundle["pulumi"]["plugins"])
    for plugin in bundle["pulumi"]["plugins"]:
        assert f"pulumi-resource-{plugin['name']}-v{plugin['version']}-<os>-<arch>.tar.gz" in out


def test_reference_factories_have_the_promised_shape(runs: Runs) -> None:
    pilsen = runs.stack("pilsen").config
    assert [c.distribution for c in pilsen.clusters] == ["k3s"] and len(pilsen.lines) >= 4
    rheinfeld = runs.stack("rheinfeld").config
    assert len(rheinfeld.clusters) == 2 and len(rheinfeld.lines) >= 8
    assert {c.distribution for c in rheinfeld.clusters} & {"eks", "gke", "aks"}
    dev = runs.stack("dev").config
    assert len(dev.clusters) == 1 and dev.clusters[0].distribution == "k3s" and len(dev.lines) == 2


def test_plan_is_byte_for_byte_deterministic(tmp_path: Path) -> None:
    for run in ("a", "b"):
        assert plan_cli.main(["--stack", "rheinfeld", "--out", str(tmp_path / run)]) == 0
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) > 50
    for relative in files_a:
        assert (tmp_path / "a" / relative).read_bytes() == (tmp_path / "b" / relative).read_bytes(), relative


def test_manifests_are_yaml_with_integers_not_floats(tmp_path: Path) -> None:
    plan_cli.main(["--stack", "dev", "--out", str(tmp_path)])
    path = tmp_path / "dev" / "manifests" / "edge" / "line-assembly" / "networkpolicy-flow-to-quality-tcp.yaml"
    text = path.read_text()
    assert "8443.0" not in text
    document = yaml.safe_load(text)
    assert document["apiVersion"] == "networking.k8s.io/v1" and document["kind"] == "NetworkPolicy"
    assert document["spec"]["egress"][0]["ports"] == [{"port": 8443, "protocol": "TCP"}]


def test_secrets_never_reach_the_plan(tmp_path: Path) -> None:
    stack = dev_with("\nconfig:\n", "\nconfig:\n  factory-floor:edgeKubeconfig:\n    secure: AAABAFakeCiphertext\n")
    project = project_copy(tmp_path, {"sec": stack})
    assert plan_cli.main(["--stack", "sec", "--project-dir", str(project), "--out", str(tmp_path / "out")]) == 0
    text = (tmp_path / "out" / "sec" / "plan.json").read_text()
    assert "AAABAFakeCiphertext" not in text and "offline-plan-placeholder" not in text
    providers = [r for r in json.loads(text)["resources"] if r["type"] == "pulumi:providers:kubernetes"]
    assert providers[0]["inputs"]["kubeconfig"] == "[secret]"


def test_broken_config_exits_2_and_names_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = dev_with(
        "      cluster: edge\n      team: platform-dev\n      chaosOptIn",
        "      cluster: egde\n      team: platform-dev\n      chaosOptIn",
    )
    project = project_copy(tmp_path, {"broken": stack})
    code = plan_cli.main(["--stack", "broken", "--project-dir", str(project), "--out", str(tmp_path / "out")])
    assert code == plan_cli.EXIT_CONFIG
    err = capsys.readouterr().err
    assert "factory-floor:lines[1].cluster: unknown cluster 'egde' (did you mean 'edge'?)" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out" / "broken").exists(), "no half-written plan for a broken stack"


def test_missing_required_section_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = project_copy(tmp_path, {"empty": "config:\n  factory-floor:environment: staging\n"})
    code = plan_cli.main(["--stack", "empty", "--project-dir", str(project), "--out", str(tmp_path / "out")])
    assert code == plan_cli.EXIT_CONFIG
    err = capsys.readouterr().err
    for section in ("factory", "clusters", "teams", "lines"):
        assert f"factory-floor:{section}: is required" in err
    assert not (tmp_path / "out").exists(), "a refused stack writes nothing"


def test_unknown_stack_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert plan_cli.main(["--stack", "atlantis"]) == plan_cli.EXIT_CONFIG
    assert "no stack 'atlantis'" in capsys.readouterr().err


def test_mandatory_violation_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_namespaces(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type == "kubernetes:core/v1:Namespace":
            report_violation("namespaces are forbidden in this test", None)

    forbid = ResourceValidationPolicy(
        name="test-no-namespaces",
        description="test",
        validate=no_namespaces,
        enforcement_level=EnforcementLevel.MANDATORY,
    )
    monkeypatch.setattr(plan_cli, "load_policies", lambda _path: [forbid])
    assert plan_cli.main(["--stack", "dev", "--out", str(tmp_path)]) == plan_cli.EXIT_VIOLATION
    document = json.loads((tmp_path / "dev" / "plan.json").read_text())
    namespaces = [r for r in document["resources"] if r["type"] == "kubernetes:core/v1:Namespace"]
    violations = document["violations"]
    assert len(violations) == len(namespaces) > 2 and {v["level"] for v in violations} == {"mandatory"}
    assert all(v["policy"] == "test-no-namespaces" for v in violations)


def test_advisory_violation_keeps_exit_0(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_namespaces(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type == "kubernetes:core/v1:Namespace":
            report_violation("just advice", None)

    advise = ResourceValidationPolicy(
        name="test-advice", description="test", validate=no_namespaces, enforcement_level=EnforcementLevel.ADVISORY
    )
    monkeypatch.setattr(plan_cli, "load_policies", lambda _path: [advise])
    assert plan_cli.main(["--stack", "dev", "--out", str(tmp_path)]) == plan_cli.EXIT_OK


def test_make_plan_entry_point_exit_codes(tmp_path: Path) -> None:
    """The command users type, as a process: exit 0 for dev, 2 for a broken stack, no traceback."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    ok = subprocess.run(
        [sys.executable, "-m", "offline.plan", "--stack", "dev", "--out", str(tmp_path / "out")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    project = project_copy(tmp_path, {"bad": dev_with("profile: edge-small", "profile: edge-tiny")})
    bad = subprocess.run(
        [sys.executable, "-m", "offline.plan", "--stack", "bad", "--project-dir", str(project)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert "factory-floor:clusters[0].profile" in bad.stderr and "Traceback" not in bad.stderr
