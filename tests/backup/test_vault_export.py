"""The Vault secret export of the secret escrow, run for real against a small fake Vault (http.server on localhost):
it exports every secret of the cluster's folder with its data and version and nothing beside it, skips a deleted
current version without failing, writes the file complete (mode 0600) or not at all, never prints a value or the
token, and revokes its token — also when a read fails."""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import re
import stat
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from components.backup.escrow import vault_export
from tests.support.local_http import local_servers

SCRIPT = Path(vault_export.__file__)
JWT = "eyJ-service-account-jwt-NEVER-LOGGED"
TOKEN = "hvs.vault-token-NEVER-LOGGED"
SECRETS: dict[str, dict[str, Any]] = {
    "plant/weld/db": {"version": 3, "data": {"user": "weld", "password": "value-weld-db"}},
    "plant/weld/plc/opcua": {"version": 1, "data": {"certificate": "value-opcua-cert"}},  # a sub-sub-folder
    "plant/paint/api": {"version": 7, "data": {"key": "value-paint-api"}},
    "plant/addon.velero/aws": {"version": 2, "data": {"aws_secret_access_key": "value-velero-aws"}},
    "plant/addon.grafana/admin": {"version": 1, "data": {"password": "value-grafana-admin", "user": "admin"}},
}
BESIDE = {  # another cluster's folder and a secret whose name starts like the folder
    "plant-2/weld/db": {"version": 1, "data": {"password": "value-other-cluster"}},
    "plant-old": {"version": 1, "data": {"password": "value-beside-the-folder"}},
}
DELETED = {"plant/weld/old": {"version": 4, "deletion_time": "2025-03-01T10:00:00Z", "destroyed": False}}


@dataclass
class FakeVault:
    """Vault's login, KV v2 LIST/GET and revoke-self, as much as the export uses; every request is recorded."""

    secrets: dict[str, dict[str, Any]]
    login_status: int = 200
    failing_reads: frozenset[str] = frozenset()
    requests: list[str] = field(default_factory=list)
    revoked: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, method: str, path: str, token: str | None, body: Any) -> tuple[int, dict[str, Any]]:
        path = urllib.parse.unquote(path)
        with self.lock:
            self.requests.append(f"{method} {path}")
            if method == "POST" and path == "/v1/auth/kubernetes/login":
                if body != {"role": "escrow-plant", "jwt": JWT} or self.login_status != 200:
                    return self.login_status if self.login_status != 200 else 400, {"errors": ["permission denied"]}
                return 200, {"auth": {"client_token": TOKEN, "lease_duration": 300}}
            if token != TOKEN or self.revoked:
                return 403, {"errors": ["permission denied"]}
            return self._route(method, path)

    def _route(self, method: str, path: str) -> tuple[int, dict[str, Any]]:
        if method == "POST" and path == "/v1/auth/token/revoke-self":
            self.revoked = True
            return 204, {}
        if method == "LIST" and path.startswith("/v1/secret/metadata/"):
            return self._list(path.removeprefix("/v1/secret/metadata/"))
        if method == "GET" and path.startswith("/v1/secret/data/"):
            return self._read(path.removeprefix("/v1/secret/data/"))
        return 405, {"errors": [f"unsupported {method} {path}"]}

    def _list(self, folder: str) -> tuple[int, dict[str, Any]]:
        folder = folder.rstrip("/") + "/" if folder else ""
        keys = {p.removeprefix(folder).partition("/")[0] + ("/" if "/" in p.removeprefix(folder) else "")
                for p in self.secrets if p.startswith(folder)}  # fmt: skip
        return (200, {"data": {"keys": sorted(keys)}}) if keys else (404, {"errors": []})

    def _read(self, name: str) -> tuple[int, dict[str, Any]]:
        if name in self.failing_reads:
            return 500, {"errors": ["1 error occurred: storage backend unavailable"]}
        if name not in self.secrets:
            return 404, {"errors": []}
        found = self.secrets[name]
        metadata = {"version": found["version"], "deletion_time": found.get("deletion_time", "")}
        metadata["destroyed"] = found.get("destroyed", False)
        if "data" not in found:  # a deleted current version: Vault answers 404 with its metadata
            return 404, {"data": {"data": None, "metadata": metadata}}
        return 200, {"data": {"data": found["data"], "metadata": metadata}}


