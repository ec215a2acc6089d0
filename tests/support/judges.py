"""Outside judges for rendered manifests: kubernetes-validate (schemas) and checkov (security checks).

Both judge what `make plan` writes, and neither may pass by not looking:
- a document whose kind has no bundled schema (a CRD) is reported as a missing schema, never silently passed;
- a cluster version the bundled schemas do not cover is an error, not a fallback to another version;
- a missing checkov binary, a checkov crash or a stray checkov config file raises; nothing is skipped.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import kubernetes_validate
import yaml
from kubernetes_validate.utils import all_versions

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CHECKOV = REPO_ROOT / ".venv-checkov" / "bin" / "checkov"
CHECKOV_SKIPS_FILE = REPO_ROOT / "tests" / "checkov_skips.yaml"
CHECKOV_TIMEOUT_S = 600
CHECK_ID = re.compile(r"^CKV2?_K8S_\d+$")
# checkov reads these from the scanned directory, the working directory and $HOME; skips live in ONE file.
CHECKOV_CONFIG_NAMES = (".checkov.yaml", ".checkov.yml")


# --- kubernetes-validate -------------------------------------------------------------------------------------


class MissingSchemaError(Exception):
    """A document's apiVersion/kind has no schema in kubernetes-validate: it was NOT validated."""


@dataclass(frozen=True)
class KubernetesValidation:
    schema_version: str  # the bundled schema set used, e.g. "1.33.0"
    errors: list[str] = field(default_factory=list)  # schema violations, one line per document
    missing_schemas: list[str] = field(default_factory=list)  # documents that could not be judged at all


def schema_version(kubernetes_version: str) -> str:
    """'1.33' / 'v1.33' / '1.33.4' -> the bundled schema set of exactly that minor ('1.33.0'), or ValueError.

    The library itself would silently fall back to the newest older minor (and compares versions as strings);
    a cluster must be judged against its own minor.
    """
    match = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)?", kubernetes_version.strip())
    if match is None:
        raise ValueError(f"not a Kubernetes version: {kubernetes_version!r} (expected e.g. '1.33')")
    wanted = (int(match[1]), int(match[2]))
    bundled: list[str] = sorted(set(all_versions()), key=lambda v: tuple(int(part) for part in v.split(".")))
    for version in bundled:
        major, minor = version.split(".")[:2]
        if (int(major), int(minor)) == wanted:
            return version
    raise ValueError(
        f"kubernetes-validate {kubernetes_validate.__version__} has no schemas for Kubernetes {kubernetes_version} "
        f"(bundled: {bundled[0]} .. {bundled[-1]})"
    )


def describe(document: Mapping[str, Any], name: str | None = None) -> str:
    """'<file>: Kind ns/name (apiVersion)' — what a reader needs to find the object."""
    meta = document.get("metadata") or {}
    obj = "/".join(str(part) for part in (meta.get("namespace"), meta.get("name")) if part) or "<no name>"
    where = f"{name}: " if name else ""
    return f"{where}{document.get('kind', '<no kind>')} {obj} ({document.get('apiVersion', '<no apiVersion>')})"


def kubernetes_validate_all(
    documents: Sequence[Mapping[str, Any]], kubernetes_version: str, names: Sequence[str] | None = None
) -> KubernetesValidation:
    """Validate every document in strict mode (unknown fields are errors) against one cluster minor.

    `names` (e.g. manifest file paths) label the documents in messages; defaults to `document[i]`.
    kubernetes-validate reports the best-matching error of each document, so a document shows one error
    at a time.
    """
    if names is not None and len(names) != len(documents):
        raise ValueError(f"{len(names)} names for {len(documents)} documents")
    version = schema_version(kubernetes_version)
    result = KubernetesValidation(schema_version=version)
    for index, document in enumerate(documents):
        name = names[index] if names is not None else f"document[{index}]"
        if not isinstance(document, Mapping) or "apiVersion" not in document or "kind" not in document:
            result.errors.append(f"{name}: not a Kubernetes object (needs apiVersion and kind)")
            continue
        label = describe(document, name)
        try:
            kubernetes_validate.validate(dict(document), version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(part) for part in error.path) or "<root>"
            result.errors.append(f"{label}: {path}: {error.message} [schema {error.version}, strict]")
        except kubernetes_validate.SchemaNotFoundError as error:
            result.missing_schemas.append(f"{label}: {error.message}")
        except kubernetes_validate.InvalidSchemaError as error:
            raise RuntimeError(f"{label}: kubernetes-validate cannot read its own schema: {error.message}") from None
    return result


def kubernetes_validate_errors(
    documents: Sequence[Mapping[str, Any]], kubernetes_version: str, names: Sequence[str] | None = None
) -> list[str]:
    """Strict schema errors of `documents` for cluster minor `kubernetes_version` ('1.33').

    Raises MissingSchemaError when any document's kind has no schema (a CRD): such a document was not judged,
    and an empty error list must never mean "not looked at". Use `kubernetes_validate_all` to get both lists.
    """
    result = kubernetes_validate_all(documents, kubernetes_version, names)
    if result.missing_schemas:
        raise MissingSchemaError(
            f"{len(result.missing_schemas)} document(s) have no schema in kubernetes-validate "
            f"(validate them against their CRD schema instead):\n  " + "\n  ".join(result.missing_schemas)
        )
    return result.errors


