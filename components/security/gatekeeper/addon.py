"""OPA Gatekeeper: admission control for every line. It brings our ConstraintTemplates (after the chart,
which ships their CRD) and the constraints (each after its template, which creates the constraint's CRD)."""

from __future__ import annotations

from components.catalogue.images import PINNED_PULL_POLICY, Image
from components.catalogue.model import (
    AddOn,
    BroughtResource,
    Chart,
    ChartArchive,
    ClusterContext,
    ImageSlot,
    Manifest,
    MetricsEndpoint,
    Values,
    WorkloadSlot,
)
from components.catalogue.network import ApiServer, NetworkNeeds, OwnPods, Path
from components.catalogue.rbac import ClusterRoleGrant, RbacReview
from components.core import vocabulary as vocab
from components.core.contracts import SYSTEM_NAMESPACES
from components.core.sizing import ADDON_REPLICAS, resources
from components.security.gatekeeper import constraints, line_constraints, templates, webhook, webhook_probe

VERSION = "3.22.0"
NAMESPACE = "gatekeeper-system"
TEMPLATE_CRD = "constrainttemplates.templates.gatekeeper.sh"
IMAGE = Image(
    "docker.io",
    "openpolicyagent/gatekeeper",
    f"v{VERSION}",
    None,
    source=(
        "not digest-pinned: no public file read here names a digest for openpolicyagent/gatekeeper v3.22.0 "
        "(image lists and manifests found pin it by tag only); resolve it with `make pin-digests` where the "
        "registry is reachable."
    ),
)
# The namespaces the webhook never judges: those no constraint refuses anything in. Kubernetes' own (they
# exist on every cluster; a Gatekeeper outage must never hold up CoreDNS, the CNI or the nodes' heartbeat
# Leases) and Gatekeeper's own (the chart exempts it in any case, so a bad constraint can never lock out the
# component that would fix it; the audit still reads it). Every other platform namespace is judged by the
# platform image constraint, so the webhook must see it. No prefixes: `kube-*` would exempt `kube-evil`.
WEBHOOK_EXEMPT_NAMESPACES = tuple(sorted({*SYSTEM_NAMESPACES, NAMESPACE}))
# the value of Gatekeeper's ignore label on Kubernetes' own namespaces (the key is what counts)
SYSTEM_IGNORE_VALUE = "kubernetes-system"


def values(ctx: ClusterContext) -> Values:
    replicas = ADDON_REPLICAS[ctx.cluster.profile]
    return {
        "replicas": replicas,
        "image": {"repository": IMAGE.name, "release": IMAGE.pinned_tag, "pullPolicy": PINNED_PULL_POLICY},
        # fail closed unless the stack says otherwise, explicitly (`security.gatekeeper.webhookFailurePolicy`;
        # production cannot): a fail-open webhook admits everything unjudged while Gatekeeper is down, so it is
        # never a side effect of a cluster's profile
        "validatingWebhookFailurePolicy": ctx.factory.security.gatekeeper.webhook_failure_policy,
        # stated, not left to the chart: the webhook alerts measure answers against it (alerts.py)
        "validatingWebhookTimeoutSeconds": webhook.TIMEOUT_SECONDS,
        # the webhook skips a namespace that carries admission.gatekeeper.sh/ignore, and Gatekeeper lets only
        # the namespaces listed here carry it (its check-ignore-label webhook refuses the label elsewhere, and
        # fails closed: while Gatekeeper is down nobody can label a namespace out of its judgement)
        "controllerManager": {
            "exemptNamespaces": list(WEBHOOK_EXEMPT_NAMESPACES),
            "exemptNamespacePrefixes": [],
            "resources": resources("100m", "256Mi", "1", "512Mi"),
        },
        "validatingWebhookCheckIgnoreFailurePolicy": "Fail",
        # registered only once the controller can answer (webhook_probe.py): a fail-closed webhook that exists
        # before it would refuse every other object of a first install
        "validatingWebhookAnnotations": webhook_probe.webhook_annotations(NAMESPACE),
        "mutatingWebhookAnnotations": webhook_probe.webhook_annotations(NAMESPACE),
        "auditInterval": 300 if ctx.single_node else 60,
        "constraintViolationsLimit": 50,
        "enableRuntimeDefaultSeccompProfile": True,
        # helm.v4.Chart does not run Helm hooks: CRDs come from the chart's crds/ directory and the namespace
        # label the post-install hook would set is on the Namespace we create (ADDON.namespace_labels)
        "upgradeCRDs": {"enabled": False},
        "postInstall": {"labelNamespace": {"enabled": False}, "probeWebhook": {"enabled": False}},
        "pdb": {"controllerManager": {"minAvailable": 0 if replicas == 1 else 1}},
        "audit": {"resources": resources("50m", "256Mi", "500m", "512Mi")},
    }


def system_namespace_patches() -> list[Manifest]:
    """Gatekeeper's ignore label on Kubernetes' own namespaces, as server-side apply patches (the namespaces
    are not ours: only this label is, and deleting the patch removes it)."""
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": {vocab.GATEKEEPER_IGNORE: SYSTEM_IGNORE_VALUE}},
        }
        for name in sorted(SYSTEM_NAMESPACES)
    ]