def _handler(vault: FakeVault) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            status, answer = vault.handle(self.command, self.path, self.headers.get("X-Vault-Token"), body)
            raw = json.dumps(answer).encode() if status != 204 else b""
            self.send_response(status)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = do_LIST = _answer  # noqa: N815 - http.server's names

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def serve() -> Iterator[Any]:
    with local_servers() as start:
        yield lambda vault: start(_handler(vault))


def write_settings(tmp_path: Path, url: str) -> Path:
    (tmp_path / "token").write_text(JWT + "\n")
    (tmp_path / "export").mkdir(exist_ok=True)
    settings = {
        "server": url, "caFile": None, "authMount": "kubernetes", "role": "escrow-plant",
        "tokenFile": str(tmp_path / "token"), "kvMount": "secret", "folder": "plant",
        "output": str(tmp_path / "export" / "vault.json"), "timeoutSeconds": 5,
    }  # fmt: skip
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(settings))
    return path


def run_export(serve: Any, tmp_path: Path, vault: FakeVault) -> tuple[int, str, Path]:
    settings = write_settings(tmp_path, serve(vault))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = vault_export.main(["vault_export.py", str(settings)])
    return code, out.getvalue(), tmp_path / "export" / "vault.json"


def run_script(serve: Any, tmp_path: Path, vault: FakeVault) -> subprocess.CompletedProcess[str]:
    """As the CronJob's container runs it: python3 -I -B <script> <settings>, nothing but the standard library."""
    settings = write_settings(tmp_path, serve(vault))
    command = [sys.executable, "-I", "-B", str(SCRIPT), str(settings)]
    env = {"PATH": os.environ.get("PATH", "")}
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_the_folder_is_exported_whole_with_versions_and_nothing_beside_it(serve: Any, tmp_path: Path) -> None:
    vault = FakeVault({**SECRETS, **BESIDE})
    code, log, output = run_export(serve, tmp_path, vault)
    assert code == 0, log
    raw = output.read_text()
    document = json.loads(raw)
    assert document["secrets"] == SECRETS
    assert document["skipped"] == {}
    assert (document["format"], document["kvMount"], document["folder"]) == (vault_export.FORMAT, "secret", "plant")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", document["exportedAt"])
    assert raw == json.dumps(document, sort_keys=True, indent=2) + "\n", "keys not sorted"
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    outside = [r for r in vault.requests if "plant-2" in r or "plant-old" in r or r.endswith("/metadata/")]
    assert outside == [], "the export looked beside its folder"
    assert "exported 5 secret(s) of plant/ from secret" in log and "FAIL" not in log
    assert vault.requests[-1] == "POST /v1/auth/token/revoke-self" and vault.revoked


@pytest.mark.parametrize("old_export", [None, '{"an": "older complete export"}'])
def test_a_read_failing_midway_writes_nothing(serve: Any, tmp_path: Path, old_export: str | None) -> None:
    """An older export at the path (an earlier attempt of the same pod) stays as it was: see the script's docstring."""
    output = tmp_path / "export" / "vault.json"
    if old_export is not None:
        output.parent.mkdir()
        output.write_text(old_export)
    vault = FakeVault(dict(SECRETS), failing_reads=frozenset({"plant/weld/db"}))
    code, log, output = run_export(serve, tmp_path, vault)
    assert code == 1, log
    assert "GET /v1/secret/data/plant/paint/api" in vault.requests, "the failure was not midway"
    assert [p.name for p in output.parent.iterdir()] == ([] if old_export is None else ["vault.json"])
    assert old_export is None or output.read_text() == old_export
    fail_lines = [line for line in log.splitlines() if " FAIL " in line]
    assert fail_lines and "GET /v1/secret/data/plant/weld/db: HTTP 500: 1 error occurred" in fail_lines[0], log
    assert vault.revoked, "a failed export left its token valid"


