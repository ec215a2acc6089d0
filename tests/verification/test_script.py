"""The canary's script, run by a real busybox shell against real TCP listeners on this machine, with `nc`
standing in for busybox's netcat-1.10 applet (the `-v -z -w` behaviour the script relies on: exit 0 when a
connection opens, `bad address` when a name does not resolve). Each case is a cluster: nothing enforced,
ingress only, egress only, everything enforced, no network at all, the API server or a name that does not
resolve. The script must pass only when everything a line must not reach is unreachable and the positive
control holds."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from components.verification.canary import CONDUIT_PORT, EGRESS_CLOSED_PORT, INGRESS_CLOSED_PORT, LISTENER_HOST, SCRIPT
from components.verification.cluster_wide import METADATA_V4, METADATA_V6
from tests.support.debian_tools import run_busybox_script

# netcat-1.10 as busybox builds it (NC_110_COMPAT): `nc [-v] -z -w SEC HOST PORT`
FAKE_NC = f"""#!{sys.executable}
import socket, sys
args = sys.argv[1:]
verbose = "-v" in args
wait = float(args[args.index("-w") + 1])
host, port = args[-2], int(args[-1])
try:
    address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][4]
except OSError:
    print(f"nc: bad address '{{host}}'", file=sys.stderr)
    sys.exit(1)
try:
    socket.create_connection((host, port), timeout=wait).close()
except OSError as error:
    if verbose:
        print(f"nc: {{host}} ({{address[0]}}:{{port}}): {{error.strerror or error}}", file=sys.stderr)
    sys.exit(1)
if verbose:
    print(f"{{host}} ({{address[0]}}:{{port}}) open", file=sys.stderr)
"""


@dataclass
class Cluster:
    ports: dict[int, int]  # canary port -> local port standing in for it
    listening: set[int]  # canary ports that accept connections (what the CNI lets through)
    api: int  # a local port standing in for kubernetes.default.svc:443


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def listeners() -> Iterator[list[socket.socket]]:
    opened: list[socket.socket] = []
    yield opened
    for s in opened:
        s.close()


def _listen(opened: list[socket.socket], port: int) -> None:
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(16)
    opened.append(server)

    def accept() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            connection.close()

    threading.Thread(target=accept, daemon=True).start()


def _run(
    tmp_path: Path, opened: list[socket.socket], reachable: set[int], api_reachable: bool = False, listener: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run the script with the canary's ports mapped to local ones; `reachable` are those the 'CNI' lets through."""
    ports = {port: _free_port() for port in (CONDUIT_PORT, INGRESS_CLOSED_PORT, EGRESS_CLOSED_PORT)}
    api = _free_port()
    for port in reachable:
        _listen(opened, ports[port])
    if api_reachable:
        _listen(opened, api)
    script = SCRIPT.replace("W=3", "W=1").replace("sleep 2", "sleep 0")
    script = script.replace(f"LISTENER={LISTENER_HOST}", f"LISTENER={listener or '127.0.0.1'}")
    script = re.sub(r"\b(808[0-2])\b", lambda m: str(ports[int(m.group())]), script)
    # this machine may well reach a real metadata service: stand closed local ports in for it
    script = script.replace(f"{METADATA_V4} 80", f"127.0.0.1 {_free_port()}")
    script = script.replace(f"{METADATA_V6} 80", f"::1 {_free_port()}")
    env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(api), "NETWORK_POLICY": "kube-router"}
    return run_busybox_script(script, tmp_path / "bin", {"nc": FAKE_NC}, env)


def test_everything_enforced_passes(tmp_path: Path, listeners: list[socket.socket]) -> None:
    result = _run(tmp_path, listeners, reachable={CONDUIT_PORT})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok   positive control" in result.stdout
    assert result.stdout.count(" unreachable\n") == 5  # five forbidden targets, each unreachable
    assert result.stdout.rstrip().endswith(
        "segmentation enforced: default-deny holds in both directions and only the declared conduit is open"
    )


def test_nothing_enforced_fails_while_waiting_for_egress(tmp_path: Path, listeners: list[socket.socket]) -> None:
    result = _run(tmp_path, listeners, reachable={CONDUIT_PORT, INGRESS_CLOSED_PORT, EGRESS_CLOSED_PORT})
    assert result.returncode == 1
    assert "FAIL egress not enforced" in result.stdout


def test_egress_enforced_but_not_ingress_fails(tmp_path: Path, listeners: list[socket.socket]) -> None:
    result = _run(tmp_path, listeners, reachable={CONDUIT_PORT, INGRESS_CLOSED_PORT})
    assert result.returncode == 1
    assert "FAIL another zone, a port its ingress does not admit: reached" in result.stdout
    assert "segmentation is NOT enforced" in result.stdout


def test_a_reachable_api_server_fails(tmp_path: Path, listeners: list[socket.socket]) -> None:
    result = _run(tmp_path, listeners, reachable={CONDUIT_PORT}, api_reachable=True)
    assert result.returncode == 1
    assert "FAIL the API server (kubernetes.default.svc): reached 127.0.0.1" in result.stdout


def test_no_network_fails_the_positive_control_instead_of_passing(
    tmp_path: Path, listeners: list[socket.socket]
) -> None:
    result = _run(tmp_path, listeners, reachable=set())
    assert result.returncode == 1
    assert "FAIL positive control" in result.stdout
    assert "ok   " not in result.stdout


def test_a_name_that_does_not_resolve_never_counts_as_blocked(tmp_path: Path, listeners: list[socket.socket]) -> None:
    """Here the positive control already needs the name: without DNS it fails first, never passes."""
    result = _run(tmp_path, listeners, reachable={CONDUIT_PORT}, listener="no-such-host.invalid")
    assert result.returncode == 1
    assert "FAIL positive control" in result.stdout
