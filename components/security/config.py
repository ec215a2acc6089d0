"""Config of the zero-trust baseline: admission (Gatekeeper), secrets (Vault), runtime detection (Falco)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from components.config.factory import SiteConfig
from components.config.problems import Problems
from components.config.types import HttpsUrl, StrictModel
from components.security.gatekeeper.config import GatekeeperConfig
from components.security.secrets.config import VaultConfig


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


def check_security(security: SecurityConfig, site: SiteConfig, problems: Problems) -> None:
    if not security.gatekeeper.allowed_images and site.registry_mirror is None:
        problems.add(
            ("security", "gatekeeper", "allowedImages"),
            "is required when site.registryMirror is not set: list the registries lines may pull from",
        )
