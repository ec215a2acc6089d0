"""Config of secret delivery: the Vault server External Secrets reads, and the secrets each line declares."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from components.config.problems import Problems, field, present
from components.config.types import HttpsUrl, Name, StrictModel, VaultPath, pattern


class VaultCaConfig(StrictModel):
    kind: Literal["ConfigMap", "Secret"] = Field(default="ConfigMap", description="Object holding the CA bundle.")
    name: Name = Field(description="Name of that object in the `external-secrets` namespace.")
    key: str = Field(default="ca.crt", description="Key of the PEM bundle inside it.")


class VaultConfig(StrictModel):
    server: HttpsUrl = Field(description="Vault address, e.g. https://vault.plant.local:8200.")
    path: VaultPath = Field(default="secret", description="KV version 2 mount that holds the factory's secrets.")
    role: Name = Field(
        default="external-secrets",
        description=(
            "Prefix of the Vault Kubernetes-auth roles: each line logs in as `<role>-<cluster>.<line>`, whose policy "
            "reads only `<path>/data/<cluster>/<line>/*` (`make plan` writes the Vault commands per cluster)."
        ),
    )
    auth_mount_path: VaultPath = Field(
        default="kubernetes",
        description="Kubernetes auth mount; a cluster can override it (`clusters[].vaultAuthMountPath`).",
    )
    ca: VaultCaConfig | None = Field(default=None, description="Private CA of the Vault server, if not public.")


class LineSecret(StrictModel):
    name: Name = Field(description="Name of the Kubernetes Secret External Secrets creates in the line.")
    remote_key: VaultPath = Field(
        description=(
            "Path of the secret inside the line's own Vault folder `<cluster>/<line>/` of the KV mount: `plc` is "
            "`<path>/data/<cluster>/<line>/plc`. It cannot leave that folder."
        )
    )
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

    @model_validator(mode="after")
    def _inside_the_line(self) -> LineSecret:
        # '..' would climb out of the line's folder into another line's or another cluster's secrets
        if any(part in (".", "..") for part in self.remote_key.split("/")):
            raise ValueError(
                f"remoteKey '{self.remote_key}' may not contain '.' or '..': it stays in the line's folder"
            )
        return self


def check_secrets(vault: VaultConfig | None, lines: Sequence[object | None], problems: Problems) -> None:
    """Secrets come from Vault only, and one line cannot declare the same Secret twice."""
    for i, line in present(lines):
        secrets = field(line, "secrets") or []
        if secrets and vault is None:
            problems.add(("lines", i, "secrets"), "needs security.vault: secrets come from Vault only")
        secret_names = [secret.name for secret in secrets]
        for j, name in enumerate(secret_names):
            if name in secret_names[:j]:
                problems.add(("lines", i, "secrets", j, "name"), f"'{name}' is declared twice")
