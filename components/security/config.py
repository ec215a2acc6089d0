"""Config of the zero-trust baseline: admission (Gatekeeper), secrets (Vault), runtime detection (Falco)."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from components.config.factory import SiteConfig
from components.config.problems import Problems
from components.config.types import StrictModel, VaultPath
from components.security.gatekeeper.config import GatekeeperConfig, check_mirror_entries
from components.security.secrets.config import VaultConfig


def no_plain_webhook(value: Any) -> Any:
    """A SIEM/SOAR webhook URL usually carries its credential (a token in the path or query): in a stack file it
    would sit in Git, in every plan and in state in plain text. The message never repeats the value."""
    if isinstance(value, str):
        raise ValueError(
            "a webhook URL in plain text is refused: it usually carries a credential and would be in Git, in the "
            "plan and in state; store it in Vault (`vault kv put <security.vault.path>/<cluster>/addon.falco/"
            "soc-webhook url=<https-url>`, per cluster) and write `alertWebhook: {remoteKey: soc-webhook}`"
        )
    return value


class FalcoWebhook(StrictModel):
    remote_key: VaultPath = Field(
        description=(
            "Path of the Vault secret holding the URL, inside Falco's own folder `<cluster>/addon.falco/` of the KV "
            "mount `security.vault.path`: `soc-webhook` is `<path>/data/<cluster>/addon.falco/soc-webhook`. It "
            "cannot leave that folder."
        )
    )
    remote_property: Annotated[str, Field(min_length=1)] = Field(
        default="url", description="Field of that Vault secret holding the https:// URL."
    )

    @model_validator(mode="after")
    def _inside_the_folder(self) -> FalcoWebhook:
        if any(part in (".", "..") for part in self.remote_key.split("/")):
            raise ValueError(f"remoteKey '{self.remote_key}' may not contain '.' or '..': it stays in Falco's folder")
        return self


def service_address(value: str) -> str:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        raise ValueError(f"'{value}' is not an IP address") from None
    if not address.is_private or address.is_loopback or address.is_link_local:
        raise ValueError(f"'{value}' is not an address of the cluster's service range (a private address)")
    return value


class K8sAuditConfig(StrictModel):
    service_ip: Annotated[str, AfterValidator(service_address)] = Field(
        description=(
            "The fixed ClusterIP of the falco-k8saudit webhook Service, inside the cluster's service CIDR (k3s and "
            "RKE2 default: 10.43.0.0/16) and free: the API server posts its audit events there, read from a file "
            "before cluster DNS answers it. Used on every k3s/RKE2 cluster of the stack."
        )
    )


class FalcoConfig(StrictModel):
    alert_webhook: Annotated[FalcoWebhook | None, BeforeValidator(no_plain_webhook)] = Field(
        default=None,
        description=(
            "Where Falcosidekick posts alerts (a SIEM/SOAR webhook, an https:// URL): the Vault secret that holds "
            "the URL, never the URL itself. External Secrets copies it into a Secret of the `falco` namespace, "
            "which Falcosidekick reads (the chart's `existingSecret`); needs `security.vault`. Unset keeps "
            "alerts in logs."
        ),
    )
    kubernetes_audit: K8sAuditConfig | None = Field(
        default=None,
        description=(
            "Kubernetes-audit detection on k3s/RKE2: a falco-k8saudit Deployment judges the API server's audit "
            "events with factory-floor's rules (human-made Jobs reading Secrets, Services with externalIPs, a line's "
            "identity token used outside its pod); `make plan` writes the API server's audit policy and webhook "
            "config. Unset: off. Managed clusters: docs/security.md."
        ),
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
    if security.falco.alert_webhook is not None and security.vault is None:
        problems.add(
            ("security", "falco", "alertWebhook"),
            "needs security.vault: the webhook URL comes from Vault through External Secrets, never from config",
        )
    if not security.gatekeeper.allowed_images and site.registry_mirror is None:
        problems.add(
            ("security", "gatekeeper", "allowedImages"),
            "is required when site.registryMirror is not set: list the registries lines may pull from",
        )
    check_mirror_entries(security.gatekeeper, site.registry_mirror, problems)
