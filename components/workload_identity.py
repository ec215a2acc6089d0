"""WorkloadIdentity: a cloud identity that trusts exactly one service account — the line's workloads.

AWS: an IAM role whose trust policy accepts web identities of `system:serviceaccount:<ns>:line-workload`
from the cluster's OIDC issuer (IRSA). GCP: a service account with a Workload Identity binding for that
Kubernetes service account. Azure: a user-assigned identity with one federated credential for it. The
line's ServiceAccount is annotated so pods pick the identity up.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_azure_native as azure_native
import pulumi_gcp as gcp
from pulumi_azure_native import managedidentity

from components.config import ClusterConfig, LineConfig
from components.config_security import AwsIdentity, AzureIdentity, GcpIdentity
from components.line_manifests import WORKLOAD_SERVICE_ACCOUNT

TOKEN = "factory:index:WorkloadIdentity"
AWS_AUDIENCE = "sts.amazonaws.com"
AZURE_AUDIENCE = "api://AzureADTokenExchange"


@dataclass(frozen=True)
class IdentitySpec:
    factory: str
    cluster: ClusterConfig
    line: LineConfig

    @property
    def subject(self) -> str:
        return f"system:serviceaccount:{self.line.namespace}:{WORKLOAD_SERVICE_ACCOUNT}"

    @property
    def identity_name(self) -> str:
        # IAM role names allow 64 characters, GCP account ids 30: keep the name short and unique per stack
        return f"{self.factory}-{self.cluster.name}-{self.line.name}"


def irsa_trust_policy(aws_identity: AwsIdentity, subject: str) -> dict[str, Any]:
    issuer = aws_identity.oidc_issuer.removeprefix("https://")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::{aws_identity.account_id}:oidc-provider/{issuer}"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {f"{issuer}:sub": subject, f"{issuer}:aud": AWS_AUDIENCE}},
            }
        ],
    }


def gcp_account_id(spec: IdentitySpec) -> str:
    """GCP service account ids are 6-30 characters: long names keep their head and a stable hash."""
    name = spec.identity_name
    if len(name) <= 30:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:6]
    return f"{name[:23].rstrip('-')}-{digest}"


def gcp_member(gcp_identity: GcpIdentity, spec: IdentitySpec) -> str:
    return f"serviceAccount:{gcp_identity.project}.svc.id.goog[{spec.line.namespace}/{WORKLOAD_SERVICE_ACCOUNT}]"


class WorkloadIdentity(pulumi.ComponentResource):
    annotations: dict[str, pulumi.Input[str]]

    def __init__(
        self,
        name: str,
        spec: IdentitySpec,
        provider: pulumi.ProviderResource,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(TOKEN, name, None, opts)
        identity = spec.cluster.workload_identity
        assert identity is not None, "WorkloadIdentity needs a cluster with workloadIdentity"
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        if identity.aws is not None:
            self.annotations = self._aws(name, spec, identity.aws, child)
        elif identity.gcp is not None:
            self.annotations = self._gcp(name, spec, identity.gcp, child)
        elif identity.azure is not None:
            self.annotations = self._azure(name, spec, identity.azure, child)
        self.register_outputs({"annotations": self.annotations})

    def _aws(
        self, name: str, spec: IdentitySpec, aws_identity: AwsIdentity, opts: pulumi.ResourceOptions
    ) -> dict[str, pulumi.Input[str]]:
        role = aws.iam.Role(
            f"{name}-role",
            name=spec.identity_name,
            description=f"Workloads of line {spec.line.name} ({spec.factory}/{spec.cluster.name})",
            assume_role_policy=json.dumps(irsa_trust_policy(aws_identity, spec.subject), sort_keys=True),
            max_session_duration=3600,
            tags={"factory": spec.factory, "line": spec.line.name, "managed-by": "pulumi"},
            opts=opts,
        )
        self.role = role
        # IAM role ARNs are deterministic: known at preview time, so the annotation never waits on the cloud
        return {"eks.amazonaws.com/role-arn": f"arn:aws:iam::{aws_identity.account_id}:role/{spec.identity_name}"}

    def _gcp(
        self, name: str, spec: IdentitySpec, gcp_identity: GcpIdentity, opts: pulumi.ResourceOptions
    ) -> dict[str, pulumi.Input[str]]:
        account_id = gcp_account_id(spec)
        account = gcp.serviceaccount.Account(
            f"{name}-account",
            account_id=account_id,
            project=gcp_identity.project,
            display_name=f"line {spec.line.name} ({spec.factory}/{spec.cluster.name})",
            opts=opts,
        )
        gcp.serviceaccount.IAMMember(
            f"{name}-workload-identity",
            service_account_id=account.name,
            role="roles/iam.workloadIdentityUser",
            member=gcp_member(gcp_identity, spec),
            opts=opts,
        )
        return {"iam.gke.io/gcp-service-account": f"{account_id}@{gcp_identity.project}.iam.gserviceaccount.com"}

    def _azure(
        self, name: str, spec: IdentitySpec, azure: AzureIdentity, opts: pulumi.ResourceOptions
    ) -> dict[str, pulumi.Input[str]]:
        identity = managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            resource_name_=spec.identity_name,
            resource_group_name=azure.resource_group,
            location=azure.location,
            tags={"factory": spec.factory, "line": spec.line.name, "managed-by": "pulumi"},
            opts=opts,
        )
        managedidentity.FederatedIdentityCredential(
            f"{name}-federation",
            federated_identity_credential_resource_name=WORKLOAD_SERVICE_ACCOUNT,
            resource_name_=identity.name,
            resource_group_name=azure.resource_group,
            issuer=azure.oidc_issuer,
            subject=spec.subject,
            audiences=[AZURE_AUDIENCE],
            opts=opts,
        )
        return {"azure.workload.identity/client-id": identity.client_id}


def cloud_provider(name: str, cluster: ClusterConfig, opts: pulumi.ResourceOptions) -> pulumi.ProviderResource | None:
    """One explicit cloud provider per cluster that federates identities (never ambient region/project)."""
    identity = cluster.workload_identity
    if identity is None:
        return None
    if identity.aws is not None:
        return aws.Provider(
            f"{name}-aws", region=identity.aws.region, allowed_account_ids=[identity.aws.account_id], opts=opts
        )
    if identity.gcp is not None:
        return gcp.Provider(f"{name}-gcp", project=identity.gcp.project, opts=opts)
    assert identity.azure is not None
    return azure_native.Provider(
        f"{name}-azure",
        subscription_id=identity.azure.subscription_id,
        tenant_id=identity.azure.tenant_id,
        location=identity.azure.location,
        opts=opts,
    )
