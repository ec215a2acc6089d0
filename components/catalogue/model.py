"""What an add-on is: where it comes from (a pinned chart, or manifests we render), which namespace and
Pod Security level it needs and why, its image and workload slots, the cloud identity its service account
needs, and the custom resources it brings.

Add-on entries live in their capability (`security/falco.py`, ...); `components/inventory.py` is the table
of all of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from components.catalogue.images import Image
from components.catalogue.network import NetworkNeeds
from components.catalogue.rbac import RbacReview
from components.catalogue.secrets import AddonSecret
from components.config.document import FactoryConfig
from components.config.factory import ClusterConfig

Values = dict[str, Any]
Manifest = dict[str, Any]
PodSecurityLevel = Literal["restricted", "baseline", "privileged"]
# Helm refuses a release name longer than 53 characters or outside this pattern (helm.sh/helm/v3
# pkg/chartutil/validate_name.go: maxReleaseNameLen, releaseNameRegex); a v4 Chart renders with it
RELEASE_NAME_MAX = 53
RELEASE_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# why a platform namespace is not judged like a line, unless the add-on states a more specific reason
CATALOGUE_REASON = (
    "A platform add-on from the pinned catalogue: its images and settings are reviewed there, not against the "
    "lines' allow-list."
)


SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ChartArchive:
    """The chart's archive at `AddOn.version` as its repository's index.yaml lists it: the URL and the SHA-256 of
    the .tgz (`digest`). What the escrow copies and checks (components/backup/escrow/), and what a mirror must serve
    byte for byte. `source` says where the digest was read."""

    url: str
    digest: str
    source: str

    def __post_init__(self) -> None:
        if not SHA256_HEX.match(self.digest):
            raise ValueError(f"{self.url}: digest {self.digest!r} is not 64 lower-case hex digits")
        if not self.url.startswith("https://") or not self.url.endswith(".tgz"):
            raise ValueError(f"{self.url}: a chart archive is an https:// URL of a .tgz")
        if len(self.source) < 20:
            raise ValueError(f"{self.url}: say where the digest was read")


@dataclass(frozen=True)
class BundleImage:
    """One image the catalogue installs on a cluster: as the catalogue pins it (`origin`, what an escrowed copy is
    named after) and as the cluster pulls it (`pull`: through the site mirror)."""

    origin: str
    pull: str


@dataclass(frozen=True)
class BundleChart:
    """One chart the catalogue installs on a cluster at its version, with its pinned archive, and where the cluster's
    charts come from: an OCI chart mirror's reference (`oci`), else an https URL of the archive (`url`: upstream's,
    or an HTTPS mirror's `<mirror>/<chart>-<version>.tgz`, where `helm repo index` puts it)."""

    chart: str
    version: str
    archive: ChartArchive
    url: str | None = None
    oci: str | None = None


@dataclass(frozen=True)
class Bundle:
    """What the catalogue installs on one cluster (the plan's bundle.json, known before anything runs)."""

    images: tuple[BundleImage, ...] = ()
    charts: tuple[BundleChart, ...] = ()


@dataclass(frozen=True)
class MetricsEndpoint:
    """Pods of an add-on that serve Prometheus metrics on a port: the observability capability scrapes them (a
    PodMonitor of its own, so no chart needs the CRD when it renders) and the add-on's namespace admits Prometheus'
    pods on that port, nothing else (catalogue/release.py)."""

    name: str  # part of the PodMonitor's and the NetworkPolicy's names
    pods: Mapping[str, str]
    port: int
    path: str = "/metrics"


@dataclass(frozen=True)
class ScrapeTarget:
    """One add-on's metrics endpoint on one cluster, where it runs (inventory.scrape_targets)."""

    addon: str
    namespace: str
    endpoint: MetricsEndpoint


