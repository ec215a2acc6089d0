"""Judges for the custom resources kubernetes-validate has no schema for, on every stack's rendered objects.

Gatekeeper: every ConstraintTemplate's Rego (and its libs) compiles in a real Rego interpreter, names follow
Gatekeeper's rules, and every constraint's parameters validate against its template's schema. External
Secrets: every ExternalSecret points at a store the cluster has, and the Vault store carries the fields the
ESO v1 API requires.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import jsonschema
import pytest
import regopy

from components.core.contracts import SYSTEM_NAMESPACES
from offline import render
from offline.stackfile import available_stacks
from tests.support.judges import REPO_ROOT
from tests.support.runs import Runs

STACKS = available_stacks(REPO_ROOT)


@pytest.fixture(scope="module", params=STACKS)
def documents(request: pytest.FixtureRequest, runs: Runs) -> dict[str, list[dict[str, Any]]]:
    """cluster -> rendered documents."""
    by_cluster: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in render.manifests(runs.stack(request.param).recording):
        by_cluster[item.cluster].append(item.document)
    return by_cluster


def of_kind(docs: list[dict[str, Any]], api_prefix: str, kind: str | None = None) -> list[dict[str, Any]]:
    return [d for d in docs if d["apiVersion"].startswith(api_prefix) and (kind is None or d["kind"] == kind)]


def test_templates_compile_and_follow_gatekeeper_naming(documents: dict[str, list[dict[str, Any]]]) -> None:
    for cluster, docs in documents.items():
        templates = of_kind(docs, "templates.gatekeeper.sh/v1", "ConstraintTemplate")
        assert len(templates) >= 7, cluster
        for template in templates:
            kind = template["spec"]["crd"]["spec"]["names"]["kind"]
            assert template["metadata"]["name"] == kind.lower()  # Gatekeeper rejects any other name
            jsonschema.Draft7Validator.check_schema(template["spec"]["crd"]["spec"]["validation"]["openAPIV3Schema"])
            target = template["spec"]["targets"][0]
            assert target["target"] == "admission.k8s.gatekeeper.sh"
            interpreter = regopy.Interpreter()
            for i, lib in enumerate(target.get("libs", [])):
                assert "package lib." in lib, "Gatekeeper requires template libs under package lib.*"
                interpreter.add_module(f"lib{i}", lib)
            interpreter.add_module("template", target["rego"])
            interpreter.set_input_term(json.dumps({"review": {"object": {"kind": "ConfigMap"}}, "parameters": {}}))
            result = json.loads(str(interpreter.query(f"x = data.{kind.lower()}.violation")))
            assert "errors" not in result, (kind, result)


def test_constraints_match_their_templates(documents: dict[str, list[dict[str, Any]]]) -> None:
    for cluster, docs in documents.items():
        schemas = {
            t["spec"]["crd"]["spec"]["names"]["kind"]: t["spec"]["crd"]["spec"]["validation"]["openAPIV3Schema"]
            for t in of_kind(docs, "templates.gatekeeper.sh/v1", "ConstraintTemplate")
        }
        constraints = of_kind(docs, "constraints.gatekeeper.sh/v1beta1")
        assert {c["kind"] for c in constraints} == set(schemas), cluster
        for constraint in constraints:
            jsonschema.validate(constraint["spec"].get("parameters", {}), schemas[constraint["kind"]])
            assert constraint["spec"]["enforcementAction"] in ("dryrun", "warn", "deny")
            match = constraint["spec"]["match"]
            if "namespaces" in match:  # a line's own images, or the platform's: never Kubernetes' own namespaces
                assert match["namespaces"] and not set(SYSTEM_NAMESPACES) & set(match["namespaces"])
                continue
            excluded = match["excludedNamespaces"]
            assert "kube-system" in excluded
            # a line namespace is left out only where a constraint of the same kind judges that line alone
            scoped = {ns: c["kind"] for c in constraints for ns in c["spec"]["match"].get("namespaces", [])}
            for namespace in (ns for ns in excluded if ns.startswith("line-")):
                assert scoped.get(namespace) == constraint["kind"], (cluster, constraint["metadata"]["name"], namespace)


def test_external_secrets_read_only_their_own_lines_store_and_folder(
    documents: dict[str, list[dict[str, Any]]],
) -> None:
    for cluster, docs in documents.items():
        stores = {s["metadata"]["name"]: s for s in of_kind(docs, "external-secrets.io/v1", "ClusterSecretStore")}
        for store in stores.values():
            vault = store["spec"]["provider"]["vault"]
            assert vault["server"].startswith("https://") and vault["version"] == "v2" and vault["path"]
            kubernetes = vault["auth"]["kubernetes"]
            assert kubernetes["role"] and kubernetes["mountPath"] and kubernetes["serviceAccountRef"]["name"]
            [condition] = store["spec"]["conditions"]
            assert condition == {"namespaces": [kubernetes["serviceAccountRef"]["namespace"]]}, "one line per store"
        for secret in of_kind(docs, "external-secrets.io/v1", "ExternalSecret"):
            ref, namespace = secret["spec"]["secretStoreRef"], secret["metadata"]["namespace"]
            assert ref["kind"] == "ClusterSecretStore" and ref["name"] in stores, (cluster, secret["metadata"])
            assert stores[ref["name"]]["spec"]["conditions"] == [{"namespaces": [namespace]}], "its own line's store"
            # a line's folder is <cluster>/<line>/; a platform add-on's <cluster>/addon.<add-on>/, read through its
            # own store vault-addon.<add-on>
            scope = (
                namespace.removeprefix("line-") if namespace.startswith("line-") else ref["name"].removeprefix("vault-")
            )
            assert namespace.startswith("line-") or scope.startswith("addon."), (cluster, secret["metadata"])
            assert all(d["remoteRef"]["key"].startswith(f"{cluster}/{scope}/") for d in secret["spec"]["data"])
            assert secret["spec"]["data"] and all(
                d["remoteRef"]["key"] and d["secretKey"] for d in secret["spec"]["data"]
            )
            assert "stringData" not in json.dumps(secret) and "value" not in json.dumps(secret["spec"])
