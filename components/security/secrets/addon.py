"""External Secrets Operator: syncs Vault secrets into line namespaces. Each line's own store, account and
ExternalSecrets are per-line objects of SecurityBaseline (secrets/manifests.py), after this chart's CRDs."""

from __future__ import annotations

from components.catalogue.model import AddOn, Chart, ClusterContext, ImageSlot, Values, WorkloadSlot
from components.core.sizing import resources
from components.security.secrets.manifests import NAMESPACE

VERSION = "2.0.0"
IMAGE = "ghcr.io/external-secrets/external-secrets"


def values(ctx: ClusterContext) -> Values:
    small = ctx.single_node
    return {
        "installCRDs": True,
        "replicaCount": 1,
        "image": {"repository": IMAGE, "tag": f"v{VERSION}"},
        "resources": resources("25m", "64Mi", "200m", "256Mi") if small else resources("50m", "128Mi", "500m", "512Mi"),
        "serviceAccount": {"create": True, "name": "external-secrets"},
        "webhook": {
            "replicaCount": 1,
            "image": {"repository": IMAGE, "tag": f"v{VERSION}"},
            "resources": resources("10m", "32Mi", "100m", "128Mi"),
        },
        "certController": {
            "replicaCount": 1,
            "image": {"repository": IMAGE, "tag": f"v{VERSION}"},
            "resources": resources("10m", "32Mi", "100m", "128Mi"),
        },
    }


def _enabled(ctx: ClusterContext) -> bool:
    return ctx.factory.security.vault is not None


ADDON = AddOn(
    name="external-secrets",
    namespace=NAMESPACE,
    version=VERSION,
    source=Chart(
        chart="external-secrets",
        repository="https://charts.external-secrets.io",
        values=values,
        images=(
            ImageSlot(repository_key="image.repository", tag_key="image.tag"),
            ImageSlot(repository_key="webhook.image.repository", tag_key="webhook.image.tag"),
            ImageSlot(repository_key="certController.image.repository", tag_key="certController.image.tag"),
        ),
        workloads=(
            WorkloadSlot("controller", "resources", replicas_key="replicaCount"),
            WorkloadSlot("webhook", "webhook.resources", replicas_key="webhook.replicaCount"),
            WorkloadSlot("cert-controller", "certController.resources", replicas_key="certController.replicaCount"),
        ),
    ),
    enabled=_enabled,
)
