"""The factory document: every section of a stack file, composed from the capabilities' section models,
and the cross-checks that run across sections. Its fields ARE the config sections — the loader, the
configuration reference and the test of `Pulumi.yaml` all read them from here."""

from __future__ import annotations

import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field, model_validator
from pydantic.fields import FieldInfo

from components.backup.config import BackupConfig, check_backup, check_cluster_backups, check_etcd_clusters
from components.config.factory import (
    ClusterConfig,
    FactoryIdentity,
    ProtectionConfig,
    SiteConfig,
    TeamConfig,
    check_protection,
    check_unique_names,
)
from components.config.lines import LineConfig, check_lines
from components.config.problems import Problems
from components.config.site_dns import check_site_dns
from components.config.types import Environment, StrictModel
from components.identity.config import check_identity
from components.observability.config import ObservabilityConfig, check_hub, check_observability
from components.security.config import SecurityConfig, check_security
from components.security.gatekeeper.config import check_production_admission
from components.security.secrets.config import check_secrets
from components.verification.config import check_network_policy


class FactoryConfig(StrictModel):
    environment: Environment = Field(
        default="production",
        description="Stage of this stack; production always protects stateful resources (see `protection`).",
    )
    factory: FactoryIdentity = Field(description="Who and where the factory is.")
    clusters: list[ClusterConfig] = Field(min_length=1, description="Kubernetes clusters of the factory.")
    teams: list[TeamConfig] = Field(min_length=1, description="Teams that own production lines.")
    lines: list[LineConfig] = Field(min_length=1, description="Production lines (one namespace each).")
    site: SiteConfig = Field(default_factory=SiteConfig, description="Site-wide settings (mirrors).")
    security: SecurityConfig = Field(
        default_factory=SecurityConfig, description="Zero-trust baseline: Gatekeeper, Vault, Falco."
    )
    protection: ProtectionConfig = Field(
        default_factory=ProtectionConfig, description="Which resources Pulumi refuses to delete."
    )
    backup: BackupConfig = Field(
        default_factory=BackupConfig,
        description="Disaster recovery: immutable stores on AWS, GCP and Azure, backup policies, RPO/RTO.",
    )
    observability: ObservabilityConfig = Field(
        default_factory=ObservabilityConfig,
        description="Alert routing: the platform team, maintenance windows, the mail relay.",
    )

    @model_validator(mode="after")
    def _cross_checks(self) -> FactoryConfig:
        problems = Problems()
        cross_check(Sections.of(self), problems)
        if problems:
            raise ValueError("; ".join(str(p) for p in problems))
        return self

    def cluster(self, name: str) -> ClusterConfig:
        return next(c for c in self.clusters if c.name == name)

    def lines_on(self, cluster: str) -> list[LineConfig]:
        return [line for line in self.lines if line.cluster == cluster]

    def team(self, name: str) -> TeamConfig:
        return next(t for t in self.teams if t.name == name)


@dataclass(frozen=True)
class Sections:
    """What validated of a stack file: a broken section is None, a broken list item is None or partial."""

    environment: str | None = "production"
    clusters: Sequence[ClusterConfig | None] = ()
    teams: Sequence[TeamConfig | None] = ()
    lines: Sequence[LineConfig | None] = ()
    site: SiteConfig | None = field(default_factory=SiteConfig)
    security: SecurityConfig | None = field(default_factory=SecurityConfig)
    protection: ProtectionConfig | None = field(default_factory=ProtectionConfig)
    backup: BackupConfig | None = field(default_factory=BackupConfig)
    observability: ObservabilityConfig | None = field(default_factory=ObservabilityConfig)
    timezone: str | None = None  # factory.timezone, for schedules

    @classmethod
    def of(cls, config: FactoryConfig) -> Sections:
        sections = {name: getattr(config, name) for name in SECTION_FIELDS if name != "factory"}
        return cls(**sections, timezone=config.factory.timezone)


def cross_check(sections: Sections, problems: Problems) -> None:
    """Every rule that spans sections; a section that failed on its own is not judged again here."""
    check_unique_names(sections.clusters, sections.teams, problems)
    check_identity(sections.environment, sections.clusters, problems)
    check_network_policy(sections.clusters, problems)
    check_lines(sections.clusters, sections.teams, sections.lines, problems)
    if sections.security is not None:
        check_secrets(sections.security.vault, sections.lines, problems)
        check_production_admission(sections.environment, sections.security.gatekeeper, problems)
        if sections.site is not None:
            check_security(sections.security, sections.site, problems)
    if sections.site is not None:
        check_site_dns(sections.environment, sections.clusters, sections.site.dns, problems)
    check_protection(sections.environment, sections.protection, problems)
    check_backup(sections.environment, sections.timezone, sections.backup, sections.lines, problems)
    check_etcd_clusters(sections.environment, sections.backup, sections.clusters, problems)
    check_observability(sections.environment, sections.observability, sections.teams, sections.lines, problems)
    vault_known = None if sections.security is None else sections.security.vault is not None
    check_hub(sections.environment, sections.observability, sections.clusters, sections.teams, vault_known, problems)
    if sections.security is not None:  # else whether Vault delivers credentials is unknown
        vault = sections.security.vault is not None
        check_cluster_backups(
            sections.environment,
            sections.backup,
            vault,
            clusters=sections.clusters,
            lines=sections.lines,
            problems=problems,
        )


@dataclass(frozen=True)
class Section:
    """One top-level config key of the project (`factory-floor:<key>`)."""

    attribute: str  # of FactoryConfig
    key: str  # camelCase key in the stack file
    info: FieldInfo

    @property
    def required(self) -> bool:
        return self.info.is_required()

    @property
    def is_list(self) -> bool:
        return typing.get_origin(self.info.annotation) is list

    @property
    def annotation(self) -> Any:
        if self.is_list:
            return typing.get_args(self.info.annotation)[0]
        return self.info.annotation


SECTION_FIELDS = tuple(FactoryConfig.model_fields)
SECTIONS: dict[str, Section] = {
    info.alias or name: Section(name, info.alias or name, info) for name, info in FactoryConfig.model_fields.items()
}
