"""`make recover STACK=<s> SCENARIO=<scenario> [RECOVER_FLAGS=...]`: the ordered, copy-pasteable recovery procedure
of one factory for one scenario, generated from its stack file (docs/disaster-recovery.md).

    python -m offline.recover --stack rheinfeld --scenario cluster-lost --cluster plant [--out FILE]

Scenarios: namespace-lost (--namespace line-<line>), cluster-lost (--cluster), site-lost (every cluster at the
site, or --cluster), cloud-account-lost (--cloud: the lost one), ransomware (--cluster; --cloud: a cloud also
compromised). Exit codes: 0 the procedure was printed (and written to --out), 2 the input cannot be answered.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import NoReturn

from components.backup.config import CLOUDS
from components.config.document import FactoryConfig
from components.config.problems import FactoryConfigError
from offline.recovery.procedure import SCENARIOS, RecoveryInputError, Request, build
from offline.recovery.text import render
from offline.stackfile import StackFileError, available_stacks, load_config

PROJECT_DIR = Path(__file__).resolve().parent.parent
EXIT_OK, EXIT_CONFIG = 0, 2
ALLOWED = {
    "--stack": "stacks: " + ", ".join(available_stacks(PROJECT_DIR)),
    "--scenario": "one of: " + ", ".join(SCENARIOS),
}


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is an error this command reports (exit 2), not a SystemExit from inside."""

    def error(self, message: str) -> NoReturn:
        found = re.match(r"argument (--[\w-]+): (.*)", message, re.DOTALL)
        if found:
            raise RecoveryInputError(found[1], found[2])
        missing = re.match(r"the following arguments are required: (--[\w-]+)", message)
        if missing:
            raise RecoveryInputError(missing[1], f"is required ({ALLOWED.get(missing[1], 'see --help')})")
        raise RecoveryInputError("usage", f"{message} (see --help)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m offline.recover", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--stack", required=True, help="stack name (stacks/Pulumi.<stack>.yaml)")
    parser.add_argument("--scenario", required=True, choices=SCENARIOS, help="what was lost")
    parser.add_argument("--cluster", help="the cluster concerned (cluster-lost, ransomware; optional elsewhere)")
    parser.add_argument("--namespace", help="the lost line namespace, line-<line> (namespace-lost)")
    parser.add_argument(
        "--cloud", choices=CLOUDS, help="the lost cloud (cloud-account-lost) or one also compromised (ransomware)"
    )
    parser.add_argument("--out", type=Path, help="also write the procedure to this file")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help="directory holding Pulumi.yaml")
    return parser


def load(stack: str, project_dir: Path) -> tuple[FactoryConfig, list[str]]:
    """The stack's validated config and the ESC environments it imports; RecoveryInputError on --stack."""
    try:
        settings, config = load_config(project_dir, stack)
    except (StackFileError, FactoryConfigError) as error:
        raise RecoveryInputError("--stack", str(error)) from None
    return config, list(settings.environments)


def procedure_text(argv: list[str] | None) -> tuple[str, Path | None]:
    args = _parser().parse_args(argv)
    config, environments = load(args.stack, args.project_dir.resolve())
    request = Request(args.stack, args.scenario, args.cluster, args.namespace, args.cloud)
    return render(build(config, request, environments)), args.out


def main(argv: list[str] | None = None) -> int:
    try:
        text, out = procedure_text(argv)
    except RecoveryInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
    sys.stdout.write(text)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
