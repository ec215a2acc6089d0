"""The restore drill's script, run for real against a small fake Kubernetes API server (http.server on localhost):
it passes only when Velero backs the marker namespace up, restores it, and the restored markers are this run's;
a Restore that ends PartiallyFailed, a wrong marker, an older backup's data, a missing object or a backup that
never finishes fails it with one FAIL line naming the cause — and the scratch namespace is deleted every time."""

from __future__ import annotations

import ast
import contextlib
import copy
import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from components.backup.drill import drill_job
from components.backup.drill.config import DrillConfig
from components.backup.drill.manifests import SCRIPT, settings
from tests.support.local_http import local_servers

VELERO = "/apis/velero.io/v1/namespaces/velero/"
CORE = "/api/v1/namespaces/"


@dataclass
class Behaviour:
    """How the fake cluster's Velero behaves in one case."""

    backup_phases: tuple[str, ...] = ("New", "InProgress", "Completed")  # one per GET, the last one stays
    restore_phases: tuple[str, ...] = ("InProgress", "Completed")
    marker_data: dict[str, str] | None = None  # what the restore writes instead of the marker's data
    restore_run: str | None = None  # the run id the restored run marker holds instead of this run's
    restores_nothing: bool = False
    forbidden_reads: int = 1  # reads of the scratch namespace refused before the restored RoleBinding counts
    scratch_left_over: bool = False  # a killed run left the scratch namespace behind


