"""The sections every capability reads: who and where the factory is, its clusters, teams and site."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from components.config.api_server import ApiServerConfig
from components.config.problems import Problems
from components.config.site_dns import SiteDnsConfig
from components.config.types import (
    ConfigKey,
    Distribution,
    Name,
    Profile,
    StrictModel,
    VaultPath,
    dns_label,
    pattern,
)
from components.config.types import kubernetes_version as valid_kubernetes_version
from components.config.types import timezone as valid_timezone
from components.identity.config import WorkloadIdentityConfig
from components.observability.config import TeamAlerting
from components.verification.config import effective_enforcer, network_policy_description

REGISTRY_RE = re.compile(r"^[a-z0-9.-]+(:[0-9]{1,5})?(/[a-z0-9._/-]+)?$")
CHART_MIRROR_RE = re.compile(r"^(https|oci)://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._/-]*)?$")


class FactoryIdentity(StrictModel):
    name: Name = Field(description="Factory id, used in every resource name and label (DNS label).")
    site: str = Field(min_length=1, description="Human-readable plant location, e.g. 'Augsburg Plant 2'.")
    region: Annotated[
        str, AfterValidator(pattern(re.compile(r"^[a-z0-9-]+$"), "lowercase letters, digits and '-'"))
    ] = Field(description="Region the plant belongs to (also the default cloud region for its backups).")
    timezone: Annotated[str, AfterValidator(valid_timezone)] = Field(
        description="IANA time zone of the plant; schedules (backups, drills, chaos) run in plant time."
    )


class KubeconfigSource(StrictModel):
    secret_key: ConfigKey = Field(
        description=(
            "Name of the secret stack config key in this project's namespace that holds the kubeconfig. "
            'Set it with `pulumi config set --secret <key> "$(cat kubeconfig)"` or import it from a '
            "Pulumi ESC environment (`values.pulumiConfig`). A plaintext value is rejected."
        )
    )
    context: str | None = Field(
        default=None, description="Context inside the kubeconfig; the kubeconfig's current context if unset."
    )


class ClusterConfig(StrictModel):
    name: Name = Field(description="Cluster id, unique in the factory.")
    distribution: Distribution = Field(description="Kubernetes distribution; decides platform defaults.")
    kubernetes_version: Annotated[str, AfterValidator(valid_kubernetes_version)] = Field(
        description="Kubernetes minor version ('1.31'); pins Pod Security labels and manifest validation."
    )
    profile: Profile = Field(
        description="Sizing profile: replicas, quotas, requests/limits, retention, which add-ons run."
    )
    network_policy: Annotated[str, Field(min_length=1)] | None = Field(
        default=None, description=network_policy_description()
    )
    workload_identity: WorkloadIdentityConfig | None = Field(
        default=None,
        description=(
            "Cloud identity federation for line workloads and add-ons. EKS needs `aws`, GKE `gcp`, AKS `azure`; "
            "k3s/RKE2 may federate any cloud through a self-hosted OIDC issuer. Unset: no cloud identity."
        ),
    )
    api_server: ApiServerConfig | None = Field(
        default=None,
        description=(
            "Where pods reach this cluster's API server (NetworkPolicy cannot select it by label). Unset: the "
            "platform's namespaces may reach any address on the API server's ports (443 and the endpoints' port), "
            "and the plan says so; set it to hold them to the API server itself."
        ),
    )
    vault_auth_mount_path: VaultPath | None = Field(
        default=None, description="This cluster's Vault Kubernetes auth mount (default `security.vault.authMountPath`)."
    )
    kubeconfig: KubeconfigSource = Field(
        description="Where the explicit Kubernetes provider gets its credentials (never ambient kubeconfig)."
    )
    storage_class: Annotated[str, AfterValidator(dns_label(253))] | None = Field(
        default=None,
        description=(
            "StorageClass of the platform's volumes (Prometheus, Alertmanager, Loki); none: the cluster's default "
            "class, which k3s has (local-path) and RKE2 and EKS 1.30+ do not: name one there."
        ),
    )

    @property
    def network_policy_enforcer(self) -> str | None:
        """What enforces NetworkPolicy here: `networkPolicy`, or the distribution's enforcing default (the
        document's cross-check refuses a cluster that has neither)."""
        return effective_enforcer(self.distribution, self.network_policy)


