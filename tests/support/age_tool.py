"""The encryption tools the etcd snapshot uploader runs on a server node — age (with age-keygen) and gpg — brought
the way tests/support/debian_tools.py brings busybox: the machine's own, else Debian's package extracted into
.tools/<package>. The tests then run the very binaries a Debian server would (age 1.1.1 in bookworm)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.debian_tools import DebianTool

AGE = DebianTool("age", "age", "usr/bin/age", "AGE")
AGE_KEYGEN = DebianTool("age-keygen", "age", "usr/bin/age-keygen", "AGE_KEYGEN")
# gpg alone encrypts to a key file; making a key pair and decrypting also need gpg-agent, which a machine with
# gpg has in practice (Debian's gnupg) — a machine without it fails those tests with the reason
GPG = DebianTool("gpg", "gpg", "usr/bin/gpg", "GPG")


def _run(command: list[str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(command, capture_output=True, timeout=120, check=True)


def age_keypair(directory: Path) -> tuple[Path, str]:
    """A new age identity file in `directory` and its public recipient (`age1…`)."""
    identity = directory / "identity.txt"
    _run([str(AGE_KEYGEN.path()), "-o", str(identity)])
    recipient = _run([str(AGE_KEYGEN.path()), "-y", str(identity)]).stdout.decode().strip()
    return identity, recipient


def age_decrypt(identity: Path, ciphertext: Path) -> bytes:
    return _run([str(AGE.path()), "-d", "-i", str(identity), str(ciphertext)]).stdout


def gpg_keypair(home: Path) -> str:
    """A new OpenPGP key pair in the keyring `home` (no passphrase); returns its armored public key."""
    home.mkdir(mode=0o700, exist_ok=True)
    gpg = [str(GPG.path()), "--homedir", str(home), "--batch", "--no-tty", "--quiet"]
    _run([*gpg, "--passphrase", "", "--quick-gen-key", "restore@plant.example", "default", "default", "never"])
    return _run([*gpg, "--armor", "--export", "restore@plant.example"]).stdout.decode()


def gpg_decrypt(home: Path, ciphertext: Path) -> bytes:
    gpg = [str(GPG.path()), "--homedir", str(home), "--batch", "--no-tty", "--quiet"]
    return _run([*gpg, "--decrypt", str(ciphertext)]).stdout
