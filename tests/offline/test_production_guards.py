"""A careless edit of a production stack file must not silently disarm it (issue #9, finding 5). Each attack is
the edit of the `pilsen` stack file a platform engineer could make, run through the command they run
(`make plan`): it exits 2 naming the key. The CrossGuard guard rails catch the same thing where the config
check never ran — a `pulumi up` without `make plan`, or a program changed to get round it: the recorded plan
of pilsen with the edit's effect on the registered resources, and the real program with the config check
switched off."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

import factory_policies as fp
from components.config import document
from offline import plan as plan_cli
from offline.harness import Recording, Registration
from offline.policy_runner import evaluate, mandatory_violations
from tests.support.projects import ROOT, project_copy
from tests.support.runs import Runs

PILSEN = (ROOT / "stacks" / "Pulumi.pilsen.yaml").read_text()
GATEKEEPER = "      enforcementAction: deny\n"
IMAGES = '      allowedImages: ["registry.pilsen.example.com/lines/*"]\n'


def pilsen_with(replace: str, by: str) -> str:
    """The pilsen stack file (production) with one exact piece of text replaced."""
    assert PILSEN.count(replace) == 1, replace
    return PILSEN.replace(replace, by)


def _plan(tmp_path: Path, text: str) -> tuple[int, Path]:
    project = project_copy(tmp_path, {"pilsen": text})
    out = tmp_path / "out"
    return plan_cli.main(["--stack", "pilsen", "--project-dir", str(project), "--out", str(out)]), out


# (id, the careless edit, config path, fragment of its message)
ATTACKS = [
    (
        "a-every-authenticated-identity-edits-the-paint-line",
        pilsen_with("idpGroups: [pilsen-paint-engineers]", "idpGroups: [pilsen-paint-engineers, system:authenticated]"),
        "factory-floor:teams[1].idpGroups[1]",
        "'system:authenticated' is a Kubernetes system group",
    ),
    (
        "a-every-service-account-edits-the-quality-line",
        pilsen_with("idpGroups: [pilsen-quality]", "idpGroups: [system:serviceaccounts]"),
        "factory-floor:teams[2].idpGroups[0]",
        "'system:serviceaccounts' is a Kubernetes system group",
    ),
    (
        "b-production-only-audits",
        pilsen_with(GATEKEEPER, "      enforcementAction: dryrun\n"),
        "factory-floor:security.gatekeeper.enforcementAction",
        "production stacks enforce every constraint: 'dryrun'",
    ),
    (
        "b-production-only-warns",
        pilsen_with(GATEKEEPER, "      enforcementAction: warn\n"),
        "factory-floor:security.gatekeeper.enforcementAction",
        "production stacks enforce every constraint: 'warn'",
    ),
    (
        "c-production-webhook-fails-open",
        pilsen_with(GATEKEEPER, GATEKEEPER + "      webhookFailurePolicy: Ignore\n"),
        "factory-floor:security.gatekeeper.webhookFailurePolicy",
        "production stacks fail closed",
    ),
    (
        "d-all-of-docker-hub",
        pilsen_with(IMAGES, '      allowedImages: ["registry.pilsen.example.com/lines/*", "docker.io/*"]\n'),
        "factory-floor:security.gatekeeper.allowedImages[1]",
        "'docker.io/*' admits every image of the registry docker.io",
    ),
    (
        "d-a-prefix-that-admits-acme-evil",
        pilsen_with(IMAGES, '      allowedImages: ["ghcr.io/acme*"]\n'),
        "factory-floor:security.gatekeeper.allowedImages[0]",
        "(e.g. 'ghcr.io/acme-evil/...')",
    ),
    (
        "d-the-whole-plant-registry",
        pilsen_with(IMAGES, '      allowedImages: ["registry.pilsen.example.com/*"]\n'),
        "factory-floor:security.gatekeeper.allowedImages[0]",
        "admits every image of the registry registry.pilsen.example.com",
    ),
]


@pytest.mark.parametrize(("text", "path", "fragment"), [a[1:] for a in ATTACKS], ids=[a[0] for a in ATTACKS])
def test_a_careless_edit_of_a_production_stack_is_refused_at_its_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, path: str, fragment: str
) -> None:
    code, out = _plan(tmp_path, text)
    err = capsys.readouterr().err
    assert code == plan_cli.EXIT_CONFIG, err
    reported = [line.removeprefix("  - ") for line in err.splitlines() if line.startswith("  - ")]
    assert any(p.startswith(f"{path}: ") and fragment in p for p in reported), (path, fragment, reported)
    assert "Traceback" not in err and not out.exists()


def _webhook_policies(out: Path) -> set[str]:
    plan = json.loads((out / "pilsen" / "plan.json").read_text())
    return {
        r["inputs"]["values"]["validatingWebhookFailurePolicy"]
        for r in plan["resources"]
        if r["type"] == "kubernetes:helm.sh/v4:Chart" and r["inputs"].get("namespace") == "gatekeeper-system"
    }


def test_c_a_profile_change_no_longer_opens_the_webhook(tmp_path: Path) -> None:
    """The edit that used to fail the webhook open as a side effect: a single-node profile for the cluster."""
    single = pilsen_with("      profile: edge-ha\n", "      profile: edge-small\n")
    # a production cell has no Alertmanager of its own: the config check wants the hub's (tests/observability)
    hub = "  factory-floor:observability:\n    hub:\n      alertmanagers: [https://alertmanager.hub.example.com]\n"
    code, out = _plan(tmp_path, single.replace("  factory-floor:observability:\n", hub))
    assert code == plan_cli.EXIT_OK
    assert _webhook_policies(out) == {"Fail"}


# --- the guard rails, where the config check never ran -------------------------------------------------


def _registration(recording: Recording, type_suffix: str, name: str) -> Registration:
    found = [
        r
        for r in recording.resources
        if r.type.endswith(type_suffix) and r.inputs.get("metadata", {}).get("name") == name
    ]
    assert found, (type_suffix, name)
    return found[0]


def _bind_system_group(recording: Recording) -> None:
    binding = _registration(recording, ":RoleBinding", "line-editors")
    binding.inputs["subjects"].append(
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"}
    )


def _dryrun(recording: Recording) -> None:
    _registration(recording, ":K8sRequiredProbes", "required-probes").inputs["spec"]["enforcementAction"] = "dryrun"


def _fail_open(recording: Recording) -> None:
    # what components/security/gatekeeper/addon.py did for a single-node profile before
    [chart] = [r for r in recording.of_type("kubernetes:helm.sh/v4:Chart") if r.inputs.get("name") == "gatekeeper"]
    chart.inputs["values"]["validatingWebhookFailurePolicy"] = "Ignore"


def _docker_hub(recording: Recording) -> None:
    allowed = _registration(recording, ":K8sAllowedReposv2", "allowed-images")
    allowed.inputs["spec"]["parameters"]["allowedImages"] = ["docker.io/*", "ghcr.io/acme*"]


BYPASSED = [
    (
        "a-system-group",
        _bind_system_group,
        "rbac-no-system-groups",
        "binds the Kubernetes group 'system:authenticated'",
    ),
    ("b-dryrun", _dryrun, "gatekeeper-enforced-in-production", "spec.enforcementAction is 'dryrun'"),
    ("c-fail-open", _fail_open, "gatekeeper-webhook-fail-closed-in-production", "is 'Ignore' in a production stack"),
    ("d-wide-images", _docker_hub, "allowed-images-narrow", "'docker.io/*' admits every image of a whole registry"),
]


def _violations(recording: Recording, config: Any) -> list[tuple[str, str]]:
    return [(v.policy, v.message) for v in mandatory_violations(evaluate(fp.ALL_POLICIES, recording, config=config))]


@pytest.mark.parametrize(("edit", "policy", "fragment"), [b[1:] for b in BYPASSED], ids=[b[0] for b in BYPASSED])
@pytest.mark.parametrize("with_pack_config", [True, False], ids=["make-plan", "pulumi-up-without-pack-config"])
def test_the_guard_rails_catch_the_edit_in_the_registered_resources(
    runs: Runs, edit: Any, policy: str, fragment: str, with_pack_config: bool
) -> None:
    planned = runs.stack("pilsen")
    config = planned.policy_config if with_pack_config else None
    assert _violations(planned.recording, config) == []
    attacked = copy.deepcopy(planned.recording)
    edit(attacked)
    found = _violations(attacked, config)
    assert found and all(p == policy for p, _ in found), found
    assert any(fragment in message for _, message in found), found


@pytest.mark.parametrize(
    ("edit", "policy"),
    [
        (pilsen_with(GATEKEEPER, "      enforcementAction: dryrun\n"), "gatekeeper-enforced-in-production"),
        (
            pilsen_with(GATEKEEPER, GATEKEEPER + "      webhookFailurePolicy: Ignore\n"),
            "gatekeeper-webhook-fail-closed-in-production",
        ),
    ],
    ids=["b-dryrun", "c-fail-open"],
)
def test_the_real_program_is_caught_when_the_config_check_is_switched_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], edit: str, policy: str
) -> None:
    monkeypatch.setattr(document, "check_production_admission", lambda *_args: None)
    code, out = _plan(tmp_path, edit)
    assert code == plan_cli.EXIT_VIOLATION, capsys.readouterr().err
    violations = json.loads((out / "pilsen" / "plan.json").read_text())["violations"]
    assert violations and {v["policy"] for v in violations} == {policy}