@dataclass(frozen=True)
class ClusterContext:
    """What an add-on's values and manifests may depend on: the factory document and the cluster."""

    factory: FactoryConfig
    cluster: ClusterConfig
    # Kubernetes' and the platform's own namespaces: never judged or scanned as a production line
    platform_namespaces: tuple[str, ...] = ()
    # images the platform's own add-ons put into line pods (Velero's restore helper, `AddOn.line_image`), as
    # installed: admission admits them in every line namespace of the cluster
    line_images: tuple[str, ...] = ()
    # every image and chart the catalogue installs on the cluster (the escrow copies them): inventory.bundle
    bundle: Bundle = field(default_factory=Bundle)
    # every add-on metrics endpoint on the cluster (inventory.scrape_targets): what Prometheus may reach
    scrapes: tuple[ScrapeTarget, ...] = ()

    @property
    def single_node(self) -> bool:
        return self.cluster.profile == "edge-small"


@dataclass(frozen=True)
class ImageSlot:
    """Where a chart's values name one image: an optional registry key, the repository key, the tag key
    (or a tag the software itself chooses, for OCI artifacts such as scanner databases), the pull policy key,
    and the catalogue's pinned image the values must name there (tag and digest)."""

    repository_key: str
    tag_key: str | None = None
    registry_key: str | None = None
    tag: str | None = None
    artifact: bool = False
    image: Image | None = None
    pull_policy_key: str | None = None
    # charts that take the digest apart from the tag (kube-prometheus-stack's `sha`, which it also copies into a
    # Prometheus' `spec.version` when it sits in the tag, breaking the operator's semver parse): its key, and
    # whether the chart writes `sha256:` itself (True: the value is bare hex)
    digest_key: str | None = None
    digest_bare: bool = False
    # what the chart appends to the tag it is given (node-exporter's `-distroless`)
    tag_suffix: str = ""

    @classmethod
    def block(
        cls, prefix: str, image: Image, *, digest: str | None = None, bare: bool = False, **more: Any
    ) -> ImageSlot:
        """The usual image block of a chart at `prefix`: `registry`, `repository`, `tag`, `pullPolicy`, and the
        digest's own key when the chart takes one (`digest`: its name under the block)."""
        return cls(
            registry_key=f"{prefix}.registry",
            repository_key=f"{prefix}.repository",
            tag_key=f"{prefix}.tag",
            digest_key=f"{prefix}.{digest}" if digest else None,
            digest_bare=bare,
            image=image,
            pull_policy_key=more.pop("pull_policy_key", f"{prefix}.pullPolicy"),
            **more,
        )


@dataclass(frozen=True)
class WorkloadSlot:
    """One pod template the chart runs, where its resources live in values, and how many copies run."""

    name: str
    resources_key: str
    replicas_key: str | None = None  # None: one copy (a Deployment with a fixed replica count of 1)
    per_node: bool = False  # a DaemonSet: the footprint counts one copy per node
    transient: bool = False  # a scan Job or CronJob: counted separately from the steady state
    containers: int = 1  # containers sharing the same resources block


@dataclass(frozen=True)
class Chart:
    """A Helm chart installed with kubernetes.helm.v4.Chart (its objects stay visible to CrossGuard)."""

    chart: str
    repository: str
    values: Callable[[ClusterContext], Values]
    images: tuple[ImageSlot, ...] = ()
    workloads: tuple[WorkloadSlot, ...] = ()
    archive: ChartArchive | None = None  # pinned archive of this version (None: not escrowed, the plan says so)


@dataclass(frozen=True)
class Manifests:
    """Software that ships no chart: we render its objects ourselves; images and resources are read from
    the rendered pod specs, so there are no slots to keep in step."""

    render: Callable[[ClusterContext], list[Manifest]]
    images: tuple[Image, ...] = ()  # every image the rendered pod specs may name (before the site mirror)
    # kinds applied only after every other object of the add-on (and what its installer names): a Job that tests
    # them. Pulumi waits for a Job to complete and fails the update when it fails, so such a Job gates the rollout
    applied_last: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PodSecurity:
    level: PodSecurityLevel = "restricted"
    reason: str | None = None  # required below restricted: written on the namespace for auditors


