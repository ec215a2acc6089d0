"""Pure builders of cloud identity trust: who may act as the identity (exactly one Kubernetes service
account of one cluster) and the names the clouds allow."""

from __future__ import annotations

import hashlib
from typing import Any

from components.identity.config import AwsIdentity, GcpIdentity

AWS_AUDIENCE = "sts.amazonaws.com"
AZURE_AUDIENCE = "api://AzureADTokenExchange"
AZURE_USE_LABEL = "azure.workload.identity/use"  # Azure's webhook injects tokens only into pods labelled so

# How long a stolen credential lives, where the program decides it. The projected token the EKS pod identity
# webhook mounts: the account's annotation sets its expirationSeconds (default 86400); Kubernetes' minimum is 600
# and the webhook rounds lower values up to it. The Azure workload identity webhook's annotation: 3600 is its
# minimum (accepted 3600-86400). An IAM role's sessions: 3600 s is the least MaxSessionDuration IAM accepts.
AWS_TOKEN_EXPIRATION = ("eks.amazonaws.com/token-expiration", 600)
AZURE_TOKEN_EXPIRATION = ("azure.workload.identity/service-account-token-expiration", 3600)
AWS_MAX_SESSION_S = 3600
PERIMETER_SID = "DenyOutsideThePlantPerimeter"


def subject(namespace: str, service_account: str) -> str:
    return f"system:serviceaccount:{namespace}:{service_account}"


def irsa_trust_policy(aws_identity: AwsIdentity, account_subject: str) -> dict[str, Any]:
    issuer = aws_identity.oidc_issuer.removeprefix("https://")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::{aws_identity.account_id}:oidc-provider/{issuer}"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {f"{issuer}:sub": account_subject, f"{issuer}:aud": AWS_AUDIENCE}},
            }
        ],
    }


def gcp_account_id(identity_name: str) -> str:
    """GCP service account ids are 6-30 characters: long names keep their head and a stable hash."""
    if len(identity_name) <= 30:
        return identity_name
    digest = hashlib.sha256(identity_name.encode()).hexdigest()[:6]
    return f"{identity_name[:23].rstrip('-')}-{digest}"


def gke_pool(gcp_identity: GcpIdentity) -> str:
    """The project's one GKE Workload Identity pool: shared by every GKE cluster of the project, across stacks
    (offline/identity_pools.py)."""
    return f"{gcp_identity.project}.svc.id.goog"


def gcp_member(gcp_identity: GcpIdentity, namespace: str, service_account: str) -> str:
    return f"serviceAccount:{gke_pool(gcp_identity)}[{namespace}/{service_account}]"


def source_perimeter_policy(aws_identity: AwsIdentity) -> dict[str, Any] | None:
    """The role's inline deny: every action, unless the request comes through a listed VPC (`aws:SourceVpc`) or
    VPC endpoint (`aws:SourceVpce`), from a listed public address (`aws:SourceIp`), or from an AWS service acting
    on the role's behalf (`aws:ViaAWSService`). IAM ANDs the operators of one statement and the keys of one
    operator, and a negated operator is true when its key is absent from the request (aws:SourceVpc/Vpce exist
    only on requests through a VPC endpoint, aws:SourceIp only on requests that do not use one): so the deny
    applies exactly when the request matches none of the allowed sources. It governs what the credentials can
    do, not the AssumeRoleWithWebIdentity call (which the trust policy judges): a token used from a laptop still
    yields credentials, which every AWS API then refuses. None when no perimeter is configured."""
    if not aws_identity.perimeter:
        return None
    sources: dict[str, list[str]] = {}
    if aws_identity.source_vpcs:
        sources["aws:SourceVpc"] = sorted(aws_identity.source_vpcs)
    if aws_identity.vpc_endpoints:
        sources["aws:SourceVpce"] = sorted(aws_identity.vpc_endpoints)
    condition: dict[str, Any] = {"BoolIfExists": {"aws:ViaAWSService": "false"}}
    if sources:
        condition["StringNotEqualsIfExists"] = sources
    if aws_identity.source_ips:
        condition["NotIpAddressIfExists"] = {"aws:SourceIp": sorted(aws_identity.source_ips)}
    statement = {"Sid": PERIMETER_SID, "Effect": "Deny", "Action": "*", "Resource": "*", "Condition": condition}
    return {"Version": "2012-10-17", "Statement": [statement]}
