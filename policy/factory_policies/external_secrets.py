"""A line reads Vault only through its own store, and only its own folder (issue #9, finding 1).

External Secrets copies whatever its store's Vault role may read into the namespace of the ExternalSecret. Two
things keep one line's secrets away from another line: the store a line namespace may use is usable from that
namespace alone (a ClusterSecretStore without conditions, or one that selects namespaces by a label, serves
anyone who can create or label a namespace), and every key an ExternalSecret in `line-<line>` names lives under
that line's folder `<cluster>/<line>/` (Vault's per-line policy refuses anything else at runtime; this policy
refuses it at preview, for any program). Line teams cannot create External Secrets objects (their Role has no
`external-secrets.io` rights), so what the stack registers is all there is.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyResource, ReportViolation, Severity, StackValidationArgs

from factory_policies.controls import IEC_62443, dig, items, mapping, namespace_of, object_name
from factory_policies.kit import each, stack_policy
from factory_policies.vocabulary import LINE_NAMESPACE_PREFIX

_GROUP = "kubernetes:external-secrets.io"
_VERSIONS = ("v1", "v1beta1")
EXTERNAL_SECRET = tuple(f"{_GROUP}/{v}:ExternalSecret" for v in _VERSIONS)
CLUSTER_STORE = tuple(f"{_GROUP}/{v}:ClusterSecretStore" for v in _VERSIONS)
NAMESPACED_STORE = tuple(f"{_GROUP}/{v}:SecretStore" for v in _VERSIONS)


def _line(namespace: str) -> str | None:
    return namespace[len(LINE_NAMESPACE_PREFIX) :] if namespace.startswith(LINE_NAMESPACE_PREFIX) else None


def _cluster(resource: PolicyResource) -> str | None:
    """The cluster's name from its provider's clusterIdentifier ('<factory>/<cluster>'), if the engine says."""
    provider = resource.provider
    identifier = dig(provider.props, "clusterIdentifier") if provider is not None else None
    if isinstance(identifier, str) and "/" in identifier:
        return identifier.rsplit("/", 1)[1]
    return None


def _same_cluster(a: PolicyResource, b: PolicyResource) -> bool:
    return a.provider is None or b.provider is None or a.provider.urn == b.provider.urn


def usable_from(store: Mapping[str, Any]) -> list[str] | None:
    """The namespaces a ClusterSecretStore serves, when they are named exactly; None when it serves namespaces
    nobody listed (no conditions, or a label selector or a name pattern)."""
    conditions = items(store, "spec", "conditions")
    if not conditions:
        return None
    named: list[str] = []
    for condition in conditions:
        if mapping(condition, "namespaceSelector") or items(condition, "namespaceRegexes"):
            return None
        named += [str(n) for n in items(condition, "namespaces")]
    return named


def _store_problems(store: PolicyResource) -> Iterator[str]:
    name = object_name(store.props, store.name)
    served = usable_from(store.props)
    lines = [] if served is None else [n for n in served if _line(n)]
    if served is None:
        yield (
            f"ClusterSecretStore {name} is usable from namespaces nobody named (no conditions, or a namespace "
            "label selector or pattern): name the one namespace that may use it in conditions[].namespaces"
        )
    elif lines and len(served) > 1:
        yield f"ClusterSecretStore {name} serves a line and other namespaces ({', '.join(served)}): one line each"
    account = mapping(store.props, "spec", "provider", "vault", "auth", "kubernetes", "serviceAccountRef")
    account_ns = dig(account, "namespace")
    if lines and account and account_ns not in lines:
        yield (
            f"ClusterSecretStore {name} serves {lines[0]} but logs in to Vault as a service account of "
            f"'{account_ns}': it must use an account of the line it serves (Vault's role is per line)"
        )


def _keys(external_secret: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    for i, entry in enumerate(items(external_secret, "spec", "data")):
        yield f"data[{i}].remoteRef.key", dig(entry, "remoteRef", "key")
    for i, entry in enumerate(items(external_secret, "spec", "dataFrom")):
        if mapping(entry, "extract"):
            yield f"dataFrom[{i}].extract.key", dig(entry, "extract", "key")


def key_problem(key: Any, line: str, cluster: str | None) -> str | None:
    """Why `key` is not inside the line's folder `<cluster>/<line>/`, or None."""
    if not isinstance(key, str) or not key:
        return "is empty"
    parts = key.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return f"'{key}' has an empty, '.' or '..' segment"
    folder = f"{cluster or '<cluster>'}/{line}/"
    if len(parts) < 3 or parts[1] != line or (cluster is not None and parts[0] != cluster):
        return f"'{key}' is outside the line's folder '{folder}'"
    return None


