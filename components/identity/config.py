"""Config of workload identity federation: which cloud a cluster's service accounts may act in."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from components.config.problems import Problems, field, present
from components.config.types import Cidr, CloudRegion, StrictModel, Uuid, pattern

AwsAccount = Annotated[str, AfterValidator(pattern(re.compile(r"^[0-9]{12}$"), "a 12-digit AWS account id"))]
Issuer = Annotated[
    str,
    AfterValidator(pattern(re.compile(r"^https://[A-Za-z0-9.-]+(/[A-Za-z0-9._/-]*)?$"), "an https:// OIDC issuer URL")),
]
# A managed cluster can only federate with its own cloud's identity service.
MANAGED_CLOUD = {"eks": "aws", "gke": "gcp", "aks": "azure"}
# On GKE the identity endpoint is the GKE metadata server at a fixed address (identity/egress.py): nothing to set.
METADATA_IDENTITY = "gke"


VpcId = Annotated[str, AfterValidator(pattern(re.compile(r"^vpc-[0-9a-f]{8,17}$"), "a VPC id like vpc-0a1b2c3d"))]
VpceId = Annotated[
    str, AfterValidator(pattern(re.compile(r"^vpce-[0-9a-f]{8,17}$"), "a VPC endpoint id like vpce-0a1b2c3d"))
]


class AwsIdentity(StrictModel):
    account_id: AwsAccount = Field(description="AWS account that owns the roles.")
    region: CloudRegion = Field(description="AWS region of the provider.")
    oidc_issuer: Issuer = Field(description="The cluster's OIDC issuer URL (EKS: `cluster.identity.oidc.issuer`).")
    sts_endpoint_cidrs: list[Cidr] = Field(
        default_factory=list,
        description=(
            "Where line pods reach AWS STS (TCP 443): the private addresses of the cluster VPC's STS interface "
            "endpoint (`com.amazonaws.<region>.sts`), as /32s. Only pods labelled for the identity may go there. "
            "Required: without it the line's default-deny leaves no path to STS."
        ),
    )
    source_vpcs: list[VpcId] = Field(
        default_factory=list,
        description=(
            "Source perimeter: the roles' credentials work only in requests that come through a VPC endpoint of "
            "one of these VPCs (`aws:SourceVpc`), ..."
        ),
    )
    vpc_endpoints: list[VpceId] = Field(
        default_factory=list,
        description="... or through one of these VPC endpoints (`aws:SourceVpce`), ...",
    )
    source_ips: list[Cidr] = Field(
        default_factory=list,
        description=(
            "... or from these public addresses, the cluster's NAT egress (`aws:SourceIp`). Requests AWS services "
            "make on the role's behalf (`aws:ViaAWSService`) are not judged. Production needs at least one of the "
            "three; elsewhere, unset means the credentials work from anywhere."
        ),
    )

    @property
    def perimeter(self) -> bool:
        return bool(self.source_vpcs or self.vpc_endpoints or self.source_ips)


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
    entra_endpoint_cidrs: list[Cidr] = Field(
        default_factory=list,
        description=(
            "Where line pods reach Microsoft Entra ID's token endpoint (`login.microsoftonline.com`, TCP 443), "
            "which a NetworkPolicy cannot name: the addresses of the egress firewall or proxy that forwards to it. "
            "Only pods labelled for the identity may go there. Required: without it the line's default-deny "
            "leaves no path to Entra ID."
        ),
    )


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


def check_identity(environment: str | None, clusters: Sequence[object | None], problems: Problems) -> None:
    """A managed cluster's tokens are only trusted by its own cloud; line pods have a path to the identity
    endpoint; in production an AWS role's credentials work only inside the plant's perimeter."""
    for i, cluster in present(clusters):
        identity, distribution = field(cluster, "workload_identity"), field(cluster, "distribution")
        if identity is None:
            continue
        expected = MANAGED_CLOUD.get(distribution or "")
        if expected is not None and identity.cloud != expected:
            problems.add(
                ("clusters", i, "workloadIdentity"),
                f"a {distribution} cluster federates with {expected} only, not {identity.cloud}",
            )
        _check_endpoint(identity, distribution, ("clusters", i, "workloadIdentity"), problems)
        if environment == "production" and identity.aws is not None and not identity.aws.perimeter:
            problems.add(
                ("clusters", i, "workloadIdentity", "aws"),
                "production needs a source perimeter: set sourceVpcs, vpcEndpoints or sourceIps, so the roles' "
                "credentials are refused outside the plant (a token read from a pod's logs would otherwise work "
                "from any laptop)",
            )


def _check_endpoint(
    identity: WorkloadIdentityConfig, distribution: str | None, loc: tuple[str | int, ...], problems: Problems
) -> None:
    if identity.aws is not None and not identity.aws.sts_endpoint_cidrs:
        problems.add(
            (*loc, "aws", "stsEndpointCidrs"),
            "is required: list the private addresses of the STS interface endpoint (com.amazonaws.<region>.sts) "
            "line pods reach, as /32s; the line's default-deny leaves no other path to STS",
        )
    if identity.azure is not None and not identity.azure.entra_endpoint_cidrs:
        problems.add(
            (*loc, "azure", "entraEndpointCidrs"),
            "is required: list the addresses of the egress firewall or proxy that forwards to "
            "login.microsoftonline.com (a NetworkPolicy cannot name a host); the line's default-deny leaves no other "
            "path to Entra ID",
        )
    if identity.gcp is not None and distribution != METADATA_IDENTITY:
        problems.add(
            (*loc, "gcp"),
            f"GKE Workload Identity's pool (<project>.svc.id.goog) trusts GKE clusters only, not {distribution}: "
            "federating another cluster with GCP needs a workload identity pool provider for its issuer, which this "
            "program does not create",
        )
