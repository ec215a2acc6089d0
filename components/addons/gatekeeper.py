"""OPA Gatekeeper: admission control for every line (templates and constraints live in gatekeeper_policies)."""

from __future__ import annotations

from components.catalogue import AddOn, ClusterContext, ImageSlot, Values, WorkloadSlot
from components.sizing import ADDON_REPLICAS, resources

VERSION = "3.22.0"
NAMESPACE = "gatekeeper-system"


def values(ctx: ClusterContext) -> Values:
    replicas = ADDON_REPLICAS[ctx.cluster.profile]
    return {
        "replicas": replicas,
        "image": {"repository": "docker.io/openpolicyagent/gatekeeper", "release": f"v{VERSION}"},
        # A fail-closed webhook on a single node blocks every namespace and pod when Gatekeeper itself is
        # down (including its own restart): single-node cells fail open, multi-node clusters fail closed.
        "validatingWebhookFailurePolicy": "Ignore" if ctx.single_node else "Fail",
        "auditInterval": 300 if ctx.single_node else 60,
        "constraintViolationsLimit": 50,
        "enableRuntimeDefaultSeccompProfile": True,
        # helm.v4.Chart does not run Helm hooks: CRDs come from the chart's crds/ directory and the namespace
        # label the post-install hook would set is on the Namespace we create (SecurityBaseline)
        "upgradeCRDs": {"enabled": False},
        "postInstall": {"labelNamespace": {"enabled": False}, "probeWebhook": {"enabled": False}},
        "pdb": {"controllerManager": {"minAvailable": 0 if replicas == 1 else 1}},
        "controllerManager": {"resources": resources("100m", "256Mi", "1", "512Mi")},
        "audit": {"resources": resources("50m", "256Mi", "500m", "512Mi")},
    }


ADDON = AddOn(
    name="gatekeeper",
    chart="gatekeeper",
    repository="https://open-policy-agent.github.io/gatekeeper/charts",
    version=VERSION,
    namespace=NAMESPACE,
    values=values,
    images=(ImageSlot(repository_key="image.repository", tag_key="image.release"),),
    workloads=(
        WorkloadSlot("controller-manager", "controllerManager.resources", replicas_key="replicas"),
        WorkloadSlot("audit", "audit.resources"),
    ),
)
