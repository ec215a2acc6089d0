"""trivy-operator: continuous vulnerability, config-audit and RBAC scanning with edge-safe limits."""

from __future__ import annotations

from components.catalogue.images import PINNED_PULL_POLICY, Image
from components.catalogue.model import (
    AddOn,
    Chart,
    ChartArchive,
    ClusterContext,
    ImageSlot,
    MetricsEndpoint,
    PodSecurity,
    Values,
    WorkloadSlot,
)
from components.catalogue.network import ApiServer, ClusterDns, External, NetworkNeeds, Path
from components.catalogue.rbac import ClusterRoleGrant, RbacReview
from components.core import vocabulary as vocab
from components.core.sizing import resources

VERSION = "0.28.1"
APP_VERSION = "0.26.1"
TRIVY_VERSION = "0.62.1"
NAMESPACE = "trivy-system"

OPERATOR_IMAGE = Image(
    "mirror.gcr.io",
    "aquasec/trivy-operator",
    APP_VERSION,
    None,
    source=(
        "not digest-pinned: no public file read here names a digest for trivy-operator 0.26.1; resolve it with "
        "`make pin-digests` where the registry is reachable."
    ),
)
# mirror.gcr.io is Google's pull-through cache of Docker Hub: it serves docker.io/aquasec/trivy's manifests
# unchanged, so the digest is the same
TRIVY_IMAGE = Image(
    "mirror.gcr.io",
    "aquasec/trivy",
    TRIVY_VERSION,
    "sha256:fc10faf341a1d8fa8256c5ff1a6662ef74dd38b65034c8ce42346cf958a02d5d",
    source=(
        "coopnorge/mage internal/targets/terraform/tools.Dockerfile (Renovate-maintained: "
        "docker.io/aquasec/trivy:0.62.1@sha256:fc10faf3...); three more public Dockerfiles and scripts agree."
    ),
)
# Trivy's databases and checks bundle are OCI artifacts republished under the same schema tag every few hours:
# a digest would freeze vulnerability data at one day, so they stay tag-pinned on purpose (the scanner
# verifies the database's schema version itself)
_MUTABLE_ARTIFACT = (
    "tag-pinned on purpose: the publisher replaces this schema tag with fresh vulnerability data every few "
    "hours; a digest would freeze the data the plant is judged against."
)
DB_ARTIFACT = Image("mirror.gcr.io", "aquasec/trivy-db", "2", None, source=_MUTABLE_ARTIFACT, moving=True)
JAVA_DB_ARTIFACT = Image("mirror.gcr.io", "aquasec/trivy-java-db", "1", None, source=_MUTABLE_ARTIFACT, moving=True)
CHECKS_ARTIFACT = Image("mirror.gcr.io", "aquasec/trivy-checks", "1", None, source=_MUTABLE_ARTIFACT, moving=True)


OPERATOR_PODS = {vocab.NAME: "trivy-operator"}
METRICS_PORT = 8080  # OPERATOR_METRICS_BIND_ADDRESS: findings by severity, compliance (leader only)


def registry_ports(ctx: ClusterContext) -> tuple[int, ...]:
    """HTTPS, and the site mirror's own port when it names one (registry.plant.local:5000/mirror)."""
    mirror = ctx.factory.site.registry_mirror
    host = mirror.split("/", 1)[0] if mirror else ""
    return tuple(sorted({443, *([int(host.rsplit(":", 1)[1])] if ":" in host else [])}))


def network(ctx: ClusterContext) -> NetworkNeeds:
    """The operator talks to the API server; its scan jobs pull the images they scan and the vulnerability
    databases (from the site mirror where there is one)."""
    registries = External("image registries and the vulnerability databases", registry_ports(ctx))
    return NetworkNeeds(
        (
            Path(
                "api-server",
                "egress",
                ApiServer(),
                "reads workloads, runs scan jobs, writes reports",
                pods=OPERATOR_PODS,
            ),
            Path("dns", "egress", ClusterDns(), "resolves registry hosts"),
            Path("registries", "egress", registries, "pulls the images it scans, its databases and checks"),
        )
    )


