"""promtool, the Prometheus project's own judge of rule files (`check rules`, `test rules`), for the tests.

Found as $PROMTOOL, on PATH, or in .tools/prometheus/ (git-ignored). When none is there it is brought the way
REFERENCE.md's "outside judges" describe: `apt-get download prometheus` (the Debian package, with an
`apt-get update` first when the package lists are missing) and `dpkg -x` into .tools/prometheus — the binary
only, no service is installed or started. CI runs as root on Debian, so the bootstrap needs nothing from
.ci/run; a machine that cannot do it fails the tests that need promtool with the reason, never skips them.

Standard library only, so `python3 -m tests.support.promtool` works before any virtualenv exists.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS_DIR = REPO_ROOT / ".tools" / "prometheus"
BUNDLED = TOOLS_DIR / "usr" / "bin" / "promtool"
DEBIAN_PACKAGE = "prometheus"
TIMEOUT_S = 600


class PromtoolUnavailableError(RuntimeError):
    """promtool is not installed and could not be brought from the Debian package."""


def _run(command: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)


def _download(into: Path) -> Path:
    result = _run(["apt-get", "download", DEBIAN_PACKAGE], cwd=into)
    if result.returncode != 0:
        # a fresh machine has no package lists yet
        update = _run(["apt-get", "update", "-qq"])
        if update.returncode != 0:
            raise PromtoolUnavailableError(f"apt-get update failed: {update.stderr.strip()[-500:]}")
        result = _run(["apt-get", "download", DEBIAN_PACKAGE], cwd=into)
    debs = sorted(into.glob(f"{DEBIAN_PACKAGE}_*.deb"))
    if result.returncode != 0 or not debs:
        raise PromtoolUnavailableError(f"apt-get download {DEBIAN_PACKAGE} failed: {result.stderr.strip()[-500:]}")
    return debs[0]


def bootstrap() -> Path:
    """Extract promtool from the Debian package into .tools/prometheus and return its path."""
    if shutil.which("apt-get") is None or shutil.which("dpkg") is None:
        raise PromtoolUnavailableError(
            "promtool is not installed and this machine has no apt-get/dpkg to bring it: install the Debian or "
            "Prometheus release's promtool and set PROMTOOL to its path"
        )
    with tempfile.TemporaryDirectory() as scratch:
        deb = _download(Path(scratch))
        TOOLS_DIR.mkdir(parents=True, exist_ok=True)
        extracted = _run(["dpkg", "-x", str(deb), str(TOOLS_DIR)])
        if extracted.returncode != 0:
            raise PromtoolUnavailableError(f"dpkg -x {deb.name} failed: {extracted.stderr.strip()[-500:]}")
    if not BUNDLED.is_file():
        raise PromtoolUnavailableError(f"{deb.name} did not contain usr/bin/promtool")
    return BUNDLED


def promtool() -> Path:
    """The promtool binary to judge with: $PROMTOOL, PATH, .tools/prometheus, else bootstrapped."""
    configured = os.environ.get("PROMTOOL")
    if configured:
        if not Path(configured).is_file():
            raise PromtoolUnavailableError(f"PROMTOOL={configured} is not a file")
        return Path(configured)
    on_path = shutil.which("promtool")
    if on_path:
        return Path(on_path)
    if BUNDLED.is_file():
        return BUNDLED
    return bootstrap()


if __name__ == "__main__":
    print(promtool())
