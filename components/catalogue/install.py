"""Install a resolved add-on as children of a capability component: its namespace(s), the chart or the
manifests, then the custom resources it brings — each after what defines its CRD."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.catalogue.model import Chart, Manifest, Manifests, PodSecurityLevel
from components.catalogue.network import NetworkNeeds, network_policies
from components.catalogue.release import Release
from components.catalogue.values import get_path, set_path
from components.config.factory import ClusterConfig
from components.core import vocabulary as vocab
from components.core.component import FactoryComponent
from components.core.contracts import IdentityBinding
from components.core.kube import kube_resource, pod_spec, pod_template_metadata

_LEVELS: tuple[PodSecurityLevel, ...] = ("restricted", "baseline", "privileged")


@dataclass
class Installed:
    release: Release
    objects: list[pulumi.Resource]  # the Chart, or one resource per manifest
    brought: dict[str, pulumi.Resource] = field(default_factory=dict)


def namespace_manifests(
    releases: Iterable[Release], factory: str, cluster: ClusterConfig, component: str
) -> list[Manifest]:
    """One Namespace per namespace the add-ons use, at the most permissive level any of them needs, with
    every reason for it — an auditor reads why on the namespace itself."""
    grouped: dict[str, list[Release]] = {}
    for release in releases:
        grouped.setdefault(release.addon.namespace, []).append(release)
    found = []
    for name, members in sorted(grouped.items()):
        level = max((r.addon.pod_security.level for r in members), key=_LEVELS.index)
        labels = {**vocab.standard_labels(factory, component=component)}
        for release in members:
            labels.update(release.addon.namespace_labels)
        labels.update(vocab.pod_security_labels(level, cluster.kubernetes_version))
        metadata: dict[str, Any] = {"name": name, "labels": labels}
        reasons = [r.addon.pod_security.reason for r in members if r.addon.pod_security.reason]
        if level != "restricted":
            metadata["annotations"] = {vocab.POD_SECURITY_EXEMPTION: " ".join(dict.fromkeys(reasons))}
        found.append({"apiVersion": "v1", "kind": "Namespace", "metadata": metadata})
    return found


def namespace_network_policies(
    releases: Iterable[Release], factory: str, cluster: ClusterConfig, component: str
) -> list[Manifest]:
    """Per namespace of add-ons that declare their network needs: default deny, then each declared path."""
    grouped: dict[str, dict[str, NetworkNeeds]] = {}
    for release in releases:
        if release.network is not None:
            grouped.setdefault(release.addon.namespace, {})[release.addon.name] = release.network
    labels = vocab.standard_labels(factory, component=component)
    return [
        policy
        for namespace, needs in sorted(grouped.items())
        for policy in network_policies(namespace, needs, cluster, labels)
    ]


def _chart_values(release: Release, binding: IdentityBinding | None) -> dict[str, Any]:
    identity = release.addon.identity
    if binding is None or identity is None:
        return release.values
    # an identity the chart cannot be told about would be created and silently never used
    if not identity.annotations_key or (binding.pod_labels and not identity.pod_labels_key):
        missing = "annotations_key" if not identity.annotations_key else "pod_labels_key"
        raise ValueError(f"add-on {release.addon.name}: its cloud identity needs {missing} on its catalogue entry")
    values = copy.deepcopy(release.values)
    if identity.annotations_key:
        set_path(
            values,
            identity.annotations_key,
            {**(get_path(values, identity.annotations_key) or {}), **binding.annotations},
        )
    if identity.pod_labels_key and binding.pod_labels:
        set_path(
            values, identity.pod_labels_key, {**(get_path(values, identity.pod_labels_key) or {}), **binding.pod_labels}
        )
    return values


def _with_identity(manifests: Sequence[Manifest], release: Release, binding: IdentityBinding | None) -> list[Manifest]:
    """The add-on's service account annotated, and the pods that run as it labelled, for its cloud identity."""
    identity = release.addon.identity
    if binding is None or identity is None:
        return list(manifests)
    result = copy.deepcopy(list(manifests))
    accounts = [
        m for m in result if m["kind"] == "ServiceAccount" and m["metadata"]["name"] == identity.service_account
    ]
    users = [m for m in result if (spec := pod_spec(m)) and spec.get("serviceAccountName") == identity.service_account]
    if not accounts or (binding.pod_labels and not users):
        raise ValueError(
            f"add-on {release.addon.name}: its cloud identity is for service account {identity.service_account}, "
            "which its manifests do not " + ("create" if not accounts else "run pods as")
        )
    for account in accounts:
        account["metadata"].setdefault("annotations", {}).update(binding.annotations)
    for workload in users:
        metadata = pod_template_metadata(workload)
        assert metadata is not None  # it has a pod spec
        metadata.setdefault("labels", {}).update(binding.pod_labels)
    return result


