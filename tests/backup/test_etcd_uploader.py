"""The etcd snapshot uploader's script, run as a server runs it — Debian's dash (a server's /bin/sh) and busybox's
sh — with the real encryption tools (Debian's age 1.1.1, gpg), fake snapshots and keys made here, and a stand-in
for rclone that writes into a local directory and records every object it is handed. What must hold: the store
receives only ciphertext that restores the snapshot byte for byte; each snapshot is uploaded once; a failed
encryption or upload uploads nothing and is retried; a snapshot still being written waits."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from components.backup.etcd.config import EtcdSnapshotConfig
from components.backup.etcd.uploader import (
    SCRIPT,
    SCRIPT_PATH,
    STORE_CREDENTIAL,
    UNIT,
    UNIT_DIR,
    Target,
    node_files,
    object_prefix,
    rclone_environment,
    recipient_files,
    service_unit,
)
from components.config.factory import ClusterConfig
from tests.support.age_tool import AGE, GPG, age_decrypt, age_keypair, gpg_decrypt, gpg_keypair
from tests.support.debian_tools import busybox

# rclone as the script calls it: `copyto --ignore-existing SRC store:bucket/key`; it copies SRC to
# $FAKE_STORE/<bucket/key> unless that exists, and logs "<key> <sha256 of what it was handed>" for every call
FAKE_RCLONE = f"""#!{sys.executable}
import hashlib, os, shutil, sys
args = sys.argv[1:]
assert args[0] == "copyto" and "--ignore-existing" in args, args
source, destination = args[-2], args[-1]
key = destination.partition(":")[2]
with open(source, "rb") as handed:
    digest = hashlib.sha256(handed.read()).hexdigest()
with open(os.environ["FAKE_RCLONE_LOG"], "a") as log:
    log.write(key + " " + digest + "\\n")
if os.environ.get("FAKE_RCLONE_FAIL"):
    sys.exit(1)
