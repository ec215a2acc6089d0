"""The review of what a chart may do across the cluster, recorded on its catalogue entry.

A chart's ClusterRoles come with the chart; nobody re-reads them when the pin moves. So each chart entry
records the version whose templates were read, every ClusterRole it binds with the Secret verbs it holds in
every namespace, what the values narrow and why the rest is accepted. A version bump without a new review fails
the catalogue's tests (`unreviewed`), and `secret_readers` is the list the pack's and the tests' checks allow.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

Manifest = dict[str, Any]

# verbs that reveal a Secret's content (get) or every Secret (list, watch); `*` is all of them
READ_VERBS = frozenset({"get", "list", "watch", "*"})


@dataclass(frozen=True)
class ClusterRoleGrant:
    role: str  # the ClusterRole's name as the chart renders it (its release is named after the add-on)
    secrets: tuple[str, ...]  # verbs on Secrets in every namespace; () none
    why: str  # why the component needs it, or why it is accepted


@dataclass(frozen=True)
class RbacReview:
    version: str  # the chart version whose templates (and subcharts) were read
    cluster_roles: tuple[ClusterRoleGrant, ...]
    narrowed: str  # what the values switch off, and what no value can

    def secret_readers(self) -> dict[str, tuple[str, ...]]:
        return {g.role: g.secrets for g in self.cluster_roles if READ_VERBS & set(g.secrets)}


def unreviewed(name: str, version: str, review: RbacReview | None) -> str | None:
    """Why the entry's RBAC review does not cover its pinned version, or None when it does."""
    if review is None:
        return f"add-on {name}: its chart's ClusterRoles were never reviewed (AddOn.rbac)"
    if review.version != version:
        return (
            f"add-on {name}: pinned at {version} but its RBAC was reviewed at {review.version}; read the chart's "
            "ClusterRoles at the new version and record them (AddOn.rbac)"
        )
    return None


def _reads_secrets(rule: dict[str, Any]) -> bool:
    groups, resources, verbs = (set(rule.get(key) or ()) for key in ("apiGroups", "resources", "verbs"))
    return bool(groups & {"", "*"}) and bool(resources & {"secrets", "*"}) and bool(verbs & READ_VERBS)


def unreviewed_secret_readers(cluster_roles: Iterable[Manifest], reviewed: Iterable[str]) -> list[str]:
    """ClusterRoles (as a chart renders them) that can read Secrets in every namespace without a review naming
    them: an aggregated or wildcard rule counts as reading."""
    allowed = set(reviewed)
    return sorted(
        role["metadata"]["name"]
        for role in cluster_roles
        if role.get("kind") == "ClusterRole"
        and role["metadata"]["name"] not in allowed
        and any(_reads_secrets(rule) for rule in role.get("rules") or ())
    )
