"""The encrypted etcd snapshots as a stack gets them: production refuses a k3s/RKE2 cluster without them; each such
cluster's servers get a writer principal of their own on the AWS store (its prefix only, no key in the program);
`make plan` writes the snapshot settings, the uploader's files and what to do with them per cluster, and says why a
managed cluster has none; the recovery procedures fetch and decrypt the off-site copy."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from components.backup.etcd.server_config import snapshot_config
from components.backup.etcd.uploader import SCRIPT, SCRIPT_PATH, SSE_KMS_VARIABLES, STORE_CREDENTIAL, UNIT
from components.config.loader import load_factory_config
from components.config.problems import FactoryConfigError
from offline.node_config import write_node_config
from offline.recover import main as recover
from offline.stackfile import load_config
from tests.support.factories import DELETE, mutate, valid_raw
from tests.support.projects import ROOT
from tests.support.runs import Runs, named


def test_production_refuses_a_k3s_cluster_without_encrypted_snapshots() -> None:
    with pytest.raises(FactoryConfigError) as error:
        load_factory_config(mutate(valid_raw(), "backup.etcd", DELETE))
    assert "factory-floor:backup.etcd: cluster 'edge' (k3s) keeps its state in its own etcd" in str(error.value)
    # also when another section is broken: every problem at once
    broken = mutate(mutate(valid_raw(), "backup.etcd", DELETE), "security.gatekeeper.allowedImages", ["*"])
    with pytest.raises(FactoryConfigError) as error:
        load_factory_config(broken)
    assert "factory-floor:backup.etcd: cluster 'edge' (k3s)" in str(error.value)
    assert "factory-floor:security.gatekeeper.allowedImages[0]" in str(error.value)
    staging = mutate(mutate(valid_raw(), "environment", "staging"), "backup.etcd", DELETE)
    assert load_factory_config(staging).backup.etcd is None


def test_the_servers_write_their_prefix_of_the_aws_store_as_a_principal_of_their_own(runs: Runs) -> None:
    recording = runs.stack("rheinfeld").recording
    user = named(recording, "rheinfeld-plant-recovery-etcd-writer-aws-user").inputs
    policy = named(recording, "rheinfeld-plant-recovery-etcd-writer-aws")
    assert user["name"] == "rheinfeld-plant-etcd" and policy.inputs["name"] == "backup-store-etcd-plant"
    assert policy.type == "aws:iam/groupPolicy:GroupPolicy"
    assert not [r for r in recording.resources if "-cloud-recovery-etcd-" in r.name], "EKS: etcd is the provider's"
    assert not [r for r in recording.resources if r.type == "aws:iam/accessKey:AccessKey"]


def test_make_plan_writes_what_every_server_installs(tmp_path: Path) -> None:
    _settings, config = load_config(ROOT, "rheinfeld")
    lines = write_node_config(tmp_path, config)
    directory = tmp_path / "node-config" / "plant" / "etcd-snapshot"
    etcd = config.backup.etcd
    assert etcd is not None
    fragment = yaml.safe_load((directory / "60-factory-floor-etcd-snapshot.yaml").read_text())
    assert fragment == snapshot_config(config.cluster("plant"), etcd) and fragment["etcd-s3"] is False
    script = directory / "root" / SCRIPT_PATH.lstrip("/")
    assert script.read_text() == SCRIPT and script.stat().st_mode & 0o777 == 0o755
    recipients = sorted((directory / "root/etc/factory-floor/etcd-snapshot/recipients").iterdir())
    assert [p.read_text().strip() for p in recipients] == etcd.recipients
    readme = (directory / "README.md").read_text()
    assert f"systemctl enable --now {UNIT}.timer" in readme and "plant/node.etcd-snapshot/aws" in readme
    assert "rheinfeld-backup-123456789012-eu-central-1" in readme
    assert any(line.startswith("cloud (Amazon EKS): etcd is the provider's") for line in lines)
    assert not (tmp_path / "node-config" / "cloud" / "etcd-snapshot").exists()


def test_the_cluster_lost_procedure_fetches_and_decrypts_the_off_site_copy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert recover(["--stack", "pilsen", "--scenario", "cluster-lost", "--cluster", "shopfloor"]) == 0
    text = capsys.readouterr().out
    assert "aws s3 cp s3://pilsen-backup-210987654321-eu-central-1/etcd/shopfloor/<snapshot>.zip.age ." in text
    assert "age -d -i <recipient's private key file> <snapshot>.zip.age > <snapshot>.zip" in text
    # the original server token a reset on new hosts needs, escrowed beside the snapshots
    assert "s3://pilsen-backup-210987654321-eu-central-1/etcd/shopfloor/server-token-<hash>.age" in text
    assert 'TOKEN="$(age -d -i <recipient\'s private key file> server-token-<hash>.age)"' in text


def test_the_aws_store_for_etcd_needs_vault_for_its_key() -> None:
    raw = mutate(valid_raw(), "security.vault", DELETE)
    with pytest.raises(FactoryConfigError) as error:
        load_factory_config(raw)
    assert "factory-floor:backup.etcd.store: 'aws' needs security.vault" in str(error.value)


def test_the_uploader_names_the_stores_kms_key_from_its_credential_file(tmp_path: Path) -> None:
    """An SSE-KMS object's ETag is not its MD5: unless rclone knows the upload is SSE-KMS it calls every upload
    corrupt and deletes it, leaving a delete marker over the locked copy. The key's ARN exists only after `up`, so
    it comes with the credential (tests/backup/test_writers.py), and the README says so."""
    _settings, config = load_config(ROOT, "pilsen")
    write_node_config(tmp_path, config)
    directory = tmp_path / "node-config" / "shopfloor" / "etcd-snapshot"
    service = (directory / "root/etc/systemd/system" / f"{UNIT}.service").read_text()
    assert f"EnvironmentFile={STORE_CREDENTIAL.path}" in service and "RCLONE_IGNORE_CHECKSUM" not in service
    readme = (directory / "README.md").read_text()
    assert all(variable in readme for variable in SSE_KMS_VARIABLES)