path = os.path.join(os.environ["FAKE_STORE"], key)
if not os.path.exists(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    shutil.copyfile(source, path)
"""
# an "encryption" that hands back the plaintext: the script must refuse to upload it
COPYING_AGE = """#!/bin/sh
while [ "$#" -gt 1 ]; do if [ "$1" = -o ]; then out=$2; shift; fi; shift; done
cp "$1" "$out"
"""
PREFIX = "bucket/etcd/edge"
OLD = 600  # seconds: a settled snapshot


@dataclass
class Server:
    root: Path
    shell: str
    scheme: str = "age"

    @property
    def snapshots(self) -> Path:
        return self.root / "snapshots"

    @property
    def store(self) -> Path:
        return self.root / "store" / PREFIX

    @property
    def log(self) -> Path:
        return self.root / "rclone.log"

    def snapshot(self, name: str, size: int = 50_000, age_s: int = OLD) -> bytes:
        data = b"etcd-snapshot plaintext SECRET-MARKER " + os.urandom(size)
        path = self.snapshots / name
        path.write_bytes(data)
        os.utime(path, (time.time() - age_s, time.time() - age_s))
        return data

    def uploads(self) -> list[tuple[str, str]]:
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        return [(key, digest) for key, digest in (line.split() for line in lines)]

    def run(self, age: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
        bin_dir = self.root / "bin"
        tools = {"rclone": FAKE_RCLONE, "age": age or f'#!/bin/sh\nexec {AGE.path()} "$@"\n'}
        if self.scheme == "openpgp":
            tools["gpg"] = f'#!/bin/sh\nexec {GPG.path()} "$@"\n'
        bin_dir.mkdir(exist_ok=True)
        for name, text in tools.items():
            (bin_dir / name).write_text(text)
            (bin_dir / name).chmod(0o755)
        environment = {
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "SNAPSHOT_DIR": str(self.snapshots),
            "STATE_DIR": str(self.root / "state"),
            "RECIPIENTS_DIR": str(self.root / "recipients"),
            "SCHEME": self.scheme,
            "TARGET": f"store:{PREFIX}",
            "SETTLE_SECONDS": "120",
            "FAKE_STORE": str(self.root / "store"),
            "FAKE_RCLONE_LOG": str(self.log),
            **env,
        }
        command = [str(busybox()), "sh", "-c", SCRIPT] if self.shell == "busybox" else ["dash", "-c", SCRIPT]
        return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(params=["dash", "busybox"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Server:
    if request.param == "dash" and shutil.which("dash") is None:
        pytest.fail("dash (a Debian server's /bin/sh) is not installed: apt-get install dash")
    node = Server(tmp_path, request.param)
    for directory in ("snapshots", "recipients"):
        (tmp_path / directory).mkdir()
    return node


@pytest.fixture
def identity(server: Server) -> Path:
    key, recipient = age_keypair(server.root)
    (server.root / "recipients" / "01.txt").write_text(recipient + "\n")
    return key


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_the_store_receives_ciphertext_that_restores_the_snapshot(server: Server, identity: Path) -> None:
    plain = server.snapshot("etcd-snapshot-edge-1-1767225600.zip")
    result = server.run()
    assert result.returncode == 0, result.stdout + result.stderr
    stored = server.store / "etcd-snapshot-edge-1-1767225600.zip.age"
    cipher = stored.read_bytes()
    assert cipher.startswith(b"age-encryption.org/v1\n")
    assert cipher != plain and b"SECRET-MARKER" not in cipher
    assert age_decrypt(identity, stored) == plain
    assert not list((server.root / "state" / "outbox").iterdir()), "no ciphertext is left behind"


def test_no_plaintext_is_ever_handed_to_the_uploader(server: Server, identity: Path) -> None:
    plains = {_sha(server.snapshot(f"etcd-snapshot-edge-1-17672256{i:02d}.zip")) for i in range(3)}
    assert server.run().returncode == 0
    handed = {digest for _, digest in server.uploads()}
    assert len(handed) == 3 and not handed & plains


def test_each_snapshot_is_uploaded_once(server: Server, identity: Path) -> None:
    server.snapshot("etcd-snapshot-edge-1-1767225600.zip")
    assert server.run().returncode == 0
    assert server.run().returncode == 0
    assert [key for key, _ in server.uploads()] == [f"{PREFIX}/etcd-snapshot-edge-1-1767225600.zip.age"]
    server.snapshot("etcd-snapshot-edge-1-1767247200.zip")
    assert server.run().returncode == 0
    assert [key.rsplit("/", 1)[1] for key, _ in server.uploads()] == [
        "etcd-snapshot-edge-1-1767225600.zip.age",
        "etcd-snapshot-edge-1-1767247200.zip.age",
    ]


def test_a_failed_encryption_uploads_nothing_and_is_retried(server: Server, identity: Path) -> None:
    good = (server.root / "recipients" / "01.txt").read_text()
    (server.root / "recipients" / "01.txt").write_text("age1notarecipient\n")
    plain = server.snapshot("etcd-snapshot-edge-1-1767225600.zip")
    result = server.run()
    assert result.returncode == 1
    assert "encryption failed, nothing uploaded" in result.stderr
    assert server.uploads() == [] and not server.store.exists()
    assert not list((server.root / "state" / "outbox").iterdir())
    (server.root / "recipients" / "01.txt").write_text(good)
    assert server.run().returncode == 0
    assert age_decrypt(identity, server.store / "etcd-snapshot-edge-1-1767225600.zip.age") == plain


def test_a_tool_that_hands_back_the_plaintext_is_refused(server: Server, identity: Path) -> None:
    server.snapshot("etcd-snapshot-edge-1-1767225600.zip")
    result = server.run(age=COPYING_AGE)
    assert result.returncode == 1
    assert "is not age ciphertext, nothing uploaded" in result.stderr
    assert server.uploads() == []


def test_no_recipients_uploads_nothing(server: Server) -> None:
    server.snapshot("etcd-snapshot-edge-1-1767225600.zip")
    result = server.run()
    assert result.returncode == 1 and "no recipients in" in result.stderr
    assert server.uploads() == []


def test_a_failed_upload_is_retried_on_the_next_run(server: Server, identity: Path) -> None:
    plain = server.snapshot("etcd-snapshot-edge-1-1767225600.zip")
    failed = server.run(FAKE_RCLONE_FAIL="1")
    assert failed.returncode == 1 and "upload to store:bucket/etcd/edge failed" in failed.stderr
    assert not (server.root / "state" / "uploaded" / "etcd-snapshot-edge-1-1767225600.zip").exists()
    assert server.run().returncode == 0
    assert age_decrypt(identity, server.store / "etcd-snapshot-edge-1-1767225600.zip.age") == plain
    assert len(server.uploads()) == 2  # the failed try and the one that went


def test_a_snapshot_being_written_waits_and_a_partial_one_is_never_taken(server: Server, identity: Path) -> None:
    server.snapshot("etcd-snapshot-edge-1-1767225600.zip", age_s=5)  # k3s may still be compressing it
    server.snapshot("etcd-snapshot-edge-1-1767247200.part")  # etcd renames it when complete
    result = server.run()
    assert result.returncode == 0
    assert "wait etcd-snapshot-edge-1-1767225600.zip: written" in result.stdout
    assert server.uploads() == []


def test_markers_of_pruned_snapshots_are_dropped(server: Server, identity: Path) -> None:
    server.snapshot("etcd-snapshot-edge-1-1767225600.zip")
    assert server.run().returncode == 0
    marker = server.root / "state" / "uploaded" / "etcd-snapshot-edge-1-1767225600.zip"
    assert marker.exists()
    (server.snapshots / "etcd-snapshot-edge-1-1767225600.zip").unlink()  # the distribution's retention
    assert server.run().returncode == 0
    assert not marker.exists() and len(server.uploads()) == 1


@pytest.fixture
def keyring() -> Iterator[Path]:
    # gpg-agent's socket lives in the keyring: keep its path short (a Unix socket path has at most 108 bytes)
    home = Path(tempfile.mkdtemp(prefix="ff-gpg-", dir="/tmp"))
    yield home
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], capture_output=True, check=False)
    shutil.rmtree(home, ignore_errors=True)


def test_openpgp_recipients_get_a_message_only_their_key_opens(server: Server, keyring: Path) -> None:
    server.scheme = "openpgp"
    (server.root / "recipients" / "01.asc").write_text(gpg_keypair(keyring / "restore"))
    plain = server.snapshot("etcd-snapshot-edge-1-1767225600.zip")
    result = server.run()
    assert result.returncode == 0, result.stdout + result.stderr
    stored = server.store / "etcd-snapshot-edge-1-1767225600.zip.gpg"
    assert b"SECRET-MARKER" not in stored.read_bytes()
    assert gpg_decrypt(keyring / "restore", stored) == plain


# --- the files the node bootstrap installs ---------------------------------------------------------------------

EDGE = ClusterConfig.model_validate(
    {
        "name": "edge",
        "distribution": "k3s",
        "kubernetesVersion": "1.32",
        "profile": "edge-small",
        "kubeconfig": {"secretKey": "edgeKubeconfig"},
    }
)
RECIPIENT = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
ETCD = EtcdSnapshotConfig.model_validate({"recipients": [RECIPIENT]})
AWS = Target("testwerk-backup-eu-central-1", "eu-central-1")
SITE = Target("etcd", "us-east-1", "https://s3.plant.example:9000")


def test_the_units_are_valid_for_systemd(tmp_path: Path) -> None:
    """systemd's own judge: unknown keys, bad values and a missing ExecStart are what it reports."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail("systemd-analyze (Debian package systemd) is needed to judge the units")
    script = tmp_path / "etcd-snapshot-upload"
    script.write_text(SCRIPT)
    script.chmod(0o755)
    for file in node_files(EDGE, ETCD, AWS):
        if file.path.startswith(UNIT_DIR):
            text = file.content.replace(SCRIPT_PATH, str(script))  # the verifier checks ExecStart exists
            (tmp_path / Path(file.path).name).write_text(text)
    units = [str(tmp_path / f"{UNIT}.service"), str(tmp_path / f"{UNIT}.timer")]
    result = subprocess.run([analyze, "verify", *units], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_the_service_reads_the_snapshots_read_only_and_names_where_they_go() -> None:
    unit = service_unit(EDGE, ETCD, AWS)
    assert "Environment=SNAPSHOT_DIR=/var/lib/rancher/k3s/server/db/snapshots" in unit
    assert "ReadOnlyPaths=/var/lib/rancher/k3s/server/db/snapshots" in unit
    assert "ProtectSystem=strict" in unit and "CapabilityBoundingSet=\n" in unit
    assert f"Environment=TARGET=store:testwerk-backup-eu-central-1/{object_prefix('edge')}" in unit
    assert object_prefix("edge") == "etcd/edge"
    assert f"EnvironmentFile={STORE_CREDENTIAL.path}" in unit
    assert "Environment=RCLONE_CONFIG_STORE_PROVIDER=AWS" in unit and "ENDPOINT" not in unit


def test_a_site_store_is_reached_at_its_endpoint() -> None:
    environment = rclone_environment(SITE)
    assert environment["RCLONE_CONFIG_STORE_PROVIDER"] == "Other"
    assert environment["RCLONE_CONFIG_STORE_ENDPOINT"] == "https://s3.plant.example:9000"
    assert environment["RCLONE_CONFIG_STORE_FORCE_PATH_STYLE"] == "true"


def test_no_file_carries_a_secret_and_only_the_script_is_executable() -> None:
    files = node_files(EDGE, ETCD, AWS)
    assert [f.path for f in files if f.mode & 0o111] == [SCRIPT_PATH]
    assert [f.content for f in files if "/recipients/" in f.path] == [RECIPIENT + "\n"]
    assert not any("SECRET" in f.content.upper().replace("SECRET_ACCESS", "") for f in files if f.path != SCRIPT_PATH)


def test_openpgp_keys_get_one_file_each() -> None:
    block = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ\n-----END PGP PUBLIC KEY BLOCK-----"
    other = block.replace("mDMEZ", "mDMEY")
    etcd = EtcdSnapshotConfig.model_validate({"recipients": [block, other]})
    files = recipient_files(etcd)
    assert [Path(f.path).name for f in files] == ["01.asc", "02.asc"]
    assert files[1].content == other + "\n"
    assert "Environment=SCHEME=openpgp" in service_unit(EDGE, etcd, AWS)


def test_a_managed_cluster_gets_no_uploader() -> None:
    eks = EDGE.model_copy(update={"distribution": "eks"})
    with pytest.raises(ValueError, match="only ours on k3s and RKE2"):
        service_unit(eks, ETCD, AWS)


def test_the_server_token_is_escrowed_encrypted_once_per_content(server: Server, identity: Path) -> None:
    """A restore on new hosts needs the cluster's original token (`--token`): it goes to the store like a snapshot,
    only as ciphertext, once per content, and its marker survives the pruning of snapshot markers."""
    token = server.root / "token"
    token.write_text("K10abc::server:SECRET-TOKEN-VALUE\n")
    assert server.run(TOKEN_FILE=str(token)).returncode == 0
    assert server.run(TOKEN_FILE=str(token)).returncode == 0
    [(key, _digest)] = server.uploads()
    name = f"server-token-{hashlib.sha256(token.read_bytes()).hexdigest()[:16]}.age"
    assert key == f"{PREFIX}/{name}"
    stored = (server.store / name).read_bytes()
    assert b"SECRET-TOKEN-VALUE" not in stored and age_decrypt(identity, server.store / name) == token.read_bytes()
    token.write_text("K10abc::server:ROTATED\n")
    assert server.run(TOKEN_FILE=str(token)).returncode == 0
    assert len(server.uploads()) == 2, "a new token is a new object; the old one stays"
