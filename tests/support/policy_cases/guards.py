"""Guard rails a careless stack edit must not get past (issue #9, finding 5): no Kubernetes `system:` group in a
binding, constraints that deny and a webhook that fails closed in production, narrow allowed-image entries —
each a compliant fixture as the program registers it and the one-field mutations of the careless edit."""

from __future__ import annotations

from typing import Any

import factory_policies as fp
from tests.support.policy_kit import DELETE, Case, Mutation, Res

RBAC = "kubernetes:rbac.authorization.k8s.io/v1"
CONSTRAINTS = "kubernetes:constraints.gatekeeper.sh"
CHART = "kubernetes:helm.sh/v4:Chart"
MIRROR = "harbor.plant.local/mirror"  # the site mirror, a proxy cache: '<mirror>/*' would admit all of Docker Hub


# --- no system groups ----------------------------------------------------------------------------------

EDITORS = Res(
    f"{RBAC}:RoleBinding",
    {
        "metadata": {"name": "line-editors", "namespace": "line-press"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "line-editor"},
        "subjects": [
            {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "press-engineers"},
            {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "press-oncall"},
        ],
    },
    name="line-editors",
)
VIEWERS = Res(
    f"{RBAC}:ClusterRoleBinding",
    {
        "metadata": {"name": "ci-view"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        # a service account named like a system group is a service account, not the group
        "subjects": [{"kind": "ServiceAccount", "name": "system-reports", "namespace": "line-press"}],
    },
    name="ci-view",
)
SYSTEM_GROUPS = Case(
    fp.rbac_no_system_groups,
    (EDITORS, VIEWERS),
    (
        Mutation("authenticated", "subjects.1.name", "system:authenticated", "subjects[1] binds the Kubernetes group"),
        Mutation("service-accounts", "subjects.0.name", "system:serviceaccounts", "'system:serviceaccounts'"),
        Mutation(
            "one-namespace-service-accounts",
            "subjects.0.name",
            "system:serviceaccounts:line-weld",
            "'system:serviceaccounts:line-weld'",
        ),
        Mutation("unauthenticated", "subjects.0.name", "system:unauthenticated", "'system:unauthenticated'"),
        Mutation("masters", "subjects.1.name", "system:masters", "'system:masters'"),
        Mutation(
            "cluster-wide",
            "subjects.0",
            {"kind": "Group", "name": "system:authenticated"},
            "ci-view: subjects[0] binds the Kubernetes group 'system:authenticated'",
            target="ci-view",
        ),
    ),
)


# --- constraints deny in production --------------------------------------------------------------------


def constraint(
    kind: str,
    name: str,
    parameters: dict[str, Any] | None = None,
    version: str = "v1beta1",
    match: dict[str, Any] | None = None,
) -> Res:
    spec: dict[str, Any] = {"enforcementAction": "deny", "match": match or {"excludedNamespaces": ["kube-system"]}}
    if parameters is not None:
        spec["parameters"] = parameters
    props = {"apiVersion": f"constraints.gatekeeper.sh/{version}", "kind": kind, "metadata": {"name": name}}
    return Res(f"{CONSTRAINTS}/{version}:{kind}", {**props, "spec": spec}, name=name)


ALLOWED = constraint(
    "K8sAllowedReposv2",
    "allowed-images",
    {
        "allowedImages": [
            f"{MIRROR}/ghcr.io/acme/*",  # a path below a registry, through the mirror
            "registry.plant.local/lines/*",
            "123456789012.dkr.ecr.eu-central-1.amazonaws.com/rheinfeld/*",
            "docker.io/library/busybox:1.36",  # an exact image
        ]
    },
)
# a line's own constraint: its folder under the mirror, in its namespace alone (#9 finding 6)
LINE_IMAGES = constraint(
    "K8sAllowedReposv2",
    "allowed-images-line-press",
    {"allowedImages": [f"{MIRROR}/pilsen-lines/press/*", "registry.plant.local/lines/*"]},
    match={"namespaces": ["line-press"]},
)
CONSTRAINT_FIXTURE = (
    ALLOWED,
    constraint("K8sImmutableTags", "pinned-images", {"tagPatterns": ["v?[0-9]+\\.[0-9]+\\.[0-9]+"]}),
    constraint("K8sBlockNodePort", "no-node-ports"),
    # a kind the pack does not list and a version the platform does not use: judged all the same
    constraint("K8sFutureRule", "future-rule", {}, version="v1"),
)
ENFORCED = Case(
    fp.gatekeeper_enforced_in_production,
    CONSTRAINT_FIXTURE,
    (
        Mutation("dryrun", "spec.enforcementAction", "dryrun", "K8sAllowedReposv2 'allowed-images': "),
        Mutation("warn", "spec.enforcementAction", "warn", "spec.enforcementAction is 'warn'", target="pinned-images"),
        Mutation("not-set", "spec.enforcementAction", DELETE, "is not set", target="no-node-ports"),
        Mutation(
            "unlisted-kind", "spec.enforcementAction", "dryrun", "K8sFutureRule 'future-rule'", target="future-rule"
        ),
    ),
)


# --- the webhook fails closed in production ------------------------------------------------------------


def chart(name: str, release: str, chart_ref: str, values: dict[str, Any]) -> Res:
    props = {"chart": chart_ref, "name": release, "version": "3.22.0", "namespace": "gatekeeper-system"}
    return Res(CHART, {**props, "values": values}, name=name)


WEBHOOK = Case(
    fp.gatekeeper_webhook_fail_closed_in_production,
    (
        chart("edge-gatekeeper", "gatekeeper", "gatekeeper", {"replicas": 1, "validatingWebhookFailurePolicy": "Fail"}),
        # through the site's chart mirror, under another release name
        chart(
            "cloud-gatekeeper",
            "admission",
            "oci://harbor.plant.local/charts/gatekeeper",
            {"replicas": 3, "validatingWebhookFailurePolicy": "Fail"},
        ),
        # another chart: no such value, not judged
        Res(CHART, {"chart": "falco", "name": "falco", "version": "9.1.0", "values": {}}, name="falco"),
    ),
    (
        Mutation("fails-open", "values.validatingWebhookFailurePolicy", "Ignore", "is 'Ignore' in a production stack"),
        Mutation("chart-default", "values.validatingWebhookFailurePolicy", DELETE, "not set (the chart's default"),
        Mutation(
            "mirrored-fails-open",
            "values.validatingWebhookFailurePolicy",
            "Ignore",
            "'oci://harbor.plant.local/charts/gatekeeper'",
            target="cloud-gatekeeper",
        ),
    ),
)


# --- allowed images are narrow -------------------------------------------------------------------------

IMAGES = "spec.parameters.allowedImages"
NARROW = Case(
    fp.allowed_images_narrow,
    (ALLOWED, LINE_IMAGES),
    (
        Mutation("public-registry", f"{IMAGES}.1", "docker.io/*", "allowedImages[1] 'docker.io/*' admits every image"),
        Mutation("private-registry", f"{IMAGES}.1", "registry.plant.local/*", "of a whole registry"),
        Mutation("neighbours", f"{IMAGES}.2", "ghcr.io/acme*", "'ghcr.io/acme*' is a prefix that does not end at"),
        Mutation("tag-prefix", f"{IMAGES}.3", "docker.io/library/busybox:*", "does not end at a '/'"),
        Mutation("star-inside", f"{IMAGES}.1", "registry.plant.local/*/lines/*", "has a '*' before its end"),
        Mutation("everything", f"{IMAGES}.1", "*", "'*' admits every image"),
        Mutation("no-registry", f"{IMAGES}.3", "busybox", "is not an image with its registry host"),
        # the mirror back on the list (#9 finding 6): a proxy cache fetches anything
        Mutation("mirror-wide", f"{IMAGES}.0", f"{MIRROR}/*", "admits everything the site mirror"),
        Mutation("registry-through-mirror", f"{IMAGES}.0", f"{MIRROR}/docker.io/*", "registry 'docker.io' through"),
        Mutation("line-folder-elsewhere", f"{IMAGES}.0", f"{MIRROR}/pilsen-lines/press/*", "is line 'press''s own"),
        Mutation(
            "line-folder-of-another-line",
            f"{IMAGES}.0",
            f"{MIRROR}/pilsen-lines/weld/*",
            "is line 'weld''s own folder",
            target="allowed-images-line-press",
        ),
        Mutation(
            "line-folder-more-namespaces",
            "spec.match.namespaces",
            ["line-press", "line-weld"],
            "only a constraint judging its namespace alone",
            target="allowed-images-line-press",
        ),
    ),
    config={"registryMirror": MIRROR},
)


# --- namespaces protected in production (finding 12) -------------------------------------------------------

LINE_NAMESPACE = Res(
    "kubernetes:core/v1:Namespace",
    {"metadata": {"name": "line-press", "labels": {"app.kubernetes.io/component": "production-line"}}},
    name="pilsen-press-namespace",
    protect=True,
)
PLATFORM_NAMESPACE = Res(
    "kubernetes:core/v1:Namespace",
    {"metadata": {"name": "falco"}},
    name="pilsen-shopfloor-baseline-ns-falco",
    protect=True,
)
NAMESPACES_PROTECTED = Case(
    fp.namespace_protected,
    (LINE_NAMESPACE, PLATFORM_NAMESPACE),
    (
        # the careless edit: a line renamed or created outside the platform's components, without protection
        Mutation("line-unprotected", "@protect", False, "'line-press' is not protected", LINE_NAMESPACE.name),
        Mutation("platform-unprotected", "@protect", False, "'falco' is not protected", PLATFORM_NAMESPACE.name),
    ),
)
CASES = [SYSTEM_GROUPS, ENFORCED, WEBHOOK, NARROW, NAMESPACES_PROTECTED]
