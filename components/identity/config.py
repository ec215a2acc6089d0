"""Config of workload identity federation: which cloud a cluster's service accounts may act in."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from components.config.problems import Problems, field, present
from components.config.types import CloudRegion, StrictModel, Uuid, pattern

AwsAccount = Annotated[str, AfterValidator(pattern(re.compile(r"^[0-9]{12}$"), "a 12-digit AWS account id"))]
Issuer = Annotated[
    str,
    AfterValidator(pattern(re.compile(r"^https://[A-Za-z0-9.-]+(/[A-Za-z0-9._/-]*)?$"), "an https:// OIDC issuer URL")),
]
# A managed cluster can only federate with its own cloud's identity service.
MANAGED_CLOUD = {"eks": "aws", "gke": "gcp", "aks": "azure"}


class AwsIdentity(StrictModel):
    account_id: AwsAccount = Field(description="AWS account that owns the roles.")
    region: CloudRegion = Field(description="AWS region of the provider.")
    oidc_issuer: Issuer = Field(description="The cluster's OIDC issuer URL (EKS: `cluster.identity.oidc.issuer`).")


class GcpIdentity(StrictModel):
    project: Annotated[
        str, AfterValidator(pattern(re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$"), "a GCP project id"))
    ] = Field(description="GCP project of the cluster's workload identity pool (`<project>.svc.id.goog`).")


class AzureIdentity(StrictModel):
    subscription_id: Uuid = Field(description="Subscription that holds the identities.")
    tenant_id: Uuid = Field(description="Entra ID tenant.")
    resource_group: Annotated[str, Field(min_length=1, max_length=90)] = Field(
        description="Resource group for identities."
    )
    location: CloudRegion = Field(description="Azure region, e.g. westeurope.")
    oidc_issuer: Issuer = Field(description="The AKS cluster's OIDC issuer URL.")


class WorkloadIdentityConfig(StrictModel):
    aws: AwsIdentity | None = Field(default=None, description="IRSA: one IAM role per service account.")
    gcp: GcpIdentity | None = Field(
        default=None, description="GKE Workload Identity: one service account per service account."
    )
    azure: AzureIdentity | None = Field(
        default=None, description="Azure workload identity: one managed identity per service account."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> WorkloadIdentityConfig:
        chosen = [name for name in ("aws", "gcp", "azure") if getattr(self, name) is not None]
        if len(chosen) != 1:
            raise ValueError(f"set exactly one of aws, gcp, azure (got {', '.join(chosen) or 'none'})")
        return self

    @property
    def cloud(self) -> str:
        return "aws" if self.aws else "gcp" if self.gcp else "azure"


def check_identity(clusters: Sequence[object | None], problems: Problems) -> None:
    """A managed cluster's tokens are only trusted by its own cloud."""
    for i, cluster in present(clusters):
        identity, distribution = field(cluster, "workload_identity"), field(cluster, "distribution")
        expected = MANAGED_CLOUD.get(distribution or "")
        if identity is not None and expected is not None and identity.cloud != expected:
            problems.add(
                ("clusters", i, "workloadIdentity"),
                f"a {distribution} cluster federates with {expected} only, not {identity.cloud}",
            )