def _object_key(release: Release, manifest: Manifest) -> str:
    """Unique within the add-on: its kind and name, and the namespace of an object outside the add-on's own (the
    restore drill's Roles in its marker namespace share their names with those in `velero`)."""
    kind, name = manifest["kind"].lower(), manifest["metadata"]["name"]
    key = f"{release.addon.name}-{kind}" if name == release.addon.name else f"{release.addon.name}-{kind}-{name}"
    namespace = manifest["metadata"].get("namespace")
    return key if namespace in (None, release.addon.namespace) else f"{key}-in-{namespace}"


def install(
    owner: FactoryComponent[Any],
    release: Release,
    namespace: pulumi.Resource,
    binding: IdentityBinding | None = None,
    *,
    gated_on: Sequence[pulumi.Resource] = (),
    bring: bool = True,
    after: Sequence[pulumi.Resource] = (),
) -> Installed:
    """The add-on's objects as children of `owner`, all after its namespace. A manifest add-on's objects of the
    kinds it applies last (a Job that tests the others) wait for every other object of it, and for `gated_on`
    (what they test elsewhere, e.g. another add-on's objects). Then the custom resources it brings, unless
    `bring` is false: the caller brings them later (`bring_resources`) after something of its own. `after`: what
    every object waits for besides the namespace."""
    addon = release.addon
    last = addon.source.applied_last if isinstance(addon.source, Manifests) else frozenset()
    if gated_on and not last:
        raise ValueError(f"add-on {addon.name}: applies nothing last, so nothing could wait for what it is gated on")
    after_namespace = owner.child_opts(depends_on=[namespace, *after])
    objects: list[pulumi.Resource]
    if isinstance(addon.source, Chart):
        chart = k8s.helm.v4.Chart(
            owner.child_name(addon.name),
            chart=release.chart,
            version=addon.version,
            name=addon.name,
            namespace=addon.namespace,
            repository_opts=k8s.helm.v4.RepositoryOptsArgs(repo=release.repository) if release.repository else None,
            values=_chart_values(release, binding),
            opts=after_namespace,
        )
        objects = [owner.own(addon.name, chart)]
    else:
        objects = []
        manifests = _with_identity(release.manifests, release, binding)
        for manifest in [m for m in manifests if m["kind"] not in last]:
            key = _object_key(release, manifest)
            objects.append(owner.own(key, kube_resource(owner.child_name(key), manifest, after_namespace)))
        after_the_rest = owner.child_opts(depends_on=[namespace, *after, *objects, *gated_on])
        for manifest in [m for m in manifests if m["kind"] in last]:
            key = _object_key(release, manifest)
            objects.append(owner.own(key, kube_resource(owner.child_name(key), manifest, after_the_rest)))
    installed = Installed(release, objects)
    if bring:
        bring_resources(owner, installed, objects)
    return installed


def bring_resources(owner: FactoryComponent[Any], installed: Installed, after: Sequence[pulumi.Resource]) -> None:
    """The custom resources the add-on brings, each after the one it names (`after=`), the others after `after`:
    its own objects, or what must come between them (the Gatekeeper webhook probe)."""
    addon = installed.release.addon
    for brought in installed.release.brought:
        if brought.after is not None and brought.after not in installed.brought:
            raise ValueError(
                f"add-on {addon.name}: {brought.key} waits for {brought.after}, which it does not bring before it"
            )
        waits: Sequence[pulumi.Resource] = [installed.brought[brought.after]] if brought.after else after
        key = f"{addon.name}-{brought.key}"
        installed.brought[brought.key] = owner.own(
            key,
            kube_resource(owner.child_name(key), brought.manifest, owner.child_opts(depends_on=waits)),
        )


def install_namespaces(
    owner: FactoryComponent[Any], releases: Sequence[Release], factory: str, cluster: ClusterConfig, component: str
) -> dict[str, pulumi.Resource]:
    namespaces: dict[str, pulumi.Resource] = {
        ns["metadata"]["name"]: owner.own(
            f"ns-{ns['metadata']['name']}",
            # stateful: deleting a platform namespace deletes everything the add-on keeps there
            kube_resource(owner.child_name(f"ns-{ns['metadata']['name']}"), ns, owner.child_opts(stateful=True)),
        )
        for ns in namespace_manifests(releases, factory, cluster, component)
    }
    # each namespace closed before anything runs in it is the aim, but a chart waiting for its policies would
    # deepen every first `up` by one step; they are applied alongside it, right after the namespace
    for policy in namespace_network_policies(releases, factory, cluster, component):
        key = f"ns-{policy['metadata']['namespace']}-networkpolicy-{policy['metadata']['name']}"
        after = owner.child_opts(depends_on=[namespaces[policy["metadata"]["namespace"]]])
        owner.own(key, kube_resource(owner.child_name(key), policy, after))
    return namespaces
