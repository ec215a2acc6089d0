"""`python -m offline.recover`: every scenario's procedure for every reference stack keeps the facts an operator
relies on — locations read-only before any restore, platform before lines, lines by criticality, the right
store (never the compromised or lost one), the datastore commands per distribution, durations against each RTO —
and bad input ends with exit 2 and the option at fault, never a traceback."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import pytest

from components.backup.config import CLOUDS, Objective
from components.backup.velero import NAMESPACE as VELERO_CHART_NAMESPACE
from components.config.document import FactoryConfig
from components.core import vocabulary as vocab
from components.inventory import platform_namespaces as inventory_platform_namespaces
from offline import recover
from offline.recovery import conventions as names
from offline.recovery.choice import own_cloud, written_stores
from offline.recovery.procedure import (
    MINUTES,
    Procedure,
    RecoveryInputError,
    Request,
    Step,
    build,
    timings,
)
from offline.recovery.text import clock, render
from offline.stackfile import load_config
from tests.support.projects import dev_with, project_copy

ROOT = Path(__file__).resolve().parents[2]
STACKS = ("dev", "pilsen", "rheinfeld")
ORDER = ("critical", "high", "standard")  # what the user relies on, written here, not imported
RESTORE = re.compile(
    r"^velero restore create (\S+) (--from-schedule (\S+)|--from-backup \"\$B\") --include-namespaces (\S+) --wait$"
)


@cache
def loaded(stack: str) -> tuple[FactoryConfig, tuple[str, ...]]:
    config, environments = recover.load(stack, ROOT)
    return config, tuple(environments)


def cases() -> list[tuple[str, str, dict[str, str]]]:
    """Every scenario of every reference stack, with every cluster, line namespace and cloud it can take."""
    found: list[tuple[str, str, dict[str, str]]] = []
    for stack in STACKS:
        config, _ = loaded(stack)
        stores = list(config.backup.stores())
        found += [(stack, "namespace-lost", {"namespace": line.namespace}) for line in config.lines]
        found += [(stack, "cluster-lost", {"cluster": c.name}) for c in config.clusters]
        found.append((stack, "site-lost", {}))
        found += [(stack, "cloud-account-lost", {"cloud": cloud}) for cloud in stores if len(stores) > 1]
        found += [(stack, "ransomware", {"cluster": c.name}) for c in config.clusters]
        found += [(stack, "ransomware", {"cluster": c.name, "cloud": s}) for c in config.clusters for s in stores]
    return found


def case_id(case: tuple[str, str, dict[str, str]]) -> str:
    stack, scenario, flags = case
    return "-".join([stack, scenario, *flags.values()])


def procedure(stack: str, scenario: str, **flags: str) -> Procedure:
    config, environments = loaded(stack)
    request = Request(stack, scenario, flags.get("cluster"), flags.get("namespace"), flags.get("cloud"))  # type: ignore[arg-type]
    return build(config, request, environments)


def commands(steps: Sequence[Step]) -> list[str]:
    return [command for step in steps for command in step.commands]


CASES = cases()


def test_the_sweep_covers_every_scenario_and_stack() -> None:
    assert {(stack, scenario) for stack, scenario, _ in CASES} >= {
        (stack, scenario)
        for stack in STACKS
        for scenario in ("namespace-lost", "cluster-lost", "site-lost", "ransomware")
    } | {("pilsen", "cloud-account-lost"), ("rheinfeld", "cloud-account-lost")}


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_locations_go_read_only_before_any_restore_and_the_platform_before_lines(
    case: tuple[str, str, dict[str, str]],
) -> None:
    result = procedure(case[0], case[1], **case[2])
    restored = [r for r in result.clusters if r.choice is not None]
    assert restored or case[1] == "cloud-account-lost"
    for recovery in restored:
        kinds = [step.kind for step in recovery.steps]
        first_line = kinds.index("line") if "line" in kinds else len(kinds)
        assert "read-only" in kinds[:first_line] and "platform" in kinds[:first_line], kinds
        lines = commands(recovery.steps)
        first_restore = next(i for i, c in enumerate(lines) if c.startswith("velero restore create"))
        read_only = [i for i, c in enumerate(lines) if names.READ_ONLY in c and "patch" in c]
        # every location this cluster still uses is read-only before the first restore
        patched = {
            c.split(" patch backupstoragelocation ")[1].split()[0]
            for c in lines[:first_restore]
            if " patch backupstoragelocation " in c and '"accessMode":"ReadOnly"' in c
        }
        written = written_stores(result.config, recovery.cluster)
        usable = {c for c in written if c != case[2].get("cloud") or case[1] == "ransomware"}
        assert usable <= patched, (usable, patched)
        assert read_only and max(read_only) < first_restore
        assert any(c.startswith("pulumi up ") for c in lines[:first_restore])
    # and in the text the user copies from
    text = render(result)
    if restored:
        assert text.index('"accessMode":"ReadOnly"') < text.index("velero restore create")
        assert text.index("pulumi up --stack") < text.index("velero restore create")


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_lines_come_back_by_criticality_each_with_its_own_restore(case: tuple[str, str, dict[str, str]]) -> None:
    result = procedure(case[0], case[1], **case[2])
    config = result.config
    for recovery in (r for r in result.clusters if r.choice is not None):
        cloud = recovery.choice.cloud  # type: ignore[union-attr]
        restores = [RESTORE.match(c) for c in commands(recovery.steps) if c.startswith("velero restore create")]
        assert all(restores), [c for c in commands(recovery.steps) if c.startswith("velero restore")]
        namespaces = [m[4] for m in restores if m]
        expected = [line for line in config.lines_on(recovery.cluster.name)]
        if case[1] == "namespace-lost":
            expected = [line for line in expected if line.namespace == case[2]["namespace"]]
        assert sorted(namespaces) == sorted(line.namespace for line in expected)  # each line once
        ranks = [
            ORDER.index(config.lines[[x.namespace for x in config.lines].index(n)].criticality) for n in namespaces
        ]
        assert ranks == sorted(ranks), namespaces
        for match in (m for m in restores if m):
            line = names.line_of(match[4])
            assert match[4] == names.line_namespace(line or "")
            if case[1] == "ransomware":
                assert match[3] is None  # never the newest backup of a compromised cluster
            else:
                policy, schedule_cloud = match[3].rsplit("-", 1)
                assert schedule_cloud == cloud and policy in {p.name for p in config.backup.policies}


@pytest.mark.parametrize("stack", STACKS)
def test_ransomware_never_restores_from_the_clusters_own_cloud_when_another_store_exists(stack: str) -> None:
    config, _ = loaded(stack)
    for cluster in config.clusters:
        result = procedure(stack, "ransomware", cluster=cluster.name)
        choice = result.clusters[0].choice
        assert choice is not None
        own = own_cloud(cluster)
        others = [c for c in config.backup.stores() if c != own]
        text = render(result)
        if own is not None and others:
            assert choice.cloud != own
            assert f"not {own}: the store on the cluster's own cloud" in text
        if own is None:
            assert "has no cloud of its own" in text
        assert "--cluster-reset" not in text  # a compromised datastore is never restored
        assert "Never restore cluster" in text


def test_rheinfelds_eks_cluster_under_ransomware_restores_from_another_cloud_and_says_why() -> None:
    text = render(procedure("rheinfeld", "ransomware", cluster="cloud"))
    assert "restore from location `gcp`" in text
    assert "cluster 'cloud' (eks) runs in aws; not aws:" in text
    assert "--from-schedule" not in "\n".join(x for x in text.splitlines() if x.startswith("velero restore create"))


def test_a_cloud_named_compromised_is_avoided_too() -> None:
    result = procedure("rheinfeld", "ransomware", cluster="plant", cloud="gcp")
    assert result.clusters[0].choice is not None and result.clusters[0].choice.cloud == "azure"
    assert "not gcp: named as compromised too (--cloud)" in render(result)


def test_ransomware_with_only_the_clusters_own_cloud_left_warns() -> None:
    config, _ = loaded("rheinfeld")
    only_aws = config.model_copy(update={"backup": config.backup.model_copy(update={"gcp": None, "azure": None})})
    result = build(only_aws, Request("rheinfeld", "ransomware", "cloud"))
    assert result.clusters[0].choice is not None and result.clusters[0].choice.cloud == "aws"
    assert "WARNING: every store of this factory is on a cloud the attacker may reach (aws)" in render(result)


CLOUD_LOSSES = [(stack, flags["cloud"]) for stack, scenario, flags in CASES if scenario == "cloud-account-lost"]


@pytest.mark.parametrize(("stack", "lost"), CLOUD_LOSSES)
def test_cloud_account_lost_never_uses_the_lost_cloud(stack: str, lost: str) -> None:
    result = procedure(stack, "cloud-account-lost", cloud=lost)
    text = render(result)
    assert all(r.choice is None or r.choice.cloud != lost for r in result.clusters)
    every = commands(result.steps())
    assert not [c for c in every if c.startswith("velero restore create") and f"-{lost} " in c]
    assert not [c for c in every if f"backupstoragelocation {lost} " in c and "ReadWrite" in c]  # stays shut
    config = result.config
    for cluster in config.clusters:
        if own_cloud(cluster) == lost and cluster.distribution in ("eks", "gke", "aks"):
            assert f"Cluster `{cluster.name}` ran in the lost {lost} account" in text
        else:  # its lines keep running; only the lost location is shut and its schedules paused
            assert f"Shut location `{lost}` on cluster `{cluster.name}`" in text
            assert names.access_mode_patch(lost, names.READ_ONLY) in every


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("scenario", ["cluster-lost", "site-lost"])
def test_k3s_and_rke2_get_the_cluster_reset_commands_managed_clusters_the_note(stack: str, scenario: str) -> None:
    config, _ = loaded(stack)
    for cluster in config.clusters:
        if scenario == "site-lost" and cluster.distribution == "eks":
            continue
        text = render(procedure(stack, scenario, cluster=cluster.name))
        dist = cluster.distribution
        if dist in ("k3s", "rke2"):
            data = f"/var/lib/rancher/{dist}"
            assert f'{dist} server --cluster-reset --cluster-reset-restore-path="$SNAPSHOT" --token="$TOKEN"' in text
            assert f"rm -rf {data}/server/db && systemctl start" in text
            assert text.index("--cluster-reset") < text.index('"accessMode":"ReadOnly"')
            assert "runs the cluster's etcd itself" not in text
        else:
            assert dist == "eks"
            assert "EKS runs the cluster's etcd itself: there is no etcd snapshot to take or restore" in text
            assert "--cluster-reset" not in text


def test_site_lost_leaves_the_managed_cluster_alone_and_names_what_must_be_back_first() -> None:
    result = procedure("rheinfeld", "site-lost")
    assert [r.cluster.name for r in result.clusters] == ["plant"]
    text = render(result)
    assert "harbor.rheinfeld.example.com/mirror" in text and "https://vault.rheinfeld.example.com:8200" in text


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_each_line_is_compared_with_its_rto(case: tuple[str, str, dict[str, str]]) -> None:
    result = procedure(case[0], case[1], **case[2])
    text = render(result)
    for recovery in (r for r in result.clusters if r.choice is not None):
        found = timings(result, recovery)
        assert [t.line.name for t in found] == [s.line for s in recovery.steps if s.kind == "line"]
        elapsed = sum(s.minutes for s in result.first)
        for step in recovery.steps:
            elapsed += step.minutes
            if step.kind == "line":
                timing = next(t for t in found if t.line.name == step.line)
                assert timing.minutes == elapsed
                assert timing.rto_hours == result.config.backup.objective(timing.line.criticality).rto_hours
                verdict = "within" if timing.minutes <= timing.rto_hours * 60 else "OVER"
                row = f"| `{timing.line.namespace}` | {timing.line.criticality} | {clock(timing.minutes)} | "
                assert f"{row}{timing.rto_hours:g} h | {verdict}" in text


def test_a_line_that_cannot_be_back_in_time_is_flagged() -> None:
    config, _ = loaded("rheinfeld")
    tight = {**config.backup.objectives, "critical": Objective.model_validate({"rpoHours": 1, "rtoHours": 1})}
    strict = config.model_copy(update={"backup": config.backup.model_copy(update={"objectives": tight})})
    result = build(strict, Request("rheinfeld", "cluster-lost", "plant"))
    found = timings(result, result.clusters[0])
    machining = next(t for t in found if t.line.name == "machining")
    assert not machining.within
    expected = (
        MINUTES["prepare"] + MINUTES["datastore"] + MINUTES["read-only"] + MINUTES["platform"] + MINUTES["backups"]
    ) + MINUTES["line"]
    assert machining.minutes == expected
    assert f"| `line-machining` | critical | {clock(expected)} | 1 h | OVER by {clock(expected - 60)} |" in render(
        result
    )


def test_a_line_no_policy_covers_is_said_to_have_no_backup() -> None:
    config, _ = loaded("rheinfeld")
    fewer = [p for p in config.backup.policies if p.name != "standard-lines"]
    partial = config.model_copy(update={"backup": config.backup.model_copy(update={"policies": fewer})})
    text = render(build(partial, Request("rheinfeld", "cluster-lost", "plant")))
    assert "No backup policy covers line `heat-treatment`" in text
    assert "--include-namespaces line-heat-treatment" not in text


def test_a_line_takes_the_policy_with_the_freshest_copy() -> None:
    config, _ = loaded("rheinfeld")
    daily = config.backup.policies[0].model_copy(
        update={"name": "all-daily", "criticality": [], "lines": ["machining"], "schedule": "0 3 * * *"}
    )
    more = config.model_copy(
        update={"backup": config.backup.model_copy(update={"policies": [daily, *config.backup.policies]})}
    )
    text = render(build(more, Request("rheinfeld", "namespace-lost", namespace="line-machining")))
    assert "--from-schedule critical-lines-gcp --include-namespaces line-machining" in text


def test_the_conventions_are_the_components_names() -> None:
    assert names.VELERO_NAMESPACE == VELERO_CHART_NAMESPACE == "velero"
    assert [names.location_name(c) for c in CLOUDS] == ["aws", "gcp", "azure"]
    assert names.schedule_name("critical-lines", "gcp") == "critical-lines-gcp"
    assert names.line_namespace("weld") == vocab.LINE_NAMESPACE_PREFIX + "weld" == "line-weld"
    assert (
        names.line_of("line-weld") == "weld" and names.line_of("kube-system") is None and names.line_of("line-") is None
    )
    assert names.platform_namespaces() == inventory_platform_namespaces()
    assert names.access_mode_patch("gcp", names.READ_ONLY) == (
        'kubectl -n velero patch backupstoragelocation gcp --type merge -p \'{"spec":{"accessMode":"ReadOnly"}}\''
    )
    with pytest.raises(ValueError, match="not a backup cloud"):
        names.location_name("oci")  # type: ignore[arg-type]


def test_out_writes_the_text_it_prints(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "deep" / "plant.md"
    argv = ["--stack", "rheinfeld", "--scenario", "cluster-lost", "--cluster", "plant", "--out", str(out)]
    assert recover.main(argv) == recover.EXIT_OK
    printed = capsys.readouterr().out
    assert out.read_text() == printed == render(procedure("rheinfeld", "cluster-lost", cluster="plant"))


BAD = [
    (["--stack", "nope", "--scenario", "cluster-lost"], "--stack", "stacks: dev, pilsen, rheinfeld"),
    (["--scenario", "cluster-lost"], "--stack", "is required"),
    (["--stack", "dev"], "--scenario", "namespace-lost, cluster-lost, site-lost, cloud-account-lost, ransomware"),
    (["--stack", "dev", "--scenario", "fire"], "--scenario", "invalid choice: 'fire'"),
    (["--stack", "dev", "--scenario", "cluster-lost"], "--cluster", "needs the cluster it concerns (clusters: edge)"),
    (["--stack", "dev", "--scenario", "ransomware"], "--cluster", "(clusters: edge)"),
    (["--stack", "dev", "--scenario", "cluster-lost", "--cluster", "edgy"], "--cluster", "(clusters: edge)"),
    (
        ["--stack", "rheinfeld", "--scenario", "site-lost", "--cluster", "cloud"],
        "--cluster",
        "clusters at the site: plant",
    ),
    (["--stack", "dev", "--scenario", "namespace-lost"], "--namespace", "line-assembly, line-quality"),
    (
        ["--stack", "dev", "--scenario", "namespace-lost", "--namespace", "line-paint"],
        "--namespace",
        "allowed: line-assembly, line-quality",
    ),
    (
        ["--stack", "dev", "--scenario", "namespace-lost", "--namespace", "falco"],
        "--namespace",
        "comes back with `pulumi up`",
    ),
    (
        ["--stack", "dev", "--scenario", "site-lost", "--namespace", "line-quality"],
        "--namespace",
        "only namespace-lost",
    ),
    (["--stack", "dev", "--scenario", "cloud-account-lost"], "--cloud", "one of: aws, gcp, azure"),
    (["--stack", "dev", "--scenario", "cloud-account-lost", "--cloud", "aws"], "--cloud", "no copy survives its loss"),
    (["--stack", "pilsen", "--scenario", "cloud-account-lost", "--cloud", "gcp"], "--cloud", "stores: aws, azure"),
    (["--stack", "dev", "--scenario", "cloud-account-lost", "--cloud", "ibm"], "--cloud", "invalid choice: 'ibm'"),
    (
        ["--stack", "dev", "--scenario", "cluster-lost", "--cluster", "edge", "--cloud", "aws"],
        "--cloud",
        "takes no cloud",
    ),
]


@pytest.mark.parametrize(("argv", "argument", "allowed"), BAD, ids=[" ".join(a) for a, _, _ in BAD])
def test_bad_input_exits_2_naming_the_argument_and_what_is_allowed(
    argv: list[str], argument: str, allowed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert recover.main(argv) == recover.EXIT_CONFIG
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"error: {argument}: ") and allowed in captured.err, captured.err


def test_a_stack_without_backup_stores_or_with_config_errors_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dev = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()
    backup = dev[dev.index("  factory-floor:backup:") :]  # the last section
    assert "factory-floor:" not in backup.split("\n", 1)[1]
    project = project_copy(
        tmp_path,
        {
            "nostore": dev.replace(backup, ""),
            "broken": dev_with(
                "cluster: edge\n      team: platform-dev\n      flows",
                "cluster: edgy\n      team: platform-dev\n      flows",
            ),
        },
    )
    assert recover.main(["--stack", "nostore", "--scenario", "site-lost", "--project-dir", str(project)]) == 2
    assert capsys.readouterr().err.startswith("error: --stack: 'nostore' declares no backup store")
    assert recover.main(["--stack", "broken", "--scenario", "site-lost", "--project-dir", str(project)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --stack: ") and "unknown cluster 'edgy'" in err


def test_the_module_exits_2_without_a_traceback() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "offline.recover", "--stack", "rheinfeld", "--scenario", "cluster-lost"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr == "error: --cluster: cluster-lost needs the cluster it concerns (clusters: plant, cloud)\n"


def test_the_disaster_recovery_page_shows_a_generated_procedure_as_generated() -> None:
    page = (ROOT / "docs" / "disaster-recovery.md").read_text()
    command = "python -m offline.recover --stack pilsen --scenario namespace-lost --namespace line-weld"
    assert command in page
    example = page.split("<!-- generated: " + command + " -->\n````markdown\n", 1)[1].split("````\n", 1)[0]
    assert example == render(procedure("pilsen", "namespace-lost", namespace="line-weld")), (
        "docs/disaster-recovery.md shows a stale procedure: paste the output of the command again"
    )


def test_a_cluster_whose_only_store_is_lost_gets_a_clear_refusal_not_a_traceback() -> None:
    """Without Vault, rheinfeld's EKS cluster writes to the AWS store alone (its own identity): losing that account
    leaves it no copy, and the procedure says so at the option to blame."""
    _settings, config = load_config(ROOT, "rheinfeld")
    security = config.security.model_copy(update={"vault": None})
    no_vault = config.model_copy(update={"security": security})
    with pytest.raises(RecoveryInputError) as error:
        build(no_vault, Request("rheinfeld", "cloud-account-lost", cluster="cloud", cloud="aws"))
    assert str(error.value) == (
        "--cloud: cluster 'cloud' writes its backups to no store outside aws (aws): no copy to restore from"
    )
