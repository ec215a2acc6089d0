"""trivy-operator: continuous vulnerability, config-audit and RBAC scanning with edge-safe limits."""

from __future__ import annotations

from components.catalogue.model import AddOn, Chart, ClusterContext, ImageSlot, PodSecurity, Values, WorkloadSlot
from components.core.sizing import resources

VERSION = "0.28.1"
APP_VERSION = "0.26.1"
TRIVY_VERSION = "0.62.1"
NODE_COLLECTOR_VERSION = "0.3.1"
NAMESPACE = "trivy-system"


def values(ctx: ClusterContext) -> Values:
    small = ctx.single_node
    return {
        "image": {"registry": "mirror.gcr.io", "repository": "aquasec/trivy-operator", "tag": APP_VERSION},
        "resources": resources("50m", "128Mi", "500m", "512Mi"),
        # scans of the platform's own namespaces are the vendor's job, not the plant's
        "excludeNamespaces": ",".join(ctx.platform_namespaces),
        "operator": {
            "replicas": 1,
            # default 10 concurrent scan jobs would swamp a cell's node during a rollout
            "scanJobsConcurrentLimit": 1 if small else 3,
            "scanJobTTL": "10m",
            "sbomGenerationEnabled": not small,
            "exposedSecretScannerEnabled": True,
        },
        "trivy": {
            "image": {"registry": "mirror.gcr.io", "repository": "aquasec/trivy", "tag": TRIVY_VERSION},
            "resources": resources("100m", "128Mi", "500m", "512Mi"),
            # the vulnerability databases are OCI artifacts: an air-gapped plant serves them from its mirror
            "dbRegistry": "mirror.gcr.io",
            "dbRepository": "aquasec/trivy-db",
            "javaDbRegistry": "mirror.gcr.io",
            "javaDbRepository": "aquasec/trivy-java-db",
            "severity": "HIGH,CRITICAL" if small else "MEDIUM,HIGH,CRITICAL",
        },
        "nodeCollector": {
            "registry": "ghcr.io",
            "repository": "aquasecurity/node-collector",
            "tag": NODE_COLLECTOR_VERSION,
        },
    }


ADDON = AddOn(
    name="trivy-operator",
    namespace=NAMESPACE,
    version=VERSION,
    source=Chart(
        chart="trivy-operator",
        repository="https://aquasecurity.github.io/helm-charts/",
        values=values,
        images=(
            ImageSlot(registry_key="image.registry", repository_key="image.repository", tag_key="image.tag"),
            ImageSlot(
                registry_key="trivy.image.registry", repository_key="trivy.image.repository", tag_key="trivy.image.tag"
            ),
            ImageSlot(
                registry_key="nodeCollector.registry",
                repository_key="nodeCollector.repository",
                tag_key="nodeCollector.tag",
            ),
            # OCI artifacts, not images, but mirrored the same way; trivy pulls these schema-major tags
            ImageSlot(registry_key="trivy.dbRegistry", repository_key="trivy.dbRepository", tag="2", artifact=True),
            ImageSlot(
                registry_key="trivy.javaDbRegistry", repository_key="trivy.javaDbRepository", tag="1", artifact=True
            ),
        ),
        workloads=(
            WorkloadSlot("operator", "resources", replicas_key="operator.replicas"),
            WorkloadSlot(
                "scan-job", "trivy.resources", replicas_key="operator.scanJobsConcurrentLimit", transient=True
            ),
        ),
    ),
    pod_security=PodSecurity(
        "privileged",
        "trivy-operator's node-collector jobs read kubelet and etcd configuration through read-only hostPath "
        "mounts; the operator itself runs restricted.",
    ),
)
