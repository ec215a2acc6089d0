"""The Vault secret export of the disaster-recovery secret escrow (#11 item 5b), the first of three containers of the
cluster's escrow CronJob: this one writes the cluster's Vault KV v2 secrets as one plaintext JSON file on a
memory-backed emptyDir, the next encrypts it with sops to the stack's recipients and the last uploads it with rclone.
A plant whose Vault is lost restores its lines' and add-ons' secrets from that file. Python 3 standard library only:
it runs in a pinned python slim image as uid 65534 with a read-only root file system.

One run: (1) log in with the pod's projected service-account token (`auth/<authMount>/login`); (2) list the
cluster's folder of the KV mount recursively (`LIST <kvMount>/metadata/<folder>/`: each line's `<folder>/<line>/...`
and each add-on's `<folder>/addon.<name>/...`), never anything beside it (`plant-2/` is not `plant/`); (3) read each
secret's current version (`GET <kvMount>/data/<path>`); (4) write the export; (5) revoke the token.

What a user relies on:
- a current version that is deleted or destroyed is not an error: it is listed under "skipped" with the reason, as a
  secret that vanished between the LIST and its read (someone removed it during the export);
- an empty folder (404 on the first LIST) is an export of zero secrets, said so in the log;
- any other failure — a login refused, a LIST or read answered other than 200/404, Vault unreachable, a timeout —
  is one `FAIL` line naming the request and Vault's HTTP status and `errors`, exit 1, and nothing written: the file
  appears complete (a temporary file in the same directory, mode 0600, renamed over the path) or not at all. Nothing
  is retried: the CronJob's failed run is the report. An older export at the path (left by an earlier attempt of the
  same pod: the emptyDir survives a container restart) is kept untouched, not removed: it is a complete export, the
  next containers run only after this one exited 0, and then it has been replaced;
- the log names paths and counts only, never a secret value or the token; an unexpected error is reported by its
  type and line, its message withheld (it could quote an answer);
- Vault's redirects are not followed: urllib would send the token on to wherever they point.

Usage: vault_export.py SETTINGS_JSON (written by the program): server, caFile (null: the system's trust), authMount,
role, tokenFile, kvMount, folder, output, timeoutSeconds (of each request). Tests point `server` at a fake Vault.
"""

from __future__ import annotations

import json
import os
import ssl
import sys
import tempfile
import traceback
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FORMAT = "factory-floor.vault-export/v1"
SETTINGS_KEYS = ("server", "caFile", "authMount", "role", "tokenFile", "kvMount", "folder", "output", "timeoutSeconds")

Json = dict[str, Any]


class ExportError(Exception):
    """One step of the export failed; the message names the request and what Vault answered, never a value."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A 3xx becomes an HTTPError: following it would carry X-Vault-Token to the redirect's target."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class Vault:
    """Vault's HTTP API at `url`; `token` is set by the login and sent as X-Vault-Token."""

    url: str
    context: ssl.SSLContext
    timeout_s: float
    token: str | None = None

    def call(self, method: str, path: str, body: Json | None = None) -> tuple[int, Json]:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if self.token is not None:
            headers["X-Vault-Token"] = self.token
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=self.context), _NoRedirect())
        try:
            with opener.open(request, timeout=self.timeout_s) as response:
                return response.status, _json(response.read())
        except urllib.error.HTTPError as error:
            return error.code, _json(error.read())
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            raise ExportError(f"{method} {path}: Vault did not answer ({error})") from None


def _json(raw: bytes) -> Json:
    if not raw.strip():
        return {}
    try:
        found = json.loads(raw)
    except ValueError:
        return {"errors": [raw.decode(errors="replace")[:300]]}
    return found if isinstance(found, dict) else {"errors": [f"unexpected answer of type {type(found).__name__}"]}


def failure(method: str, path: str, status: int, answer: Json) -> ExportError:
    errors = answer.get("errors")
    said = "; ".join(str(e) for e in errors) if isinstance(errors, list) and errors else "no errors given"
    return ExportError(f"{method} {path}: HTTP {status}: {said}")


def secret_path(kv_mount: str, kind: str, path: str) -> str:
    return f"/v1/{kv_mount}/{kind}/{urllib.parse.quote(path, safe='/')}"


def login(vault: Vault, settings: Json) -> None:
    path = f"/v1/auth/{settings['authMount']}/login"
    try:
        jwt = Path(settings["tokenFile"]).read_text().strip()
    except OSError as error:
        raise ExportError(f"reading the service-account token {settings['tokenFile']}: {error.strerror}") from None
    status, answer = vault.call("POST", path, {"role": settings["role"], "jwt": jwt})
    token = (answer.get("auth") or {}).get("client_token") if status == 200 else None
    if not isinstance(token, str) or not token:
        raise failure("POST", path, status, answer) if status != 200 else ExportError(f"POST {path}: no client_token")
    vault.token = token
    log(f"ok   logged in to {vault.url} as role {settings['role']} through auth/{settings['authMount']}")