SYSTEM_GROUP_PREFIX = "system:"


def idp_group(value: str) -> str:
    """A team's group comes from the identity provider: Kubernetes reserves every `system:` group for
    identities it vouches for itself (`system:authenticated` is everyone who can log in,
    `system:serviceaccounts` every workload token), so binding one hands the line to all of them."""
    if value.startswith(SYSTEM_GROUP_PREFIX):
        raise ValueError(
            f"'{value}' is a Kubernetes system group, not a team: Kubernetes puts identities into "
            f"'{SYSTEM_GROUP_PREFIX}' groups itself ('system:authenticated' holds every identity that can log in, "
            "'system:serviceaccounts' every workload's token), so binding it gives all of them edit rights in "
            "the team's lines; name the identity-provider group of the team's members"
        )
    return value


class TeamConfig(StrictModel):
    name: Name = Field(description="Team id, referenced by lines as their owner.")
    idp_groups: list[Annotated[str, Field(min_length=1), AfterValidator(idp_group)]] = Field(
        min_length=1,
        description=(
            "Identity-provider groups (OIDC `groups` claim) whose members act for the team. Kubernetes' own "
            "`system:` groups are refused: they hold identities the cluster vouches for, not the team."
        ),
    )
    contact: str | None = Field(default=None, description="Team mailbox or chat channel, for people.")
    alerting: TeamAlerting | None = Field(
        default=None, description="Where the team's alerts go: its on-call for pages, its queue for tickets."
    )

    @model_validator(mode="after")
    def _groups_unique(self) -> TeamConfig:
        if len(set(self.idp_groups)) != len(self.idp_groups):
            raise ValueError("idpGroups lists a group more than once")
        return self


class SiteConfig(StrictModel):
    registry_mirror: (
        Annotated[
            str,
            AfterValidator(pattern(REGISTRY_RE, "a registry host[:port][/path], e.g. 'registry.plant.local/mirror'")),
        ]
        | None
    ) = Field(default=None, description="Container registry mirror that replaces every image registry.")
    chart_mirror: (
        Annotated[
            str,
            AfterValidator(
                pattern(CHART_MIRROR_RE, "an https:// or oci:// URL, e.g. 'oci://registry.plant.local/charts'")
            ),
        ]
        | None
    ) = Field(default=None, description="Helm chart mirror that replaces every chart repository.")
    dns: SiteDnsConfig | None = Field(
        default=None,
        description=(
            "Where the cluster DNS of k3s/RKE2 clusters sends what it does not answer itself: the plant's zones to "
            "their name servers, everything else to the filtering resolvers only (DNS tunnelling). Required in "
            "production with a k3s or RKE2 cluster; `make plan` writes the settings to build/<stack>/node-config/."
        ),
    )


class ProtectionConfig(StrictModel):
    stateful: bool | None = Field(
        default=None,
        description=(
            "Register stateful resources (backup stores, keys, databases, line namespaces with their volumes) with "
            "`protect` and `retainOnDelete`, so neither `pulumi destroy` nor a removed config entry deletes them. "
            "Unset: on in production, off elsewhere. Production cannot turn it off."
        ),
    )


def check_unique_names(clusters: Sequence[object | None], teams: Sequence[object | None], problems: Problems) -> None:
    problems.duplicates("clusters", clusters)
    problems.duplicates("teams", teams)


def check_protection(environment: str | None, protection: ProtectionConfig | None, problems: Problems) -> None:
    if environment == "production" and protection is not None and protection.stateful is False:
        problems.add(
            ("protection", "stateful"),
            "production stacks always protect stateful resources; a disposable stack sets environment to "
            "staging or development",
        )
