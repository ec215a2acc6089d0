"""Which settings resource belongs to which bucket or storage account, and which stores hold backups.

pulumi-aws 7 and azure-native split a store's settings into resources of their own (BucketVersioning,
BlobServiceProperties, ...), each naming its store in a property (`bucket`, `accountName`). During preview
that name is often unknown, but the engine knows the *property dependency*, so that link is tried first,
then the value of the property (a name given in the program), then — for the offline harness, which records
dependencies but not per-property ones — a single dependency on a store of the right type.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pulumi_policy import PolicyResource

from factory_policies import vocabulary as vocab
from factory_policies.controls import PREVIEW_UNKNOWN, dig, mapping, walk_strings


def _strings(resource: PolicyResource, prop: str) -> set[str]:
    try:
        return set(walk_strings(dig(resource.props, prop)))
    except PREVIEW_UNKNOWN:
        return set()


def owners(
    settings: PolicyResource, targets: Sequence[PolicyResource], *, prop: str, identity: Sequence[str]
) -> list[PolicyResource]:
    """The targets `settings` refers to through its property `prop`."""
    by_urn = {t.urn: t for t in targets}
    declared = [d for d in (settings.property_dependencies or {}).get(prop) or [] if d.urn in by_urn]
    if declared:
        return declared
    values = _strings(settings, prop)
    if values:
        named = [t for t in targets if values & {v for key in identity for v in _strings(t, key)}]
        if named:
            return named
    depended = [d for d in settings.dependencies if d.urn in by_urn]
    return depended if len(depended) == 1 else []


def linked(
    target: PolicyResource,
    *,
    resources: Iterable[PolicyResource],
    types: Iterable[str],
    targets: Sequence[PolicyResource],
    prop: str,
    identity: Sequence[str],
) -> list[PolicyResource]:
    """The settings resources of `types` that belong to `target`."""
    wanted = set(types)
    return [
        r
        for r in resources
        if r.resource_type in wanted and target.urn in {o.urn for o in owners(r, targets, prop=prop, identity=identity)}
    ]


def purpose(props: Any, tags_key: str) -> str:
    # A store is a backup store unless it says otherwise with the purpose tag (AWS/Azure tags, GCS labels). The
    # default is the strict one: a program cannot forget to mark a backup store.
    value = mapping(props, tags_key).get(vocab.PURPOSE)
    return str(value) if value else vocab.BACKUP_PURPOSE


def is_backup_store(props: Any, tags_key: str) -> bool:
    return purpose(props, tags_key) == vocab.BACKUP_PURPOSE


def of_types(resources: Iterable[PolicyResource], types: Iterable[str]) -> list[PolicyResource]:
    wanted = set(types)
    return [r for r in resources if r.resource_type in wanted]
