"""`make bench-config`: how long `make plan` takes to judge a broken stack file of N lines.

Each stack has N lines, and every line has mistakes: a flow to a line that does not exist (so thousands of
"did you mean" candidates), an unknown team, and an SLO out of range. Judging such a file must stay linear
in its size. Timed: reading the file and validating it, through `offline.plan.plan`, up to the refusal.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml

from offline.plan import PROJECT_DIR, PlanConfigError, plan

SIZES = (250, 1000, 2000, 5000)


def broken_stack(lines: int) -> str:
    dev = yaml.safe_load((PROJECT_DIR / "stacks" / "Pulumi.dev.yaml").read_text())
    dev["config"]["factory-floor:lines"] = [
        {
            "name": f"cell-{i:05d}",
            "cluster": "edge",
            "team": f"team-{i}",
            "sloTarget": 85,
            "flows": [{"to": f"missing-{i:05d}", "ports": [4840]}],
        }
        for i in range(lines)
    ]
    return yaml.safe_dump(dev, sort_keys=False)


def judge(lines: int) -> tuple[float, int, int]:
    """Seconds to refuse the stack, its size in bytes and the number of problems found."""
    with tempfile.TemporaryDirectory() as scratch:
        project = Path(scratch)
        for name in ("Pulumi.yaml", "__main__.py", "components", "policy"):
            (project / name).symlink_to(PROJECT_DIR / name)
        (project / "stacks").mkdir()
        text = broken_stack(lines)
        (project / "stacks" / "Pulumi.broken.yaml").write_text(text)
        start = time.perf_counter()
        try:
            plan("broken", project)
        except PlanConfigError as error:
            found = int(str(error).split("(", 1)[1].split(" ", 1)[0])
            return time.perf_counter() - start, len(text), found
    raise RuntimeError("the broken stack was accepted")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, nargs="*", default=list(SIZES), help="stack sizes in lines")
    args = parser.parse_args(argv)
    print(f"{'lines':>6}  {'bytes':>9}  {'problems':>8}  {'seconds':>7}")
    for lines in args.lines:
        seconds, size, found = judge(lines)
        print(f"{lines:>6}  {size:>9}  {found:>8}  {seconds:>7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
