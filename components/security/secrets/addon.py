"""External Secrets Operator: syncs Vault secrets into line namespaces. Each line's own store, account and
ExternalSecrets are per-line objects of SecurityBaseline (secrets/manifests.py), after this chart's CRDs."""

from __future__ import annotations

from components.catalogue.images import PINNED_PULL_POLICY, Image
from components.catalogue.model import AddOn, Chart, ChartArchive, ClusterContext, ImageSlot, Values, WorkloadSlot
from components.catalogue.network import ApiServer, ClusterDns, External, NetworkNeeds, Path
from components.catalogue.rbac import ClusterRoleGrant, RbacReview
from components.catalogue.secrets import NAMESPACE, vault_port
from components.core import vocabulary as vocab
from components.core.sizing import resources

VERSION = "2.0.0"
IMAGE = Image(
    "ghcr.io",
    "external-secrets/external-secrets",
    f"v{VERSION}",
    None,
    source=(
        "not digest-pinned: no public file read here names a digest for external-secrets v2.0.0 (inventories "
        "found list it by tag only); resolve it with `make pin-digests` where the registry is reachable."
    ),
)
# the controller, the webhook and the cert controller run the same image
_IMAGE_VALUES = {"repository": IMAGE.name, "tag": IMAGE.pinned_tag, "pullPolicy": PINNED_PULL_POLICY}


def values(ctx: ClusterContext) -> Values:
    small = ctx.single_node
    return {
        "installCRDs": True,
        "replicaCount": 1,
        "image": dict(_IMAGE_VALUES),
        "resources": resources("25m", "64Mi", "200m", "256Mi") if small else resources("50m", "128Mi", "500m", "512Mi"),
        "serviceAccount": {"create": True, "name": "external-secrets"},
        # what the platform never uses, off, so the controller's ClusterRole loses it (rbac review below):
        # ClusterExternalSecrets (update/patch on every namespace), PushSecrets (copy a Kubernetes Secret out to
        # a provider), generators, OpenShift finalizers, and its rights merged into the view/edit ClusterRoles
        "processClusterExternalSecret": False,
        "processClusterPushSecret": False,
        "processPushSecret": False,
        "processClusterGenerator": False,
        "crds": {
            "createClusterExternalSecret": False,
            "createClusterPushSecret": False,
            "createPushSecret": False,
            "createClusterGenerator": False,
        },
        "openshiftFinalizers": False,
        "rbac": {"aggregateToView": False, "aggregateToEdit": False, "servicebindings": {"create": False}},
        "webhook": {
            "replicaCount": 1,
            "image": dict(_IMAGE_VALUES),
            "resources": resources("10m", "32Mi", "100m", "128Mi"),
        },
        "certController": {
            "replicaCount": 1,
            "image": dict(_IMAGE_VALUES),
            "resources": resources("10m", "32Mi", "100m", "128Mi"),
        },
    }


# the chart's default at 2.0.0 (values.yaml webhook.port)
WEBHOOK_PORT = 10250
CONTROLLER_PODS = {vocab.NAME: "external-secrets"}
WEBHOOK_PODS = {vocab.NAME: "external-secrets-webhook"}


def network(ctx: ClusterContext) -> NetworkNeeds:
    """The API server, Vault (the controller only), DNS to find Vault; the webhook from the API server."""
    vault = External("Vault (security.vault.server)", (vault_port(ctx.factory.security.vault),))
    return NetworkNeeds(
        (
            Path("api-server", "egress", ApiServer(), "reads stores and ExternalSecrets, writes line Secrets"),
            Path("dns", "egress", ClusterDns(), "resolves the Vault host", pods=CONTROLLER_PODS),
            Path("vault", "egress", vault, "reads each line's secrets from Vault", pods=CONTROLLER_PODS),
            Path(
                "webhook",
                "ingress",
                ApiServer(),
                "validation calls from the API server",
                ports=(WEBHOOK_PORT,),
                pods=WEBHOOK_PODS,
            ),
        )
    )


def _enabled(ctx: ClusterContext) -> bool:
    return ctx.factory.security.vault is not None


ADDON = AddOn(
    name="external-secrets",
    namespace=NAMESPACE,
    version=VERSION,
    source=Chart(
        chart="external-secrets",
        repository="https://charts.external-secrets.io",
        archive=ChartArchive(
            "https://github.com/external-secrets/external-secrets/releases/download/helm-chart-2.0.0/external-secrets-2.0.0.tgz",
            "250245d300b2f59d00bcf8bae66a6a81ec822d2c390d40e119a72f8d08bb5eab",
            source=(
                "external-secrets/external-secrets index.yaml on gh-pages (commit 629cd695e4be; entry added in "
                "fb74ab311109), entry external-secrets 2.0.0"
            ),
        ),
        values=values,
        images=(
            *(
                ImageSlot(
                    repository_key=f"{prefix}image.repository",
                    tag_key=f"{prefix}image.tag",
                    image=IMAGE,
                    pull_policy_key=f"{prefix}image.pullPolicy",
                )
                for prefix in ("", "webhook.", "certController.")
            ),
        ),
        workloads=(
            WorkloadSlot("controller", "resources", replicas_key="replicaCount"),
            WorkloadSlot("webhook", "webhook.resources", replicas_key="webhook.replicaCount"),
            WorkloadSlot("cert-controller", "certController.resources", replicas_key="certController.replicaCount"),
        ),
    ),
    enabled=_enabled,
    network=network,
    rbac=RbacReview(
        VERSION,
        (
            ClusterRoleGrant(
                "external-secrets-controller",
                ("get", "list", "watch", "create", "update", "delete", "patch"),
                "writes each line's Secrets in the line's namespace and logs in to Vault as each line's account "
                "(serviceaccounts/token create): one controller serves every line, so its rights span them; "
                "scopedNamespace/scopedRBAC would confine it to a single namespace and turn off the per-line "
                "ClusterSecretStores",
            ),
            ClusterRoleGrant(
                "external-secrets-cert-controller",
                ("get", "list", "watch", "update", "patch"),
                "rotates the webhook's certificate Secret; the chart grants it cluster-wide (no cert-manager here)",
            ),
        ),
        narrowed=(
            "ClusterExternalSecret, PushSecret, ClusterPushSecret and ClusterGenerator processing and CRDs off (no "
            "namespaces update/patch, no way to push a Secret out), OpenShift finalizers off, no aggregation into "
            "view/edit, no servicebindings ClusterRole. Accepted: the controller's and cert controller's Secret "
            "rights, held by pods that reach only the API server and Vault (NetworkPolicy) and run the catalogue's "
            "image."
        ),
    ),
)