@dataclass
class FakeCluster:
    drill: dict[str, Any]
    behaviour: Behaviour
    requests: list[str] = field(default_factory=list)
    namespaces: set[str] = field(default_factory=set)
    configmaps: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    velero: dict[str, dict[str, Any]] = field(default_factory=dict)
    gets: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        marker_ns = self.drill["markerNamespace"]
        self.namespaces.add(marker_ns)
        self.configmaps[(marker_ns, self.drill["marker"])] = {"data": dict(self.drill["markerData"])}
        if self.behaviour.scratch_left_over:
            self.namespaces.add(self.drill["scratchNamespace"])

    def handle(self, method: str, path: str, body: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.requests.append(f"{method} {path}")
            if path.startswith(VELERO):
                return self._velero(method, path.removeprefix(VELERO), body)
            parts = path.removeprefix(CORE).split("/")
            if len(parts) == 1:
                return self._namespace(method, parts[0])
            return self._configmap(method, parts[0], parts[2] if len(parts) > 2 else None, body)

    def _namespace(self, method: str, name: str) -> tuple[int, dict[str, Any]]:
        if name not in self.namespaces:
            return 404, {"message": f'namespaces "{name}" not found'}
        if method == "DELETE":
            self.namespaces.discard(name)  # a namespace without finalizers: gone at once
            self.configmaps = {k: v for k, v in self.configmaps.items() if k[0] != name}
        return 200, {"metadata": {"name": name}}

    def _configmap(
        self, method: str, namespace: str, name: str | None, body: dict[str, Any] | None
    ) -> tuple[int, dict[str, Any]]:
        if method == "POST" and body is not None:
            self.configmaps[(namespace, body["metadata"]["name"])] = copy.deepcopy(body)
            return 201, body
        assert name is not None
        if namespace == self.drill["scratchNamespace"] and method == "GET":
            self.gets[name] = self.gets.get(name, 0) + 1
            if self.gets[name] <= self.behaviour.forbidden_reads:
                return 403, {"message": f'configmaps "{name}" is forbidden'}
        if (namespace, name) not in self.configmaps:
            return 404, {"message": f'configmaps "{name}" not found'}
        if method == "PUT" and body is not None:
            self.configmaps[(namespace, name)] = copy.deepcopy(body)
        return 200, self.configmaps[(namespace, name)]

    def _velero(self, method: str, path: str, body: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:
        kind, _, name = path.partition("/")
        if method == "POST" and body is not None:
            self.velero[f"{kind}/{body['metadata']['name']}"] = {**body, "status": {}, "gets": 0}
            return 201, body
        found = self.velero.get(f"{kind}/{name}")
        if found is None:
            return 404, {"message": f'{kind} "{name}" not found'}
        phases = self.behaviour.backup_phases if kind == "backups" else self.behaviour.restore_phases
        phase = phases[min(found["gets"], len(phases) - 1)]
        found["gets"] += 1
        if phase != found["status"].get("phase") and phase in drill_job.DONE_PHASES:
            self._finish(kind, name, found, phase)
        found["status"]["phase"] = phase
        return 200, {key: value for key, value in found.items() if key != "gets"}

    def _finish(self, kind: str, name: str, found: dict[str, Any], phase: str) -> None:
        """A Backup copies the marker namespace's ConfigMaps; a Restore writes them into the scratch namespace."""
        marker_ns, scratch = self.drill["markerNamespace"], self.drill["scratchNamespace"]
        if kind == "backups":
            found["copy"] = {k[1]: copy.deepcopy(v) for k, v in self.configmaps.items() if k[0] == marker_ns}
            return
        if phase == "PartiallyFailed":
            found["status"].update(errors=1, warnings=2)
        if self.behaviour.restores_nothing:
            return
        self.namespaces.add(scratch)
        for cm_name, cm in self.velero[f"backups/{found['spec']['backupName']}"]["copy"].items():
            restored = copy.deepcopy(cm)
            restored.setdefault("metadata", {}).setdefault("labels", {})[drill_job.RESTORE_NAME_LABEL] = name
            if cm_name == self.drill["marker"] and self.behaviour.marker_data is not None:
                restored["data"] = self.behaviour.marker_data
            if cm_name == self.drill["runMarker"] and self.behaviour.restore_run is not None:
                restored["data"] = {"run": self.behaviour.restore_run}
            self.configmaps[(scratch, cm_name)] = restored


def _handler(cluster: FakeCluster) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            status, answer = cluster.handle(self.command, self.path, body)
            raw = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = do_PUT = do_DELETE = _answer  # noqa: N815 - http.server's names

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def drill_settings(timeout_s: float = 5) -> dict[str, Any]:
    found = settings("rheinfeld", "plant", "aws", DrillConfig())
    return {**found, "timeoutSeconds": timeout_s, "pollSeconds": 0.01}


@pytest.fixture
def serve() -> Iterator[Any]:
    with local_servers() as start:
        yield lambda cluster: start(_handler(cluster))


def run_drill(serve: Any, behaviour: Behaviour, timeout_s: float = 5) -> tuple[int, FakeCluster, str]:
    cluster = FakeCluster(drill_settings(timeout_s), behaviour)
    url = serve(cluster)
    drill = drill_job.Drill(drill_job.Api(url, None, None), cluster.drill)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = drill.run()
    return code, cluster, out.getvalue()


def test_a_drill_that_backs_up_restores_and_finds_this_runs_markers_succeeds(serve: Any) -> None:
    code, cluster, log = run_drill(serve, Behaviour())
    assert code == 0, log
    assert "FAIL" not in log and "restore drill from location aws: succeeded" in log
    backups = [r for r in cluster.requests if r.startswith(f"POST {VELERO}backups")]
    restores = [r for r in cluster.requests if r.startswith(f"POST {VELERO}restores")]
    assert len(backups) == len(restores) == 1
    order = cluster.requests.index
    run_marker_written = next(r for r in cluster.requests if "/configmaps/restore-drill-run-aws" in r)
    assert order(run_marker_written) < order(backups[0]) < order(restores[0])
    (backup,) = [v for k, v in cluster.velero.items() if k.startswith("backups/")]
    assert backup["spec"]["storageLocation"] == "aws" and backup["spec"]["includedNamespaces"] == ["restore-drill"]
    (restore,) = [v for k, v in cluster.velero.items() if k.startswith("restores/")]
    assert restore["spec"]["namespaceMapping"] == {"restore-drill": "restore-drill-scratch-aws"}
    assert restore["spec"]["backupName"] == backup["metadata"]["name"]
    assert "restore-drill-scratch-aws" not in cluster.namespaces, "the scratch namespace outlived the run"


FAILURES = {
    "a restore that ends PartiallyFailed": (
        Behaviour(restore_phases=("InProgress", "PartiallyFailed")),
        "PartiallyFailed",
    ),
    "a backup that fails": (Behaviour(backup_phases=("InProgress", "Failed")), "Backup restore-drill-aws-"),
    "a restored marker with other data": (
        Behaviour(marker_data={"factory": "rheinfeld", "cluster": "other"}),
        "restored marker restore-drill-scratch-aws/restore-drill-marker holds",
    ),
    "a restore that brought an older backup's run": (
        Behaviour(restore_run="20250101000000-abcdef"),
        "the restore brought older data",
    ),
    "a restore that brought nothing": (Behaviour(restores_nothing=True), "the restore brought no ConfigMap"),
    "a restored Role that never grants access": (Behaviour(forbidden_reads=10**6), "timed out"),
    "a backup that never finishes": (Behaviour(backup_phases=("New", "InProgress")), "timed out after 0.3 s"),
}


@pytest.mark.parametrize("case", list(FAILURES))
def test_a_failed_step_fails_the_drill_and_the_scratch_namespace_is_still_deleted(serve: Any, case: str) -> None:
    behaviour, says = FAILURES[case]
    code, cluster, log = run_drill(serve, behaviour, timeout_s=0.3)
    assert code == 1, log
    fail_lines = [line for line in log.splitlines() if " FAIL " in line]
    assert len(fail_lines) == 1 and says in fail_lines[0], log
    assert "restore drill from location aws: FAILED" in log
    assert cluster.requests[-1] == f"DELETE {CORE}restore-drill-scratch-aws", "no clean-up after the failure"
    assert "restore-drill-scratch-aws" not in cluster.namespaces


def test_a_scratch_namespace_a_killed_run_left_is_removed_before_the_restore(serve: Any) -> None:
    code, cluster, log = run_drill(serve, Behaviour(scratch_left_over=True))
    assert code == 0, log
    deleted = cluster.requests.index(f"DELETE {CORE}restore-drill-scratch-aws")
    restored = next(i for i, r in enumerate(cluster.requests) if r.startswith(f"POST {VELERO}restores"))
    assert deleted < restored


def test_the_script_runs_as_the_pod_runs_it_standard_library_only(serve: Any, tmp_path: Path) -> None:
    """As the CronJob's container runs it (python3 -I -B <script> <settings>), with the API URL override."""
    cluster = FakeCluster(drill_settings(), Behaviour())
    url = serve(cluster)
    settings_file = tmp_path / "drill.json"
    settings_file.write_text(json.dumps(cluster.drill))
    result = subprocess.run(
        [sys.executable, "-I", "-B", str(SCRIPT), str(settings_file)],
        env={"PATH": os.environ.get("PATH", ""), "DRILL_API_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "restore drill from location aws: succeeded" in result.stdout
    failed = FakeCluster(drill_settings(0.3), Behaviour(restore_phases=("PartiallyFailed",)))
    settings_file.write_text(json.dumps(failed.drill))
    result = subprocess.run(
        [sys.executable, "-I", "-B", str(SCRIPT), str(settings_file)],
        env={"PATH": os.environ.get("PATH", ""), "DRILL_API_URL": serve(failed)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1 and "FAIL Restore" in result.stdout, result.stdout + result.stderr


def test_the_script_imports_nothing_outside_the_standard_library() -> None:
    tree = ast.parse(SCRIPT.read_text())
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    imported |= {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 0
    }
    assert imported - {"__future__"} <= set(sys.stdlib_module_names), imported
