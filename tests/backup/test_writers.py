"""Writer principals of clusters that reach a store with a credential: names every cloud accepts and no two
writers share, and the credential script `make plan` writes — run here by the machine's /bin/sh with stand-ins for
the clouds' CLIs and Vault — which hands Vault exactly the file each Velero plugin reads and leaves no copy."""

from __future__ import annotations

import configparser
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

from components.backup.writers import GCP_ACCOUNT_ID, gcp_account_id, principal_name
from components.config.loader import load_factory_config
from offline.stackfile import load_config
from offline.vault import credential_script
from tests.support.factories import mutate, valid_raw
from tests.support.projects import ROOT

# what the stand-ins answer: the secrets a cloud CLI would print, which must reach Vault and nowhere else
ACCESS_KEY, SECRET_KEY, CLIENT_SECRET = "AKIAEXAMPLEKEY000001", "example/secret/key+1", "example~client~secret"
CLIENT_ID = "11111111-2222-4333-8444-555555555555"
STORE_KEY = "arn:aws:kms:eu-central-1:210987654321:key/0b1c2d3e-4f50-4617-8283-94a5b6c7d8e9"
TOOLS = {
    "aws": (
        '#!/bin/sh\necho "$*" >> "$CALLS/aws"\n'
        f'case "$1" in s3api) echo {STORE_KEY};; *) printf "%s\\t%s\\n" {ACCESS_KEY} "{SECRET_KEY}";; esac\n'
    ),
    "gcloud": '#!/bin/sh\necho "$*" >> "$CALLS/gcloud"\nprintf \'{"type": "service_account"}\' > "$5"\n',
    "az": (
        '#!/bin/sh\necho "$*" >> "$CALLS/az"\n'
        f'case "$1" in ad) case "$2" in sp) echo {CLIENT_ID};; app) echo "{CLIENT_SECRET}";; esac;; esac\n'
    ),
    # `vault kv put -mount=M PATH cloud=@FILE`: keep what Vault would store, under the path it would store it at
    "vault": (
        '#!/bin/sh\nfile=${5#cloud=@}\nmkdir -p "$VAULT/$(dirname "$4")"\n'
        'cp "$file" "$VAULT/$4"\necho "$3 $4 $(stat -c %a "$file")" >> "$CALLS/vault"\n'
    ),
}


def test_gcp_account_ids_are_valid_and_distinct() -> None:
    ids = {
        gcp_account_id(factory, cluster, purpose)
        for factory in ("pilsen", "a-very-long-factory-name-indeed")
        for cluster in ("shopfloor", "c", "a-cluster-name-of-sixty-three-characters-is-allowed-by-dns-ok-x")
        for purpose in ("velero", "etcd", "escrow")
    }
    assert len(ids) == 18 and all(GCP_ACCOUNT_ID.match(i) for i in ids)


def test_aws_principal_names_fit_iam_and_stay_distinct() -> None:
    long = principal_name("f" * 40, "c" * 40, "velero")
    assert len(long) <= 64 and long != principal_name("f" * 40, "c" * 41, "velero")
    assert principal_name("pilsen", "shopfloor", "velero") == "pilsen-shopfloor-velero"


def _run(script: str, tmp_path: Path) -> tuple[Path, Path]:
    bin_dir, calls, vault = tmp_path / "bin", tmp_path / "calls", tmp_path / "vault"
    for directory in (bin_dir, calls, vault):
        directory.mkdir()
    for name, text in TOOLS.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(stat.S_IRWXU)
    work = tmp_path / "work"
    work.mkdir()
    (work / "credentials.sh").write_text(script)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "CALLS": str(calls), "VAULT": str(vault)}
    result = subprocess.run(
        ["/bin/sh", "credentials.sh"], cwd=work, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in work.iterdir()) == ["credentials.sh"], "no credential file is left behind"
    return calls, vault