def test_a_refused_login_fails_clearly_and_reads_nothing(serve: Any, tmp_path: Path) -> None:
    vault = FakeVault(dict(SECRETS), login_status=403)
    code, log, output = run_export(serve, tmp_path, vault)
    assert code == 1 and not output.exists()
    assert "FAIL POST /v1/auth/kubernetes/login: HTTP 403: permission denied" in log
    assert vault.requests == ["POST /v1/auth/kubernetes/login"]


def test_a_deleted_or_destroyed_current_version_is_skipped_not_exported(serve: Any, tmp_path: Path) -> None:
    destroyed = {"plant/paint/gone": {"version": 2, "destroyed": True}}
    vault = FakeVault({**SECRETS, **DELETED, **destroyed})
    code, log, output = run_export(serve, tmp_path, vault)
    assert code == 0, log
    document = json.loads(output.read_text())
    assert document["secrets"] == SECRETS
    assert document["skipped"] == {
        "plant/weld/old": "current version 4 deleted at 2025-03-01T10:00:00Z",
        "plant/paint/gone": "current version 2 destroyed",
    }
    assert "skip plant/weld/old" in log and "5 secret(s) of plant/ from secret, 2 skipped" in log


def test_an_empty_folder_is_an_export_of_zero_secrets(serve: Any, tmp_path: Path) -> None:
    code, log, output = run_export(serve, tmp_path, FakeVault(dict(BESIDE)))
    assert code == 0, log
    assert json.loads(output.read_text())["secrets"] == {}
    assert "holds no secrets" in log and "exported 0 secret(s)" in log


def test_an_unreachable_vault_fails_and_writes_nothing(tmp_path: Path) -> None:
    settings = write_settings(tmp_path, "http://127.0.0.1:9")  # discard: nothing listens
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = vault_export.main(["vault_export.py", str(settings)])
    assert code == 1 and "FAIL POST /v1/auth/kubernetes/login: Vault did not answer" in out.getvalue()
    assert list((tmp_path / "export").iterdir()) == []


def test_a_failed_write_leaves_no_temporary_file(serve: Any, tmp_path: Path) -> None:
    (tmp_path / "export" / "vault.json").mkdir(parents=True)  # the rename over it fails
    vault = FakeVault(dict(SECRETS))
    code, log, output = run_export(serve, tmp_path, vault)
    assert code == 1 and f"FAIL writing {output}" in log, log
    assert [p.name for p in output.parent.iterdir()] == ["vault.json"] and output.is_dir()
    assert vault.revoked


def test_neither_a_value_nor_the_token_is_ever_printed(serve: Any, tmp_path: Path) -> None:
    values = [str(v) for s in SECRETS.values() for v in s["data"].values() if str(v).startswith("value-")]
    for vault in (
        FakeVault({**SECRETS, **DELETED}),
        FakeVault(dict(SECRETS), failing_reads=frozenset({"plant/weld/db"})),
    ):
        result = run_script(serve, tmp_path, vault)
        printed = result.stdout + result.stderr
        assert "plant/weld" in printed and "Traceback" not in printed, printed
        assert [v for v in [*values, TOKEN, JWT] if v in printed] == [], printed


def test_the_script_runs_as_the_pod_runs_it_standard_library_only(serve: Any, tmp_path: Path) -> None:
    result = run_script(serve, tmp_path, FakeVault(dict(SECRETS)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads((tmp_path / "export" / "vault.json").read_text())["secrets"] == SECRETS
    tree = ast.parse(SCRIPT.read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported - {"__future__"} <= set(sys.stdlib_module_names), imported