@dataclass(frozen=True)
class ServiceAccountIdentity:
    """The add-on's service account needs a cloud identity (Velero writing to S3, external-dns to Route 53):
    the same WorkloadIdentity a line gets, keyed by the add-on's namespace and this service account."""

    service_account: str
    annotations_key: str | None = None  # chart values path of the account's annotations (charts only)
    pod_labels_key: str | None = None  # chart values path of pod labels (Azure needs one on the pods)


@dataclass(frozen=True)
class BroughtResource:
    """A custom resource the add-on brings (a store, a schedule, a rule), applied after what defines its CRD:
    the add-on itself, or another brought resource (a Gatekeeper constraint after its template)."""

    key: str  # unique within the add-on; part of the resource name
    manifest: Manifest
    crd: str  # <plural>.<group> of the CRD this object needs, e.g. clustersecretstores.external-secrets.io
    after: str | None = None  # key of the brought resource that creates that CRD; None: the add-on


def _always(_ctx: ClusterContext) -> bool:
    return True


def _nothing(_ctx: ClusterContext) -> list[BroughtResource]:
    return []


def _no_secrets(_ctx: ClusterContext) -> tuple[AddonSecret, ...]:
    return ()


@dataclass(frozen=True)
class AddOn:
    name: str  # also the Helm release name, so object names do not depend on our resource names
    namespace: str
    version: str  # the chart version, or the software version of a manifest add-on
    source: Chart | Manifests
    pod_security: PodSecurity = PodSecurity()
    exempt_because: str | None = None  # why admission policies skip its namespace (default: see `exemption`)
    namespace_labels: Mapping[str, str] = field(default_factory=dict)
    identity: ServiceAccountIdentity | None = None
    brings: Callable[[ClusterContext], list[BroughtResource]] = _nothing
    # Kubernetes Secrets it reads (a credential its chart takes from an existing Secret), each copied by External
    # Secrets from the add-on's own Vault folder: the capability installing it delivers them (catalogue/secrets.py)
    secrets: Callable[[ClusterContext], tuple[AddonSecret, ...]] = _no_secrets
    # the repository key of the image slot whose image the add-on itself adds to pods in line namespaces (Velero's
    # restore helper init container on a restored pod): admission must admit that image in lines
    line_image: str | None = None
    enabled: Callable[[ClusterContext], bool] = _always
    # what its pods may reach and be reached by; its namespace denies everything else (catalogue/network.py).
    # None only for an add-on that renders its own NetworkPolicies, default deny included (the pack's
    # segmentation policy holds every namespace to one)
    network: Callable[[ClusterContext], NetworkNeeds] | None = None
    # a chart's ClusterRoles as read at `rbac.version` (catalogue/rbac.py); a bump needs a new review
    rbac: RbacReview | None = None
    # where its pods serve Prometheus metrics (scraped by the observability capability)
    metrics: tuple[MetricsEndpoint, ...] = ()

    def __post_init__(self) -> None:
        if len(self.name) > RELEASE_NAME_MAX or not RELEASE_NAME_RE.match(self.name):
            raise ValueError(
                f"add-on {self.name!r}: its name is its Helm release name, which Helm limits to "
                f"{RELEASE_NAME_MAX} characters of lower-case letters, digits, '-' and '.'"
            )
        if self.pod_security.level != "restricted" and not self.pod_security.reason:
            raise ValueError(f"add-on {self.name}: Pod Security {self.pod_security.level} needs a reason")

    @property
    def exemption(self) -> str:
        return self.exempt_because or self.pod_security.reason or CATALOGUE_REASON

    def images(self) -> tuple[Image, ...]:
        """The pinned images and artifacts this add-on can pull, as the catalogue records them (before the site
        mirror): what `make pin-digests` resolves and what admission may admit in its namespace."""
        if isinstance(self.source, Chart):
            return tuple(slot.image for slot in self.source.images if slot.image is not None)
        return self.source.images
