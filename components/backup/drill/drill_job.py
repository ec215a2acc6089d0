"""The restore drill, run by the CronJob `restore-drill-<location>` (components/backup/drill/manifests.py) in a pinned
python slim image: Python 3 standard library only, talking to the Kubernetes API with the pod's projected token.

One run: (1) remove a scratch namespace a killed run left behind; (2) write this run's id into the run marker
ConfigMap of the marker namespace; (3) back the marker namespace up into one BackupStorageLocation and wait for
Completed; (4) restore it into the scratch namespace and wait for Completed; (5) read the restored ConfigMaps
there — the program's marker must equal what the program set, the run marker must carry this run's id (a restore
that brought nothing, or an older backup's data, fails) and both must come from this Restore; (6) delete the
scratch namespace, also after any failure. Exit 0 only if every step held; each failure is one `FAIL` line.

The drill's Backup carries a TTL: Velero's garbage collection removes it and its Restore like any other expired
backup, where the store lets a writer hide a copy (the locked copy itself stays until its lock expires). The
drill cannot ask for deletions itself: `create deletebackuprequests` cannot be narrowed to its own backups.

Usage: drill_job.py SETTINGS_JSON (written by the program; see manifests.settings). The API server is the pod's
(`KUBERNETES_SERVICE_HOST`, the service-account CA); DRILL_API_URL replaces it in tests only.
"""

from __future__ import annotations

import json
import os
import secrets
import ssl
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
VELERO = "/apis/velero.io/v1/namespaces/{namespace}/{kind}"
CORE = "/api/v1/namespaces"
DONE_PHASES = ("Completed", "PartiallyFailed", "Failed", "FailedValidation")  # a Backup's or Restore's end
RESTORE_NAME_LABEL = "velero.io/restore-name"  # Velero labels every object it restores with its Restore
REQUEST_TIMEOUT_S = 30

Json = dict[str, Any]


class DrillError(Exception):
    """One step of the drill failed; the message says which and what was found."""


@dataclass(frozen=True)
class Api:
    """The Kubernetes API as this pod reaches it: the token is read on every call (the kubelet rotates it)."""

    url: str
    context: ssl.SSLContext | None
    token_file: Path | None

    def call(self, method: str, path: str, body: Json | None = None) -> tuple[int, Json]:
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if self.token_file is not None and self.token_file.is_file():
            headers["Authorization"] = "Bearer " + self.token_file.read_text().strip()
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S, context=self.context) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, _json(error.read())
        except (urllib.error.URLError, TimeoutError) as error:
            raise DrillError(f"{method} {path}: the API server did not answer ({error})") from None


def _json(raw: bytes) -> Json:
    try:
        found = json.loads(raw)
    except ValueError:
        return {"message": raw.decode(errors="replace")[:300]}
    return found if isinstance(found, dict) else {"message": str(found)[:300]}


def expect(api: Api, method: str, path: str, body: Json | None = None, ok: tuple[int, ...] = (200, 201)) -> Json:
    status, answer = api.call(method, path, body)
    if status not in ok:
        raise DrillError(f"{method} {path}: HTTP {status}: {answer.get('message', answer)}")
    return answer


