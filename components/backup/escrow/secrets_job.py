"""The secret escrow's CronJob, `escrow-secrets-<location>`: the cluster's Vault folder exported, encrypted to the
stack's age recipients, uploaded as ciphertext only (manifests.py has the whole escrow's design).

- `export` (the restore drill's pinned python image, vault_export.py): logs in to Vault as role
  `<role>-<cluster>.escrow.export` with a token projected for audience `vault` only (useless against the API
  server; the role is bound to that audience, account `escrow` and namespace `escrow`) and writes the plaintext to
  a memory-backed volume.
- `encrypt` (sops, encrypt.sh): encrypts it as one opaque blob to `backup.escrow.recipients` (default: those of
  `backup.etcd`), deletes the plaintext.
- `upload` (rclone, upload.sh send): sends the ciphertext to the location's prefix `escrow/<cluster>/secrets/`.

Vault's policy lets the role read and list the cluster's folder `<cluster>/` of the KV mount and nothing else
(offline/vault.py writes it). A Vault with a private CA needs the same CA object in namespace `escrow` as in
`external-secrets` (`security.vault.ca`): the pod mounts it, and fails to start without it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from components.backup import velero
from components.backup.config import Cloud
from components.backup.drill.manifests import IMAGE as PYTHON
from components.backup.escrow import manifests as m
from components.backup.escrow.config import SECRETS_TIMEOUT_MINUTES, secret_recipients
from components.backup.etcd.config import scheme_of
from components.catalogue.images import Image
from components.catalogue.model import ClusterContext
from components.catalogue.network import External
from components.catalogue.network import Path as NetworkPath
from components.catalogue.secrets import auth_mount, vault_port, vault_role
from components.config.document import FactoryConfig
from components.config.factory import ClusterConfig
from components.core import vocabulary as vocab
from components.core.kube import Manifest

EXPORT_SCRIPT = Path(__file__).with_name("vault_export.py")
ENCRYPT_SCRIPT = Path(__file__).with_name("encrypt.sh")
SCOPE = "escrow.export"  # the role's scope: a '.' no line or add-on folder name can hold
VAULT_AUDIENCE = "vault"
TOKEN_MOUNT = "/var/run/secrets/vault"
CA_MOUNT = "/etc/escrow-vault-ca"
PLAIN = "/plain"
REQUEST_TIMEOUT_SECONDS = 30
TOKEN_SECONDS = 600  # the shortest a projected token may live; the export logs in once, at its start

SOPS = Image(
    "ghcr.io",
    "getsops/sops",
    "v3.13.3-alpine",
    "sha256:ae501277bf742f1662e0f881f43dd8fd6798b489a8058e921dbf6cda597140ea",
    source=(
        "sops' own release image (getsops/sops .release/alpine.Dockerfile: FROM alpine, busybox sh; goreleaser joins "
        "the amd64 and arm64 images into this index, cosign-signed); the digest is pinned in five unrelated public "
        "repositories, one checked against ghcr.io. Verify with `make pin-digests`."
    ),
)
IMAGES: tuple[Image, ...] = (PYTHON, SOPS)


def enabled(ctx: ClusterContext) -> bool:
    """Where Velero runs, Vault holds the cluster's secrets, and there are age keys to encrypt to (config.py refuses
    anything else where the export is asked for)."""
    factory = ctx.factory
    backup = factory.backup
    recipients = secret_recipients(backup.escrow, list(backup.etcd.recipients) if backup.etcd else None)
    return (
        backup.escrow.secrets
        and factory.security.vault is not None
        and bool(recipients)
        and all(scheme_of(key) == "age" for key in recipients)
        and velero.ADDON.enabled(ctx)
    )


def _vault(config: FactoryConfig) -> Any:
    vault = config.security.vault
    assert vault is not None  # enabled(): the export exists only with Vault
    return vault


def role(config: FactoryConfig, cluster: ClusterConfig) -> str:
    return vault_role(_vault(config), cluster.name, SCOPE)


def export_settings(config: FactoryConfig, cluster: ClusterConfig) -> dict[str, Any]:
    vault = _vault(config)
    return {
        "server": vault.server,
        "caFile": f"{CA_MOUNT}/{vault.ca.key}" if vault.ca else None,
        "authMount": auth_mount(vault, cluster),
        "role": role(config, cluster),
        "tokenFile": f"{TOKEN_MOUNT}/token",
        "kvMount": vault.path,
        "folder": cluster.name,
        "output": f"{PLAIN}/export.json",
        "timeoutSeconds": REQUEST_TIMEOUT_SECONDS,
    }


def config_files(ctx: ClusterContext) -> dict[str, str]:
    """What the scripts ConfigMap adds for the export: the script, its settings, the encryption step, the keys."""
    backup = ctx.factory.backup
    recipients = secret_recipients(backup.escrow, list(backup.etcd.recipients) if backup.etcd else None)
    return {
        EXPORT_SCRIPT.name: EXPORT_SCRIPT.read_text(),
        "export.json": json.dumps(export_settings(ctx.factory, ctx.cluster), indent=2, sort_keys=True),
        ENCRYPT_SCRIPT.name: ENCRYPT_SCRIPT.read_text(),
        "recipients": ",".join(recipients),
    }


def _pod(config: FactoryConfig, cloud: Cloud, native: bool) -> Manifest:
    vault = _vault(config)
    env, credential_mounts, credential_volumes = m.credential_access(cloud, native)
    scripts: Manifest = {"name": "scripts", "mountPath": m.SCRIPTS, "readOnly": True}
    scratch: Manifest = {"name": "scratch", "mountPath": m.SCRATCH}
    plain: Manifest = {"name": "plain", "mountPath": PLAIN}
    token: Manifest = {"name": "vault-token", "mountPath": TOKEN_MOUNT, "readOnly": True}
    export_mounts = [scripts, plain, token]
    volumes: list[Manifest] = [
        {"name": "scratch", "emptyDir": {"sizeLimit": "64Mi"}},
        # the plaintext never touches the node's disk; counted against the pod's memory limit
        {"name": "plain", "emptyDir": {"medium": "Memory", "sizeLimit": "32Mi"}},
        {"name": "scripts", "configMap": {"name": m.NAME, "defaultMode": 0o444}},
        {
            "name": "vault-token",
            "projected": {
                "defaultMode": 0o444,
                "sources": [
                    {
                        "serviceAccountToken": {
                            "path": "token",
                            "audience": VAULT_AUDIENCE,
                            "expirationSeconds": TOKEN_SECONDS,
                        }
                    }
                ],
            },
        },
        *credential_volumes,
    ]
    if vault.ca is not None:
        export_mounts.append({"name": "vault-ca", "mountPath": CA_MOUNT, "readOnly": True})
        source = "configMap" if vault.ca.kind == "ConfigMap" else "secret"
        reference = {"name": vault.ca.name} if source == "configMap" else {"secretName": vault.ca.name}
        volumes.append(
            {"name": "vault-ca", source: {**reference, "items": [{"key": vault.ca.key, "path": vault.ca.key}]}}
        )
    small = m.sized("10m", "32Mi", "500m", "96Mi", "64Mi")
    # the export, its base64 and its ciphertext are held in memory by the step that reads or writes them
    roomy = m.sized("10m", "64Mi", "500m", "256Mi", "64Mi")
    encrypt_env = [{"name": "PLAIN", "value": PLAIN}]
    return {
        "serviceAccountName": m.SERVICE_ACCOUNT,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "restartPolicy": "Never",
        "securityContext": dict(m.POD_SECURITY),
        "initContainers": [
            m.container(
                "export",
                PYTHON,
                ["python3", "-I", "-B", f"{m.SCRIPTS}/{EXPORT_SCRIPT.name}", f"{m.SCRIPTS}/export.json"],
                sizing=roomy,
                mounts=export_mounts,
            ),
            m.container(
                "encrypt",
                SOPS,
                ["/bin/sh", f"{m.SCRIPTS}/{ENCRYPT_SCRIPT.name}"],
                sizing=roomy,
                mounts=[scripts, plain, scratch],
                env=encrypt_env,
            ),
        ],
        "containers": [
            m.container(
                "upload",
                m.RCLONE,
                ["/bin/sh", f"{m.SCRIPTS}/upload.sh", "send"],
                sizing=small,
                mounts=[scripts, scratch, *credential_mounts],
                env=env,
                store=cloud,
            )
        ],
        "volumes": volumes,
    }


def cron_job(ctx: ClusterContext, cloud: Cloud, native: bool) -> Manifest:
    escrow = ctx.factory.backup.escrow
    return m.cron_job(
        ctx.factory.factory.name,
        m.job_name(m.SECRETS, cloud),
        schedule=escrow.secrets_schedule,
        timezone=ctx.factory.factory.timezone,
        timeout_minutes=SECRETS_TIMEOUT_MINUTES,
        pod=_pod(ctx.factory, cloud, native),
    )


def vault_path(ctx: ClusterContext) -> NetworkPath:
    vault = External("Vault (security.vault.server)", (vault_port(ctx.factory.security.vault),))
    pods = {vocab.COMPONENT: m.COMPONENT}
    return NetworkPath("vault", "egress", vault, "the secret export reads the cluster's Vault folder", pods=pods)