def _store_ref_problems(secret: PolicyResource, name: str, stores: Mapping[str, list[PolicyResource]]) -> Iterator[str]:
    namespace = namespace_of(secret.props)
    ref = mapping(secret.props, "spec", "secretStoreRef")
    kind, store_name = dig(ref, "kind") or "SecretStore", dig(ref, "name")
    if kind != "ClusterSecretStore":
        yield f"ExternalSecret {name} reads through a {kind}; a line reads only through its own ClusterSecretStore"
        return
    candidates = [s for s in stores.get(str(store_name), []) if _same_cluster(s, secret)]
    if not candidates:
        yield f"ExternalSecret {name} reads through ClusterSecretStore {store_name}, which the stack does not define"
    elif usable_from(candidates[0].props) != [namespace]:
        yield (
            f"ExternalSecret {name} reads through ClusterSecretStore {store_name}, which is not usable from "
            f"'{namespace}' alone"
        )
    for field in ("data", "dataFrom"):
        for i, entry in enumerate(items(secret.props, "spec", field)):
            source = mapping(entry, "sourceRef")
            other = mapping(source, "storeRef")
            if mapping(source, "generatorRef") or (other and dig(other, "name") != store_name):
                yield f"ExternalSecret {name}: {field}[{i}].sourceRef reads from somewhere other than its store"


def _external_secret_problems(
    secret: PolicyResource, line: str, stores: Mapping[str, list[PolicyResource]]
) -> Iterator[str]:
    name = f"{namespace_of(secret.props)}/{object_name(secret.props, secret.name)}"
    yield from _store_ref_problems(secret, name, stores)
    for i, entry in enumerate(items(secret.props, "spec", "dataFrom")):
        if mapping(entry, "find"):
            yield f"ExternalSecret {name}: dataFrom[{i}].find searches the whole mount; name each key"
    cluster = _cluster(secret)
    for where, key in _keys(secret.props):
        problem = key_problem(key, line, cluster)
        if problem:
            yield f"ExternalSecret {name}: {where} {problem}"


def _check(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    cluster_stores = [r for r in args.resources if r.resource_type in CLUSTER_STORE]
    by_name: dict[str, list[PolicyResource]] = {}
    for store in cluster_stores:
        by_name.setdefault(object_name(store.props, store.name), []).append(store)

    def judge(resource: PolicyResource) -> list[str]:
        if resource.resource_type in CLUSTER_STORE:
            return list(_store_problems(resource))
        line = _line(namespace_of(resource.props))
        if line is None:
            return []
        if resource.resource_type in NAMESPACED_STORE:
            name = object_name(resource.props, resource.name)
            return [f"SecretStore {namespace_of(resource.props)}/{name}: a line reads only through its own store"]
        return list(_external_secret_problems(resource, line, by_name))

    judged = (*EXTERNAL_SECRET, *CLUSTER_STORE, *NAMESPACED_STORE)
    each([r for r in args.resources if r.resource_type in judged], judge, report_violation)


external_secret_line_scope = stack_policy(
    name="external-secret-line-scope",
    title="A line reads Vault only through its own store and folder",
    description=(
        "Every ClusterSecretStore names the namespaces that may use it (no label selectors, no patterns), and "
        "one that serves a line serves that line only and logs in to Vault as an account of that line. Every "
        "ExternalSecret in a line namespace reads through such a store of its own, names each key under the "
        "line's folder '<cluster>/<line>/' (no '.' or '..'), and neither searches the mount (dataFrom.find) "
        "nor reads from another store or a generator."
    ),
    controls=(IEC_62443("SR 2.1"), IEC_62443("SR 5.2"), IEC_62443("SR 4.1")),
    resource_types=(*EXTERNAL_SECRET, *CLUSTER_STORE, *NAMESPACED_STORE),
    check=_check,
    severity=Severity.CRITICAL,
    remediation=(
        "Declare secrets under `lines[].secrets` (remoteKey relative to the line's folder): the program builds "
        "the line's ClusterSecretStore 'vault-<line>' usable from 'line-<line>' alone. Never point a line at "
        "another line's store or folder."
    ),
)