def list_secrets(vault: Vault, kv_mount: str, folder: str) -> list[str] | None:
    """Every secret's path under `folder` (relative to the mount), or None when the folder holds nothing (404)."""
    found: list[str] = []
    pending = [folder + "/"]
    while pending:
        current = pending.pop()
        path = secret_path(kv_mount, "metadata", current)
        status, answer = vault.call("LIST", path)
        if status == 404:  # no keys (Vault's answer to an empty or vanished folder)
            if current == folder + "/":
                return None
            continue
        keys = (answer.get("data") or {}).get("keys") if status == 200 else None
        if not isinstance(keys, list):
            raise failure("LIST", path, status, answer) if status != 200 else ExportError(f"LIST {path}: no keys")
        for key in keys:
            if not isinstance(key, str) or not key.strip("/") or ".." in key.split("/"):
                raise ExportError(f"LIST {path}: unusable key {key!r}")
            (pending if key.endswith("/") else found).append(current + key)
    return sorted(found)


def read_secret(vault: Vault, kv_mount: str, name: str) -> tuple[Json | None, str]:
    """The current version as {"version", "data"}, or None and why it was skipped (deleted, destroyed, gone)."""
    path = secret_path(kv_mount, "data", name)
    status, answer = vault.call("GET", path)
    if status not in (200, 404):
        raise failure("GET", path, status, answer)
    found = answer.get("data")
    body: Json = found if isinstance(found, dict) else {}
    meta = body.get("metadata")
    metadata: Json = meta if isinstance(meta, dict) else {}
    version = metadata.get("version")
    if metadata.get("destroyed"):
        return None, f"current version {version} destroyed"
    if metadata.get("deletion_time"):
        return None, f"current version {version} deleted at {metadata['deletion_time']}"
    if status == 404:
        return None, "not found (removed during the export)"
    if not isinstance(body.get("data"), dict) or not isinstance(version, int):
        raise ExportError(f"GET {path}: HTTP 200 without data.data and data.metadata.version")
    return {"version": version, "data": body["data"]}, ""


def export(vault: Vault, settings: Json) -> Json:
    kv_mount, folder = settings["kvMount"], settings["folder"]
    document: Json = {"format": FORMAT, "kvMount": kv_mount, "folder": folder, "secrets": {}, "skipped": {}}
    names = list_secrets(vault, kv_mount, folder)
    if names is None:
        log(f"ok   folder {folder}/ of {kv_mount} holds no secrets (LIST answered 404): exporting zero secrets")
        names = []
    for name in names:
        secret, reason = read_secret(vault, kv_mount, name)
        if secret is None:
            document["skipped"][name] = reason
            log(f"skip {name}: {reason}")
        else:
            document["secrets"][name] = secret
    document["exportedAt"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return document


def write_atomically(output: Path, document: Json) -> None:
    """Mode 0600 (mkstemp's) in the same directory, then renamed over `output`: complete or absent, never partial."""
    raw = json.dumps(document, sort_keys=True, indent=2).encode() + b"\n"
    try:
        handle, temporary = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    except OSError as error:
        raise ExportError(f"writing {output}: {error.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(raw)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, output)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise ExportError(f"writing {output}: {error.strerror}") from None


def load_settings(path: str) -> Json:
    try:
        settings = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise ExportError(f"reading settings {path}: {error}") from None
    missing = [key for key in SETTINGS_KEYS if not isinstance(settings, dict) or key not in settings]
    if missing:
        raise ExportError(f"settings {path} lack {', '.join(missing)}")
    settings["folder"] = str(settings["folder"]).strip("/")
    if not settings["folder"] or ".." in settings["folder"].split("/"):
        raise ExportError(f"settings {path}: folder {settings['folder']!r} names no folder of the mount")
    settings["kvMount"] = str(settings["kvMount"]).strip("/")
    return settings


def run(settings: Json) -> None:
    context = (
        ssl.create_default_context(cafile=settings["caFile"]) if settings["caFile"] else ssl.create_default_context()
    )
    vault = Vault(str(settings["server"]).rstrip("/"), context, float(settings["timeoutSeconds"]))
    login(vault, settings)
    try:
        document = export(vault, settings)
        write_atomically(Path(settings["output"]), document)
    finally:  # also after a failure: the token must not outlive the run
        revoke(vault)
    skipped = f", {len(document['skipped'])} skipped" if document["skipped"] else ""
    log(
        f"exported {len(document['secrets'])} secret(s) of {settings['folder']}/ from {settings['kvMount']}"
        f"{skipped} into {settings['output']}"
    )


def revoke(vault: Vault) -> None:
    """Its errors are ignored: the token expires on its own (its TTL) and the export's result does not depend on it."""
    try:
        status, _ = vault.call("POST", "/v1/auth/token/revoke-self")
    except ExportError:
        status = 0
    if status not in (200, 204):
        log(f"warn the token was not revoked (HTTP {status or 'no answer'}); it expires with its TTL")


def log(line: str) -> None:
    print(f"{datetime.now(UTC).isoformat(timespec='seconds')} {line}", flush=True)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        log("FAIL usage: vault_export.py SETTINGS_JSON")
        return 2
    try:
        run(load_settings(argv[1]))
    except ExportError as error:
        log(f"FAIL {error}")
        return 1
    except Exception as error:  # a message could quote an answer: only the type and where
        where = traceback.extract_tb(error.__traceback__)[-1]
        log(f"FAIL unexpected {type(error).__name__} in {Path(where.filename).name}:{where.lineno}; message withheld")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
