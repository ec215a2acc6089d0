"""URN snapshots of the reference stacks: a resource whose URN changes is, to the engine, deleted and
created anew — on a plant that replaces production objects. So is a resource whose name where it lives
changes (a Kubernetes object's namespace/name, a Helm release, a cloud resource's name) under the same URN.
Each reference stack's URNs, each with that identity, are committed (tests/platform/urns/<stack>.txt); a test
compares every plan with them.

`python -m offline.urns` (`make urns`) rewrites the snapshots after a reviewed change. A move that keeps its
old URN as an alias (`pulumi.ResourceOptions(aliases=[...])`) is no replacement: the engine adopts the
existing object under the new URN.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

from offline.harness import Recording, Registration
from offline.plan import PROJECT_DIR, plan
from offline.render import redact
from offline.stackfile import available_stacks

SNAPSHOTS = PROJECT_DIR / "tests" / "platform" / "urns"
CHART_TYPE = "kubernetes:helm.sh/v4:Chart"


# inputs that name a cloud resource where it lives, by provider convention
_CLOUD_NAMES = ("name", "accountId", "resourceName", "federatedIdentityCredentialResourceName", "bucket")


@dataclass(frozen=True)
class Changes:
    replaced: list[str]  # in the snapshot, gone, and no resource names it as an alias: deleted on `up`
    moved: list[str]  # in the snapshot, gone, but aliased by a resource of this plan: adopted, not replaced
    added: list[str]  # new URNs (including a move's new URN): review, then `make urns`
    renamed: list[str] = field(default_factory=list)  # same URN, another name where it lives: replaced

    @property
    def clean(self) -> bool:
        return not (self.replaced or self.moved or self.added or self.renamed)

    def report(self, stack: str) -> str:
        lines = [f"stack {stack}: URNs differ from {SNAPSHOTS.name}/{stack}.txt"]
        for title, urns in (
            ("would be DELETED and re-created (no alias keeps them)", self.replaced),
            ("moved with an alias (kept)", self.moved),
            ("RENAMED where it lives, so replaced (was -> is)", self.renamed),
            ("new", self.added),
        ):
            lines += [f"  {title}:", *(f"    {urn}" for urn in urns)] if urns else []
        lines.append("If the change is intended and aliased, run `make urns` and commit the snapshot.")
        return "\n".join(lines)


def identity(r: Registration) -> str:
    """What a resource is called where it lives; '' for providers and components (their URN is all)."""
    inputs = redact(r.inputs)
    if r.type == CHART_TYPE:
        return f"release {inputs.get('name')} in {inputs.get('namespace')}"
    if not r.custom or r.type.startswith("pulumi:providers:"):
        return ""
    if r.type.startswith("kubernetes:"):
        metadata = inputs.get("metadata") or {}
        where = f"{metadata['namespace']}/" if metadata.get("namespace") else ""
        return f"{r.type.rsplit(':', 1)[-1]} {where}{metadata.get('name', '?')}"
    names = [f"{key}={inputs[key]}" for key in _CLOUD_NAMES if isinstance(inputs.get(key), str | int)]
    return " ".join(names) or "?"


def urns(recording: Recording) -> dict[str, str]:
    """URN -> identity, for every resource of the plan."""
    return {r.urn: identity(r) for r in sorted(recording.resources, key=lambda r: r.urn)}


def compare(snapshot: dict[str, str], recording: Recording) -> Changes:
    current = urns(recording)
    aliased = {alias for r in recording.resources for alias in r.aliases}
    gone = sorted(set(snapshot) - set(current))
    return Changes(
        replaced=[urn for urn in gone if urn not in aliased],
        moved=[urn for urn in gone if urn in aliased],
        added=sorted(set(current) - set(snapshot)),
        renamed=[
            f"{urn}: {snapshot[urn]} -> {current[urn]}"
            for urn in sorted(set(snapshot) & set(current))
            if snapshot[urn] != current[urn]
        ],
    )


def snapshot_of(stack: str) -> dict[str, str]:
    path = SNAPSHOTS / f"{stack}.txt"
    if not path.exists():
        return {}
    found = {}
    for line in path.read_text().splitlines():
        urn, _, name = line.partition("\t")
        if urn:
            found[urn] = name
    return found


def write(stack: str) -> Path:
    SNAPSHOTS.mkdir(parents=True, exist_ok=True)
    path = SNAPSHOTS / f"{stack}.txt"
    path.write_text("".join(f"{urn}\t{name}\n" for urn, name in urns(plan(stack).recording).items()))
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