@dataclass
class Drill:
    api: Api
    settings: Json
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        self.deadline = self.clock() + float(self.settings["timeoutSeconds"])
        self.run_id = datetime.now(UTC).strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(3)
        self.name = f"{self.settings['name']}-{self.run_id}"

    def wait(self, what: str, check: Callable[[], str | None]) -> str:
        """Poll `check` until it answers (a final state), or fail when the drill's time is up."""
        while True:
            answer = check()
            if answer is not None:
                return answer
            if self.clock() >= self.deadline:
                raise DrillError(f"timed out after {self.settings['timeoutSeconds']} s waiting for {what}")
            self.sleep(float(self.settings["pollSeconds"]))

    def scratch_gone(self) -> None:
        path = f"{CORE}/{self.settings['scratchNamespace']}"
        expect(self.api, "DELETE", path, ok=(200, 202, 404))
        self.wait(f"namespace {self.settings['scratchNamespace']} to be deleted", lambda: self._absent(path))

    def _absent(self, path: str) -> str | None:
        status, answer = self.api.call("GET", path)
        if status == 404:
            return "gone"
        if status != 200:
            raise DrillError(f"GET {path}: HTTP {status}: {answer.get('message', answer)}")
        return None

    def write_run_marker(self) -> None:
        namespace, name = self.settings["markerNamespace"], self.settings["runMarker"]
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace, "labels": self.settings["labels"]},
            "data": {"run": self.run_id},
        }
        path = f"{CORE}/{namespace}/configmaps"
        status, answer = self.api.call("PUT", f"{path}/{name}", body)
        if status == 404:
            status, answer = self.api.call("POST", path, body)
        if status not in (200, 201):
            raise DrillError(f"writing run marker {namespace}/{name}: HTTP {status}: {answer.get('message', answer)}")

    def velero(self, kind: str, spec: Json) -> str:
        """Create a Backup or Restore named after this run and wait for its end; fail unless Completed."""
        path = VELERO.format(namespace=self.settings["veleroNamespace"], kind=kind.lower() + "s")
        metadata = {"name": self.name, "namespace": self.settings["veleroNamespace"], "labels": self.settings["labels"]}
        expect(self.api, "POST", path, {"apiVersion": "velero.io/v1", "kind": kind, "metadata": metadata, "spec": spec})
        phase = self.wait(f"{kind} {self.name} to finish", lambda: self._phase(f"{path}/{self.name}"))
        if phase != "Completed":
            status = expect(self.api, "GET", f"{path}/{self.name}").get("status", {})
            found = {k: status[k] for k in ("errors", "warnings", "failureReason", "validationErrors") if k in status}
            raise DrillError(
                f"{kind} {self.name} ended {phase} {json.dumps(found)}; see `velero {kind.lower()} logs {self.name}`"
            )
        return phase

    def _phase(self, path: str) -> str | None:
        phase = expect(self.api, "GET", path).get("status", {}).get("phase")
        return phase if phase in DONE_PHASES else None

    def verify(self) -> None:
        scratch = self.settings["scratchNamespace"]
        marker = self._restored(scratch, self.settings["marker"])
        if marker.get("data") != self.settings["markerData"]:
            raise DrillError(
                f"restored marker {scratch}/{self.settings['marker']} holds {json.dumps(marker.get('data'))}, "
                f"expected {json.dumps(self.settings['markerData'])}"
            )
        run = self._restored(scratch, self.settings["runMarker"])
        if run.get("data", {}).get("run") != self.run_id:
            raise DrillError(
                f"restored run marker {scratch}/{self.settings['runMarker']} holds run "
                f"{run.get('data', {}).get('run')!r}, not this run's {self.run_id!r}: the restore brought older data"
            )

    def _restored(self, namespace: str, name: str) -> Json:
        """The drill may read the scratch namespace only through the Role and RoleBinding restored into it, which
        the API server's authorizer sees a moment after they were created: 403 is retried until the deadline."""
        path, answers = f"{CORE}/{namespace}/configmaps/{name}", []

        def read() -> str | None:
            answers.append(self.api.call("GET", path))
            return None if answers[-1][0] == 403 else "answered"

        try:
            self.wait(f"read access to {namespace}/{name} (restored Role and RoleBinding)", read)
        except DrillError as error:
            raise DrillError(f"{error}: {answers[-1][1].get('message', '')}") from None
        status, found = answers[-1]
        if status == 404:
            raise DrillError(f"the restore brought no ConfigMap {namespace}/{name}")
        if status != 200:
            raise DrillError(f"reading {namespace}/{name}: HTTP {status}: {found.get('message', found)}")
        restored_by = found.get("metadata", {}).get("labels", {}).get(RESTORE_NAME_LABEL)
        if restored_by != self.name:
            raise DrillError(f"{namespace}/{name} was not restored by Restore {self.name} (label: {restored_by!r})")
        return found

    def steps(self) -> None:
        settings = self.settings
        self.scratch_gone()
        self.write_run_marker()
        started = self.clock()
        backup = {
            "includedNamespaces": [settings["markerNamespace"]],
            "storageLocation": settings["location"],
            "ttl": settings["backupTtl"],
            "snapshotVolumes": False,
            "defaultVolumesToFsBackup": False,
        }
        self.velero("Backup", backup)
        backed_up = self.clock()
        log(f"ok   backup {self.name} of {settings['markerNamespace']} into {settings['location']} Completed")
        restore = {
            "backupName": self.name,
            "includedNamespaces": [settings["markerNamespace"]],
            "namespaceMapping": {settings["markerNamespace"]: settings["scratchNamespace"]},
            "restorePVs": False,
        }
        self.velero("Restore", restore)
        self.verify()
        log(
            f"ok   restore {self.name} into {settings['scratchNamespace']} Completed and verified "
            f"(backup {backed_up - started:.1f} s, restore {self.clock() - backed_up:.1f} s)"
        )

    def run(self) -> int:
        failed = False
        try:
            self.steps()
        except DrillError as error:
            log(f"FAIL {error}")
            failed = True
        try:  # also after a failure: the scratch namespace must not outlive the run
            expect(self.api, "DELETE", f"{CORE}/{self.settings['scratchNamespace']}", ok=(200, 202, 404))
        except DrillError as error:
            log(f"FAIL clean-up: {error}")
            failed = True
        location = self.settings["location"]
        log(f"restore drill from location {location}: {'FAILED' if failed else 'succeeded'} (run {self.run_id})")
        return 1 if failed else 0


def log(line: str) -> None:
    print(f"{datetime.now(UTC).isoformat(timespec='seconds')} {line}", flush=True)


def api_from_environment(environ: Mapping[str, str]) -> Api:
    override = environ.get("DRILL_API_URL")
    if override:
        return Api(override.rstrip("/"), None, ACCOUNT / "token")
    host, port = environ["KUBERNETES_SERVICE_HOST"], environ["KUBERNETES_SERVICE_PORT"]
    host = f"[{host}]" if ":" in host else host  # an IPv6 service address
    context = ssl.create_default_context(cafile=str(ACCOUNT / "ca.crt"))
    return Api(f"https://{host}:{port}", context, ACCOUNT / "token")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        log("FAIL usage: drill_job.py SETTINGS_JSON")
        return 2
    settings = json.loads(Path(argv[1]).read_text())
    return Drill(api_from_environment(os.environ), settings).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
