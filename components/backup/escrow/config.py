"""Config of the escrow: `backup.escrow` — what Velero does not back up, copied into the same stores on a schedule
(components/backup/escrow/): every image and chart the cluster's bundle installs, as skopeo layouts and chart
archives, so a plant can rebuild its registry mirror with no upstream registry reachable; and the cluster's Vault
secrets, encrypted to public keys only, so a plant whose Vault is lost can put them back.

Staleness is derived, not configured: a job's evidence is stale once two of its longest gaps plus its run time
pass without success (one failed run alerts by itself; staleness catches a job that stopped running at all).
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from components.backup.etcd.config import Recipient, scheme_of
from components.config.problems import Problems
from components.config.schedule import Cron, longest_gap
from components.config.types import StrictModel

DEFAULT_IMAGES_SCHEDULE = "0 2 * * 0"  # weekly, Sunday night: the bundle changes with releases, not daily
DEFAULT_SECRETS_SCHEDULE = "45 2 * * *"  # daily: secrets rotate, and a restore needs the current ones


class EscrowConfig(StrictModel):
    images: bool = Field(
        default=True,
        description=(
            "Copy every image and chart of the cluster's bundle into each store the cluster writes to, under "
            "`escrow/<cluster>/` (images as skopeo layouts, digests kept; chart archives checked against the "
            "catalogue's digests)."
        ),
    )
    images_schedule: Cron = Field(
        default=DEFAULT_IMAGES_SCHEDULE,
        description=(
            "Cron schedule of the image and chart escrow in the plant's time zone. A run copies only what the "
            "store does not hold yet; the first run copies the whole bundle."
        ),
    )
    images_timeout_minutes: int = Field(
        default=240, ge=10, le=1440, description="How long one image escrow run may take (the Job's deadline)."
    )
    scratch_gib: int = Field(
        default=20,
        ge=1,
        le=500,
        description=(
            "Node disk one image escrow run may use for the archives it copies before uploading them (the "
            "emptyDir's size limit and the pod's ephemeral-storage request): at least the bundle's largest images "
            "together on a first run."
        ),
    )
    secrets: bool = Field(
        default=True,
        description=(
            "Export the cluster's Vault secrets (the KV folder `<cluster>/`: every line's and add-on's), encrypted "
            "to `recipients`, into each store the cluster writes to. Needs `security.vault`."
        ),
    )
    secrets_schedule: Cron = Field(
        default=DEFAULT_SECRETS_SCHEDULE, description="Cron schedule of the secret export in the plant's time zone."
    )
    recipients: list[Recipient] | None = Field(
        default=None,
        description=(
            "age public keys (`age1…`) the secret export is encrypted to; by default those of `backup.etcd`. The "
            "private keys stay offline with the people who restore: no one else can read an export."
        ),
    )


SECRETS_TIMEOUT_MINUTES = 15


def secret_recipients(escrow: EscrowConfig, etcd_recipients: list[str] | None) -> list[str]:
    return list(escrow.recipients if escrow.recipients is not None else etcd_recipients or [])


def max_age(schedule: str, timezone: str, timeout_minutes: int) -> timedelta:
    """When a job's last success is stale: two of its longest gaps plus one run."""
    return 2 * longest_gap(schedule, timezone) + timedelta(minutes=timeout_minutes)


def check_escrow(
    escrow: EscrowConfig | None,
    etcd_recipients: list[str] | None,
    vault: bool,
    environment: str | None,
    problems: Problems,
) -> None:
    """The secret export needs Vault and age recipients (sops encrypts to age keys here: an OpenPGP key would need a
    keyring in the job). Production with Vault must export; elsewhere a stack without age keys has no export (the
    plan says so), but keys listed here must be age keys."""
    if escrow is None or not vault:
        return  # nothing to export without Vault: the job is not made
    where = ("backup", "escrow")
    production = environment == "production"
    if not escrow.secrets:
        if production:
            problems.add(
                (*where, "secrets"),
                "false: production keeps an encrypted export of the cluster's Vault secrets in the stores, or a "
                "lost Vault takes every line's credentials with it",
            )
        return
    recipients = secret_recipients(escrow, etcd_recipients)
    if escrow.recipients is not None and any(scheme_of(key) != "age" for key in escrow.recipients):
        problems.add(
            (*where, "recipients"),
            "the secret export is encrypted with sops to age recipients only: list age public keys (`age1…`)",
        )
    elif production and not recipients:
        problems.add(
            (*where, "recipients"),
            "production exports the cluster's Vault secrets, encrypted to public keys: list age recipients "
            "(`age1…`) here, or set `backup.etcd.recipients`",
        )
    elif production and any(scheme_of(key) != "age" for key in recipients):
        problems.add(
            (*where, "recipients"),
            "the secret export is encrypted with sops to age recipients only, and those of `backup.etcd` are OpenPGP "
            "keys: list age recipients (`age1…`) here",
        )
