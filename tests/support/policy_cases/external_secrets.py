"""A line's secret scope (issue #9, finding 1): its store usable from its namespace alone, logging in as its own
account, and ExternalSecrets whose keys stay in the line's folder — the stack edits that would let line `paint`
read the press line's PLC credentials, each caught."""

from __future__ import annotations

from typing import Any

import factory_policies as fp
from tests.support.policy_kit import DELETE, Case, Mutation, Res

ESO = "kubernetes:external-secrets.io/v1"


def store(line: str) -> Res:
    return Res(
        f"{ESO}:ClusterSecretStore",
        {
            "metadata": {"name": f"vault-{line}"},
            "spec": {
                "provider": {
                    "vault": {
                        "server": "https://vault.plant.local:8200",
                        "path": "factory",
                        "version": "v2",
                        "auth": {
                            "kubernetes": {
                                "mountPath": "kubernetes-edge",
                                "role": f"factory-floor-edge.{line}",
                                "serviceAccountRef": {"name": "line-secrets", "namespace": f"line-{line}"},
                            }
                        },
                    }
                },
                "conditions": [{"namespaces": [f"line-{line}"]}],
            },
        },
        name=f"vault-{line}",
    )


def external_secret(line: str, key: str) -> Res:
    spec: dict[str, Any] = {
        "secretStoreRef": {"kind": "ClusterSecretStore", "name": f"vault-{line}"},
        "target": {"name": "plc-credentials"},
        "data": [
            {"secretKey": "username", "remoteRef": {"key": key, "property": "username"}},
            {"secretKey": "password", "remoteRef": {"key": key, "property": "password"}},
        ],
    }
    return Res(
        f"{ESO}:ExternalSecret",
        {"metadata": {"name": "plc-credentials", "namespace": f"line-{line}"}, "spec": spec},
        name=f"{line}-plc-credentials",
    )


PAINT_SECRET = "paint-plc-credentials"
LINE_SCOPE = Case(
    fp.external_secret_line_scope,
    (
        external_secret("paint", "edge/paint/plc"),
        store("paint"),
        store("press"),
        external_secret("press", "edge/press/plc"),
    ),
    (
        # the one-line stack edits of the red-team review
        Mutation("other-lines-store", "spec.secretStoreRef.name", "vault-press", "not usable from 'line-paint'"),
        Mutation("other-lines-folder", "spec.data.1.remoteRef.key", "edge/press/plc", "outside the line's folder"),
        Mutation("climb-out", "spec.data.0.remoteRef.key", "edge/paint/../press/plc", "'..' segment"),
        Mutation("mount-root", "spec.data.0.remoteRef.key", "plc", "outside the line's folder"),
        Mutation("folder-itself", "spec.data.0.remoteRef.key", "edge/paint", "outside the line's folder"),
        Mutation(
            "search-the-mount",
            "spec.dataFrom",
            [{"find": {"name": {"regexp": ".*"}}}],
            "dataFrom[0].find searches the whole mount",
        ),
        Mutation(
            "extract-elsewhere",
            "spec.dataFrom",
            [{"extract": {"key": "edge/press/plc"}}],
            "dataFrom[0].extract.key 'edge/press/plc' is outside",
        ),
        Mutation(
            "source-ref-to-another-store",
            "spec.data.0.sourceRef",
            {"storeRef": {"kind": "ClusterSecretStore", "name": "vault-press"}},
            "data[0].sourceRef reads from somewhere other than its store",
        ),
        Mutation("namespaced-store", "spec.secretStoreRef.kind", "SecretStore", "reads through a SecretStore"),
        Mutation("store-missing", "spec.secretStoreRef.name", "vault-shared", "which the stack does not define"),
        # the store edits: usable by anyone who can label a namespace, or by everyone
        Mutation(
            "store-by-label",
            "spec.conditions",
            [{"namespaceSelector": {"matchLabels": {"factory-floor.io/line": "paint"}}}],
            "usable from namespaces nobody named",
            target="vault-paint",
        ),
        Mutation(
            "store-for-all", "spec.conditions", DELETE, "usable from namespaces nobody named", target="vault-paint"
        ),
        Mutation(
            "store-for-two-lines",
            "spec.conditions.0.namespaces",
            ["line-paint", "line-press"],
            "serves a line and other namespaces",
            target="vault-paint",
        ),
        Mutation(
            "store-logs-in-as-another-line",
            "spec.provider.vault.auth.kubernetes.serviceAccountRef.namespace",
            "line-press",
            "logs in to Vault as a service account of 'line-press'",
            target="vault-paint",
        ),
    ),
)

CASES = [LINE_SCOPE]
