"""Outside tools the tests run (promtool, amtool, busybox), brought from their Debian packages when the machine
lacks them.

A tool is found as its environment variable, on PATH, or in .tools/<package>/ (git-ignored). When none is there
it is brought the way REFERENCE.md's "outside judges" describe: `apt-get download <package>` (with an
`apt-get update` first when the package lists are missing) and `dpkg -x` into .tools/<package> — the files only,
no service is installed or started. CI runs as root on Debian, so this needs nothing from .ci/run; a machine that
cannot do it fails the tests that need the tool with the reason, never skips them.

Standard library only, so `python3 -m tests.support.debian_tools` works before any virtualenv exists.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 600


class ToolUnavailableError(RuntimeError):
    """The tool is not installed and could not be brought from its Debian package."""


def _run(command: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)


@dataclass(frozen=True)
class DebianTool:
    name: str  # the command
    package: str  # the Debian package that ships it
    inside: str  # its path inside the package
    env: str  # the variable that names an installed copy

    @property
    def bundled(self) -> Path:
        return REPO_ROOT / ".tools" / self.package / self.inside

    def _download(self, into: Path) -> Path:
        result = _run(["apt-get", "download", self.package], cwd=into)
        if result.returncode != 0:
            # a fresh machine has no package lists yet
            update = _run(["apt-get", "update", "-qq"])
            if update.returncode != 0:
                raise ToolUnavailableError(f"apt-get update failed: {update.stderr.strip()[-500:]}")
            result = _run(["apt-get", "download", self.package], cwd=into)
        debs = sorted(into.glob(f"{self.package}_*.deb"))
        if result.returncode != 0 or not debs:
            raise ToolUnavailableError(f"apt-get download {self.package} failed: {result.stderr.strip()[-500:]}")
        return debs[0]

    def bootstrap(self) -> Path:
        """Extract the tool from its Debian package into .tools/<package> and return its path."""
        if shutil.which("apt-get") is None or shutil.which("dpkg") is None:
            raise ToolUnavailableError(
                f"{self.name} is not installed and this machine has no apt-get/dpkg to bring it: install "
                f"{self.name} and set {self.env} to its path"
            )
        with tempfile.TemporaryDirectory() as scratch:
            deb = self._download(Path(scratch))
            target = REPO_ROOT / ".tools" / self.package
            target.mkdir(parents=True, exist_ok=True)
            extracted = _run(["dpkg", "-x", str(deb), str(target)])
            if extracted.returncode != 0:
                raise ToolUnavailableError(f"dpkg -x {deb.name} failed: {extracted.stderr.strip()[-500:]}")
        if not self.bundled.is_file():
            raise ToolUnavailableError(f"{deb.name} did not contain {self.inside}")
        return self.bundled

    def path(self) -> Path:
        """The binary to run: ${env}, PATH, .tools/<package>, else bootstrapped."""
        configured = os.environ.get(self.env)
        if configured:
            if not Path(configured).is_file():
                raise ToolUnavailableError(f"{self.env}={configured} is not a file")
            return Path(configured)
        on_path = shutil.which(self.name)
        if on_path:
            return Path(on_path)
        if self.bundled.is_file():
            return self.bundled
        return self.bootstrap()


PROMTOOL = DebianTool("promtool", "prometheus", "usr/bin/promtool", "PROMTOOL")
BUSYBOX = DebianTool("busybox", "busybox", "bin/busybox", "BUSYBOX")
AMTOOL = DebianTool("amtool", "prometheus-alertmanager", "usr/bin/amtool", "AMTOOL")
TOOLS = (PROMTOOL, BUSYBOX, AMTOOL)


def promtool() -> Path:
    """promtool, the Prometheus project's own judge of rule files (`check rules`, `test rules`)."""
    return PROMTOOL.path()


def run_promtool(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """promtool with `args` in `cwd` (where `test rules` finds its rule files)."""
    return subprocess.run([str(promtool()), *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def run_amtool(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """amtool, the Alertmanager project's own judge of its configuration (`check-config`, `config routes test`)."""
    command = [str(AMTOOL.path()), *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def busybox() -> Path:
    """busybox, the shell and applets the segmentation canary's image runs its script with."""
    return BUSYBOX.path()


def run_busybox_script(
    script: str, bin_dir: Path, tools: dict[str, str], env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """`script` in busybox's own shell, as a container of the busybox image runs it, with stand-ins for some of
    its applets (`tools`: name -> an executable's text, put first on PATH) and `env`."""
    bin_dir.mkdir(exist_ok=True)
    for name, text in tools.items():
        tool = bin_dir / name
        tool.write_text(text)
        tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    environment = {"PATH": f"{bin_dir}:{os.environ.get('PATH', '')}", **env}
    return subprocess.run(
        [str(busybox()), "sh", "-c", script], env=environment, capture_output=True, text=True, timeout=120, check=False
    )


if __name__ == "__main__":
    failed = False
    for tool in TOOLS:
        try:
            print(tool.path())
        except ToolUnavailableError as error:
            print(f"note: {tool.name}: {error}", file=sys.stderr)
            failed = True
    sys.exit(1 if failed else 0)