def load_manifest_dir(directory: Path) -> tuple[list[str], list[dict[str, Any]]]:
    """Every YAML document under `directory`, with 'relative/path.yaml' (or 'path.yaml#2') as its name."""
    names: list[str] = []
    documents: list[dict[str, Any]] = []
    for path in sorted(directory.rglob("*.y*ml")):
        loaded = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
        relative = path.relative_to(directory).as_posix()
        for index, doc in enumerate(loaded):
            names.append(relative if len(loaded) == 1 else f"{relative}#{index}")
            documents.append(doc)
    return names, documents


# --- checkov -------------------------------------------------------------------------------------------------


class CheckovError(RuntimeError):
    """checkov could not judge the directory (missing binary, crash, unreadable output, stray config)."""


class FailedCheck(TypedDict):
    check_id: str
    check_name: str
    file: str  # relative to the scanned directory
    resource: str  # checkov's resource id, e.g. 'Pod.default.bad'


class AcceptedCheck(FailedCheck):
    reason: str  # from tests/checkov_skips.yaml


class CheckovResult(TypedDict):
    passed: int
    failed: int
    skipped: int
    resource_count: int
    parsing_errors: list[str]
    checkov_version: str
    failed_checks: list[FailedCheck]
    accepted_checks: NotRequired[list[AcceptedCheck]]  # failures a resource-scoped skip excuses
    unused_skips: NotRequired[list[str]]  # scoped skips that matched nothing: stale, remove them


def checkov_binary() -> Path:
    """$CHECKOV (set by the Makefile) or the repo's .venv-checkov; raises if it is not there."""
    configured = os.environ.get("CHECKOV")
    binary = Path(configured) if configured else DEFAULT_CHECKOV
    if not binary.is_file() or not os.access(binary, os.X_OK):
        source = "$CHECKOV" if configured else "the default location"
        raise CheckovError(
            f"checkov not found at {binary} ({source}); install it with `make .venv-checkov/.installed` "
            "(requirements-checkov.txt) — the judge never skips"
        )
    return binary


class CheckovSkip(TypedDict):
    reason: str
    resources: list[str] | None  # None: the check is not run at all; else only these resources are excused


def checkov_cloudformation(directory: Path) -> dict[str, set[str]]:
    """checkov's CloudFormation checks over the templates in `directory` (how IAM and KMS documents the program
    builds are judged): the ids of the checks that passed and failed."""
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE"}
    command = [str(checkov_binary()), "--skip-download", "--framework", "cloudformation", "-o", "json"]
    result = subprocess.run(
        [*command, "-d", str(directory.resolve())], capture_output=True, text=True, env=env, timeout=600, check=False
    )
    report = json.loads(result.stdout)
    results = (report[0] if isinstance(report, list) else report)["results"]
    return {
        "passed": {c["check_id"] for c in results["passed_checks"]},
        "failed": {c["check_id"] for c in results["failed_checks"]},
    }


def _skip(check_id: Any, entry: Any) -> CheckovSkip | None:
    if not (isinstance(check_id, str) and CHECK_ID.match(check_id)):
        return None
    if isinstance(entry, str):
        return CheckovSkip(reason=entry, resources=None) if entry.strip() else None
    if not isinstance(entry, dict) or set(entry) - {"reason", "resources"}:
        return None
    reason, resources = entry.get("reason"), entry.get("resources")
    if not (isinstance(reason, str) and reason.strip()):
        return None
    if not (isinstance(resources, list) and resources and all(isinstance(r, str) and r for r in resources)):
        return None
    return CheckovSkip(reason=reason, resources=list(resources))


def load_checkov_skips(path: Path = CHECKOV_SKIPS_FILE) -> dict[str, CheckovSkip]:
    """check_id -> skip; each names a Kubernetes check and carries a reason, optionally scoped to resources."""
    data = yaml.safe_load(path.read_text())
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping check_id -> reason, got {type(data).__name__}")
    skips = {check_id: _skip(check_id, entry) for check_id, entry in data.items()}
    problems = [
        f"{check_id!r}: needs a check id like CKV_K8S_NN and a non-empty reason (optionally with a non-empty "
        "`resources` list of checkov resource ids)"
        for check_id, skip in skips.items()
        if skip is None
    ]
    if problems:
        raise ValueError(f"{path}: " + "; ".join(problems))
    return {str(k): v for k, v in skips.items() if v is not None}