def values(ctx: ClusterContext) -> Values:
    small = ctx.single_node
    return {
        "image": {
            "registry": OPERATOR_IMAGE.registry,
            "repository": OPERATOR_IMAGE.repository,
            "tag": OPERATOR_IMAGE.pinned_tag,
            "pullPolicy": PINNED_PULL_POLICY,
        },
        "resources": resources("50m", "128Mi", "500m", "512Mi"),
        # every namespace is scanned, the platform's own included: a CVE in Falco, Gatekeeper or the CNI is the
        # plant's exposure as much as one in a line. Nothing needs excluding: trivy-operator never scans the
        # scan jobs it runs itself (it skips what it manages)
        "excludeNamespaces": "",
        "operator": {
            "replicas": 1,
            # default 10 concurrent scan jobs would swamp a cell's node during a rollout
            "scanJobsConcurrentLimit": 1 if small else 3,
            "scanJobTTL": "10m",
            "sbomGenerationEnabled": not small,
            "exposedSecretScannerEnabled": True,
            # the node collector mounts the node's etcd data, kubelet and /etc/kubernetes directories (keys
            # included) into a job of this namespace; kube-bench runs the CIS node checks with only the files
            # they read (kube_bench.py), so trivy does not
            "infraAssessmentScannerEnabled": False,
            # without it the operator's ClusterRole grants get/create/update on every Secret of the cluster and
            # nodes/proxy (the kubelet API) so that scans can borrow workloads' image pull secrets; scans pull
            # with trivy's own registry access instead (rbac_review below)
            "accessGlobalSecretsAndServiceAccount": False,
        },
        "trivy": {
            "image": {
                "registry": TRIVY_IMAGE.registry,
                "repository": TRIVY_IMAGE.repository,
                "tag": TRIVY_IMAGE.pinned_tag,
                "pullPolicy": PINNED_PULL_POLICY,
            },
            "resources": resources("100m", "128Mi", "500m", "512Mi"),
            # the vulnerability databases are OCI artifacts: an air-gapped plant serves them from its mirror
            "dbRegistry": DB_ARTIFACT.registry,
            "dbRepository": DB_ARTIFACT.repository,
            "javaDbRegistry": JAVA_DB_ARTIFACT.registry,
            "javaDbRepository": JAVA_DB_ARTIFACT.repository,
            "severity": "HIGH,CRITICAL" if small else "MEDIUM,HIGH,CRITICAL",
        },
        # the config-audit checks are an OCI artifact too: without this the operator pulls them from the public
        # registry even where the site mirror serves everything else
        "policiesBundle": {
            "registry": CHECKS_ARTIFACT.registry,
            "repository": CHECKS_ARTIFACT.repository,
            "tag": CHECKS_ARTIFACT.tag,
        },
    }


ADDON = AddOn(
    name="trivy-operator",
    namespace=NAMESPACE,
    version=VERSION,
    source=Chart(
        chart="trivy-operator",
        repository="https://aquasecurity.github.io/helm-charts/",
        archive=ChartArchive(
            "https://github.com/aquasecurity/helm-charts/releases/download/trivy-operator-0.28.1/trivy-operator-0.28.1.tgz",
            "f5a004412fbbf869c715b8cf59765b35b8bc20b61b087f1d3b1f52b6ec40b962",
            source=(
                "aquasecurity/helm-charts index.yaml on gh-pages (commit 125861b49d34; entry added in b942992c4c1c), "
                "entry trivy-operator 0.28.1"
            ),
        ),
        values=values,
        images=(
            ImageSlot(
                registry_key="image.registry",
                repository_key="image.repository",
                tag_key="image.tag",
                image=OPERATOR_IMAGE,
                pull_policy_key="image.pullPolicy",
            ),
            ImageSlot(
                registry_key="trivy.image.registry",
                repository_key="trivy.image.repository",
                tag_key="trivy.image.tag",
                image=TRIVY_IMAGE,
                pull_policy_key="trivy.image.pullPolicy",
            ),
            # OCI artifacts, not images, but mirrored the same way; trivy pulls these schema-major tags
            ImageSlot(
                registry_key="trivy.dbRegistry",
                repository_key="trivy.dbRepository",
                tag=DB_ARTIFACT.tag,
                artifact=True,
                image=DB_ARTIFACT,
            ),
            ImageSlot(
                registry_key="trivy.javaDbRegistry",
                repository_key="trivy.javaDbRepository",
                tag=JAVA_DB_ARTIFACT.tag,
                artifact=True,
                image=JAVA_DB_ARTIFACT,
            ),
            ImageSlot(
                registry_key="policiesBundle.registry",
                repository_key="policiesBundle.repository",
                tag_key="policiesBundle.tag",
                artifact=True,
                image=CHECKS_ARTIFACT,
            ),
        ),
        workloads=(
            WorkloadSlot("operator", "resources", replicas_key="operator.replicas"),
            WorkloadSlot(
                "scan-job", "trivy.resources", replicas_key="operator.scanJobsConcurrentLimit", transient=True
            ),
        ),
    ),
    network=network,
    metrics=(MetricsEndpoint("operator", OPERATOR_PODS, METRICS_PORT),),
    rbac=RbacReview(
        VERSION,
        (
            ClusterRoleGrant(
                "trivy-operator",
                (),
                "reads workloads, RBAC, network and config objects everywhere and writes its report kinds; creates "
                "and deletes Jobs in any namespace (its scan jobs run in trivy-system), reads pods/log",
            ),
        ),
        narrowed=(
            "operator.accessGlobalSecretsAndServiceAccount false drops get/create/update on every Secret, get on "
            "every ServiceAccount and nodes/proxy (the kubelet API) from the ClusterRole. Accepted: cluster-wide "
            "Job create (the generated role has no namespace-scoped form), held by a pod that reaches only the API "
            "server and registries."
        ),
    ),
    pod_security=PodSecurity(
        "baseline",
        "trivy-operator's scan jobs run as the scanner image's root user without a seccomp profile (the chart's "
        "scan-job security context drops every capability and privilege escalation, nothing more), which "
        "restricted refuses; nothing here needs host access (the node collector is off).",
    ),
)