# the chart's default at 3.22.0 (values.yaml controllerManager.port)
WEBHOOK_PORT = 8443
CONTROLLER_PODS = {"control-plane": "controller-manager"}
# both the controller-manager's and the audit's pods (gatekeeper 3.22.0 templates): each serves /metrics on 8888
# (`--prometheus-port`): violations by enforcement action, constraints, audit runs
SYSTEM_PODS = {"gatekeeper.sh/system": "yes"}
METRICS_PORT = 8888


def network(_ctx: ClusterContext) -> NetworkNeeds:
    """The API server both ways; nothing else (no DNS: it finds the API server by the address
    Kubernetes gives every pod, and no external data provider is configured)."""
    return NetworkNeeds(
        (
            Path("api-server", "egress", ApiServer(), "watches and audits objects, keeps its webhook configuration"),
            Path(
                "webhook",
                "ingress",
                ApiServer(),
                "admission reviews from the API server",
                ports=(WEBHOOK_PORT,),
                pods=CONTROLLER_PODS,
            ),
            Path(
                "webhook-probe",
                "ingress",
                OwnPods(webhook_probe.PROBE_PODS),
                "the install gate's probe, until the webhook answers",
                ports=(WEBHOOK_PORT,),
                pods=CONTROLLER_PODS,
            ),
        )
    )


def brings(ctx: ClusterContext) -> list[BroughtResource]:
    factory = ctx.factory.factory.name
    found = [
        BroughtResource(f"template-{t.name}", templates.constraint_template(t, factory), TEMPLATE_CRD)
        for t in templates.TEMPLATES.values()
    ]
    gatekeeper = ctx.factory.security.gatekeeper
    lines = [line.name for line in ctx.factory.lines_on(ctx.cluster.name)]
    specs = constraints.constraint_specs(
        list(gatekeeper.allowed_images),
        gatekeeper.required_labels,
        ctx.cluster.profile,
        line_namespaces=[vocab.LINE_NAMESPACE_PREFIX + line for line in lines],
    )
    # the platform namespaces' image constraint is the SecurityBaseline's: their images come from the whole
    # catalogue, which this capability does not see
    specs += constraints.line_image_specs(ctx.factory, lines, ctx.line_images)
    specs += line_constraints.line_specs(gatekeeper)
    found += [
        BroughtResource(
            f"constraint-{c.name}",
            constraints.constraint(c, factory, gatekeeper.enforcement_action, list(ctx.platform_namespaces)),
            f"{templates.TEMPLATES[c.kind].name}.constraints.gatekeeper.sh",
            after=f"template-{templates.TEMPLATES[c.kind].name}",
        )
        for c in specs
    ]
    return found


ADDON = AddOn(
    name="gatekeeper",
    namespace=NAMESPACE,
    version=VERSION,
    source=Chart(
        chart="gatekeeper",
        repository="https://open-policy-agent.github.io/gatekeeper/charts",
        archive=ChartArchive(
            "https://open-policy-agent.github.io/gatekeeper/charts/gatekeeper-3.22.0.tgz",
            "20236973f5040141b10b4d286b8768a89a5401fa67107ae948a4ec8d50f6a275",
            source=(
                "open-policy-agent/gatekeeper charts/index.yaml on gh-pages (commit 80fab0c559e3; entry added in "
                "eda465d56d08), entry gatekeeper 3.22.0; the sha256sum of charts/gatekeeper-3.22.0.tgz on that branch"
                " is the same"
            ),
        ),
        values=values,
        images=(
            ImageSlot(
                repository_key="image.repository",
                tag_key="image.release",
                image=IMAGE,
                pull_policy_key="image.pullPolicy",
            ),
        ),
        workloads=(
            WorkloadSlot("controller-manager", "controllerManager.resources", replicas_key="replicas"),
            WorkloadSlot("audit", "audit.resources"),
        ),
    ),
    exempt_because=(
        "The admission controller itself; Gatekeeper exempts its namespace so a bad constraint can never lock "
        "out the component that would fix it."
    ),
    # its own webhook must never judge the namespace it runs in (what its post-install hook would set)
    namespace_labels={vocab.GATEKEEPER_IGNORE: vocab.GATEKEEPER_IGNORE_VALUE},
    brings=brings,
    network=network,
    metrics=(MetricsEndpoint("gatekeeper", SYSTEM_PODS, METRICS_PORT),),
    rbac=RbacReview(
        VERSION,
        (
            ClusterRoleGrant(
                "gatekeeper-manager-role",
                ("get", "list", "watch"),
                "`*` on `*` for get/list/watch: the audit lists every kind a constraint may match, and RBAC cannot "
                "subtract Secrets from a wildcard; accepted because nothing leaves the namespace but API server "
                "calls (its NetworkPolicy), its Config syncs no Secret into OPA, and its image is the catalogue's",
            ),
        ),
        narrowed=(
            "No value narrows the manager role (rbac.create=false would mean writing it ourselves, out of step with "
            "each release). Its other cluster-wide rights: create/patch events, its own CRDs and webhook "
            "configurations by name, ValidatingAdmissionPolicies (sync of constraint templates)."
        ),
    ),
)

# the install gate: everything else on the cluster waits for it (webhook_probe.py)
PROBE = webhook_probe.addon(NAMESPACE, VERSION, CONTROLLER_PODS, WEBHOOK_PORT)
