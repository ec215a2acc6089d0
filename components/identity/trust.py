"""Pure builders of cloud identity trust: who may act as the identity (exactly one Kubernetes service
account of one cluster) and the names the clouds allow."""

from __future__ import annotations

import hashlib
from typing import Any

from components.identity.config import AwsIdentity, GcpIdentity

AWS_AUDIENCE = "sts.amazonaws.com"
AZURE_AUDIENCE = "api://AzureADTokenExchange"
AZURE_USE_LABEL = "azure.workload.identity/use"  # Azure's webhook injects tokens only into pods labelled so


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


def gcp_member(gcp_identity: GcpIdentity, namespace: str, service_account: str) -> str:
    return f"serviceAccount:{gcp_identity.project}.svc.id.goog[{namespace}/{service_account}]"