def test_the_pilsen_script_hands_vault_the_files_velero_reads_and_keeps_no_copy(tmp_path: Path) -> None:
    _settings, config = load_config(ROOT, "pilsen")
    script = credential_script(config, config.cluster("shopfloor"))
    assert script is not None
    calls, vault = _run(script, tmp_path)
    aws = configparser.ConfigParser()
    aws.read_string((vault / "shopfloor/addon.velero/aws").read_text())
    assert dict(aws["default"]) == {"aws_access_key_id": ACCESS_KEY, "aws_secret_access_key": SECRET_KEY}
    assert "--user-name pilsen-shopfloor-velero" in (calls / "aws").read_text()
    azure = dict(
        line.split("=", 1) for line in (vault / "shopfloor/addon.velero/azure").read_text().splitlines() if line
    )
    store = config.backup.azure
    assert store is not None
    assert azure == {
        "AZURE_SUBSCRIPTION_ID": store.subscription_id,
        "AZURE_TENANT_ID": store.tenant_id,
        "AZURE_RESOURCE_GROUP": store.resource_group,
        "AZURE_CLOUD_NAME": "AzurePublicCloud",
        "AZURE_CLIENT_ID": CLIENT_ID,
        "AZURE_CLIENT_SECRET": CLIENT_SECRET,
    }
    az = (calls / "az").read_text()
    assert f"ad sp show --id {store.writers['shopfloor']}" in az and "--append" in az, "never resets other secrets"
    # into the stack's KV mount, and only readable by the script's user while it existed
    # the etcd uploader's key, as the environment file its service reads (offline/node_etcd.py)
    etcd = dict(line.split("=", 1) for line in (vault / "shopfloor/node.etcd-snapshot/aws").read_text().splitlines())
    assert etcd == {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        # uploads name the store's own key: rclone then neither compares ETag with MD5 nor lets S3 pick aws/s3
        "RCLONE_CONFIG_STORE_SERVER_SIDE_ENCRYPTION": "aws:kms",
        "RCLONE_CONFIG_STORE_SSE_KMS_KEY_ID": STORE_KEY,
    }
    assert "s3api get-bucket-encryption --bucket pilsen-backup-210987654321-eu-central-1" in (calls / "aws").read_text()
    assert "--user-name pilsen-shopfloor-etcd" in (calls / "aws").read_text()
    # the escrow: its own AWS key, and on Azure the cluster's one service principal's same secret
    escrow = configparser.ConfigParser()
    escrow.read_string((vault / "shopfloor/addon.escrow/aws").read_text())
    assert escrow["default"]["aws_access_key_id"] == ACCESS_KEY
    assert "--user-name pilsen-shopfloor-escrow" in (calls / "aws").read_text()
    assert (vault / "shopfloor/addon.escrow/azure").read_text() == (vault / "shopfloor/addon.velero/azure").read_text()
    assert az.count("credential reset") == 1
    assert [line.split()[0] for line in (calls / "vault").read_text().splitlines()] == ["-mount=pilsen"] * 5
    assert all(line.endswith(" 600") for line in (calls / "vault").read_text().splitlines())


def test_the_gcp_writer_gets_a_key_of_its_own_account(tmp_path: Path) -> None:
    _settings, config = load_config(ROOT, "rheinfeld")
    script = credential_script(config, config.cluster("plant"))
    assert script is not None
    calls, vault = _run(script, tmp_path)
    account = re.search(r"--iam-account=(\S+)", (calls / "gcloud").read_text())
    assert (
        account
        and account.group(1)
        == f"{gcp_account_id('rheinfeld', 'plant', 'velero')}@rheinfeld-backup.iam.gserviceaccount.com"
    )
    assert (vault / "plant/addon.velero/gcp").read_text() == '{"type": "service_account"}'
    assert sorted(p.name for p in (vault / "plant/addon.velero").iterdir()) == ["aws", "azure", "gcp"]
    assert sorted(p.name for p in (vault / "plant/node.etcd-snapshot").iterdir()) == ["aws"]


@pytest.mark.parametrize("stack", ["dev", "pilsen", "rheinfeld"])
def test_a_cluster_reaching_every_store_as_itself_needs_no_script(stack: str) -> None:
    _settings, config = load_config(ROOT, stack)
    for cluster in config.clusters:
        identity = cluster.workload_identity
        own_only = identity is not None and set(config.backup.stores()) == {identity.cloud}
        etcd = config.backup.etcd is not None and cluster.distribution in ("k3s", "rke2")
        assert (credential_script(config, cluster) is None) == (own_only and not etcd), cluster.name


def test_no_script_without_vault() -> None:
    raw = mutate(mutate(valid_raw(), "environment", "staging"), "backup", {})
    config = load_factory_config(mutate(raw, "security.vault", {"server": "https://vault.plant.local:8200"}))
    assert all(credential_script(config, cluster) is None for cluster in config.clusters)
