"""WorkloadIdentity: a cloud identity that trusts exactly one Kubernetes service account of one cluster —
a line's workloads, or an add-on's controller.

AWS: an IAM role whose trust policy accepts web identities of `system:serviceaccount:<ns>:<sa>` from the
cluster's OIDC issuer (IRSA). GCP: a service account with a Workload Identity binding for that account.
Azure: a user-assigned identity with one federated credential for it. `binding` says what the Kubernetes
service account (and, on Azure, its pods) must carry to use it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_aws as aws
import pulumi_azure_native as azure_native
import pulumi_gcp as gcp
from pulumi_azure_native import managedidentity

from components.catalogue.release import Release
from components.config.factory import ClusterConfig
from components.core import vocabulary as vocab
from components.core.component import ComponentArgs, FactoryComponent
from components.core.contracts import WORKLOAD_IDENTITY_POD_LABELS, IdentityBinding
from components.identity import trust
from components.identity.config import AwsIdentity, AzureIdentity, GcpIdentity


@dataclass(frozen=True, kw_only=True)
class IdentityArgs(ComponentArgs):
    factory: str
    cluster: ClusterConfig
    namespace: str
    service_account: str
    owner: str  # the line or add-on the account belongs to
    owner_kind: Literal["line", "addon"]

    @property
    def subject(self) -> str:
        return trust.subject(self.namespace, self.service_account)

    @property
    def identity_name(self) -> str:
        # IAM role names allow 64 characters, GCP account ids 30: short and unique per stack; an add-on's
        # identity is marked so a line of the same name never collides with it
        middle = "" if self.owner_kind == "line" else "addon-"
        return f"{self.factory}-{self.cluster.name}-{middle}{self.owner}"

    def tags(self) -> dict[str, str]:
        if self.owner_kind == "line":
            return vocab.cloud_tags(self.factory, line=self.owner)
        return vocab.cloud_tags(self.factory, addon=self.owner)


class WorkloadIdentity(FactoryComponent[IdentityArgs]):
    """Creates, in the cloud the cluster federates with: an IAM role (AWS), or a service account and its
    workloadIdentityUser binding (GCP), or a managed identity and its federated credential (Azure). Cloud
    resources use the provider the parent's `providers` carry for that cloud. They are stateful: running
    workloads hold credentials of the identity, so where the stack protects state they are kept."""

    binding: IdentityBinding

    def __init__(self, name: str, args: IdentityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, args, opts)
        identity = args.cluster.workload_identity
        if identity is None:
            raise ValueError(f"{name}: cluster {args.cluster.name} has no workloadIdentity")
        if identity.aws is not None:
            binding = self._aws(identity.aws)
        elif identity.gcp is not None:
            binding = self._gcp(identity.gcp)
        elif identity.azure is not None:
            binding = self._azure(identity.azure)
        # a line's pods carry the label its egress path to the identity endpoint selects (identity/egress.py)
        labels = WORKLOAD_IDENTITY_POD_LABELS if args.owner_kind == "line" else {}
        self.binding = IdentityBinding(binding.annotations, {**binding.pod_labels, **labels})
        self.finish({"annotations": self.binding.annotations})

    def _description(self) -> str:
        return f"{self.args.owner_kind} {self.args.owner} ({self.args.factory}/{self.args.cluster.name})"

    def _aws(self, aws_identity: AwsIdentity) -> IdentityBinding:
        args = self.args
        role = self.own(
            "role",
            aws.iam.Role(
                self.child_name("role"),
                name=args.identity_name,
                description=f"Workloads of {self._description()}",
                assume_role_policy=json.dumps(trust.irsa_trust_policy(aws_identity, args.subject), sort_keys=True),
                max_session_duration=trust.AWS_MAX_SESSION_S,
                tags=args.tags(),
                opts=self.child_opts(stateful=True),
            ),
        )
        perimeter = trust.source_perimeter_policy(aws_identity)
        if perimeter is not None:
            # an explicit deny wins over any permission granted to the role later, in the cloud or here
            self.own(
                "perimeter",
                aws.iam.RolePolicy(
                    self.child_name("perimeter"),
                    name="source-perimeter",
                    role=role.name,
                    policy=json.dumps(perimeter, sort_keys=True),
                    opts=self.child_opts(stateful=True),
                ),
            )
        # IAM role ARNs are deterministic: known at preview time, so the annotation never waits on the cloud
        arn = f"arn:aws:iam::{aws_identity.account_id}:role/{args.identity_name}"
        expiration, seconds = trust.AWS_TOKEN_EXPIRATION
        return IdentityBinding({"eks.amazonaws.com/role-arn": arn, expiration: str(seconds)}, {})

    def _gcp(self, gcp_identity: GcpIdentity) -> IdentityBinding:
        args = self.args
        account_id = trust.gcp_account_id(args.identity_name)
        account = self.own(
            "account",
            gcp.serviceaccount.Account(
                self.child_name("account"),
                account_id=account_id,
                project=gcp_identity.project,
                display_name=self._description(),
                opts=self.child_opts(stateful=True),
            ),
        )
        self.own(
            "workload-identity",
            gcp.serviceaccount.IAMMember(
                self.child_name("workload-identity"),
                service_account_id=account.name,
                role="roles/iam.workloadIdentityUser",
                member=trust.gcp_member(gcp_identity, args.namespace, args.service_account),
                opts=self.child_opts(stateful=True),
            ),
        )
        email = f"{account_id}@{gcp_identity.project}.iam.gserviceaccount.com"
        return IdentityBinding({"iam.gke.io/gcp-service-account": email}, {})

    def _azure(self, azure: AzureIdentity) -> IdentityBinding:
        args = self.args
        identity = self.own(
            "identity",
            managedidentity.UserAssignedIdentity(
                self.child_name("identity"),
                resource_name_=args.identity_name,
                resource_group_name=azure.resource_group,
                location=azure.location,
                tags=args.tags(),
                opts=self.child_opts(stateful=True),
            ),
        )
        self.own(
            "federation",
            managedidentity.FederatedIdentityCredential(
                self.child_name("federation"),
                federated_identity_credential_resource_name=args.service_account,
                resource_name_=identity.name,
                resource_group_name=azure.resource_group,
                issuer=azure.oidc_issuer,
                subject=args.subject,
                audiences=[trust.AZURE_AUDIENCE],
                opts=self.child_opts(stateful=True),
            ),
        )
        expiration, seconds = trust.AZURE_TOKEN_EXPIRATION
        return IdentityBinding(
            {"azure.workload.identity/client-id": identity.client_id, expiration: str(seconds)},
            {trust.AZURE_USE_LABEL: "true"},
        )


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


def addon_binding(
    owner: FactoryComponent[Any], release: Release, factory: str, cluster: ClusterConfig
) -> IdentityBinding | None:
    """The cloud identity of an add-on's service account, as a child of the capability that installs it;
    None when the add-on needs none or the cluster federates with no cloud."""
    need = release.addon.identity
    if need is None or cluster.workload_identity is None:
        return None
    key = f"{release.addon.name}-identity"
    identity = WorkloadIdentity(
        owner.child_name(key),
        IdentityArgs(
            protection=owner.args.protection,
            factory=factory,
            cluster=cluster,
            namespace=release.addon.namespace,
            service_account=need.service_account,
            owner=release.addon.name,
            owner_kind="addon",
        ),
        opts=owner.child_opts(),
    )
    return owner.own(key, identity).binding
