"""URN snapshots of the reference stacks: a resource whose URN changes is, to the engine, deleted and
created anew — on a plant that replaces production objects. Each reference stack's URNs are committed
(tests/platform/urns/<stack>.txt); a test compares every plan with them.

`python -m offline.urns` (`make urns`) rewrites the snapshots after a reviewed change. A move that keeps its
old URN as an alias (`pulumi.ResourceOptions(aliases=[...])`) is no replacement: the engine adopts the
existing object under the new URN.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from offline.harness import Recording
from offline.plan import PROJECT_DIR, plan
from offline.stackfile import available_stacks

SNAPSHOTS = PROJECT_DIR / "tests" / "platform" / "urns"


@dataclass(frozen=True)
class Changes:
    replaced: list[str]  # in the snapshot, gone, and no resource names it as an alias: deleted on `up`
    moved: list[str]  # in the snapshot, gone, but aliased by a resource of this plan: adopted, not replaced
    added: list[str]  # new URNs (including a move's new URN): review, then `make urns`

    @property
    def clean(self) -> bool:
        return not (self.replaced or self.moved or self.added)

    def report(self, stack: str) -> str:
        lines = [f"stack {stack}: URNs differ from {SNAPSHOTS.name}/{stack}.txt"]
        for title, urns in (
            ("would be DELETED and re-created (no alias keeps them)", self.replaced),
            ("moved with an alias (kept)", self.moved),
            ("new", self.added),
        ):
            lines += [f"  {title}:", *(f"    {urn}" for urn in urns)] if urns else []
        lines.append("If the change is intended and aliased, run `make urns` and commit the snapshot.")
        return "\n".join(lines)


def urns(recording: Recording) -> list[str]:
    return sorted(r.urn for r in recording.resources)


def compare(snapshot: list[str], recording: Recording) -> Changes:
    current = set(urns(recording))
    aliased = {alias for r in recording.resources for alias in r.aliases}
    gone = sorted(set(snapshot) - current)
    return Changes(
        replaced=[urn for urn in gone if urn not in aliased],
        moved=[urn for urn in gone if urn in aliased],
        added=sorted(current - set(snapshot)),
    )


def snapshot_of(stack: str) -> list[str]:
    path = SNAPSHOTS / f"{stack}.txt"
    return path.read_text().split() if path.exists() else []


def write(stack: str) -> Path:
    SNAPSHOTS.mkdir(parents=True, exist_ok=True)
    path = SNAPSHOTS / f"{stack}.txt"
    path.write_text("\n".join(urns(plan(stack).recording)) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stacks", nargs="*", help="stacks to snapshot (default: every reference stack)")
    args = parser.parse_args(argv)
    for stack in args.stacks or available_stacks(PROJECT_DIR):
        print(f"wrote {write(stack)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