def apply_scoped_skips(result: CheckovResult, skips: Mapping[str, CheckovSkip]) -> CheckovResult:
    """Move failures that a resource-scoped skip excuses into `accepted`; every other failure stays."""
    kept, accepted = [], []
    for check in result["failed_checks"]:
        skip = skips.get(check["check_id"])
        if skip is not None and skip["resources"] is not None and check["resource"] in skip["resources"]:
            accepted.append(AcceptedCheck(**check, reason=skip["reason"]))
        else:
            kept.append(check)
    used = {(a["check_id"], a["resource"]) for a in accepted}
    result["unused_skips"] = sorted(
        f"{check_id} {resource}"
        for check_id, skip in skips.items()
        for resource in skip["resources"] or []
        if (check_id, resource) not in used
    )
    result["failed_checks"], result["accepted_checks"] = kept, accepted
    result["failed"] -= len(accepted)
    return result


def _stray_checkov_configs(directory: Path) -> list[Path]:
    places = (directory, Path.home())
    return [place / name for place in places for name in CHECKOV_CONFIG_NAMES if (place / name).exists()]


def _reports(output: str) -> list[dict[str, Any]]:
    try:
        parsed = json.loads(output)
    except json.JSONDecodeError as error:
        raise CheckovError(f"checkov did not print JSON ({error}); output starts with: {output[:500]!r}") from None
    reports = parsed if isinstance(parsed, list) else [parsed]  # several frameworks -> a list of reports
    if not all(isinstance(report, dict) for report in reports):
        raise CheckovError(f"unexpected checkov JSON shape: {output[:500]!r}")
    return reports


def normalize_checkov(output: str) -> CheckovResult:
    """One result from checkov's JSON: a report, a list of reports, or (empty directory) a bare summary."""
    result = CheckovResult(
        passed=0, failed=0, skipped=0, resource_count=0, parsing_errors=[], checkov_version="", failed_checks=[]
    )
    for report in _reports(output):
        summary = report.get("summary", report)  # an empty directory prints only the summary
        result["passed"] += int(summary.get("passed", 0))
        result["failed"] += int(summary.get("failed", 0))
        result["skipped"] += int(summary.get("skipped", 0))
        result["resource_count"] += int(summary.get("resource_count", 0))
        result["checkov_version"] = str(summary.get("checkov_version", result["checkov_version"]))
        results = report.get("results") or {}
        result["parsing_errors"] += [str(p) for p in results.get("parsing_errors", [])]
        result["failed_checks"] += [
            FailedCheck(
                check_id=str(check.get("check_id")),
                check_name=str(check.get("check_name")),
                file=str(check.get("file_path", "")).lstrip("/"),
                resource=str(check.get("resource")),
            )
            for check in results.get("failed_checks", [])
        ]
    result["failed_checks"].sort(key=lambda c: (c["file"], c["check_id"]))
    return result


def run_checkov(directory: Path, skips: Mapping[str, CheckovSkip] | None = None) -> CheckovResult:
    """Run checkov's Kubernetes checks fully offline on a directory of YAML manifests.

    Skips come from tests/checkov_skips.yaml (or `skips`): unscoped ones go to checkov as `--skip-check`, so
    checkov does not run them at all; resource-scoped ones excuse exactly those resources' failures, which
    are reported as `accepted_checks`. Raises CheckovError when checkov is missing or cannot judge.
    """
    directory = directory.resolve()
    if not directory.is_dir():
        raise CheckovError(f"{directory} is not a directory")
    stray = _stray_checkov_configs(directory)
    if stray:
        raise CheckovError(
            f"checkov config file(s) {', '.join(map(str, stray))} would change which checks run; "
            f"skips belong in {CHECKOV_SKIPS_FILE}"
        )
    skips = load_checkov_skips() if skips is None else skips
    skip_ids = sorted(check_id for check_id, skip in skips.items() if skip["resources"] is None)
    command = [
        str(checkov_binary()),
        "--directory",
        str(directory),
        "--framework",
        "kubernetes",
        "--output",
        "json",
        "--skip-download",  # no Prisma Cloud / Bridgecrew policy download
    ]
    if skip_ids:
        command += ["--skip-check", ",".join(skip_ids)]
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE"}
    try:
        # cwd=directory: checkov also reads a .checkov.yaml from its working directory
        completed = subprocess.run(
            command, cwd=directory, env=env, capture_output=True, text=True, timeout=CHECKOV_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise CheckovError(f"checkov could not run: {error}") from None
    # exit 0: no failed checks, 1: failed checks; anything else is a crash
    if completed.returncode not in (0, 1):
        raise CheckovError(f"checkov exited {completed.returncode}: {completed.stderr[-2000:]}")
    result = normalize_checkov(completed.stdout)
    if completed.returncode == 1 and result["failed"] == 0:
        raise CheckovError(f"checkov exited 1 without failed checks: {completed.stderr[-2000:]}")
    return apply_scoped_skips(result, skips)


def format_failed_checks(result: CheckovResult) -> str:
    return "\n".join(
        f"  {c['check_id']} {c['check_name']} — {c['file']} ({c['resource']})" for c in result["failed_checks"]
    )
