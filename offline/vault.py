"""build/<stack>/vault/<cluster>.sh: what the Vault administrator runs so each line with secrets (and each
add-on that reads a credential from Vault) can read its own folder and nothing else
(components/security/secrets/vault.py builds it)."""

from __future__ import annotations

from pathlib import Path

from components.config.document import FactoryConfig
from components.security import falco
from components.security.secrets.vault import addon_access, setup_script


def write_vault_setup(out_dir: Path, config: FactoryConfig) -> list[str]:
    """One script per cluster with lines that declare secrets; the lines `make plan` prints."""
    vault = config.security.vault
    directory = out_dir / "vault"
    if directory.exists():
        for old in directory.glob("*.sh"):
            old.unlink()
    if vault is None:
        return []
    written = []
    for cluster in config.clusters:
        lines = [line for line in config.lines_on(cluster.name) if line.secrets]
        # Falcosidekick's webhook URL, from Falco's own folder (components/security/falco.py)
        addons = (
            [addon_access(vault, cluster, falco.NAME, falco.NAMESPACE)] if config.security.falco.alert_webhook else []
        )
        if lines or addons:
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / f"{cluster.name}.sh"
            path.write_text(setup_script(vault, cluster, lines, addons))
            written.append(f"Wrote {path} (Vault policies and roles for {len(lines)} line(s), {len(addons)} add-on(s))")
    return written
