"""Velero's provider plugins: one init container per cloud the stack's backup stores use, each copying its plugin
binary into the server's `plugins` emptyDir (chart velero 12.1.0, values `initContainers`).

Plugin v1.14.x goes with Velero v1.18.x: the compatibility table in each plugin's README on its release-1.14 branch
(velero-io/velero-plugin-for-aws and -gcp, tagged v1.14.2 in June 2026; vmware-tanzu/velero-plugin-for-microsoft-azure).

The chart's templates/deployment.yaml passes a string `initContainers` through `tpl`. So each plugin image sits
in catalogue slots under `pluginImages` (registry, repository, tag, pull policy), which the site mirror rewrites
like every other slot, and the init container refers to those values: the pod pulls exactly what the slot says,
and `make pin-digests`, the admission allow-list and the plan read the same reference.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from components.backup.config import Cloud
from components.catalogue.images import PINNED_PULL_POLICY, Image
from components.catalogue.model import Values
from components.catalogue.values import get_path
from components.core.sizing import resources

PLUGIN_IMAGES = "pluginImages"  # our values key (the chart has none such; its schema allows extra keys)

AWS_PLUGIN = Image(
    "docker.io",
    "velero/velero-plugin-for-aws",
    "v1.14.2",
    "sha256:0751144c1c8e52d52c48717fbd13ad5a3061e612ae4d7ad744a946cd5b139d1a",
    source=(
        "two unrelated public projects pin v1.14.2 at this digest (a kind dev harness that preloads only exact "
        "official pins, and a GitOps repository's Velero contract test and repair script); a third names "
        "sha256:abe29a7b... next to the linux/amd64 digest of velero v1.18.1, i.e. most likely the amd64 manifest. "
        "Verify with `make pin-digests`."
    ),
)
GCP_PLUGIN = Image(
    "docker.io",
    "velero/velero-plugin-for-gcp",
    "v1.14.2",
    None,
    source=(
        "not digest-pinned: the only public file read here that names a digest for v1.14.2 records its linux/amd64 "
        "manifest, not the multi-platform index an arm64 edge node needs; resolve it with `make pin-digests`."
    ),
)
AZURE_PLUGIN = Image(
    "docker.io",
    "velero/velero-plugin-for-microsoft-azure",
    "v1.14.2",
    None,
    source=(
        "not digest-pinned: no public file read here names a digest for v1.14.2 (the tag itself is named by four "
        "public files; the stored upstream snapshot ends at v1.14.0-rc.1); resolve it with `make pin-digests`."
    ),
)


@dataclass(frozen=True)
class Plugin:
    cloud: Cloud
    provider: str  # what a BackupStorageLocation's spec.provider names (the plugin's RegisterObjectStore)
    image: Image

    @property
    def container(self) -> str:
        """The init container's name, as the chart's README names it: velero-plugin-for-<provider>."""
        return self.image.repository.rsplit("/", 1)[1]

    @property
    def values_key(self) -> str:
        return f"{PLUGIN_IMAGES}.{self.cloud}"


PLUGINS: dict[Cloud, Plugin] = {
    "aws": Plugin("aws", "velero.io/aws", AWS_PLUGIN),
    "gcp": Plugin("gcp", "velero.io/gcp", GCP_PLUGIN),
    "azure": Plugin("azure", "velero.io/azure", AZURE_PLUGIN),
}


def _value(path: str) -> str:
    return "{{ .Values." + path + " }}"


def _init_container(plugin: Plugin) -> dict[str, Any]:
    """One plugin's init container: it copies the plugin binary into the server's `plugins` emptyDir and exits."""
    key = plugin.values_key
    return {
        "name": plugin.container,
        "image": f"{_value(key + '.registry')}/{_value(key + '.repository')}:{_value(key + '.tag')}",
        "imagePullPolicy": _value(key + ".pullPolicy"),
        "resources": resources("10m", "16Mi", "100m", "128Mi"),
        # the plugin images run as 65532 (their Dockerfiles) and write only to /target
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
        },
        "volumeMounts": [{"mountPath": "/target", "name": "plugins"}],
    }


def plugin_images() -> dict[str, dict[str, str]]:
    """Every plugin's image, used or not: the slots are fixed, so each must name its image on every cluster."""
    return {
        cloud: {
            "registry": plugin.image.registry,
            "repository": plugin.image.repository,
            "tag": plugin.image.pinned_tag,
            "pullPolicy": PINNED_PULL_POLICY,
        }
        for cloud, plugin in PLUGINS.items()
    }


def init_containers_template(used: Iterable[Cloud]) -> str:
    """The chart's `initContainers` as a template string; empty (no init containers) when no cloud is used."""
    containers = [_init_container(PLUGINS[cloud]) for cloud in used]
    # never folded: a template action split across lines is no longer the reference the slots name
    return yaml.safe_dump(containers, sort_keys=False, width=10_000) if containers else ""


_TEMPLATE_VALUE = re.compile(r"\{\{ \.Values\.([A-Za-z0-9_.]+) \}\}")


def init_containers(values: Values) -> list[dict[str, Any]]:
    """The plugin init containers as the chart renders them from resolved values: `tpl` replaces each
    `{{ .Values.<path> }}` by that value (mirror rewrite included)."""
    text = values.get("initContainers") or ""
    rendered = _TEMPLATE_VALUE.sub(lambda match: str(get_path(values, match.group(1))), text)
    return list(yaml.safe_load(rendered) or [])
