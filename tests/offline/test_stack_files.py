"""Broken stack files as a person writes them, through the command they run (`make plan`): every one exits 2,
with every problem at its path in one report, no traceback, and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from offline import plan as plan_cli
from tests.support.projects import dev_with, project_copy

LINE = "    - name: {name}\n      cluster: edge\n      team: platform-dev\n"


def _lines(count: int, cluster: str = "edge") -> str:
    return "".join(LINE.format(name=f"l{i}").replace("edge", cluster) for i in range(count))


# (id, stack file text, [(config path, fragment of its message)])
BROKEN: list[tuple[str, str | bytes, list[tuple[str, str]]]] = [
    (
        "missing-section-and-two-more-mistakes-at-once",
        dev_with("  factory-floor:teams:\n", "  factory-floor:teamz:\n").replace(
            "profile: edge-small", "profile: tiny"
        ),
        [
            ("factory-floor:teamz", "did you mean 'teams'?"),
            ("factory-floor:teams", "is required (is 'teamz' meant to be it?)"),
            ("factory-floor:clusters[0].profile", "got 'tiny'"),
        ],
    ),
    (
        "misspelt-top-level-key",
        dev_with("  factory-floor:clusters:\n", "  factory-floor:cluser:\n"),
        [("factory-floor:cluser", "did you mean 'clusters'?"), ("factory-floor:clusters", "is required")],
    ),
    (
        "section-written-twice",
        dev_with("  factory-floor:lines:\n", "  factory-floor:lines:\n" + _lines(1) + "  factory-floor:lines:\n"),
        [("factory-floor:lines", "is written twice (stack file lines 28 and 32)")],
    ),
    (
        "key-written-twice-inside-an-item",
        dev_with("      distribution: k3s\n", "      distribution: k3s\n      distribution: rke2\n"),
        [("factory-floor:clusters[0].distribution", "is written twice (stack file lines 13 and 14)")],
    ),
    (
        "unquoted-version-read-as-a-number",
        dev_with('kubernetesVersion: "1.33"', "kubernetesVersion: 1.30"),
        [("factory-floor:clusters[0].kubernetesVersion", "YAML read it as the number 1.3")],
    ),
    (
        "quoted-port-is-not-a-number",
        dev_with("ports: [8443]", 'ports: ["8443"]'),
        [("factory-floor:lines[0].flows[0].ports[0]", "a number is written without quotes")],
    ),
    (
        "empty-value",
        dev_with("      profile: edge-small\n", "      profile:\n"),
        [("factory-floor:clusters[0].profile", "is empty")],
    ),
    (
        "out-of-range-with-the-value-echoed",
        dev_with("      chaosOptIn: true\n", "      chaosOptIn: true\n      sloTarget: 85\n"),
        [("factory-floor:lines[1].sloTarget", "must be greater than 90.0; got 85")],
    ),
    (
        "mapping-expected",
        dev_with("      kubeconfig:\n        secretKey: edgeKubeconfig\n", "      kubeconfig: edgeKubeconfig\n"),
        [("factory-floor:clusters[0].kubeconfig", "must be a mapping with the keys secretKey, context")],
    ),
    (
        "plaintext-kubeconfig-together-with-schema-problems",
        dev_with("\nconfig:\n", "\nconfig:\n  factory-floor:edgeKubeconfig: apiVersion-v1-in-plain-text\n").replace(
            "profile: edge-small", "profile: tiny"
        ),
        [
            ("factory-floor:clusters[0].kubeconfig.secretKey", "in plain text"),
            ("factory-floor:clusters[0].profile", "got 'tiny'"),
        ],
    ),
    (
        "non-text-config-key",
        dev_with("\nconfig:\n", "\nconfig:\n  12345: x\n"),
        [("factory-floor:12345", "config keys are text")],
    ),
]
# stack files that are no stack file at all: one clean message, nothing else to report
MALFORMED = [
    ("config-is-a-list", "config:\n  - factory-floor:lines\n", "`config:` must be a mapping"),
    ("document-is-a-list", "- config\n", "expected a mapping at the top level"),
    ("not-yaml", "config: [unclosed\n", "not valid YAML"),
    ("binary-junk", bytes(range(256)) * 8, "not valid YAML"),
    ("ten-megabytes", "# " + "x" * (10 * 1024 * 1024) + "\n", "is not a stack file"),
    ("top-level-key-twice", "config: {}\nconfig: {}\n", "keys written twice: 'config' (lines 1 and 2)"),
]


def _plan(tmp_path: Path, text: str | bytes, capsys: pytest.CaptureFixture[str]) -> str:
    project = project_copy(tmp_path, {"broken": text})
    code = plan_cli.main(["--stack", "broken", "--project-dir", str(project), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == plan_cli.EXIT_CONFIG, err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists(), "a refused stack writes nothing"
    return err


@pytest.mark.parametrize(("text", "expected"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_broken_stack_file_reports_every_problem_at_its_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: list[tuple[str, str]]
) -> None:
    err = _plan(tmp_path, text, capsys)
    assert "reference: docs/configuration.md" in err
    reported = [line.removeprefix("  - ") for line in err.splitlines() if line.startswith("  - ")]
    for path, fragment in expected:
        assert any(p.startswith(f"{path}: ") and fragment in p for p in reported), (path, fragment, reported)


@pytest.mark.parametrize(("text", "fragment"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_a_file_that_is_no_stack_file_gets_a_clean_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str | bytes, fragment: str
) -> None:
    assert fragment in _plan(tmp_path, text, capsys)


def test_problems_come_in_file_order_with_indexes_in_numeric_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a different unknown team per line: twelve problems (the same one twice would be merged)
    lines = "".join(LINE.format(name=f"l{i}").replace("platform-dev", f"nobody-{i}") for i in range(12))
    text = dev_with("  factory-floor:lines:\n", "  factory-floor:lines:\n" + lines)
    text = text.replace("region: eu-central-1", "region: Europe").replace(
        "enforcementAction: dryrun", "enforcementAction: x"
    )
    err = _plan(tmp_path, text, capsys)
    paths = [line.removeprefix("  - ").split(": ", 1)[0] for line in err.splitlines() if line.startswith("  - ")]
    # the dev stack writes factory, clusters, security, teams, lines: problems follow that, not the alphabet
    assert paths[0] == "factory-floor:factory.region"
    assert paths[1] == "factory-floor:security.gatekeeper.enforcementAction"
    teams = [p for p in paths if p.startswith("factory-floor:lines[")]
    assert teams[:3] == ["factory-floor:lines[0].team", "factory-floor:lines[1].team", "factory-floor:lines[2].team"]
    assert teams.index("factory-floor:lines[2].team") < teams.index("factory-floor:lines[10].team")


def test_one_mistake_repeated_in_every_line_is_one_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = dev_with("  factory-floor:lines:\n", "  factory-floor:lines:\n" + _lines(30, cluster="egde"))
    err = _plan(tmp_path, text, capsys)
    [problem] = [line for line in err.splitlines() if "unknown cluster 'egde'" in line]
    assert problem.startswith("  - factory-floor:lines[0].cluster: unknown cluster 'egde' (did you mean 'edge'?)")
    assert "(also at lines[1].cluster, lines[2].cluster, lines[3].cluster and 26 more)" in problem


def test_a_long_report_is_capped_with_a_count(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flows = "".join(f"        - to: nowhere-{i}\n          ports: [80]\n" for i in range(200))
    text = dev_with("          ports: [8443]\n", "          ports: [8443]\n" + flows)
    err = _plan(tmp_path, text, capsys)
    assert "invalid factory configuration (200 problem(s)" in err
    assert err.count("\n  - ") == 40 and "… and 160 more problem(s)" in err


# values whose shape is not the type Pulumi.yaml declares: `pulumi preview` stops before the program runs
# (pkg/workspace/config.go validateStackConfigValue), so the offline plan stops there too; `unused:` keeps the
# section's old entries valid YAML
MISSHAPEN: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "list-section-written-as-a-mapping",
        dev_with("  factory-floor:clusters:\n", "  factory-floor:clusters: {}\n  factory-floor:unused:\n"),
        [
            (
                "factory-floor:clusters",
                "must be a list, each item a mapping ('array<object>' in Pulumi.yaml), got a mapping",
            )
        ],
    ),
    (
        "list-item-that-is-no-mapping",
        dev_with("  factory-floor:teams:\n", "  factory-floor:teams:\n    - ops\n"),
        [("factory-floor:teams[0]", "must be a mapping (teams is 'array<object>' in Pulumi.yaml), got 'ops'")],
    ),
    (
        "object-section-written-as-a-list",
        dev_with("  factory-floor:security:\n", "  factory-floor:protection: [stateful]\n  factory-floor:security:\n"),
        [("factory-floor:protection", "must be a mapping ('object' in Pulumi.yaml), got a list")],
    ),
    (
        "object-section-left-empty",
        dev_with("  factory-floor:security:\n", "  factory-floor:site:\n  factory-floor:security:\n"),
        [("factory-floor:site", "must be a mapping ('object' in Pulumi.yaml), got nothing (an empty value, or null)")],
    ),
    (
        "scalar-written-as-a-list",
        dev_with("factory-floor:environment: development", "factory-floor:environment: [development]"),
        [("factory-floor:environment", "must be text ('string' in Pulumi.yaml), got a list")],
    ),
]


@pytest.mark.parametrize(("text", "expected"), [m[1:] for m in MISSHAPEN], ids=[m[0] for m in MISSHAPEN])
def test_a_value_not_of_its_declared_type_is_refused_as_the_cli_refuses_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: list[tuple[str, str]]
) -> None:
    err = _plan(tmp_path, text, capsys)
    assert "the Pulumi CLI refuses this stack before the program runs" in err
    assert "reference: docs/configuration.md" in err
    reported = [line.removeprefix("  - ") for line in err.splitlines() if line.startswith("  - ")]
    assert reported == [f"{path}: {message}" for path, message in expected]


def test_every_misshapen_value_is_listed_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = dev_with("  factory-floor:teams:\n", "  factory-floor:teams: platform-dev\n  factory-floor:unused:\n")
    text = text.replace("  factory-floor:lines:\n", "  factory-floor:lines:\n    - 1\n")
    reported = [line.split(": ", 1)[0] for line in _plan(tmp_path, text, capsys).splitlines() if "  - " in line]
    assert reported == ["  - factory-floor:teams", "  - factory-floor:lines[0]"]
