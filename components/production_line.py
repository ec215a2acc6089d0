"""ProductionLine: one isolated zone (IEC 62443) on a cluster — namespace, guard rails, access, identity."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic.alias_generators import to_snake

from components import line_manifests as build
from components import secret_store
from components.line_manifests import LineSpec, Manifest

TOKEN = "factory:index:ProductionLine"


def manifest_args(manifest: Manifest) -> dict[str, Any]:
    """Top-level manifest fields as constructor keywords; nested dicts go to the provider as they are."""
    return {to_snake(key): value for key, value in manifest.items() if key not in ("apiVersion", "kind")}


def custom_resource_args(manifest: Manifest) -> dict[str, Any]:
    """A custom resource's manifest as CustomResource keywords (apiVersion -> api_version, rest as is)."""
    return {"api_version": manifest["apiVersion"], **{k: v for k, v in manifest.items() if k != "apiVersion"}}


class ProductionLine(pulumi.ComponentResource):
    namespace: k8s.core.v1.Namespace
    quota: k8s.core.v1.ResourceQuota
    limits: k8s.core.v1.LimitRange
    network_policies: list[k8s.networking.v1.NetworkPolicy]
    editor_role: k8s.rbac.v1.Role
    editor_binding: k8s.rbac.v1.RoleBinding
    service_account: k8s.core.v1.ServiceAccount
    external_secrets: list[k8s.apiextensions.CustomResource]

    def __init__(
        self,
        name: str,
        spec: LineSpec,
        opts: pulumi.ResourceOptions | None = None,
        identity_annotations: dict[str, pulumi.Input[str]] | None = None,
        secret_store_ready: pulumi.Resource | None = None,
    ) -> None:
        super().__init__(TOKEN, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.namespace = k8s.core.v1.Namespace(f"{name}-namespace", **manifest_args(build.namespace(spec)), opts=child)
        # everything else lives in the namespace: wait for it so a first `up` never races the API server
        inside = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])
        self.quota = k8s.core.v1.ResourceQuota(
            f"{name}-quota", **manifest_args(build.resource_quota(spec)), opts=inside
        )
        self.limits = k8s.core.v1.LimitRange(f"{name}-limits", **manifest_args(build.limit_range(spec)), opts=inside)
        self.network_policies = [
            k8s.networking.v1.NetworkPolicy(
                f"{name}-netpol-{policy['metadata']['name']}", **manifest_args(policy), opts=inside
            )
            for policy in build.network_policies(spec)
        ]
        self.editor_role = k8s.rbac.v1.Role(f"{name}-editor", **manifest_args(build.editor_role(spec)), opts=inside)
        self.editor_binding = k8s.rbac.v1.RoleBinding(
            f"{name}-editors",
            **manifest_args(build.editor_binding(spec)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.namespace, self.editor_role]),
        )
        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-workload",
            **manifest_args(build.workload_service_account(spec, identity_annotations)),
            opts=inside,
        )
        # ExternalSecrets need ESO's CRDs and the cluster's Vault store; values never pass through here
        after_store = [self.namespace, *([secret_store_ready] if secret_store_ready else [])]
        self.external_secrets = [
            k8s.apiextensions.CustomResource(
                f"{name}-secret-{secret.name}",
                **custom_resource_args(secret_store.external_secret(secret, spec.line, spec.team.name, spec.factory)),
                opts=pulumi.ResourceOptions(parent=self, depends_on=after_store),
            )
            for secret in spec.line.secrets
        ]
        self.register_outputs(
            {
                "namespace": self.namespace.metadata.name,
                "serviceAccount": self.service_account.metadata.name,
            }
        )
