"""Config of the zero-trust baseline: Gatekeeper, Vault via External Secrets, Falco, workload identity."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from components.config_types import HttpsUrl, Name, StrictModel, Uuid, pattern

ImagePattern = Annotated[
    str,
    AfterValidator(
        pattern(
            re.compile(r"^[a-z0-9.-]+(:[0-9]{1,5})?/[A-Za-z0-9._/:@-]*\*?$"),
            "an image or image prefix with the registry host, '*' only at the end (e.g. 'registry.plant.local/*')",
        )
    ),
]
VaultPath = Annotated[
    str,
    AfterValidator(
        pattern(re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$"), "a Vault path without slashes at the ends")
    ),
]


class GatekeeperConfig(StrictModel):
    enforcement_action: Literal["dryrun", "warn", "deny"] = Field(
        default="deny",
        description=(
            "What constraints do on a violation. Roll a new factory out with `dryrun` (audit only), read the "
            "audit results, then switch to `deny`."
        ),
    )
    allowed_images: list[ImagePattern] = Field(
        default_factory=list,
        description=(
            "Images lines may run: exact images, or prefixes ending in '*'. The site registry mirror is always "
            "allowed; without a mirror this list is required."
        ),
    )
    required_labels: list[str] = Field(
        default_factory=lambda: ["app.kubernetes.io/name"],
        description="Labels every Deployment/StatefulSet/DaemonSet in a line must carry.",
    )


class VaultCaConfig(StrictModel):
    kind: Literal["ConfigMap", "Secret"] = Field(default="ConfigMap", description="Object holding the CA bundle.")
    name: Name = Field(description="Name of that object in the `external-secrets` namespace.")
    key: str = Field(default="ca.crt", description="Key of the PEM bundle inside it.")


class VaultConfig(StrictModel):
    server: HttpsUrl = Field(description="Vault address, e.g. https://vault.plant.local:8200.")
    path: VaultPath = Field(default="secret", description="KV version 2 mount that holds the factory's secrets.")
    role: Name = Field(
        default="external-secrets", description="Vault Kubernetes-auth role External Secrets logs in as."
    )
    auth_mount_path: VaultPath = Field(
        default="kubernetes",
        description="Kubernetes auth mount; a cluster can override it (`clusters[].vaultAuthMountPath`).",
    )
    ca: VaultCaConfig | None = Field(default=None, description="Private CA of the Vault server, if not public.")


class FalcoConfig(StrictModel):
    alert_webhook: HttpsUrl | None = Field(
        default=None, description="Where Falcosidekick posts alerts (SIEM/SOAR webhook); unset keeps them in logs."
    )
    minimum_priority: Literal["emergency", "alert", "critical", "error", "warning", "notice"] = Field(
        default="warning", description="Lowest Falco rule priority forwarded by Falcosidekick."
    )


class SecurityConfig(StrictModel):
    gatekeeper: GatekeeperConfig = Field(default_factory=GatekeeperConfig, description="Admission policy.")
    vault: VaultConfig | None = Field(
        default=None, description="Secret source for External Secrets; lines may only declare secrets when set."
    )
    falco: FalcoConfig = Field(default_factory=FalcoConfig, description="Runtime threat detection.")


class LineSecret(StrictModel):
    name: Name = Field(description="Name of the Kubernetes Secret External Secrets creates in the line.")
    remote_key: VaultPath = Field(description="Path of the secret inside the Vault KV mount.")
    properties: list[Annotated[str, Field(min_length=1)]] = Field(
        min_length=1, description="Fields of the Vault secret copied into the Kubernetes Secret (same key names)."
    )
    refresh_interval: Annotated[
        str, AfterValidator(pattern(re.compile(r"^[0-9]+[smh]$"), "a duration like 15m or 1h"))
    ] = Field(default="1h", description="How often External Secrets re-reads Vault.")

    @model_validator(mode="after")
    def _unique_properties(self) -> LineSecret:
        if len(set(self.properties)) != len(self.properties):
            raise ValueError("properties lists a field more than once")
        return self


AwsAccount = Annotated[str, AfterValidator(pattern(re.compile(r"^[0-9]{12}$"), "a 12-digit AWS account id"))]
Issuer = Annotated[
    str,
    AfterValidator(pattern(re.compile(r"^https://[A-Za-z0-9.-]+(/[A-Za-z0-9._/-]*)?$"), "an https:// OIDC issuer URL")),
]
CloudRegion = Annotated[str, AfterValidator(pattern(re.compile(r"^[a-z0-9-]+$"), "a cloud region like eu-central-1"))]


class AwsIdentity(StrictModel):
    account_id: AwsAccount = Field(description="AWS account that owns the line roles.")
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
    aws: AwsIdentity | None = Field(default=None, description="IRSA: one IAM role per line.")
    gcp: GcpIdentity | None = Field(default=None, description="GKE Workload Identity: one service account per line.")
    azure: AzureIdentity | None = Field(
        default=None, description="Azure workload identity: one managed identity per line."
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


# A managed cluster can only federate with its own cloud's identity service.
MANAGED_CLOUD = {"eks": "aws", "gke": "gcp", "aks": "azure"}
