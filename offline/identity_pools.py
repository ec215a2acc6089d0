"""Stacks that share a GKE Workload Identity pool must not share a line name.

A line's GCP service account trusts `serviceAccount:<project>.svc.id.goog[line-<line>/line-workload]`, a member
that names no cluster: every GKE cluster of the project with Workload Identity issues it to any pod running as
`line-workload` in a namespace `line-<line>`. Two factories whose GKE clusters use the same project and both
have a line `paint` can each act as the other's `paint` identity.

One stack cannot see another (`pulumi up` runs the program of one stack, and a CrossGuard policy judges that
stack's resources only), so this is checked where all stack files are at hand: `make plan` reads every stack
file under stacks/ and refuses the planned stack (exit 2) if it shares a member with another. A stack that lives
elsewhere (another repository, another project directory) is beyond its reach: give each factory its own GCP
project, or its own line names. Within one stack, line names are unique, so lines never collide there.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from components.config.document import FactoryConfig
from components.config.loader import load_factory_config
from components.config.problems import FactoryConfigError
from components.core.contracts import LINE_WORKLOAD_SERVICE_ACCOUNT, METADATA_IDENTITY_DISTRIBUTIONS
from components.identity.trust import gke_pool
from offline.stackfile import StackFileError, available_stacks, load_stack

Member = tuple[str, str, str]  # (Workload Identity pool, namespace, service account)


def gke_members(config: FactoryConfig) -> dict[Member, str]:
    """Every GKE Workload Identity member the stack's lines are trusted as -> which cluster and line."""
    found: dict[Member, str] = {}
    for cluster in config.clusters:
        identity = cluster.workload_identity
        if identity is None or identity.gcp is None or cluster.distribution not in METADATA_IDENTITY_DISTRIBUTIONS:
            continue
        for line in config.lines_on(cluster.name):
            member = (gke_pool(identity.gcp), line.namespace, LINE_WORKLOAD_SERVICE_ACCOUNT)
            found[member] = f"line '{line.name}' on cluster '{cluster.name}'"
    return found


def shared_members(stack: str, config: FactoryConfig, others: Mapping[str, FactoryConfig]) -> list[str]:
    """One message per member `stack` shares with another stack."""
    mine = gke_members(config)
    messages = []
    for other, other_config in sorted(others.items()):
        for member, owner in sorted(gke_members(other_config).items()):
            if member in mine:
                pool, namespace, account = member
                messages.append(
                    f"stack '{stack}' ({mine[member]}) and stack '{other}' ({owner}) share the GKE Workload Identity "
                    f"member serviceAccount:{pool}[{namespace}/{account}]: each could act as the other's GCP "
                    "service account; rename one line or give one factory its own GCP project"
                )
    return messages


def other_stacks(project_dir: Path, stack: str) -> dict[str, FactoryConfig]:
    """The other stack files of the project that validate; a broken one is its own plan's problem."""
    found = {}
    for name in available_stacks(project_dir):
        if name == stack:
            continue
        try:
            settings = load_stack(project_dir, name)
            found[name] = load_factory_config(settings.raw_project_config(), require_kubeconfigs=False)
        except (StackFileError, FactoryConfigError):
            continue
    return found
