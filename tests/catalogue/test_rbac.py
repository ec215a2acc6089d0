"""Each chart's cluster-wide rights are reviewed at its pinned version and recorded on its entry; a pin bumped
without a new review fails here, and no platform ClusterRole reads Secrets across the cluster unless its review
names it."""

from __future__ import annotations

import dataclasses
from typing import Any

from components.catalogue.model import AddOn, Chart, ClusterContext
from components.catalogue.rbac import unreviewed, unreviewed_secret_readers
from components.catalogue.release import resolve
from components.config.loader import load_factory_config
from components.inventory import CATALOGUE, platform_namespaces
from tests.support.factories import secure_raw

REVIEWED_SECRET_READERS = {
    "gatekeeper-manager-role",
    "external-secrets-controller",
    "external-secrets-cert-controller",
    # Velero backs up and restores every namespace's objects, Secrets included (its review: components/backup/velero.py)
    "cluster-admin",
    # the Prometheus Operator writes each Prometheus' and Alertmanager's configuration Secret, in any namespace
    # (its review: components/observability/prometheus.py)
    "kube-prometheus-stack-operator",
}


def _charts() -> list[AddOn]:
    return [addon for addon in CATALOGUE.values() if isinstance(addon.source, Chart)]


def test_every_chart_is_reviewed_at_its_pinned_version() -> None:
    for addon in _charts():
        assert unreviewed(addon.name, addon.version, addon.rbac) is None


def test_a_chart_bumped_without_a_new_review_fails() -> None:
    """The careless edit: VERSION = "9.2.0" on Falco, its ClusterRoles unread."""
    falco = CATALOGUE["falco"]
    bumped = dataclasses.replace(falco, version="9.2.0")
    assert unreviewed(bumped.name, bumped.version, bumped.rbac) == (
        "add-on falco: pinned at 9.2.0 but its RBAC was reviewed at 9.1.0; read the chart's ClusterRoles at the new "
        "version and record them (AddOn.rbac)"
    )
    assert "never reviewed" in str(unreviewed("new-chart", "1.0.0", None))


def test_only_the_reviewed_roles_read_secrets_across_the_cluster() -> None:
    readers = {role for addon in _charts() if addon.rbac for role in addon.rbac.secret_readers()}
    assert readers == REVIEWED_SECRET_READERS
    assert CATALOGUE["trivy-operator"].rbac is not None
    assert not CATALOGUE["trivy-operator"].rbac.secret_readers(), "trivy-operator no longer reads Secrets"


def test_the_values_narrow_what_the_charts_allow() -> None:
    config = load_factory_config(secure_raw())
    ctx = ClusterContext(config, config.clusters[1], platform_namespaces())
    eso = resolve(CATALOGUE["external-secrets"], ctx).values
    assert not any(eso[k] for k in ("processClusterExternalSecret", "processPushSecret", "processClusterPushSecret"))
    assert eso["rbac"]["aggregateToEdit"] is False and eso["rbac"]["aggregateToView"] is False
    trivy = resolve(CATALOGUE["trivy-operator"], ctx).values
    assert trivy["operator"]["accessGlobalSecretsAndServiceAccount"] is False


def _role(name: str, *rules: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": name},
        "rules": list(rules),
    }


def test_an_unreviewed_cluster_role_that_reads_secrets_is_caught() -> None:
    """The attacks: a chart upgrade (or an add-on added later) that brings a ClusterRole listing every Secret, or
    trivy-operator's global secret access switched back on."""
    reviewed = REVIEWED_SECRET_READERS  # trivy-operator is reviewed as reading none
    roles = [
        _role("gatekeeper-manager-role", {"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list", "watch"]}),
        _role("backup-agent", {"apiGroups": [""], "resources": ["secrets"], "verbs": ["list", "watch"]}),
        _role("trivy-operator", {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create", "get", "update"]}),
        _role("events-writer", {"apiGroups": [""], "resources": ["events"], "verbs": ["create"]}),
        _role("wildcard", {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}),
    ]
    assert unreviewed_secret_readers(roles, reviewed) == ["backup-agent", "trivy-operator", "wildcard"]
