"""`make plan [STACK=dev]`: what `pulumi preview --policy-pack policy` would show, without the CLI.

Exit codes: 0 clean, 1 a mandatory policy violation, 2 a configuration error.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from components.config.document import FactoryConfig
from components.config.problems import FactoryConfigError
from components.inventory import pack_settings
from offline import bundle, compliance, graph, harness, identity_pools, node_config, plugins, render, zones
from offline.policy_runner import Verdict, evaluate, load_policies, mandatory_violations
from offline.rules import write_rules
from offline.stackfile import OFFLINE_SECRET, StackFileError, StackSettings, load_config
from offline.vault import write_vault_setup

PROJECT_DIR = Path(__file__).resolve().parent.parent
EXIT_OK, EXIT_VIOLATION, EXIT_CONFIG = 0, 1, 2


@dataclass
class PlanResult:
    settings: StackSettings
    config: FactoryConfig
    recording: harness.Recording
    verdicts: list[Verdict]
    policy_config: dict[str, dict[str, Any]]

    @property
    def exit_code(self) -> int:
        return EXIT_VIOLATION if mandatory_violations(self.verdicts) else EXIT_OK


class PlanConfigError(Exception):
    """The stack cannot be planned; the message is for the user as it is."""


def stand_in_credentials(settings: StackSettings, config: FactoryConfig) -> None:
    """Mocks never contact a cluster: a kubeconfig the stack does not carry is replaced by a secret stand-in."""
    raw = settings.raw_project_config()
    for cluster in config.clusters:
        key = cluster.kubeconfig.secret_key
        if key not in raw:
            settings.add_secret(
                key,
                OFFLINE_SECRET,
                f"kubeconfig of cluster '{cluster.name}' ({settings.project}:{key}) is not in the stack file; "
                "an offline stand-in is used",
            )


def run_stack(settings: StackSettings, project_dir: Path = PROJECT_DIR) -> harness.Recording:
    """The project's real `__main__.py` under the mock runtime, with the config the CLI would hand it."""
    return harness.run(
        harness.main_program(project_dir),
        project=settings.project,
        stack=settings.stack,
        config=settings.config,
        secret_keys=settings.secret_keys,
    )


def plan(stack: str, project_dir: Path = PROJECT_DIR) -> PlanResult:
    try:
        settings, config = load_config(project_dir, stack)
    except (StackFileError, FactoryConfigError) as error:
        raise PlanConfigError(str(error)) from None
    shared = identity_pools.shared_members(stack, config, identity_pools.other_stacks(project_dir, stack))
    if shared:
        raise PlanConfigError("\n".join(["stacks share a GKE Workload Identity member:", *shared]))
    stand_in_credentials(settings, config)
    try:
        recording = run_stack(settings, project_dir)
    except pulumi.RunError as error:
        raise PlanConfigError(str(error)) from None
    policies = load_policies(project_dir / "policy")
    policy_config = stack_policy_config(policies, config)
    verdicts = evaluate(policies, recording, config=policy_config)
    return PlanResult(settings, config, recording, verdicts, policy_config)


def stack_policy_config(policies: list[Any], config: FactoryConfig) -> dict[str, dict[str, Any]]:
    """The pack config this stack is judged with — what `pulumi preview --policy-pack-config` would read
    (written to build/<stack>/policy-config.json): its stage, the namespaces the baseline exempts and the
    images Gatekeeper allows, so CrossGuard and admission control agree."""
    settings = importlib.import_module("factory_policies.settings")
    return dict(settings.pack_config(policies, **pack_settings(config)))


def report(result: PlanResult) -> list[str]:
    lines = [f"Previewing stack '{result.settings.stack}' offline (Pulumi SDK mock runtime, no CLI)", ""]
    lines += [f"note: {note}" for note in result.settings.notes]
    lines += ["", *render.tree_lines(result.recording), "", "Resources by type:"]
    counts = render.type_counts(result.recording)
    lines += [f"    {count:>4}  {type_}" for type_, count in counts]
    lines += [f"    {sum(c for _, c in counts):>4}  total", ""]
    lines += [*graph.report_lines(result.recording), ""]
    lines += compliance.framework_lines(result.verdicts, result.recording, result.policy_config)
    violations = [v for verdict in result.verdicts for v in verdict.violations]
    if violations:
        lines += ["", "Violations:"]
        lines += [f"    [{v.level}] {v.policy}: {v.resource}: {v.message}" for v in violations]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stack", default="dev", help="stack name (stacks/Pulumi.<stack>.yaml)")
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "build", help="artifact root directory")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help="directory holding Pulumi.yaml")
    args = parser.parse_args(argv)
    try:
        result = plan(args.stack, args.project_dir.resolve())
    except PlanConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    out_dir = args.out / args.stack
    rendered = render.write_artifacts(out_dir, result.recording, result.verdicts)
    bundles = bundle.bundles(result.recording)
    pulumi_needs = plugins.pulumi_document(result.recording)
    bundle.write_bundle(out_dir, bundles, pulumi_needs)
    (out_dir / "compliance.md").write_text(
        compliance.compliance_markdown(args.stack, result.verdicts, result.recording, result.policy_config)
    )
    (out_dir / "policy-config.json").write_text(json.dumps(result.policy_config, indent=2, sort_keys=True) + "\n")
    print("\n".join(report(result)))
    print("\nCharts, images and footprint per cluster (build/<stack>/bundle.json):")
    print("\n".join(bundle.report_lines(bundles)))
    print("\nPulumi plugins to mirror, every one required by every preview (bundle.json `pulumi`, docs/air-gapped.md):")
    print("\n".join(plugins.report_lines(pulumi_needs)))
    descriptions = {
        (line.name, f.to): f.description for line in result.config.lines for f in line.flows if f.description
    }
    print("\nZones and conduits (IEC 62443):")
    print("\n".join(f"  {line}" for line in zones.write_zones(out_dir, result.recording, descriptions)))
    print("\nNode config for k3s/RKE2 (API server flags, CoreDNS; each file says where it goes and what then):")
    print("\n".join(f"  {line}" for line in node_config.write_node_config(out_dir, result.config)))
    print("\nPrometheus rules and alert routes (SLOs, restore drills, escrow; installed by the observability stack):")
    print("\n".join(f"  {line}" for line in write_rules(out_dir, result.config)))
    vault = write_vault_setup(out_dir, result.config)
    if vault:
        print("\nVault, for each line's own secret folder:")
        print("\n".join(f"  {line}" for line in vault))
    print(f"\nWrote {out_dir / 'plan.json'} and {len(rendered)} manifests under {out_dir / 'manifests'}")
    if result.exit_code == EXIT_VIOLATION:
        print(f"\n{len(mandatory_violations(result.verdicts))} mandatory policy violation(s)", file=sys.stderr)
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
