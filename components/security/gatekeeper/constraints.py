"""The constraints a factory applies: which template, which objects, which parameters — rolled out with the
stack's enforcement action and never judging Kubernetes' own namespaces.

Images are judged per namespace: a line runs its own images (its path under the site mirror,
`<mirror>/<factory>-lines/<line>/`) and the stack's `allowedImages`; the platform namespaces run exactly the
images the catalogue pins; every other namespace only the stack's `allowedImages`. The mirror as a whole
(`<mirror>/*`: everything a proxy cache can fetch, all of Docker Hub) is on no list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from components.config.document import FactoryConfig
from components.config.types import Profile
from components.core import vocabulary as vocab
from components.core.sizing import PROFILES, cpu, memory
from components.security.gatekeeper.config import LINES_FOLDER_SUFFIX

CONSTRAINT_API = "constraints.gatekeeper.sh/v1beta1"
WORKLOAD_KINDS = [
    {"apiGroups": [""], "kinds": ["Pod"]},
    {"apiGroups": ["apps"], "kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"]},
    {"apiGroups": ["batch"], "kinds": ["Job", "CronJob"]},
]
ALLOWED_IMAGES = "allowed-images"  # every namespace that is neither a line's nor the platform's
LINE_IMAGES_PREFIX = "allowed-images-line-"  # + the line's name: its namespace only
PLATFORM_IMAGES = "allowed-images-platform"  # the catalogue's namespaces: exactly the images it pins
# the lines' root under the site mirror is `<mirror>/<factory>` + this: a name without a '.' or ':', so it can
# never be a registry host, which is what the mirror's cached paths start with (`<mirror>/<registry>/<path>`)
LINES_PATH_SUFFIX = LINES_FOLDER_SUFFIX


def lines_registry_root(config: FactoryConfig) -> str | None:
    """Where the lines' own images live, `<mirror>/<factory>-lines` (one folder per line below it); None
    without a site mirror."""
    mirror = config.site.registry_mirror
    return f"{mirror}/{config.factory.name}{LINES_PATH_SUFFIX}" if mirror else None


def line_registry_path(config: FactoryConfig, line: str) -> str | None:
    """A line's own registry path, `<mirror>/<factory>-lines/<line>/*`: pushed to by that line only."""
    root = lines_registry_root(config)
    return f"{root}/{line}/*" if root else None


def line_images(config: FactoryConfig, line: str) -> list[str]:
    """What one line may run: its own path under the mirror, plus the stack's `allowedImages`."""
    own = line_registry_path(config, line)
    return [*([own] if own else []), *config.security.gatekeeper.allowed_images]


def allowed_images(config: FactoryConfig) -> list[str]:
    """Every image any line of the stack may run: one list for the policy pack (`allowedRegistries`), which
    judges what Pulumi registers outside the platform namespaces; Gatekeeper enforces it per line namespace."""
    found = [image for line in config.lines for image in line_images(config, line.name)]
    return sorted(set(found) | set(config.security.gatekeeper.allowed_images))


@dataclass(frozen=True)
class ConstraintSpec:
    kind: str
    name: str
    parameters: dict[str, Any]
    kinds: list[dict[str, Any]]
    # the namespaces it judges; empty: every namespace except the platform's (and `excluded`)
    namespaces: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()  # also not judged, besides the platform namespaces


def line_image_specs(config: FactoryConfig, lines: Sequence[str], platform: Sequence[str] = ()) -> list[ConstraintSpec]:
    """One image constraint per line of a cluster (`lines`: their names), judging its namespace alone: its own
    folder under the mirror and the stack's `allowedImages` — and, each by its exact pinned reference, the images
    the platform itself adds to line pods (`platform`: ClusterContext.line_images)."""
    return [
        ConstraintSpec(
            "K8sAllowedReposv2",
            f"{LINE_IMAGES_PREFIX}{line}",
            {"allowedImages": [*line_images(config, line), *platform]},
            WORKLOAD_KINDS,
            namespaces=(vocab.LINE_NAMESPACE_PREFIX + line,),
        )
        for line in lines
    ]


def platform_image_spec(platform_images: Mapping[str, Sequence[str]]) -> ConstraintSpec | None:
    """The image constraint of the platform namespaces (`platform_images`: namespace -> the images the
    catalogue installs there on this cluster): exactly those images, in those namespaces (never Kubernetes'
    own, which are not ours). None when the catalogue installs nothing."""
    if not platform_images:
        return None
    return ConstraintSpec(
        "K8sAllowedReposv2",
        PLATFORM_IMAGES,
        {"allowedImages": sorted({image for images in platform_images.values() for image in images})},
        WORKLOAD_KINDS,
        namespaces=tuple(sorted(platform_images)),
    )


def constraint_specs(
    allowed_images: list[str],
    required_labels: list[str],
    profile: Profile,
    line_namespaces: Sequence[str] = (),
) -> list[ConstraintSpec]:
    """The constraints of one cluster: container maximums follow its sizing profile. `allowed_images` is what
    a namespace that is neither a line's (`line_namespaces`, judged by `line_image_specs`) nor the platform's may
    run: the stack's `allowedImages`, never the mirror as a whole."""
    services = [{"apiGroups": [""], "kinds": ["Service"]}]
    pods = [{"apiGroups": [""], "kinds": ["Pod"]}]
    # the same maximums the line's LimitRange sets: Gatekeeper refuses at admission, with a message, what
    # the LimitRange would refuse too, and the audit finds what was admitted before a maximum was lowered
    sizing = PROFILES[profile].container
    maximums = {"cpu": cpu(sizing.max_cpu_m), "memory": memory(sizing.max_memory_mi)}
    return [
        ConstraintSpec(
            "K8sAllowedReposv2",
            ALLOWED_IMAGES,
            {"allowedImages": allowed_images},
            WORKLOAD_KINDS,
            excluded=tuple(line_namespaces),
        ),
        # workloads that create pods, Jobs and CronJobs included (a Job a team runs by hand is attributed too);
        # not Pods and ReplicaSets, which their controllers label from these templates
        ConstraintSpec(
            "K8sRequiredLabels",
            "attribution-labels",
            {"labels": [{"key": key} for key in required_labels]},
            [
                {"apiGroups": ["apps"], "kinds": ["Deployment", "StatefulSet", "DaemonSet"]},
                {"apiGroups": ["batch"], "kinds": ["Job", "CronJob"]},
            ],
        ),
        # Pods only: the LimitRanger admission plugin fills a line's defaults before this webhook runs, so
        # the constraint catches what escapes a LimitRange instead of rejecting templates that rely on it
        ConstraintSpec("K8sContainerLimits", "container-limits", maximums, pods),
        # presence only: a request is at most its limit (API validation), which container-limits caps
        ConstraintSpec("K8sContainerRequests", "container-requests", {}, pods),
        # templates of long-running workloads: the team hears about a missing probe at `apply`, not when a
        # ReplicaSet silently fails to create pods; Jobs need no probes
        ConstraintSpec(
            "K8sRequiredProbes",
            "required-probes",
            {"probes": ["readinessProbe", "livenessProbe"], "probeTypes": ["tcpSocket", "httpGet", "exec", "grpc"]},
            [{"apiGroups": ["apps"], "kinds": ["Deployment", "StatefulSet", "DaemonSet"]}],
        ),
        ConstraintSpec("K8sPSPHostNamespace", "no-host-namespaces", {}, WORKLOAD_KINDS),
        ConstraintSpec("K8sBlockNodePort", "no-node-ports", {}, services),
        # CVE-2020-8554: no Service may claim an address on the nodes; the in-tree DenyServiceExternalIPs
        # admission plugin says the same on k3s/RKE2 servers (components/security/server_config.py), this
        # constraint is the control where the API server's flags cannot be set (EKS, GKE, AKS)
        ConstraintSpec("K8sExternalIPs", "no-external-ips", {"allowedIPs": []}, services),
        # every judged namespace, as the constraints above: a line namespace is one of them, and a selector
        # on a namespace label would let a namespace without the label escape
        ConstraintSpec("K8sBlockExternalName", "no-external-name-services", {}, services),
    ]


def constraint(spec: ConstraintSpec, factory: str, enforcement_action: str, exempt: list[str]) -> dict[str, Any]:
    """The constraint's manifest: it judges the namespaces it names, else every namespace except `exempt`
    (Kubernetes' and the platform's own) and those it leaves to another constraint of its kind."""
    match: dict[str, Any] = {"kinds": spec.kinds}
    if spec.namespaces:
        match["namespaces"] = sorted(spec.namespaces)
    else:
        match["excludedNamespaces"] = sorted({*exempt, *spec.excluded})
    body: dict[str, Any] = {"enforcementAction": enforcement_action, "match": match}
    if spec.parameters:
        body["parameters"] = spec.parameters
    return {
        "apiVersion": CONSTRAINT_API,
        "kind": spec.kind,
        "metadata": {"name": spec.name, "labels": vocab.standard_labels(factory, component=vocab.SECURITY_COMPONENT)},
        "spec": body,
    }
